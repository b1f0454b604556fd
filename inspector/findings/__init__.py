"""Findings: built from the engine's verdicts (`build`), shown (`display`), and written and read
as findings.json (`model`). The package names the model's types; what builds findings is imported
from `build` (it brings the engine: a process that only reads findings.json, such as the report's
second process, does without it)."""

from __future__ import annotations

from .model import FORMAT, DataGap, Finding, FindingsDocument, IndicatorResult, load_document, parse_document

__all__ = [
    "FORMAT",
    "DataGap",
    "Finding",
    "FindingsDocument",
    "IndicatorResult",
    "load_document",
    "parse_document",
]
