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
from typing import Any

import polars as pl
import pytest

from inspector.audit import run_audit
from inspector.engine.tables import ID, SCHOOL
from inspector.findings.build import finding_id
from inspector.records.loader import load_table
from inspector.web import selfcheck
from inspector.web.selfcheck import SCHOOL_LEVEL, SelfCheck

LIUZHOU_2025 = Path(__file__).resolve().parents[1] / "cases" / "liuzhou-2025"
BOUNDARIES = LIUZHOU_2025.parents[1] / "rules" / "core" / "cases" / "boundaries"


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
    """For the two schools with most findings and one with none, and every kind of row a school can
    submit, the verdicts of the rules that read that kind, with the others' kept from before, equal
    those of every rule re-evaluated."""
    by_school = _school_findings(case_out, {rule.id for rule in warm.rules})
    counts = Counter({school: len(ids) for school, ids in by_school.items()})
    chosen = [school for school, _ in counts.most_common(2)] + sorted(warm.schools() - set(by_school))[:1]
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


def test_only_the_last_schools_checked_are_kept_and_a_school_dropped_is_worked_out_again(
    warm: SelfCheck, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a check keeps per school (its verdicts and indicators before a correction) is held for the
    last SCHOOLS_KEPT schools only; a school checked again after it was dropped gets the same answers."""
    monkeypatch.setattr(selfcheck, "SCHOOLS_KEPT", 2)
    schools = sorted(warm.schools())[:4]
    corrected = {s: warm.dataset.tables["classes"].filter(pl.col("school_id") == s).gather_every(2) for s in schools}
    first = {s: (warm.before(s), warm.after(s, "classes", corrected[s], "classes.csv")) for s in schools}
    assert len(warm._kept) == 2 and list(warm._kept) == schools[2:]
    for school in reversed(schools):
        assert (warm.before(school), warm.after(school, "classes", corrected[school], "classes.csv")) == first[school]
        assert len(warm._kept) <= 2
    assert list(warm._kept) == [schools[1], schools[0]]


@pytest.mark.slow
def test_corrected_rows_are_read_within_the_audits_own_limits(tmp_path: Path) -> None:
    """A correction is read under the limits the audit's audit.yaml sets, not the defaults: a
    class code longer than the case's `limits.cell_chars` is refused with the key named, while the
    same row within the limit is loaded. The folder is the core pack's boundary case with that
    limit added: how an upload is read does not depend on the audit's size or packs, and its warm
    engine takes 0.1 s of CPU where cases/liuzhou-2025's took 1.1 s."""
    case = tmp_path / "case"
    shutil.copytree(BOUNDARIES, case)
    with (case / "audit.yaml").open("a", encoding="utf-8") as handle:
        handle.write("limits:\n  cell_chars: 60\n")
    with (BOUNDARIES / "classes.csv").open(encoding="utf-8-sig", newline="") as handle:
        header, first, *_ = list(csv.reader(handle))
    check = SelfCheck(case)
    try:
        for code, refused in (("班" * 60, False), ("班" * 61, True)):
            folder = tmp_path / f"upload-{len(code)}"
            folder.mkdir()
            with (folder / "classes.csv").open("w", encoding="utf-8", newline="") as handle:
                csv.writer(handle).writerows([header, [code, *first[1:]]])
            result = check.check(first[1], folder / "classes.csv")
            reasons = " ".join(problem.message for problem in result.problems)
            assert ("limits.cell_chars" in reasons) is refused, reasons
            assert result.rows_loaded == (0 if refused else 1), reasons
    finally:
        check.close()


def _corrected(kind: str, header: list[str], rows: list[list[str]]) -> list[list[str]]:
    """A school's rows as a school might correct them: every third row dropped; for classes, every
    class over 45 pupils cut to 45; for teachers, every fourth one's full-time flag turned over and
    every fifth one's degree lowered to 专科 (what the teacher-count and preschool rules read)."""
    kept = [list(row) for n, row in enumerate(rows) if n % 3 != 2]
    if kind == "classes":
        size = header.index("班额")
        for row in kept:
            if row[size].isdigit() and int(row[size]) > 45:
                row[size] = "45"
    else:
        full_time, degree = header.index("full_time"), header.index("degree")
        for n, row in enumerate(kept):
            if n % 4 == 0:
                row[full_time] = "否" if row[full_time] in ("是", "Y", "1", "true", "yes") else "是"
            if n % 5 == 1:
                row[degree] = "专科"
    return kept


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "school_column"), [("classes", "学校代码"), ("teachers", "school_id")])
def test_a_check_says_what_a_whole_audit_of_the_corrected_folder_says(
    warm: SelfCheck, audited_case: Any, tmp_path: Path, kind: str, school_column: str
) -> None:
    """For several schools (those with the most school-level findings, a kindergarten, one with
    none), a correction of their classes or teachers is checked, and the case folder with those
    schools' rows replaced is audited whole: the check's verdicts for each school's entities are
    the audit's, and so are the findings the page lists as closing, opening, remaining and
    becoming gaps. The schools are corrected in one folder: a school-level rule reads one
    school's rows (and, as context, the peers indicators over the whole audit, which these
    corrections leave alone for the other schools)."""
    original = audited_case("liuzhou-2025")
    rules = {rule.id: rule for rule in warm.rules}
    counts = Counter(
        f.school_id for f in original.findings if f.rule_id in rules and f.school_id and f.entity_type in SCHOOL_LEVEL
    )
    with (LIUZHOU_2025 / f"{kind}.csv").open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    column = header.index(school_column)
    by_school: dict[str, list[list[str]]] = {}
    for row in rows:
        by_school.setdefault(row[column], []).append(row)
    schools_table = warm.dataset.tables["schools"]
    kindergartens = set(schools_table.filter(pl.col("type") == "kindergarten")["school_id"].to_list())
    with_rows = [s for s, _ in counts.most_common() if len(by_school.get(s, [])) >= 3]
    chosen = with_rows[:3]
    chosen += [
        max((s for s in kindergartens if s in by_school and s not in chosen), key=lambda s: (len(by_school[s]), s))
    ]
    chosen += [min(s for s in by_school if s not in counts and len(by_school[s]) >= 3)]
    corrected = {school: _corrected(kind, header, by_school[school]) for school in chosen}

    case = tmp_path / "case"
    shutil.copytree(LIUZHOU_2025, case)
    with (case / f"{kind}.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [header, *(row for row in rows if row[column] not in corrected), *(r for s in chosen for r in corrected[s])]
        )
    audit = run_audit(case, workers=1, keep_tables=True)
    assert audit.tables is not None

    changed = 0
    for school in chosen:
        upload = tmp_path / school / f"{kind}.csv"
        upload.parent.mkdir()
        with upload.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([header, *corrected[school]])
        result = warm.check(school, upload)
        assert not result.problems and result.rows_loaded == len(corrected[school]), result.problems[:3]

        expected: dict[str, str] = {}
        for rule in rules.values():
            base = audit.tables.base(rule.spec.applies_to)
            members = set(base.filter(pl.col(SCHOOL) == school)[ID].to_list())
            outcome = audit.outcomes[rule.id].verdicts
            for entity_id, verdict in zip(outcome[ID].to_list(), outcome["verdict"].to_list()):
                if entity_id in members:
                    expected[finding_id(rule.id, rule.spec.applies_to, entity_id)] = verdict
        frame = load_table(upload, warm.dataset.tables, len(warm.dataset.sources), warm.dataset.config.limits)[1]
        after = warm.after(school, kind, frame, upload.name)
        extra = {(v.rule_id, v.entity_id, v.verdict) for fid, v in after.items() if expected.get(fid) != v.verdict}
        assert {fid: v.verdict for fid, v in after.items()} == expected, (school, sorted(extra)[:5])

        failing = {f.id for f in audit.findings if f.school_id == school and f.rule_id in rules}
        assert failing == {fid for fid, verdict in expected.items() if verdict == "fail"}
        was = {fid for fid, v in warm.before(school).items() if v.verdict == "fail"}
        now = {fid for fid, verdict in expected.items() if verdict == "fail"}
        gaps = {fid for fid, verdict in expected.items() if verdict == "gap"}
        assert {v.finding_id for v in result.closes} == was - now - gaps, school
        assert {v.finding_id for v in result.gaps} == was & gaps, school
        assert {v.finding_id for v in result.opens} == now - was, school
        assert {v.finding_id for v in result.remains} == now & was, school
        changed += len(result.closes) + len(result.opens) + len(result.gaps)
    assert changed >= 3  # the corrections change findings: the comparison is not of the unchanged audit
