"""Scheduling for `make fuzz` (`-n 2 --dist worksteal`, 2,000 examples a target): the targets take
from a few seconds to a minute and a half, so the order decides when the run ends. Worksteal hands
the first worker the first `len // 2` collected tests and the second the rest, each run in order, and
an idle worker steals from the end of the other's queue. The tests are therefore split into two
halves of those sizes by longest-first (each next-longest test to the half with less work so far),
each half longest first: both workers start on a heavy target and end on light ones that can be
stolen. The weights are the seconds `make fuzz --durations` showed on the 2-CPU machine (2026-12-03);
a stale weight costs only time."""

from __future__ import annotations

import pytest

SECONDS = {
    "test_audit_with_a_fuzzed_waivers_yaml": 95,
    "test_audit_with_a_fuzzed_audit_yaml": 72,
    "test_a_csv_table_is_loaded_or_rejected_row_by_row": 33,
    "test_pack_files_compile_or_are_a_rule_pack_error": 28,
    "test_an_xlsx_table_is_loaded_or_rejected_row_by_row": 26,
    "test_waivers_yaml_is_valid_or_a_data_error": 14,
    "test_audit_yaml_is_valid_or_a_data_error": 12,
    "test_any_text_is_read_or_refused_at_a_line": 8,
    "test_a_template_is_refused_or_renders_bounded": 7,
    "test_a_condition_is_checked_or_refused_at_an_offset": 6,
    "test_a_scope_is_checked_like_a_condition": 5,
}


def _seconds(item: pytest.Item) -> float:
    return SECONDS.get(item.name.split("[")[0], 0.5)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    quota = (len(items) // 2, len(items) - len(items) // 2)
    halves: tuple[list[pytest.Item], list[pytest.Item]] = ([], [])
    work = [0.0, 0.0]
    for item in sorted(items, key=_seconds, reverse=True):  # stable: equal weights keep their order
        lighter = 0 if work[0] <= work[1] else 1
        side = lighter if len(halves[lighter]) < quota[lighter] else 1 - lighter
        halves[side].append(item)
        work[side] += _seconds(item)
    items[:] = halves[0] + halves[1]
