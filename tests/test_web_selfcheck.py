"""自查's warm engine against the audit itself: on cases/liuzhou-2025 (every pack), a school's
verdicts on its unchanged rows are the audit's findings for that school, and submitting the rows
unchanged closes and opens nothing. This is what lets 自查 read indicators above the school from
the whole audit and recompute only those the school-level rules read."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

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
