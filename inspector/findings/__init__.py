"""Findings: built from the engine's verdicts (`build`), shown (`display`), and written and read
as findings.json (`model`)."""

from __future__ import annotations

from .build import FindingBuilder, finding_id, summarize
from .model import FORMAT, DataGap, Finding, FindingsDocument, IndicatorResult, load_document, parse_document

__all__ = [
    "FORMAT",
    "DataGap",
    "Finding",
    "FindingBuilder",
    "FindingsDocument",
    "IndicatorResult",
    "finding_id",
    "load_document",
    "parse_document",
    "summarize",
]
