"""The three rounds (cases/liuzhou-2024 → liuzhou-2025 → liuzhou-2025-recheck): committed as the
script writes them, and classified by re-inspection exactly as planted.

The 2024 round audits the core pack; liuzhou-2025 and the recheck audit all five packs. The planted
classification is of core findings; the other packs' 2025 findings are `new` (never audited before) and
all persist in the recheck (its statistics are 2025's a year on; nothing of theirs was fixed)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from inspector.cli import main
from inspector.history.commands import import_audit, reinspect
from synthetic import rounds
from synthetic.oracle import RULE_IDS

CASES = Path(__file__).resolve().parents[1] / "cases"
CORE = frozenset(RULE_IDS)


@pytest.mark.slow
def test_committed_rounds_are_what_the_script_writes() -> None:
    """cases/liuzhou-2024, cases/liuzhou-2025-recheck and cases/liuzhou-2025/waivers.yaml."""
    for name, data in rounds.outputs().items():
        assert (CASES / name).read_bytes() == data, name
    for folder in ("liuzhou-2024", "liuzhou-2025-recheck"):
        assert {p.name for p in (CASES / folder).iterdir()} == {
            n.split("/", 1)[1] for n in rounds.outputs() if n.startswith(folder + "/")
        }


def test_changes_name_existing_rows() -> None:
    """A planted change naming a row the table does not have is an error, not silently skipped."""
    tables = {kind: rounds.read_table(rounds.SOURCE, kind) for kind in rounds.KINDS}
    with pytest.raises(KeyError):
        rounds.apply(tables, [rounds.SetCell("classes", "no-such-class", "size", "1")])


def _three_rounds(root: Path) -> None:
    db = root / "h.sqlite"
    assert main(["audit", str(CASES / "liuzhou-2024"), "--out", str(root / "o24"), "--quiet"]) == 0
    import_audit(db, root / "o24", today=dt.date(2024, 12, 10), source=CASES / "liuzhou-2024")
    first, _ = reinspect(db, CASES / "liuzhou-2025", str(root / "o24"), root / "o25", today=dt.date(2025, 12, 10))
    reinspect(db, CASES / "liuzhou-2025-recheck", first.record.id, root / "o26", today=dt.date(2026, 4, 15))


def _documents(root: Path) -> dict[str, dict[str, Any]]:
    return {
        "liuzhou-2025": json.loads((root / "o25" / "findings.json").read_text(encoding="utf-8")),
        "liuzhou-2025-recheck": json.loads((root / "o26" / "findings.json").read_text(encoding="utf-8")),
    }


@pytest.mark.slow
def test_re_inspection_of_the_three_rounds_finds_what_was_planted(tmp_path: Path) -> None:
    """2024 → 2025 → the recheck, imported and re-inspected in turn (~20 s: one test, so that one
    worker makes the rounds), checked by each of the checks below: the planted changes classified
    exactly, every finding classified, the evidence of what is resolved, the trend towards the
    targets, and the other packs new in 2025 and persisting."""
    _three_rounds(tmp_path)
    documents = _documents(tmp_path)
    for case in rounds.PLANTED:
        planted_classification(documents, case)
        every_finding_is_classified_and_nothing_resolved_still_fires(documents, case)
    resolved_carries_the_evidence_that_it_now_passes(documents)
    trend_towards_the_targets(documents)
    other_packs_are_new_in_2025_and_persist_in_the_recheck(documents)


def planted_classification(documents: dict[str, dict[str, Any]], case: str) -> None:
    """Re-inspection classifies exactly the planted changes: new, persisting, regressed, resolved, unverified, waived, expired waiver."""
    document, planted = documents[case], rounds.PLANTED[case]
    changes = {(f["rule_id"], f["entity_id"]): f["change"] for f in document["findings"]}
    for change in ("new", "persisting", "regressed"):
        for key in planted.get(change, []):
            assert changes[key] == change, key
    resolved = {(r["rule_id"], r["entity_id"]) for r in document["resolved"]}
    unverified = {(r["rule_id"], r["entity_id"]) for r in document["unverified"]}
    assert resolved == set(planted["resolved"])  # exactly: nothing else was fixed
    assert unverified == set(planted["unverified"])
    assert changes.get(("safety.alarm-linked", "4502030039")) == ("regressed" if case.endswith("recheck") else None)
    waived = {(f["rule_id"], f["entity_id"]) for f in document["findings"] if f.get("waived")}
    expired = {(f["rule_id"], f["entity_id"]) for f in document["findings"] if "expired_waiver" in f}
    assert waived == set(planted["waived"]) and expired == set(planted["expired_waiver"])


def every_finding_is_classified_and_nothing_resolved_still_fires(
    documents: dict[str, dict[str, Any]], case: str
) -> None:
    document = documents[case]
    ids = {f["id"] for f in document["findings"]}
    assert all(f["change"] in ("new", "persisting", "regressed") for f in document["findings"])
    assert not ids & {r["id"] for r in document["resolved"] + document["unverified"]}
    counts = document["reinspection"]["counts"]
    assert counts["new"] + counts["persisting"] + counts["regressed"] == len(ids)
    assert all(entry["evidence"] and entry["resolution"] for entry in document["resolved"])


def resolved_carries_the_evidence_that_it_now_passes(documents: dict[str, dict[str, Any]]) -> None:
    resolved = {(r["rule_id"], r["entity_id"]): r for r in documents["liuzhou-2025-recheck"]["resolved"]}
    large = resolved[("class-size.large", "4502050038-003")]
    assert [(o["field"], o["value"]) for o in large["observed"]] == [("size", 51)]
    assert large["evidence"][0]["values"]["size"] == 51 and large["evidence"][0]["file"] == "classes.csv"
    assert "班额 57 人" in large["message"] and large["last_seen"]["as_of"] == "2025-12-01"
    licensed = resolved[("kindergarten.unlicensed", "4502030012")]
    assert licensed["evidence"][0]["values"]["license_no"] == "柳鱼教幼证字（2026）第003号"


def trend_towards_the_targets(documents: dict[str, dict[str, Any]]) -> None:
    """A county's trend lists each round's value and verdict (鹿寨县: 10% failing in 2024, 15% passing in
    2025) beside the plan's target for the rule, with its label, unit and milestone year."""
    series = {
        t["entity_id"]: t for t in documents["liuzhou-2025"]["trends"] if t["rule_id"] == "teachers.new-pe-art-share"
    }
    assert [(p["year"], p["value"], p["verdict"]) for p in series["鹿寨县"]["points"]] == [
        (2024, 0.1, "fail"),
        (2025, 0.15, "pass"),
    ]
    assert series["鹿寨县"]["targets"][0] == {
        "param": "min_new_pe_art_share",
        "label": "新增教师中体育、艺术教师最低占比",
        "unit": "比例",
        "year": 2022,
        "value": 0.15,
    }


def other_packs_are_new_in_2025_and_persist_in_the_recheck(documents: dict[str, dict[str, Any]]) -> None:
    """2025 is the first audit of the plan, quality-balance, preschool and safety packs; the recheck finds them all again."""
    first = {
        (f["rule_id"], f["entity_id"]): f["change"]
        for f in documents["liuzhou-2025"]["findings"]
        if f["rule_id"] not in CORE
    }
    assert first and set(first.values()) == {"new"}
    recheck = documents["liuzhou-2025-recheck"]
    again = {(f["rule_id"], f["entity_id"]): f["change"] for f in recheck["findings"] if f["rule_id"] not in CORE}
    assert {key: again.get(key) for key in first} == {key: "persisting" for key in first}
    assert set(again.values()) <= {
        "persisting",
        "new",
    }  # new ones: a year on, more teachers in the 5-year training check
    assert not [r for r in recheck["resolved"] + recheck["unverified"] if r["rule_id"] not in CORE]
