"""自查's warm engine against the audit itself: on cases/liuzhou-2025 (every pack), a school's
verdicts on its unchanged rows are the audit's findings for that school, and submitting the rows
unchanged closes and opens nothing. This is what lets 自查 read indicators above the school from
the whole audit and recompute only those the school-level rules read."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from inspector.web.selfcheck import SCHOOL_LEVEL, SelfCheck

LIUZHOU_2025 = Path(__file__).resolve().parents[1] / "cases" / "liuzhou-2025"


@pytest.fixture(scope="module")
def warm() -> Iterator[SelfCheck]:
    check = SelfCheck(LIUZHOU_2025)
    try:
        yield check
    finally:
        check.close()


def _school_findings(case_out: Path, rules: set[str]) -> dict[str, set[str]]:
    document = json.loads((case_out / "findings.json").read_text(encoding="utf-8"))
    result: dict[str, set[str]] = {}
    for finding in document["findings"]:
        if finding["rule_id"] in rules and finding["entity_type"] in SCHOOL_LEVEL and finding.get("school_id"):
            result.setdefault(finding["school_id"], set()).add(finding["id"])
    return result


def test_unchanged_rows_give_the_audits_findings_for_the_school(warm: SelfCheck, case_out: Path) -> None:
    by_school = _school_findings(case_out, {rule.id for rule in warm.rules})
    counts = Counter({school: len(ids) for school, ids in by_school.items()})
    # the schools with the most school-level findings, and two with none
    chosen = [school for school, _ in counts.most_common(6)]
    chosen += sorted(warm.schools() - set(by_school))[:2]
    assert len(chosen) == 8
    for school in chosen:
        failing = {fid for fid, verdict in warm.before(school).items() if verdict.verdict == "fail"}
        assert failing == by_school.get(school, set()), school


def test_submitting_the_rows_unchanged_closes_and_opens_nothing(
    warm: SelfCheck, tmp_path: Path, case_out: Path
) -> None:
    by_school = _school_findings(case_out, {rule.id for rule in warm.rules})
    with (LIUZHOU_2025 / "classes.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    school = max(by_school, key=lambda s: (len(by_school[s]), s))
    path = tmp_path / "classes.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([rows[0], *(r for r in rows[1:] if r[1] == school)])
    result = warm.check(school, path)
    assert result.rows_loaded > 0 and not result.problems
    assert not result.closes and not result.opens and not result.gaps
    assert {v.finding_id for v in result.remains} == by_school[school]


def _variants(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """Corrections of a school's rows: every other row dropped, and every count doubled."""
    result = [frame]
    if frame.height > 1:
        result.append(frame.gather_every(2))
    counts = [
        name
        for name, dtype in frame.schema.items()
        if dtype.is_integer() and not name.startswith("__") and name not in ("year",)
    ]
    if counts:
        result.append(frame.with_columns(pl.col(name) * 2 for name in counts))
    return result


def test_re_evaluating_only_the_rules_that_read_the_kind_gives_the_full_verdicts(
    warm: SelfCheck, case_out: Path
) -> None:
    """For several schools and every kind of row a school can submit, the verdicts of the rules that
    read that kind, with the others' kept from before, equal those of every rule re-evaluated."""
    by_school = _school_findings(case_out, {rule.id for rule in warm.rules})
    counts = Counter({school: len(ids) for school, ids in by_school.items()})
    chosen = [school for school, _ in counts.most_common(4)] + sorted(warm.schools() - set(by_school))[:2]
    kinds = sorted(kind for kind, table in warm.dataset.tables.items() if "school_id" in table.columns and table.height)
    assert {"classes", "teachers", "schools"} <= set(kinds)
    # the saving is real: a class list is read by some school-level rules, not by all of them
    assert 0 < sum("classes" in warm.reads[rule.id] for rule in warm.rules) < len(warm.rules)
    changed = 0
    for school in chosen:
        before = warm.before(school)
        for kind in kinds:
            table = warm.dataset.tables[kind]
            for frame in _variants(table.filter(pl.col("school_id") == school)):
                partial = warm.after(school, kind, frame, f"{kind}.csv")
                full = warm.after(school, kind, frame, f"{kind}.csv", full=True)
                assert partial == full, (school, kind, frame.height)
                changed += partial != before
    assert changed >= 5  # the corrections do change verdicts: the comparison is not between two copies of before


@pytest.mark.slow
def test_corrected_rows_are_read_within_the_audits_own_limits(tmp_path: Path) -> None:
    """A correction is read under the limits the audit's audit.yaml sets, not the defaults: a
    class name longer than the case's `limits.cell_chars` is refused with the key named, while the
    same row within the limit is loaded."""
    case = tmp_path / "case"
    shutil.copytree(LIUZHOU_2025, case)
    with (case / "audit.yaml").open("a", encoding="utf-8") as handle:
        handle.write("limits:\n  cell_chars: 60\n")
    with (LIUZHOU_2025 / "classes.csv").open(encoding="utf-8-sig", newline="") as handle:
        header, first, *_ = list(csv.reader(handle))
    check = SelfCheck(case)
    try:
        for teacher, refused in (("周" * 60, False), ("周" * 61, True)):
            folder = tmp_path / f"upload-{len(teacher)}"
            folder.mkdir()
            with (folder / "classes.csv").open("w", encoding="utf-8", newline="") as handle:
                csv.writer(handle).writerows([header, [*first[:4], teacher]])
            result = check.check(first[1], folder / "classes.csv")
            reasons = " ".join(problem.message for problem in result.problems)
            assert ("limits.cell_chars" in reasons) is refused, reasons
            assert result.rows_loaded == (0 if refused else 1), reasons
    finally:
        check.close()
