"""rules/REQUIREMENTS.yaml: the requirement inventory of the plan, checked against the plan's text.

The plan is read from ``../shared/seed/liuzhou-education-14th-plan.txt`` (the path the README gives),
or from the file named by ``INSPECTOR_PLAN``. Tests that need the plan skip when it is absent; the
tests of the inventory's own structure always run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from inspector.records.schema import RECORD_KINDS

ROOT = Path(__file__).resolve().parents[1]
INVENTORY = ROOT / "rules" / "REQUIREMENTS.yaml"
PLAN = Path(os.environ.get("INSPECTOR_PLAN", ROOT.parent / "shared" / "seed" / "liuzhou-education-14th-plan.txt"))

DOCUMENT = "柳州市教育事业发展“十四五”规划（2021—2025年）"
KEYS = {"id", "location", "quote", "measure", "targets", "reading", "attribute", "level", "status", "rules"}
OPTIONAL = {"also_county", "data", "not_checkable"}
LEVELS = {"city", "county", "township", "school", "class", "teacher"}
ATTRIBUTES = {"约束性", "预期性", None}
T1_IDS = [f"T1-{n:02d}" for n in range(1, 19)] + ["T1-19a", "T1-19b"] + [f"T1-{n:02d}" for n in range(20, 23)]

# The data contract is the engine's own record schema; the inventory may propose columns on top of it
# (listed in the file's header and here).
CONTRACT = {kind: {c.name for c in spec.columns} for kind, spec in RECORD_KINDS.items()}
PROPOSED: set[str] = set()  # every column the inventory proposed is in the contract now

CN_DIGITS = "一二三四五六七八九十"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def inventory() -> dict[str, Any]:
    return yaml.safe_load(INVENTORY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def entries(inventory: dict[str, Any]) -> list[dict[str, Any]]:
    return inventory["requirements"]


@pytest.fixture(scope="module")
def by_id(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in entries}


@pytest.fixture(scope="module")
def plan() -> str:
    if not PLAN.is_file():
        pytest.skip(f"plan text not found at {PLAN} (set INSPECTOR_PLAN)")
    return PLAN.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def table_one(plan: str) -> dict[str, dict[str, str]]:
    """表一 parsed from the plan: id -> category, indicator, attribute, 2022 and 2025 cells as printed."""
    start = plan.index("表一：")
    end = plan.index("第二章", start)
    # Rows are separated by empty lines; every cell is a line starting with a tab (an empty cell is a lone tab).
    blocks = [b for b in re.split(r"\n[ \r]*\n", plan[start:end].split("\n", 1)[1]) if b.strip()]
    header, *rows = ([line.strip() for line in block.split("\n") if line.startswith("\t")] for block in blocks)
    assert header == ["序号", "指标项目", "属性", "“十三五”末", "2022年", "2025年"]
    table: dict[str, dict[str, str]] = {}
    category = indicator = attribute = ""
    previous = ""
    for cells in rows:
        assert len(cells) == 7, cells
        number, cat, name, attr, _baseline, y2022, y2025 = cells
        if not number:  # continuation line of 序号19 (职教)
            key = previous + "b"
            table[previous + "a"] = table.pop(previous)
        else:
            category, indicator, attribute = cat or category, name, attr
            key = previous = f"T1-{int(number):02d}"
        table[key] = {
            "number": number or previous[3:],
            "category": category,
            "indicator": indicator,
            "attribute": attribute,
            "2022": y2022,
            "2025": y2025,
        }
    return table


def _span(text: str, entry: dict[str, Any]) -> tuple[int, int]:
    """Where the entry's quote stands in the whitespace-free plan."""
    quote = _squash(entry["quote"])
    assert quote in text, f"{entry['id']}: quote not found in the plan"
    start = text.index(quote)
    return start, start + len(quote)


def _label_free(cell: str) -> str:
    """'基教:86' / '职教：35' -> the number; other cells unchanged."""
    return re.sub(r"^(基教|职教)[:：]", "", cell)


