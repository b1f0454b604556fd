"""Scheduling for `make fuzz` (`-n 2 --dist worksteal`): the two whole-audit targets take most of
the time, so one is put first and the other last; each worker starts with one half of the tests,
and the other worker steals from the end of a busy worker's queue."""

from __future__ import annotations

import pytest

HEAVY = ("test_fuzz_cli_audit.py", "test_fuzz_cli_waivers.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    first = [item for item in items if item.path.name == HEAVY[0]]
    last = [item for item in items if item.path.name == HEAVY[1]]
    if first and last:
        rest = [item for item in items if item.path.name not in HEAVY]
        items[:] = first + rest + last
