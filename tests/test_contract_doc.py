"""docs/data-contract.md is generated from the schema and must stay in step with it."""

from __future__ import annotations

from pathlib import Path

from inspector.records.contract import contract_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"


def test_committed_contract_matches_the_schema() -> None:
    """Regenerate with `python -m inspector.records.contract > docs/data-contract.md`."""
    assert DOC.read_text(encoding="utf-8") == contract_markdown() + "\n"
