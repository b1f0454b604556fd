"""整改清单 rows from findings.json, for the CSV (same bytes as the audit writes), Excel and HTML."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from ..output.rectification import rectification_csv, status_text
from .format import SEVERITY_LABELS, severity_rank
from .view import county_of

__all__ = ["CITY_LEVEL", "COUNTY_LEVEL", "basis_text", "list_rows", "rectification_csv", "school_label", "status_text"]

COUNTY_LEVEL = "（区县层面）"
CITY_LEVEL = "（市级层面）"


def basis_text(finding: Mapping[str, Any]) -> str:
    basis = finding["basis"]
    return f"{basis['document']} {basis['section']}"


def school_label(finding: Mapping[str, Any]) -> str:
    if finding.get("school_id") is None:
        return CITY_LEVEL if finding.get("entity_type") == "city" else COUNTY_LEVEL
    return str(finding.get("school_name") or finding["school_id"])


def list_rows(findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per finding for the Excel list and the HTML table, numbered in document order."""
    rows = []
    for number, f in enumerate(findings, start=1):
        rows.append(
            {
                "number": number,
                "id": f["id"],
                "county": county_of(f),
                "township": f.get("township") or "",
                "school_id": f.get("school_id") or "",
                "school": school_label(f),
                "message": f["message"],
                "severity": f["severity"],
                "severity_label": SEVERITY_LABELS[f["severity"]],
                "severity_rank": severity_rank(f["severity"]),
                "basis": basis_text(f),
                "action": f["rectification"]["action"],
                "responsible": f["rectification"]["responsible"],
                "deadline": dt.date.fromisoformat(f["rectification"]["deadline"]),
                "rule": f"{f['rule_id']} {f['rule_title']}",
                "status": status_text(f),
                "finding": f,
            }
        )
    return rows
