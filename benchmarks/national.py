"""A national-scale synthetic audit folder, written county block by county block in bounded memory.

The folder is a ``--format csv`` audit folder like the city and province ones (``schools.csv``,
``classes.csv``, ``teachers.csv``, ``safety.csv``, ``audit.yaml``, ``expected.yaml``), only larger: the
data are built one *block* at a time — a city-scale dataset of 1,500 schools in ten counties, boundary
cases planted, from ``synthetic.city``'s own builders — and each block's rows are appended to the four
CSVs before the next block is built. Memory therefore stays that of one block (about 80k rows) whatever
``--schools`` is; 500,000 schools are 334 blocks, 3,340 counties and about 25.7M rows.

County partitions: every block's counties carry the block's number (``柳北区017``) and every id its
county's code plus the block (``4502050170001``), so counties, schools, classes, teachers and
licences are distinct across blocks, and the rows of one county are contiguous in each file. The
audit reads the folder as any other and partitions it by county itself (``inspector/partitions.py``);
nothing here depends on how it splits.

Expected findings: every rule of the core pack is county-local (a class, a teacher, a school or a
county, decided by rows of its own county; licences are distinct across blocks), so the national
expected findings are the union of each block's, computed by the independent oracle
(``synthetic.oracle``) on the block's rows before they are written, and checked against the
block's planted cases.

Usage::

    python benchmarks/national.py OUT_DIR [--schools 500000] [--seed 2025]

``--schools`` is rounded up to whole blocks of 1,500.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the generators are test fixtures: tests/synthetic

from synthetic.city import (  # noqa: E402 - after the path to tests/ is set
    SCALES,
    _control_new_hires,
    _LicenceBook,
    _make_classes,
    _make_safety,
    _make_schools,
    _make_teachers,
    _plant,
)
from synthetic.folder import KINDS, _rows, _Speller, audit_document, columns, write_yaml  # noqa: E402
from synthetic.model import Dataset  # noqa: E402
from synthetic.names import COUNTIES  # noqa: E402
from synthetic.oracle import RULE_IDS, check_plants, compute_expected  # noqa: E402

BLOCK = SCALES["city"]  # 1,500 schools, 25,000 classes, 50,000 teachers, 5 rounds of boundary cases
NATIONAL_SCHOOLS = 500_000
AS_OF = date(2025, 12, 1)
LIMIT_ROWS = 20_000_000  # the hard maxima of audit.yaml's `limits:` (inspector/limits.py)
LIMIT_FILE_BYTES = 2 * 1024**3


def blocks_for(schools: int) -> int:
    """Blocks of 1,500 schools needed for at least `schools` schools."""
    return max(1, -(-schools // BLOCK.schools))


def county_name(county: str, block: int) -> str:
    """A county renamed for its block (`柳北区017`)."""
    return f"{county}{block:03d}"


def build_block(block: int, seed: int, licences: _LicenceBook) -> Dataset:
    """One block: a city-scale dataset whose counties, ids and licences are the block's own.

    `licences` is shared by every block, so licence numbers keep counting across blocks and no two
    kindergartens of different blocks share one by accident (a shared licence is a finding).
    """
    rng = random.Random(f"{seed}:national:{block}")
    counties = [replace(c, name=county_name(c.name, block), code=f"{c.code}{block:03d}") for c in COUNTIES]
    schools = _make_schools(rng, BLOCK, counties, AS_OF, licences)
    classes = _make_classes(rng, BLOCK, schools)
    teachers = _make_teachers(rng, BLOCK, schools, classes, AS_OF)
    for teacher in teachers:
        teacher.teacher_id = f"T{block:03d}{teacher.teacher_id[1:]}"
    ds = Dataset("city", seed, AS_OF, counties, schools, classes, teachers, _make_safety(rng, schools))
    _control_new_hires(rng, ds)
    _plant(rng, ds, BLOCK.rounds, licences)
    return ds


def generate(out_dir: Path, schools: int = NATIONAL_SCHOOLS, seed: int = 2025, progress: Any = None) -> dict[str, int]:
    """Write the folder; return the rows written per kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    blocks = blocks_for(schools)
    files = {kind: (out_dir / f"{kind}.csv").open("w", encoding="utf-8", newline="") for kind in KINDS}
    fail: dict[str, set[str]] = {rule: set() for rule in RULE_IDS}
    not_evaluated: dict[str, set[str]] = {rule: set() for rule in RULE_IDS}
    rows = dict.fromkeys(KINDS, 0)
    licences = _LicenceBook()
    first: Dataset | None = None
    try:
        writers = {kind: csv.writer(f, lineterminator="\n") for kind, f in files.items()}
        for kind, writer in writers.items():
            writer.writerow([en for en, _ in columns(kind, False)])
        speller = _Speller(None, False)
        for block in range(blocks):
            ds = build_block(block, seed, licences)
            results = compute_expected(ds)
            check_plants(ds.plants, results)
            for rule, result in results.items():
                fail[rule] |= result.fail
                not_evaluated[rule] |= result.not_evaluated
            for kind, writer in writers.items():
                for row in _rows(ds, kind, speller, speller, False):
                    writer.writerow(row)
                    rows[kind] += 1
            first = first or ds
            if progress is not None:
                progress(block + 1, blocks)
    finally:
        for f in files.values():
            f.close()
    assert first is not None
    audit = audit_document(first, "city")
    audit["name"] = f"全国规模教育督导检查（合成数据，{blocks * BLOCK.schools:,} 所学校）"
    # a national teachers.csv passes the data tables' default limits (2,000,000 rows, 256 MiB) from
    # about 60,000 schools: the folder declares their hard maxima (inspector/limits.py), as a real
    # national audit would; 20,000,000 rows hold about 598,000 schools' teachers
    audit["limits"] = {"rows": LIMIT_ROWS, "file_bytes": LIMIT_FILE_BYTES}
    # the renamed counties are the folder's divisions: read against Liuzhou's built-in ten, each
    # would be reported as an unknown name (3,340 notes at 500,000 schools)
    audit["divisions"] = [{"name": county_name(c.name, b)} for b in range(blocks) for c in COUNTIES]
    write_yaml(out_dir / "audit.yaml", audit)
    rules: dict[str, Any] = {}
    for rule in RULE_IDS:
        entry: dict[str, Any] = {"count": len(fail[rule]), "fail": sorted(fail[rule])}
        if not_evaluated[rule]:
            entry["not_evaluated"] = sorted(not_evaluated[rule])
        rules[rule] = entry
    comment = (
        "# Expected findings of the core rule pack: the union of each block's, computed by synthetic.oracle\n"
        f"# python benchmarks/national.py OUT_DIR --schools {schools} --seed {seed}\n"
    )
    write_yaml(out_dir / "expected.yaml", {"as_of": AS_OF, "scale": "national", "rules": rules}, comment, flow=False)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a national-scale synthetic audit folder in bounded memory.")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument(
        "--schools",
        type=int,
        default=NATIONAL_SCHOOLS,
        help=f"schools, rounded up to whole blocks of {BLOCK.schools:,} (default {NATIONAL_SCHOOLS:,})",
    )
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    if args.schools < 1:
        parser.error("--schools must be at least 1")
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done == total or done % 10 == 0:
            print(f"  block {done}/{total} ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)

    rows = generate(args.out_dir, args.schools, args.seed, progress)
    print(f"wrote {args.out_dir} in {time.perf_counter() - started:.1f} s")
    for kind, count in rows.items():
        print(f"  {kind:<10} {count:>10,} rows")
    print(f"  {'total':<10} {sum(rows.values()):>10,} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
