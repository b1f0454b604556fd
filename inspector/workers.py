"""How many processes evaluate the rules: `--workers N` or `INSPECTOR_WORKERS`, kept within reason.

Each worker is a process with its own engine; `--workers 100000` used to start processes
without bound. A count is clamped to 1 … 4 × the CPUs this process may run on, with a note on stderr
saying so; `INSPECTOR_WORKERS` that is not an integer is a usage error naming the variable.
Neither given: None, and the engine chooses (one process for small audits, one per core for
large ones).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .errors import UsageError
from .heap import worker_heap

ENV = "INSPECTOR_WORKERS"
PER_CPU = 4


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the system has one)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def requested_workers(
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


@contextlib.contextmanager
def spawned_pool(
    processes: int, initializer: Callable[..., object] | None = None, initargs: tuple[Any, ...] = ()
) -> Iterator[ProcessPoolExecutor]:
    """An executor of `processes` spawned processes (polars' thread pool makes `fork` unsafe).

    Spawned processes re-run the parent's main script unless it is hidden from them: a script
    that calls `run_audit` without an `if __name__ == "__main__":` guard would start the audit
    again in every worker. The workers need nothing from it. An executor, not a Pool: a worker
    killed outright (out of memory, a crash in the engine's C code) breaks it with an error where
    a Pool would wait for ever. `initializer(*initargs)` runs in each process as it starts (how a
    process is given a shared `multiprocessing` value), after the collector is turned off
    (`heap.worker_heap`)."""
    main = sys.modules.get("__main__")
    file, spec = getattr(main, "__file__", None), getattr(main, "__spec__", None)
    try:
        if main is not None:
            if file is not None:
                del main.__file__
            main.__spec__ = None
        with ProcessPoolExecutor(
            processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(initializer, initargs),
        ) as pool:
            yield pool
    finally:
        if main is not None:
            if file is not None:
                main.__file__ = file
            main.__spec__ = spec


def _start_worker(initializer: Callable[..., object] | None, initargs: tuple[Any, ...]) -> None:
    worker_heap()
    atexit.register(_exit_at_once)
    if initializer is not None:
        initializer(*initargs)


def _exit_at_once() -> None:
    """A worker's last step, once its pool has let it go: it leaves without the interpreter's
    teardown, which frees every object one by one. A report worker holding a province's parsed
    findings.json spent 0.12 s on it while the audit waited for it; an evaluation worker holds more.
    Exit handlers run last registered first: those registered after this one (as the worker's work
    imported modules) run before it, those registered before (at start-up) are skipped. None of
    those matter to a worker: multiprocessing has run its own exit function already, and nothing
    else it writes but its standard streams, flushed here."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
