"""The three rounds (cases/liuzhou-2024 → liuzhou-2025 → liuzhou-2025-recheck): committed as the
script writes them, and the changes they plant name existing rows.

The rounds are re-inspected, and their documents checked against what was planted, by the scenario
of tests/history_features/reinspection.feature (its step "两次复查的结果与三轮数据中埋设的改动一致"):
one run of the three audits for both."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthetic import rounds

CASES = Path(__file__).resolve().parents[1] / "cases"


@pytest.mark.slow
def test_committed_rounds_are_what_the_script_writes() -> None:
    """cases/liuzhou-2024, cases/liuzhou-2025-recheck and cases/liuzhou-2025/waivers.yaml."""
    for name, data in rounds.outputs().items():
        assert (CASES / name).read_bytes() == data, name
    for folder in ("liuzhou-2024", "liuzhou-2025-recheck"):
        assert {p.name for p in (CASES / folder).iterdir()} == {
            n.split("/", 1)[1] for n in rounds.outputs() if n.startswith(folder + "/")
        }


def test_changes_name_existing_rows() -> None:
    """A planted change naming a row the table does not have is an error, not silently skipped."""
    tables = {kind: rounds.read_table(rounds.SOURCE, kind) for kind in rounds.KINDS}
    with pytest.raises(KeyError):
        rounds.apply(tables, [rounds.SetCell("classes", "no-such-class", "size", "1")])