# -- the file --------------------------------------------------------------------------------------------


def test_loads_with_safe_load_and_names_the_document(inventory: dict[str, Any]) -> None:
    assert isinstance(inventory, dict)
    assert inventory["document"] == DOCUMENT
    assert isinstance(inventory["requirements"], list) and inventory["requirements"]


def test_file_is_utf8_block_style() -> None:
    text = INVENTORY.read_text(encoding="utf-8")
    assert text.startswith("# Requirement inventory of 柳州市教育事业发展“十四五”规划")
    assert "\nrequirements:\n" in text
    assert not re.search(r"^\s*-\s*\{", text, re.MULTILINE), "entries are block mappings, not flow mappings"


# -- every entry -----------------------------------------------------------------------------------------


def test_every_entry_has_the_required_keys_with_the_right_types(entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        where = entry.get("id", entry)
        assert KEYS <= set(entry), (where, KEYS - set(entry))
        assert set(entry) <= KEYS | OPTIONAL, (where, set(entry) - KEYS - OPTIONAL)
        for key in ("id", "location", "quote", "measure", "reading"):
            assert isinstance(entry[key], str) and entry[key].strip(), (where, key)
        assert entry["attribute"] in ATTRIBUTES, where
        assert entry["level"] in LEVELS, where
        assert isinstance(entry.get("also_county", False), bool), where
        assert entry["status"] in {"checked", "todo", "not_checkable"}, where
        assert (entry["status"] == "checked") == bool(entry["rules"]), (
            where,
            "checked entries, and only they, name rules",
        )
        assert isinstance(entry["rules"], list) and all(isinstance(r, str) for r in entry["rules"]), where
        targets = entry["targets"]
        assert isinstance(targets, dict) and targets, where
        for key, value in targets.items():
            assert (isinstance(key, int) and 2021 <= key <= 2025) or key in {"standing", "2021-2025"}, (where, key)
            assert isinstance(value, str) and value.strip(), (where, key)


def test_ids_are_unique_and_in_the_documented_pattern(entries: list[dict[str, Any]]) -> None:
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    for entry_id in ids:
        assert re.fullmatch(r"T1-(0[1-9]|1[0-8]|19[ab]|2[0-2])|R-\d{3}", entry_id), entry_id
    others = [i for i in ids if i.startswith("R-")]
    assert others == [f"R-{n:03d}" for n in range(1, len(others) + 1)], "R ids are consecutive from R-001"
    assert ids[: len(T1_IDS)] == T1_IDS, "表一 comes first, in 序号 order"


def test_todo_names_its_data_and_not_checkable_its_reason(entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        if entry["status"] in ("checked", "todo"):
            assert isinstance(entry.get("data"), str) and entry["data"].strip(), entry["id"]
            assert "not_checkable" not in entry, entry["id"]
        else:
            reason = entry.get("not_checkable")
            assert isinstance(reason, str) and len(reason.strip()) >= 10, entry["id"]
            assert "data" not in entry, entry["id"]


def test_data_names_columns_of_the_contract_or_a_listed_proposal(entries: list[dict[str, Any]]) -> None:
    used: set[str] = set()
    for entry in (e for e in entries if e["status"] in ("checked", "todo")):
        for name in (n.strip() for n in entry["data"].split(",")):
            assert re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", name), (entry["id"], name)
            kind, column = name.split(".")
            assert kind in CONTRACT, (entry["id"], name)
            assert column in CONTRACT[kind] or name in PROPOSED, (entry["id"], name)
            assert not (column in CONTRACT[kind] and name in PROPOSED), f"{name} is in the contract now"
            used.add(name)
    assert PROPOSED <= used, f"proposed columns no entry uses: {PROPOSED - used}"
    header = INVENTORY.read_text(encoding="utf-8").split("\ndocument:")[0]
    for name in PROPOSED:
        assert name.split(".")[1] in header, f"{name} is not listed in the file's header"


def test_coverage_is_complete() -> None:
    """`inspector rules coverage` shows every requirement checked or justified, and exits 0."""
    from inspector.cli import main

    assert main(["rules", "coverage"]) == 0


def test_named_rules_exist(entries: list[dict[str, Any]]) -> None:
    """Every rule id the inventory names is a rule of some pack."""
    from inspector.catalog import _book
    from inspector.rules.packs import DEFAULT_RULES_DIR

    known = {rule.id for rule in _book(DEFAULT_RULES_DIR).rules}
    for entry in entries:
        assert set(entry["rules"]) <= known, (entry["id"], set(entry["rules"]) - known)


def test_attribute_only_where_table_one_gives_it(entries: list[dict[str, Any]], by_id: dict[str, Any]) -> None:
    for entry in entries:
        if entry["id"].startswith("T1-"):
            assert entry["attribute"] in {"约束性", "预期性"}, entry["id"]
            continue
        rows = re.findall(r"同表一序号(\d+)", entry["reading"])
        if not rows:
            assert entry["attribute"] is None, f"{entry['id']} has an attribute but restates no 表一 row"
        else:
            for row in rows:
                assert entry["attribute"] == by_id[f"T1-{int(row):02d}"]["attribute"], entry["id"]


def test_readings_state_inclusive_bounds(entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        values = " ".join(entry["targets"].values())
        if "以上" in values and entry["status"] in ("checked", "todo"):
            assert "≥" in entry["reading"] and "含" in entry["reading"], entry["id"]
        if re.search(r"\d+-\d+", values.replace("2021-2025", "")):
            assert "≤" in entry["reading"], entry["id"]


# -- 表一 ---------------------------------------------------------------------------------------------


def test_table_one_has_exactly_its_23_rows(entries: list[dict[str, Any]]) -> None:
    assert [e["id"] for e in entries if e["id"].startswith("T1-")] == T1_IDS


def test_table_one_rows_match_the_plan(by_id: dict[str, Any], table_one: dict[str, dict[str, str]]) -> None:
    assert sorted(table_one) == sorted(T1_IDS)
    for entry_id, row in table_one.items():
        entry = by_id[entry_id]
        assert entry["attribute"] == row["attribute"], entry_id
        assert entry["targets"] == {2022: _label_free(row["2022"]), 2025: _label_free(row["2025"])}, entry_id
        assert entry["quote"] == f"{row['indicator']} {row['attribute']} 2022年 {row['2022']} 2025年 {row['2025']}"
        assert entry["location"].startswith(f"表一 序号{row['number']}（{row['category']}"), entry_id


@pytest.mark.parametrize(
    ("entry_id", "attribute", "y2022", "y2025"),
    [
        ("T1-01", "预期性", "92", "95"),
        ("T1-02", "预期性", "52", "52以上"),
        ("T1-04", "约束性", "10", "70"),
        ("T1-05", "约束性", "99", "99以上"),
        ("T1-06", "预期性", "10以上", "30以上"),
        ("T1-12", "预期性", "/", "2-3"),
        ("T1-14", "约束性", "/", "10.7"),
        ("T1-19a", "预期性", "/", "86"),
        ("T1-19b", "预期性", "/", "35"),
        ("T1-22", "预期性", "4.2", "4.5"),
    ],
)
def test_table_one_spot_checks(
    by_id: dict[str, Any], plan: str, entry_id: str, attribute: str, y2022: str, y2025: str
) -> None:
    """A handful written out by hand, each searched for in the plan's table as printed."""
    entry = by_id[entry_id]
    assert entry["attribute"] == attribute
    assert entry["targets"] == {2022: y2022, 2025: y2025}
    table = plan[plan.index("表一：") : plan.index("第二章")]
    indicator = entry["quote"].split(" ")[0]
    row = table[table.index(indicator) :]
    assert (
        re.match(
            rf"{re.escape(indicator)}\s*\n\t{attribute}\n\t[^\n]*\n\t{re.escape(y2022)}\s*\n\t"
            rf"(基教:|职教：)?{re.escape(y2025)}\s*\n",
            row,
        )
        or entry_id == "T1-19b"
    ), entry_id
    if entry_id == "T1-19b":
        assert "\t职教：32\n\t/\n\t职教：35" in table


# -- the other entries against the plan ---------------------------------------------------------------------


def _headings(plan: str) -> list[tuple[int, str, str, str]]:
    """(offset in the whitespace-free text, kind, number, title) of every chapter, section, item and 专栏."""
    found = []
    offset = 0
    for line in plan.split("\n"):
        clean = re.sub(r"\[bookmark:[^\]]*\]", "", line).strip()
        if m := re.match(rf"^第([{CN_DIGITS}]+)章\s*(\S+)", clean):
            found.append((offset, "chapter", m[1], m[2]))
        elif m := re.match(rf"^第([{CN_DIGITS}]+)节\s*(\S+)", clean):
            found.append((offset, "section", m[1], m[2]))
        elif m := re.match(rf"^([{CN_DIGITS}]+)、\s*(\S+)$", clean):
            found.append((offset, "item", m[1], m[2]))
        elif m := re.match(r"^专栏(\d+)：", clean):
            found.append((offset, "box", m[1], ""))
        offset += len(_squash(line))
    return found


def _expected_location(headings: list[tuple[int, str, str, str]], position: int) -> tuple[str, str]:
    chapter = section = item = box = ""
    title = ""
    for offset, kind, number, name in headings:
        if offset > position:
            break
        if kind == "chapter":
            chapter, section, item, box, title = number, "", "", "", name
        elif kind == "section":
            section, item, box, title = number, "", "", name
        elif kind == "item":
            item, box, title = number, "", name
        else:
            box = number
    prefix = f"第{chapter}章第{section}节"
    if box:
        return prefix + f" 专栏{box}", ""
    return prefix + item, f"（{title}）"


def test_every_other_quote_occurs_verbatim_once_in_order(entries: list[dict[str, Any]], plan: str) -> None:
    text = _squash(plan)
    last = -1
    for entry in (e for e in entries if not e["id"].startswith("T1-")):
        quote = _squash(entry["quote"])
        assert quote in text, f"{entry['id']}: quote not found in the plan"
        assert text.count(quote) == 1, f"{entry['id']}: quote occurs more than once"
        position = text.index(quote)
        assert position >= last, f"{entry['id']} is out of the plan's order"
        last = position


def test_locations_match_where_the_quote_stands(entries: list[dict[str, Any]], plan: str) -> None:
    text, headings = _squash(plan), _headings(plan)
    for entry in (e for e in entries if not e["id"].startswith("T1-")):
        prefix, title = _expected_location(headings, _span(text, entry)[0])
        assert entry["location"].startswith(prefix + title), (entry["id"], entry["location"], prefix + title)


def test_no_entry_quotes_the_development_base(entries: list[dict[str, Any]], plan: str) -> None:
    """第一章第一节 发展基础 records 十三五 achievements, which are not requirements."""
    text = _squash(plan)
    base = (text.index("第一节发展基础"), text.index("第二节面临挑战"))
    for entry in (e for e in entries if not e["id"].startswith("T1-")):
        assert not base[0] <= _span(text, entry)[0] < base[1], entry["id"]


# Places in the plan (after 第一章第一节, outside 表一) where a digit stands before a unit but no entry quotes
# it, each with the reason it is not a requirement.
NOT_REQUIREMENTS = {
    "21世纪": "part of a name (21世纪中国马克思主义)",
    "3-6岁儿童学习与发展指南": "title of a national document",
    "至2025年建设一批全区领先水平的特色课程": "“一批”: no number",
    "到2025年柳州高等教育人才培养规模和培养层次得到明显提升": "“明显提升”: no number",
    "到2025年，建设一批社区教育示范基地": "“一批”/“大幅度提高”: no number",
    "柳州职业教育国际化升级行动计划（2021-2025）": "title of a plan",
    "2035年远景目标纲要": "title of a plan",
}


def test_every_number_with_a_unit_is_inventoried_or_explained(entries: list[dict[str, Any]], plan: str) -> None:
    text = _squash(plan)
    start = text.index("第二节面临挑战")
    table = (text.index("表一："), text.index("第二章建设"))
    spans = [_span(text, e) for e in entries if not e["id"].startswith("T1-")]
    for phrase in NOT_REQUIREMENTS:
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(_squash(phrase)), text)]
    pattern = re.compile(r"\d+(?:\.\d+)?(?:-\d+)?(?:%|％|所|个|万|人|年|门|项|平方米|岁|世纪)")
    missed = [
        text[max(0, m.start() - 15) : m.end() + 5]
        for m in pattern.finditer(text, start)
        if not table[0] <= m.start() < table[1] and not any(a <= m.start() < b for a, b in spans)
    ]
    assert not missed, missed


def test_coverage_words_are_inventoried(entries: list[dict[str, Any]], plan: str) -> None:
    """Every 全覆盖 / 100% / 不低于 / 至少 of the plan's requirement part is in a quote, except the ones named here."""
    text = _squash(plan)
    start, table = text.index("第二节面临挑战"), (text.index("表一："), text.index("第二章建设"))
    explained = [
        "形成落实党的领导纵到底、横到边、全覆盖的工作格局"
    ]  # 第三章一: a description of the party's work pattern
    spans = [_span(text, e) for e in entries if not e["id"].startswith("T1-")]
    spans += [(text.index(p), text.index(p) + len(p)) for p in explained]
    for word in ("全覆盖", "100%", "不低于", "至少", "以上"):
        for m in re.finditer(re.escape(word), text):
            if m.start() < start or table[0] <= m.start() < table[1]:
                continue
            if word == "以上" and text[m.start() - 1] == "级":
                continue  # 市级以上 / 自治区级以上 / 县区级以上 qualify a rank and set no number of their own
            assert any(a <= m.start() < b for a, b in spans), text[m.start() - 20 : m.end() + 10]


def test_restatements_of_table_one_carry_its_2025_number(entries: list[dict[str, Any]], by_id: dict[str, Any]) -> None:
    """Where the text restates a 表一 indicator ("同表一序号N"), its number is the row's 2025 number."""
    number = re.compile(r"\d+(?:\.\d+)?(?:-\d+)?")
    restated = set()
    for entry in (e for e in entries if not e["id"].startswith("T1-")):
        for row in re.findall(r"同表一序号(\d+)", entry["reading"]):
            table = by_id[f"T1-{int(row):02d}"]
            (value,) = entry["targets"].values()
            assert number.findall(value)[0] == number.findall(table["targets"][2025])[0], (entry["id"], row)
            restated.add(int(row))
    # every 表一 indicator the text repeats is linked (19 基教/职教 and 11 技能比赛 appear only in 表一)
    assert restated == {1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 20, 21, 22}


def test_the_inventory_follows_its_schema_and_a_misspelt_key_is_located(tmp_path: Path) -> None:
    """REQUIREMENTS.yaml is read against a schema (`rule:` for `rules:` would drop the entry's rules silently)."""
    from inspector.catalog import load_requirements
    from inspector.errors import RulePackError

    assert len(load_requirements(INVENTORY, "rules/REQUIREMENTS.yaml").requirements) > 100
    text = INVENTORY.read_text(encoding="utf-8").replace("    rules: [", "    rule: [", 1)
    broken = tmp_path / "REQUIREMENTS.yaml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(RulePackError) as caught:
        load_requirements(broken, "rules/REQUIREMENTS.yaml")
    assert any(p.field.endswith("rule") and p.line > 1 for p in caught.value.problems)
