"""Every rule's basis quotes the clause it encodes, word for word, and says how sure it is.

Checked against the plan's text (``../shared/seed/liuzhou-education-14th-plan.txt``, or ``INSPECTOR_PLAN``)
and against the national documents ``../shared/standards.md`` names:

* a passage attributed to the plan (the whole quote of a rule resting on the plan alone, or each
  ``规划：“…”`` part of a rule resting on several documents; passages joined by ``……``) occurs in the
  plan verbatim, and the rule's ``section`` names the chapter, section and item it stands in, with the
  item's title, as REQUIREMENTS.yaml does;
* a row of 表一 is quoted as REQUIREMENTS.yaml quotes it (指标 属性 2022年 … 2025年 …), or its
  “十三五”末 column as the table prints it (指标 属性 “十三五”末 …);
* a national document is named with its number;
* every rule has a reading and a confidence mark; 督导惯例 (no written source) says whose practice.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from inspector.catalog import _book
from inspector.rules.packs import DEFAULT_RULES_DIR
from inspector.rules.spec import RuleSpec
from test_requirements_inventory import PLAN, _expected_location, _headings, _squash

PLAN_DOCUMENT = "柳州市教育事业发展“十四五”规划"
# national documents of standards.md and the number each must be cited with
NUMBERS = {
    "县域学前教育普及普惠督导评估办法": "教督〔2020〕1号",
    "县域义务教育优质均衡发展督导评估办法": "教督〔2017〕6号",
    "中小学、幼儿园安全防范要求": "GB/T 29315-2022",
    "幼儿园工作规程": "教育部令第39号",
}


@pytest.fixture(scope="module")
def specs() -> list[RuleSpec]:
    return [rule.spec for rule in _book(DEFAULT_RULES_DIR).rules]


@pytest.fixture(scope="module")
def plan() -> str:
    if not PLAN.is_file():
        pytest.skip(f"plan text not found at {PLAN} (set INSPECTOR_PLAN)")
    return PLAN.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def table_one_quotes() -> dict[str, str]:
    """序号 → the row as REQUIREMENTS.yaml quotes it (19: 基教 and 职教, keyed 19a and 19b)."""
    inventory = yaml.safe_load((DEFAULT_RULES_DIR / "REQUIREMENTS.yaml").read_text(encoding="utf-8"))
    return {e["id"][3:].lstrip("0"): e["quote"] for e in inventory["requirements"] if e["id"].startswith("T1-")}


def plan_passages(spec: RuleSpec) -> list[str]:
    """The passages a basis attributes to the plan: its whole quote when the plan is its only document,
    else each 规划：“…” part (nested quotation marks kept), split at ……."""
    quote = spec.basis.quote
    if spec.basis.document.strip() == PLAN_DOCUMENT:
        parts = [quote]
    else:
        parts = []
        for match in re.finditer("规划：“", quote):
            depth, start = 1, match.end()
            for index in range(start, len(quote)):
                depth += {"“": 1, "”": -1}.get(quote[index], 0)
                if depth == 0:
                    parts.append(quote[start:index])
                    break
            else:
                raise AssertionError(f"{spec.id}: unbalanced quotation marks in its quote")
    return [p.strip() for part in parts for p in part.split("……") if p.strip()]


def _table_row(passage: str, table_one_quotes: dict[str, str]) -> str | None:
    """The 序号 a passage quotes 表一 by, if it is a row of 表一 (or its “十三五”末 column)."""
    text = _squash(passage).rstrip("。")
    row = next((n for n, q in table_one_quotes.items() if text == _squash(q)), None)
    return row if row is not None else next((n for n, q in _baseline_quotes().items() if text == q), None)


def _baseline_quotes() -> dict[str, str]:
    """序号 → “指标 属性 “十三五”末 value” as 表一 prints it in the plan's text (one tab-indented cell per
    line: 序号, 类别, 指标, 属性, “十三五”末, 2022年, 2025年; 序号19's 职教 values in a block of its own whose
    first four cells are blank)."""
    if not PLAN.is_file():
        return {}
    lines = PLAN.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "2025年") + 1
    rows: list[list[str]] = []
    for line in lines[start:]:
        if line.startswith("\t"):
            cell = line[1:].strip()
            if re.fullmatch(r"\d+", cell) and (not rows or len(rows[-1]) >= 7):
                rows.append([cell])
            elif rows:
                rows[-1].append(cell)
        elif line.strip() and rows and len(rows[-1]) >= 7:
            break
    quotes: dict[str, str] = {}
    for cells in rows:
        number, _, name, binding = cells[:4]
        # a continuation block (序号19's 职教 line) adds a second set of the last three columns
        for part in cells[4::7]:
            key = number + ("a" if "基教" in part else "b" if "职教" in part else "")
            quotes[key] = _squash(f"{name} {binding} “十三五”末 {part}")
    return quotes


def test_every_rule_has_a_reading_and_a_confidence_mark(specs: list[RuleSpec]) -> None:
    for spec in specs:
        assert spec.basis.reading and spec.basis.reading.strip(), spec.id
        assert spec.basis.confidence in ("V", "V2", "M", "督导惯例"), spec.id


def test_a_rule_without_written_source_says_whose_practice(specs: list[RuleSpec]) -> None:
    for spec in specs:
        if spec.basis.confidence == "督导惯例":
            assert "督导惯例" in spec.basis.document, spec.id
            assert spec.basis.note and "做法" in spec.basis.note, f"{spec.id}: say whose practice in the note"


def test_national_documents_are_named_with_their_number(specs: list[RuleSpec]) -> None:
    for spec in specs:
        for name, number in NUMBERS.items():
            if name in spec.basis.document:
                assert number in spec.basis.document, f"{spec.id}: {name} without {number}"


def test_every_rule_on_the_plan_quotes_it(specs: list[RuleSpec]) -> None:
    for spec in specs:
        if PLAN_DOCUMENT in spec.basis.document:
            assert plan_passages(spec), f"{spec.id}: the plan is named but no passage of it is quoted"


def test_plan_passages_occur_verbatim(specs: list[RuleSpec], plan: str, table_one_quotes: dict[str, str]) -> None:
    text = _squash(plan)
    wrong = [
        f"{spec.id}: {passage}"
        for spec in specs
        for passage in plan_passages(spec)
        if _table_row(passage, table_one_quotes) is None and _squash(passage) not in text
    ]
    assert not wrong, wrong


def test_sections_name_where_the_passages_stand(
    specs: list[RuleSpec], plan: str, table_one_quotes: dict[str, str]
) -> None:
    text, headings = _squash(plan), _headings(plan)
    wrong = []
    for spec in specs:
        section = _squash(spec.basis.section)
        for passage in plan_passages(spec):
            row = _table_row(passage, table_one_quotes)
            if row is not None:
                where = f"表一序号{row.rstrip('ab')}"
            elif _squash(passage) in text:
                prefix, title = _expected_location(headings, text.index(_squash(passage)))
                where = _squash(prefix + title)
            else:
                continue  # reported by test_plan_passages_occur_verbatim
            if where not in section:
                wrong.append(f"{spec.id}: section “{spec.basis.section}” does not name {where}")
    assert not wrong, wrong


def test_the_check_finds_a_paraphrase() -> None:
    """Not vacuous: a quote reworded, or a 十三五 achievement dressed as a requirement, is caught."""
    rule: dict[str, Any] = {
        "id": "x.y",
        "version": 1,
        "title": "t",
        "applies_to": "school",
        "condition": "enrolment > 0",
        "severity": "minor",
        "message": "m",
        "rectification": {"action": "a", "responsible": "r", "deadline_days": 1},
        "basis": {
            "document": f"{PLAN_DOCUMENT}；中小学、幼儿园安全防范要求（GB/T 29315-2022）",
            "section": "s",
            "quote": "规划：“按照校园安防“4+n”工作要求，加快安全防范新技术推广应用。……加强保卫机构建设。”标准：…",
            "reading": "r",
            "confidence": "V",
        },
    }
    spec = RuleSpec.model_validate(rule)
    assert plan_passages(spec) == ["按照校园安防“4+n”工作要求，加快安全防范新技术推广应用。", "加强保卫机构建设。"]
    if PLAN.is_file():
        text = _squash(Path(PLAN).read_text(encoding="utf-8"))
        assert [_squash(p) in text for p in plan_passages(spec)] == [True, False]
