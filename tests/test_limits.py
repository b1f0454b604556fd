"""The limits: one module holds them, README shows them as they are, audit.yaml can only lower or
raise them within their hard maxima."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from inspector.limits import DEFAULT_LIMITS, LIMITS, Limits, limits_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_shows_the_limits_table_of_the_code() -> None:
    """README's Limits section holds exactly the table generated from inspector/limits.py."""
    assert limits_table() in README.read_text(encoding="utf-8")


def test_every_default_lies_within_its_maximum() -> None:
    for name, spec in LIMITS.items():
        assert 1 <= spec.default <= spec.maximum, name
        assert getattr(DEFAULT_LIMITS, name) == spec.default


@pytest.mark.parametrize("name", list(LIMITS))
def test_no_limit_can_be_raised_past_its_maximum_or_below_one(name: str) -> None:
    assert getattr(Limits(**{name: LIMITS[name].maximum}), name) == LIMITS[name].maximum
    for bad in (LIMITS[name].maximum + 1, 0, -1):
        with pytest.raises(ValidationError):
            Limits(**{name: bad})


def test_readme_states_the_fixed_limits_of_the_rule_language() -> None:
    from inspector.limits import EXPRESSION_CHARS, EXPRESSION_DEPTH, TEMPLATE_OUTPUT_CHARS, TEMPLATE_SEQUENCE

    text = README.read_text(encoding="utf-8")
    for value in (EXPRESSION_CHARS, EXPRESSION_DEPTH, TEMPLATE_OUTPUT_CHARS, TEMPLATE_SEQUENCE):
        assert f"| {value:,} |" in text, value


def test_readme_states_the_fixed_limits_of_the_data_readers() -> None:
    """Until the configurable data-table limits are enforced, README gives the readers' own values."""
    from inspector.records import readers

    text = README.read_text(encoding="utf-8")
    assert readers.MAX_FILE_BYTES == 1 << 30 and "| size of one CSV or XLSX file | 1 GiB |" in text
    assert readers.MAX_XLSX_UNCOMPRESSED == 2 << 30 and "| 2 GiB in all |" in text
    for value in (
        readers.MAX_XLSX_RATIO,
        readers.MAX_XLSX_PARTS,
        readers.MAX_CSV_LINES,
        readers.MAX_SHARED_STRINGS,
        readers.MAX_COLUMNS,
        readers.MAX_CELL_CHARS,
    ):
        assert f"| {value:,} |" in text, value
