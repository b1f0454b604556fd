"""The 13 core rules as an analyst would write them in plain polars: the baseline of the benchmark.

No validation, no trace, no report: it reads the four CSVs of a ``--format csv`` synthetic folder
(``PYTHONPATH=tests python -m synthetic.city OUT --format csv``), applies the rules with one lazy query per
rule, and emits the set of ``(rule_id, entity_id)`` findings, one ``rule_id<TAB>entity_id`` line each,
sorted. It trusts its input: the canonical English headers, ``true``/``false`` booleans, ISO dates and
English type codes of ``--format csv``; a mixed-format folder (Chinese headers, XLSX, 是/否) is out of scope.

Verified: at city scale (seed 2025, as_of 2025-12-01) its findings equal the ``fail`` sets of
``expected.yaml`` exactly, rule by rule; ``benchmarks/run.py`` re-checks this on every run (and at
province scale too).

Usage::

    python benchmarks/baseline_polars.py FOLDER [--out FILE]
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path

import polars as pl

COMPULSORY = ["primary", "junior", "nine_year"]
PE_ART = ["体育", "体育与健康", "音乐", "美术", "艺术"]
KINDERGARTEN_STANDARD = {"小班": 25, "中班": 30, "大班": 35, "混合班": 30}
SAFETY_ITEMS = {
    "safety.closed-management": "closed_management",
    "safety.alarm-linked": "one_key_alarm",
    "safety.video-linked": "video_linked_police",
    "safety.escort-post": "escort_post",
}
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "schools": {"school_id": pl.String(), "license_no": pl.String(), "license_valid_until": pl.Date()},
    "classes": {"class_id": pl.String(), "school_id": pl.String(), "grade": pl.String(), "size": pl.Int64()},
    "teachers": {"school_id": pl.String(), "subject": pl.String(), "hire_year": pl.Int64(), "full_time": pl.Boolean()},
    "safety": {
        "school_id": pl.String(),
        "closed_management": pl.Boolean(),
        "full_time_guards": pl.Int64(),
        "one_key_alarm": pl.Boolean(),
        "video_linked_police": pl.Boolean(),
        "escort_post": pl.Boolean(),
    },
}


def read_as_of(folder: Path) -> date:
    """The ``as_of`` date of ``audit.yaml`` (a top-level ``as_of: YYYY-MM-DD`` line)."""
    text = (folder / "audit.yaml").read_text(encoding="utf-8")
    match = re.search(r"^as_of:\s*['\"]?(\d{4}-\d{2}-\d{2})", text, re.MULTILINE)
    if match is None:
        raise SystemExit(f"{folder / 'audit.yaml'}: no as_of date")
    return date.fromisoformat(match.group(1))


def scan(folder: Path, kind: str) -> pl.LazyFrame:
    """Lazily scan one CSV, with the types the rules need (ids stay strings: they have leading digits)."""
    return pl.scan_csv(folder / f"{kind}.csv", schema_overrides=SCHEMAS[kind])


def _hits(frame: pl.LazyFrame, rule: str, entity: str) -> pl.LazyFrame:
    return frame.select(pl.lit(rule).alias("rule_id"), pl.col(entity).alias("entity_id"))


def class_rules(classes: pl.LazyFrame, schools: pl.LazyFrame) -> list[pl.LazyFrame]:
    """class-size.super-large, class-size.large and class-size.kindergarten."""
    joined = classes.join(schools.select("school_id", "type"), on="school_id", how="inner")
    numbered = joined.filter(
        pl.col("grade").cast(pl.Int64, strict=False).is_between(1, 12), pl.col("type") != "vocational"
    )
    standard = pl.col("grade").replace_strict(KINDERGARTEN_STANDARD, default=None, return_dtype=pl.Int64)
    return [
        _hits(numbered.filter(pl.col("size") >= 66), "class-size.super-large", "class_id"),
        _hits(numbered.filter(pl.col("size").is_between(56, 65)), "class-size.large", "class_id"),
        _hits(
            joined.filter(pl.col("type") == "kindergarten", pl.col("size") > standard),
            "class-size.kindergarten",
            "class_id",
        ),
    ]


def kindergarten_rules(schools: pl.LazyFrame, as_of: date) -> list[pl.LazyFrame]:
    """kindergarten.unlicensed, kindergarten.license-expired and kindergarten.license-shared."""
    kindergartens = schools.filter(pl.col("type") == "kindergarten")
    has_licence = pl.col("license_no").str.strip_chars().fill_null("") != ""
    licensed = kindergartens.filter(has_licence)
    key = pl.col("license_no").str.normalize("NFKC").str.replace_all(r"\s", "").str.to_uppercase()
    return [
        _hits(kindergartens.filter(~has_licence), "kindergarten.unlicensed", "school_id"),
        _hits(licensed.filter(pl.col("license_valid_until") < as_of), "kindergarten.license-expired", "school_id"),
        _hits(licensed.filter(pl.len().over(key) > 1), "kindergarten.license-shared", "school_id"),
    ]


def teacher_rule(teachers: pl.LazyFrame, schools: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """teachers.new-pe-art-share: per county, share of PE/art among this year's full-time compulsory hires."""
    hires = (
        teachers.filter(pl.col("hire_year") == as_of.year, pl.col("full_time").fill_null(True))
        .join(schools.select("school_id", "type", "county"), on="school_id", how="inner")
        .filter(pl.col("type").is_in(COMPULSORY))
    )
    per_county = hires.group_by("county").agg(
        pl.col("subject").is_in(PE_ART).sum().alias("pe_art"), pl.len().alias("total")
    )
    # Compare in integers: "not below 15 %" includes 15 % itself, with no float share in between.
    return _hits(
        per_county.filter(100 * pl.col("pe_art") < 15 * pl.col("total")), "teachers.new-pe-art-share", "county"
    )


