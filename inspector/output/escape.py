"""Neutralising text a spreadsheet would otherwise run as a formula (CSV/XLSX injection)."""

from __future__ import annotations

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def spreadsheet_text(value: object) -> str:
    """Text safe for a spreadsheet cell: a leading formula trigger is escaped with `'`."""
    text = "" if value is None else str(value)
    if text.startswith(_TRIGGERS):
        return "'" + text
    return text
