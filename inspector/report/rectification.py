"""整改清单 rows from findings.json, for the CSV (same bytes as the audit writes), Excel and HTML."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from ..output.rectification import HEADERS, _csv
from .format import SEVERITY_LABELS, area_label, change_text, severity_rank
from .view import county_of

__all__ = ["COUNTY_LEVEL", "basis_text", "csv_rows", "list_rows", "rectification_csv", "school_label", "status_text"]

COUNTY_LEVEL = "（区县层面）"


def basis_text(finding: Mapping[str, Any]) -> str:
    basis = finding["basis"]
    return f"{basis['document']} {basis['section']}"


def school_label(finding: Mapping[str, Any]) -> str:
    return finding.get("school_name") or (COUNTY_LEVEL if finding.get("school_id") is None else finding["school_id"])


def status_text(finding: Mapping[str, Any]) -> str:
    """What re-inspections and waivers add (`change`, `waiver`, `expired_waiver`), in words."""
    parts = [change_text(finding)]
    if finding.get("waiver"):
        parts.append("已豁免")
    elif finding.get("expired_waiver"):
        parts.append("豁免已过期")
    return "，".join(p for p in parts if p)


def _evidence_text(evidence: Sequence[Mapping[str, Any]]) -> str:
    text = "；".join(f"{e['file']}:{e['row']}" for e in evidence[:10])
    return text + (f" 等 {len(evidence)} 行" if len(evidence) > 10 else "")


def csv_rows(findings: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """The rows of rectification.csv, column for column as `inspector.output.rectification` writes them."""
    return [
        [
            str(number),
            f["id"],
            f["county"],
            f.get("township") or "",
            f.get("school_id") or "",
            f.get("school_name") or "",
            area_label(f["entity_type"]),
            f["entity_id"],
            f["message"],
            SEVERITY_LABELS[f["severity"]],
            f"{f['rule_id']} v{f['rule_version']} {f['rule_title']}",
            basis_text(f),
            f["rectification"]["action"],
            f["rectification"]["responsible"],
            f["rectification"]["deadline"],
            _evidence_text(f["evidence"]),
        ]
        for number, f in enumerate(findings, start=1)
    ]


def rectification_csv(findings: Sequence[Mapping[str, Any]]) -> bytes:
    return _csv(HEADERS, csv_rows(findings))


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
