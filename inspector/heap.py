"""The heap in batch work: the cyclic garbage collector off, and what a process holds at its end
let go with the process instead of freed object by object.

A province audit holds about a million Python objects at its peak (the findings, findings.json's
document, their traces), long-lived and almost all without reference cycles: freed by their
reference counts, they do not need the collector. With CPython's default thresholds (700, 10, 10)
the collector walked all of them in full passes again and again (six passes, 0.5 s of a 4.5 s
audit); with rare passes at raised thresholds it still walked every young object once, 0.03 s a
pass. A batch command now runs with the automatic collector off: a province audit in 3.23 s
instead of 3.32 (the median of ten runs of each, alternated). What it leaves uncollected is small:
21,373 unreachable objects after a province audit (one `gc.collect()` after it, with the collector
off), a 100,000-school audit's peak 1,559 MB with it off against 1,556 MB with it on, and the
national roll-up's 6,969 MiB against 7,042 MiB at stop 27. A long-running process (the web server)
keeps Python's schedule.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["collector_off", "keep_to_the_end", "kept_to_the_end", "worker_heap"]

_KEPT: list[object] = []


@contextlib.contextmanager
def collector_off(*, to_the_end: bool = False) -> Iterator[None]:
    """No automatic cyclic collection inside, the collector as the caller had it after (tests and
    other callers run commands in their own process; a parse of many small objects pauses it too).
    `to_the_end`: the process ends with what runs inside, and the collector stays off: turned on
    again, it would begin with a pass over everything made meanwhile (0.08-0.1 s after a province
    audit)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled and not to_the_end:
            gc.enable()


def worker_heap() -> None:
    """The collector off for the rest of a process that exists only for batch work (a worker)."""
    gc.disable()


def keep_to_the_end(value: object) -> None:
    """`value` is let go with the process, which leaves without freeing it (`cli.console`, a
    worker's exit): freeing a province audit's result took 0.03 s, a report worker's parsed
    findings.json 0.02 s, each while the audit waited."""
    _KEPT.append(value)


def kept_to_the_end() -> bool:
    """Whether this process holds values to let go with it (`keep_to_the_end`)."""
    return bool(_KEPT)
