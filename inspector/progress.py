"""Progress on a terminal: stage, bar, count and elapsed time on one line of stderr, silent otherwise.

Nothing is drawn for the first `delay` seconds (a short audit shows no bar at all), nor when the
stream is not a terminal (a pipe, a file, CI logs), nor with `--quiet`. The bar is ASCII: block
characters are "ambiguous width" and take two columns in many Chinese terminals, which wraps the
line and defeats the carriage return.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Progress = Callable[[str, int, int], None]

DELAY_ENV = "INSPECTOR_PROGRESS_DELAY"  # seconds before the bar appears (tests set 0)
WIDTH = 24
_CLEAR = "\r\x1b[K"  # back to column 0, erase to the end of the line


def _delay(default: float) -> float:
    try:
        return max(0.0, float(os.environ[DELAY_ENV]))
    except (KeyError, ValueError):
        return default


def render_line(stage: str, done: int, total: int, elapsed: float) -> str:
    """`规则评估 [=========>      ] 120/321  1.4 秒`; a one-step stage shows no bar."""
    if total > 1:
        filled = min(WIDTH, WIDTH * max(done, 0) // total)
        bar = "=" * filled + (">" if filled < WIDTH else "") + " " * max(0, WIDTH - filled - 1)
        return f"{stage} [{bar}] {done}/{total}  {elapsed:.1f} 秒"
    return f"{stage} ……  {elapsed:.1f} 秒"


class _Line:
    """The progress line: drawn on a terminal after the delay, at most every 0.1 s within a stage."""

    def __init__(self, out: TextIO, active: bool, wait: float) -> None:
        self.out, self.active, self.wait = out, active, wait
        self.started = time.monotonic()
        self.drawn_at: float | None = None
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.active:
            return
        now = time.monotonic()
        if now - self.started < self.wait:
            return
        # a new stage is always drawn: the step after it may be long and must not show the old one
        if stage == self.stage and self.drawn_at is not None and now - self.drawn_at < 0.1 and done < total:
            return
        self.drawn_at, self.stage = now, stage
        self.out.write(_CLEAR + render_line(stage, done, total, now - self.started))
        self.out.flush()

    def clear(self) -> None:
        if self.drawn_at is not None:
            self.out.write(_CLEAR)
            self.out.flush()


@contextmanager
def progress_printer(enabled: bool = True, stream: TextIO | None = None, delay: float = 1.0) -> Iterator[Progress]:
    """Yields a `(stage, done, total)` callback; draws only on a terminal, after `delay` seconds."""
    out = stream or sys.stderr
    line = _Line(out, enabled and out.isatty(), _delay(delay))
    try:
        yield line
    finally:
        line.clear()
