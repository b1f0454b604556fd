"""Progress on a terminal: stage and count on one line of stderr, silent otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable, TextIO

Progress = Callable[[str, int, int], None]


@contextmanager
def progress_printer(enabled: bool = True, stream: TextIO | None = None, delay: float = 1.0) -> Iterator[Progress]:
    """Yields a `(stage, done, total)` callback; draws only on a terminal, after `delay` seconds."""
    out = stream or sys.stderr
    active = enabled and out.isatty()
    started = time.monotonic()
    last = [0.0, False]

    def report(stage: str, done: int, total: int) -> None:
        if not active:
            return
        now = time.monotonic()
        if now - started < delay or (now - last[0] < 0.1 and done < total):
            return
        last[0] = now
        last[1] = True
        width = 30
        filled = int(width * done / total) if total else 0
        bar = "█" * filled + "░" * (width - filled)
        out.write(f"\r{stage:<8} {bar} {done}/{total}  ")
        out.flush()

    try:
        yield report
    finally:
        if active and last[1]:
            out.write("\r" + " " * 60 + "\r")
            out.flush()
