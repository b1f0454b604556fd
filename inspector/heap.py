"""The cyclic garbage collector's schedule for batch work.

A province audit holds about a million Python objects at its peak (findings.json parsed, the
findings, their traces), long-lived and almost all without reference cycles. With CPython's
default thresholds (700, 10, 10) the collector walked all of them in full passes again and again:
six passes, 0.5 s of a 4.5 s audit, for 32,000 unreachable objects in the whole run (counted by
one collection at the end of a run with the collector off). Batch work raises the thresholds so
that passes are rare; the collector still runs, so a national audit's cycles are still freed.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["BATCH_THRESHOLDS", "batch_collection", "batch_process"]

BATCH_THRESHOLDS = (100_000, 20, 20)


@contextlib.contextmanager
def batch_collection() -> Iterator[None]:
    """The batch schedule while a command runs, the one before restored after (tests and other
    callers run commands in their own process)."""
    before = gc.get_threshold()
    gc.set_threshold(*BATCH_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def batch_process() -> None:
    """The batch schedule for the rest of a process that exists only for batch work (a worker)."""
    gc.set_threshold(*BATCH_THRESHOLDS)