def safety_rules(safety: pl.LazyFrame, schools: pl.LazyFrame) -> list[pl.LazyFrame]:
    """The five safety items (a blank cell is no finding) and safety.record-missing."""
    covered = schools.filter(pl.col("type") != "vocational").select("school_id")
    rows = covered.join(safety, on="school_id", how="inner")
    frames = [_hits(rows.filter(~pl.col(item)), rule, "school_id") for rule, item in SAFETY_ITEMS.items()]
    frames.append(_hits(rows.filter(pl.col("full_time_guards") < 1), "safety.guards", "school_id"))
    frames.append(_hits(covered.join(safety, on="school_id", how="anti"), "safety.record-missing", "school_id"))
    return frames


def findings_frame(folder: Path) -> pl.DataFrame:
    """All findings of the folder as a two-column frame (rule_id, entity_id), deduplicated and sorted."""
    as_of = read_as_of(folder)
    schools, classes = scan(folder, "schools"), scan(folder, "classes")
    teachers, safety = scan(folder, "teachers"), scan(folder, "safety")
    frames = [
        *class_rules(classes, schools),
        *kindergarten_rules(schools, as_of),
        teacher_rule(teachers, schools, as_of),
        *safety_rules(safety, schools),
    ]
    return pl.concat(frames).unique().sort("rule_id", "entity_id").collect()


def findings(folder: Path) -> set[tuple[str, str]]:
    """The set of (rule_id, entity_id) findings of a ``--format csv`` audit folder."""
    return set(findings_frame(folder).iter_rows())


def main(argv: list[str] | None = None) -> int:
    """Write the findings as ``rule_id<TAB>entity_id`` lines to --out (default: stdout)."""
    parser = argparse.ArgumentParser(description="The 13 core rules in plain polars (benchmark baseline).")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, help="write the findings here instead of stdout")
    args = parser.parse_args(argv)
    frame = findings_frame(args.folder)
    if args.out is None:
        frame.write_csv(sys.stdout, separator="\t", include_header=False)
    else:
        frame.write_csv(args.out, separator="\t", include_header=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
