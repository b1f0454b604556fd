"""Extra columns of an input file are kept and available to rules under their header."""

from __future__ import annotations

import shutil
from pathlib import Path

from inspector.audit import run_audit
from inspector.testing import AuditBuilder

ROOT = Path(__file__).resolve().parents[1]
PACK = """\
rules:
  - id: classes.long-week
    version: 1
    title: 周课时过多
    applies_to: class
    condition: 周课时 > params.max_weekly_lessons and 班主任 != "外聘"
    severity: minor
    basis: {document: 测试, section: 第一条, quote: 每周课时不超过 30 节。}
    message: "{{ class_id }} 周课时 {{ 周课时 | num }} 节"
    rectification: {action: 调整课表, responsible: "{{ school.name }}", deadline_days: 30}
"""


def test_rule_on_extra_columns(tmp_path: Path) -> None:
    """A numeric extra column compares as a number, a text one as text; blanks are not evaluated."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules" / "core", rules / "extra")
    pack = rules / "extra" / "pack.yaml"
    pack.write_text(
        pack.read_text(encoding="utf-8").replace("id: core", "id: extra")
        + "  max_weekly_lessons:\n    value: 30\n    title: 周课时上限\n",
        encoding="utf-8",
    )
    (rules / "extra" / "extra.yaml").write_text(PACK, encoding="utf-8")
    builder = AuditBuilder(packs=("extra",))
    school = builder.school("S1")
    for class_id in ("C1", "C2", "C3", "C4"):
        builder.klass(school, "3", 40, class_id)
    folder = builder.write(tmp_path / "audit")
    text = (folder / "classes.csv").read_text(encoding="utf-8-sig").splitlines()
    extra = ["周课时,班主任", "32,张老师", "30,李老师", "35,外聘", ",王老师"]
    (folder / "classes.csv").write_text("\n".join(f"{a},{b}" for a, b in zip(text, extra)) + "\n", encoding="utf-8")
    result = run_audit(folder, rules_dir=rules)
    outcome = result.outcomes["classes.long-week"]
    assert (outcome.failed, outcome.passed, outcome.gaps) == ({"C1"}, {"C2", "C3"}, {"C4"})
    (finding,) = [f for f in result.findings if f.rule_id == "classes.long-week"]
    assert finding.message == "C1 周课时 32 节"
    assert finding.evidence[0].values["周课时"] == 32  # a column of numbers is read as numbers
