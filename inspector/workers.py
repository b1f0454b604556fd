"""How many processes evaluate the rules: `--workers N` or `INSPECTOR_WORKERS`, kept within reason.

Each worker is a process with its own engine; `--workers 100000` used to start processes
without bound. A count is clamped to 1 … 4 × the CPUs this process may run on, with a note on stderr
saying so; `INSPECTOR_WORKERS` that is not an integer is a usage error naming the variable.
Neither given: None, and the engine chooses (one process for small audits, one per core for
large ones).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

from .errors import UsageError

ENV = "INSPECTOR_WORKERS"
PER_CPU = 4


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the system has one)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def resolve_workers(
    cli_value: int | None,
    env: Mapping[str, str],
    *,
    cpus: int | None = None,
    warn: Callable[[str], None] | None = None,
) -> int | None:
    """The worker count to use: the command line's, else the environment's, clamped to
    1 … `PER_CPU` × `cpus`; None when neither is given. `warn` receives the note printed when a
    value is clamped (default: stderr)."""
    maximum = PER_CPU * (cpus if cpus is not None else available_cpus())
    say = warn or (lambda text: print(text, file=sys.stderr))
    if cli_value is not None:
        value, source = cli_value, f"--workers {cli_value}"
    else:
        raw = env.get(ENV, "").strip()
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise UsageError(f"环境变量 {ENV} 应为正整数（规则评估的进程数），实为“{raw}”") from None
        source = f"环境变量 {ENV}={raw}"
    clamped = min(max(value, 1), maximum)
    if clamped != value:
        say(f"注意：{source} 超出允许范围（1–{maximum}，本机可用 CPU 的 {PER_CPU} 倍），按 {clamped} 个进程运行。")
    return clamped
