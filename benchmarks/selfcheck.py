"""自查 on the warm engine: milliseconds per corrected record, median over schools, after warm-up.

    python benchmarks/selfcheck.py [--folder cases/liuzhou-2025] [--schools 40] [--warmup 5]

The web application's `SelfCheck` is built once on the audit data folder (as the server does on its
engine thread the first time a school asks). Then, school by school, the school's own rows of
`classes.csv` (every class over 45 pupils corrected to 45) or of `teachers.csv` (as filed), alternately,
are written to a file of their own and checked: validated by the loader, bound to the school, and the
school-level rules re-evaluated on the durable_rules engine, before and after. The school's "before"
verdicts are computed first and are not timed (the server caches them per school); the wall time of
`check()` is divided by the rows it loaded. The first `--warmup` checks are not counted.

Prints the median, p90 and max of ms per record, and rows per check; writes benchmarks/results/selfcheck.json.
Exits 1 if the median exceeds `--limit-ms` (default 5).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout this script is in, not whichever inspector the venv installed
RESULTS = ROOT / "benchmarks" / "results" / "selfcheck.json"


def rows_by_school(path: Path, school_column: str) -> tuple[list[str], dict[str, list[list[str]]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        column = header.index(school_column)
        grouped: dict[str, list[list[str]]] = defaultdict(list)
        for row in reader:
            grouped[row[column]].append(row)
    return header, grouped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=ROOT / "cases" / "liuzhou-2025", help="an audit data folder")
    parser.add_argument("--schools", type=int, default=40, help="schools checked (after warm-up)")
    parser.add_argument("--warmup", type=int, default=5, help="checks not counted")
    parser.add_argument("--limit-ms", type=float, default=5.0, help="a median over this fails the run")
    args = parser.parse_args(argv)

    from inspector.web.selfcheck import SelfCheck

    folder = args.folder.resolve()
    started = time.perf_counter()
    check = SelfCheck(folder)
    built = time.perf_counter() - started
    class_header, classes = rows_by_school(folder / "classes.csv", "学校代码")
    teacher_header, teachers = rows_by_school(folder / "teachers.csv", "school_id")
    size = class_header.index("班额")
    # the schools with the most class rows first: the checks that carry the most records
    schools = sorted(
        (s for s in check.schools() if s in classes and s in teachers), key=lambda s: (-len(classes[s]), s)
    )
    wanted = args.warmup + args.schools
    if len(schools) < wanted:
        raise SystemExit(f"only {len(schools)} schools with classes and teachers in {folder}")
    samples: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="selfcheck-bench-") as tmp:
            for n, school in enumerate(schools[:wanted]):
                if n % 2 == 0:
                    name, header = "classes.csv", class_header
                    rows = [
                        [*r[:size], str(min(int(r[size]), 45)) if r[size].isdigit() else r[size], *r[size + 1 :]]
                        for r in classes[school]
                    ]
                else:
                    name, header, rows = "teachers.csv", teacher_header, teachers[school]
                path = Path(tmp) / str(n) / name
                path.parent.mkdir()
                with path.open("w", encoding="utf-8", newline="") as handle:
                    csv.writer(handle).writerows([header, *rows])
                check.before(school)  # cached per school by the server: not part of a check's time
                began = time.perf_counter()
                result = check.check(school, path)
                wall = time.perf_counter() - began
                if result.problems or result.rows_loaded != len(rows):
                    raise SystemExit(f"{school} {name}: {result.rows_loaded}/{len(rows)} rows, {result.problems[:3]}")
                samples.append(
                    {
                        "school": school,
                        "file": name,
                        "rows": result.rows_loaded,
                        "wall_ms": wall * 1000,
                        "ms_per_record": wall * 1000 / result.rows_loaded,
                        "closes": len(result.closes),
                        "opens": len(result.opens),
                    }
                )
    finally:
        check.close()
    counted = samples[args.warmup :]
    per_record = sorted(float(s["ms_per_record"]) for s in counted)
    median = statistics.median(per_record)
    p90 = per_record[min(len(per_record) - 1, round(0.9 * len(per_record) + 0.5) - 1)]
    sizes = [int(s["rows"]) for s in counted]
    command = " ".join(["python", "benchmarks/selfcheck.py", *(argv if argv is not None else sys.argv[1:])])
    summary: dict[str, Any] = {
        "command": command,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "folder": str(folder),
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "engine_built_s": round(built, 2),
        "warmup": args.warmup,
        "checks": len(counted),
        "median_ms_per_record": round(median, 3),
        "p90_ms_per_record": round(p90, 3),
        "max_ms_per_record": round(per_record[-1], 3),
        "rows_per_check": {"min": min(sizes), "median": statistics.median(sizes), "max": max(sizes)},
        "would_close": sum(int(s["closes"]) for s in counted),
        "samples": samples,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(
        f"warm engine built in {built:.1f} s on {folder.name}; {len(counted)} checks after {args.warmup} warm-up, "
        f"{min(sizes)}–{max(sizes)} rows each (median {statistics.median(sizes):g}); {summary['would_close']} findings would close"
    )
    print(f"ms per record: median {median:.3f}, p90 {p90:.3f}, max {per_record[-1]:.3f}")
    ok = median <= args.limit_ms
    print(("OK" if ok else "FAILED") + f": median {median:.3f} ms per record (limit {args.limit_ms:g} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
