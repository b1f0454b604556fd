"""Neutralising text a spreadsheet would otherwise run as a formula (CSV/XLSX injection), and
text written into the workbook's XML."""

from __future__ import annotations

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def spreadsheet_text(value: object) -> str:
    """Text safe for a spreadsheet cell: a leading formula trigger is escaped with `'`."""
    text = "" if value is None else str(value)
    if text.startswith(_TRIGGERS):
        return "'" + text
    return text


def xml_text(text: str) -> str:
    """Text as XML character data: `xml.sax.saxutils.escape`, whose module imports urllib and ssl
    (9 ms of every start-up)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
