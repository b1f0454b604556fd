"""The plan's words, read as written: ranges, additions since 2021 and the requirements added for issue 11.

Each rule with a numeric boundary is run through the real indicators and engine on inputs drawn around it
by hypothesis, and its verdict must equal the one computed here from the rule's text in exact arithmetic
(the pattern of tests/test_exact_thresholds.py, whose helpers build the tables).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from inspector.cli import main
from inspector.rules.packs import DEFAULT_RULES_DIR

CASE = DEFAULT_RULES_DIR / "plan" / "cases" / "fidelity-2025"


class TestDesignationYear:
    def test_a_bad_year_is_a_located_error(self, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
        """示范认定年份 that is not a whole year, or not a plausible one, stops the audit at its row and column."""
        folder = tmp_path / "case"
        shutil.copytree(CASE, folder)
        path = folder / "schools.csv"
        text = path.read_text(encoding="utf-8")
        text = text.replace("自治区级,2021\n", "自治区级,2021年3月\n").replace("国家级,2026\n", "国家级,1902\n")
        path.write_text(text, encoding="utf-8")
        assert main(["audit", str(folder), "--out", str(tmp_path / "out"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "schools.csv:5: 示范认定年份: 应为整数：“2021年3月”" in err
        assert "schools.csv:9: 示范认定年份: 数值“1902”小于合理下限 1980年" in err
