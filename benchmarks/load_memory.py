"""Memory of loading an audit folder, step by step: `python benchmarks/load_memory.py FOLDER`.

Runs `records.loader.load_dataset` alone and prints the process's peak (VmHWM) and resident (VmRSS)
memory after each part of a table is typed and after each cross-row check, then the typed tables'
size. `PART_BYTES=N` in the environment sets the part size of large CSV files (default 64 MiB).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tree_memory import own_memory

from inspector.records import loader, readers
from inspector.records.config import load_config

STEPS = ("find_sources", "_load_part", "_canonical_counties", "_check_unique", "_check_references")
START = time.perf_counter()


def _reporting(name: str, step: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(step)
    def run(*args: Any, **kwargs: Any) -> Any:
        result = step(*args, **kwargs)
        print(f"{time.perf_counter() - START:7.1f} s  after {name:<20} {own_memory()}", flush=True)
        return result

    return run


def main(folder: Path) -> None:
    if "PART_BYTES" in os.environ:
        readers.PART_BYTES = int(os.environ["PART_BYTES"])
    for name in STEPS:
        setattr(loader, name, _reporting(name, getattr(loader, name)))
    dataset = loader.load_dataset(folder, load_config(folder))
    rows = sum(table.height for table in dataset.tables.values())
    typed = sum(table.estimated_size() for table in dataset.tables.values()) / 1e6
    print(f"loaded {rows:,} rows in {time.perf_counter() - START:.1f} s; typed tables {typed:,.0f} MB; {own_memory()}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
