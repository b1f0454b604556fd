"""Seconds per stage of one audit: `python benchmarks/stages.py FOLDER [--workers N] [--packs core,plan] [--memory] [--gc]`.

`--memory` also prints, as each stage starts, the process's peak and resident memory so far.
`--gc` also prints, per stage, the cyclic garbage collector's passes and their seconds: full
passes (generation 2) walk every tracked object, so they cost more as the audit's heap grows.

Times `inspector.audit.run_audit` and `inspector.publish.write_outputs` by the stages they report
to their progress callback (the names the command line shows), so the split always follows the
pipeline as it is. `run.py` times whole commands; this says where an audit's time goes. Outputs
go to a temporary folder.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

from tree_memory import own_memory

from inspector.audit import run_audit
from inspector.heap import collector_off
from inspector.publish import write_outputs


class Laps:
    """Wall time from each stage's first report to the next stage's."""

    def __init__(self, memory: bool = False) -> None:
        self.memory = memory
        self.start = self.last = time.perf_counter()
        self.current = "启动"
        self.times: dict[str, float] = {}
        self.collections: dict[str, list[list[float]]] = {}  # stage → per generation [passes, seconds]
        self._collecting = 0.0

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        """A `gc.callbacks` entry: each pass's time, charged to the stage it ran in."""
        if phase == "start":
            self._collecting = time.perf_counter()
            return
        tally = self.collections.setdefault(self.current, [[0, 0.0], [0, 0.0], [0, 0.0]])[info["generation"]]
        tally[0] += 1
        tally[1] += time.perf_counter() - self._collecting

    def __call__(self, stage: str, _done: int = 0, _total: int = 0) -> None:
        if stage != self.current:
            self.close()
            self.current = stage
            if self.memory:
                print(f"{time.perf_counter() - self.start:8.1f} s  {stage:<10} {own_memory()}", flush=True)

    def close(self) -> None:
        now = time.perf_counter()
        self.times[self.current] = self.times.get(self.current, 0.0) + now - self.last
        self.last = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--packs", help="comma-separated packs (default: the folder's audit.yaml)")
    parser.add_argument("--memory", action="store_true", help="print peak and resident memory as each stage starts")
    parser.add_argument("--gc", action="store_true", help="print the garbage collector's passes and seconds per stage")
    args = parser.parse_args()
    laps = Laps(args.memory)
    if args.gc:
        gc.callbacks.append(laps.on_gc)
    packs = args.packs.split(",") if args.packs else None
    with collector_off():  # as `inspector audit` runs
        result = run_audit(args.folder, packs=packs, workers=args.workers, progress=laps)
        laps("输出")
        with tempfile.TemporaryDirectory() as out:
            write_outputs(result, Path(out) / "out", progress=laps, release=True)  # as `inspector audit` does
    laps.close()
    for stage, seconds in laps.times.items():
        passes = laps.collections.get(stage)
        shown = (
            "  collector: " + ", ".join(f"gen{g} {n:.0f}× {t:.2f} s" for g, (n, t) in enumerate(passes))
            if args.gc and passes
            else ""
        )
        print(f"{stage:<10} {seconds:6.2f} s{shown}")
    print(f"{'合计':<10} {time.perf_counter() - laps.start:6.2f} s  ({len(result.findings):,} findings)")
    if args.memory:
        print(f"at the end: {own_memory()}")


if __name__ == "__main__":
    main()
