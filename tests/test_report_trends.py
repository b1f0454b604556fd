"""Trends from the history (`trends` in findings.json) in the HTML report and its county edition."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inspector.report.county import county_document
from inspector.report.html import render_report


def _trend(county: str, values: list[float]) -> dict[str, Any]:
    return {
        "rule_id": "teachers.new-pe-art-share",
        "rule_title": "新增体育、艺术教师占比不足",
        "binding": None,
        "entity_type": "county",
        "entity_id": county,
        "county": county,
        "field": "new_pe_art_share",
        "label": "当年新增义务教育专任教师中体育、艺术教师占比",
        "condition": "new_pe_art_share < params.min_new_pe_art_share",
        "targets": [
            {"param": "min", "label": "最低占比", "unit": "比例", "year": year, "value": 0.15} for year in (2022, 2025)
        ],
        "points": [
            {
                "audit_id": f"A{year}",
                "as_of": f"{year}-12-01",
                "year": year,
                "verdict": "fail" if v < 0.15 else "pass",
                "value": v,
                "text": f"{v:.1%}",
                "threshold": 0.15,
                "finding_id": None,
            }
            for year, v in zip((2023, 2024, 2025), values)
        ],
    }


@pytest.fixture
def document(case_out: Path) -> dict[str, Any]:
    """cases/liuzhou-2025's findings.json (the session's shared audit) with two areas' trends added."""
    doc = json.loads((case_out / "findings.json").read_text(encoding="utf-8"))
    doc["trends"] = [_trend("融水苗族自治县", [0.08, 0.12, 0.16]), _trend("柳北区", [0.3, 0.3, 0.25])]
    return doc


class TestTrends:
    def test_each_area_shows_its_values_per_audit_and_a_chart(self, document: dict[str, Any]) -> None:
        """Every trend row appears with its yearly values, verdicts and the plan's targets merged into one line."""
        html = render_report(document, "0" * 64)
        assert 'id="trends"' in html
        assert "2023年 8.0%（未达标）；2024年 12.0%（未达标）；2025年 16.0%（达标）" in html
        assert "融水苗族自治县 当年新增义务教育专任教师中体育、艺术教师占比 历次数值" in html
        assert html.count("2022、2025年目标") == 2

    def test_without_history_there_is_no_trend_section(self, document: dict[str, Any]) -> None:
        plain = {k: v for k, v in document.items() if k != "trends"}
        assert 'id="trends"' not in render_report(plain, "0" * 64)

    def test_county_edition_keeps_only_its_own_trends(self, document: dict[str, Any]) -> None:
        """No other county's history leaks into a county edition."""
        edition = county_document(document, "融水苗族自治县")
        assert [t["entity_id"] for t in edition["trends"]] == ["融水苗族自治县"]
        assert "柳北区" not in render_report(edition, "0" * 64).split('id="trends"')[1].split("</section>")[0]
