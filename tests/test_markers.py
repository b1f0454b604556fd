"""The `slow` marker follows tests/durations.json (tests/conftest.py), so `make test-fast` stays the quick majority."""

from __future__ import annotations

import json

import pytest

from budget import DURATIONS, SLOW_SECONDS


def test_the_recorded_durations_are_seconds_by_test_id() -> None:
    """`make durations` writes one non-negative number of seconds per test id, sorted by id."""
    measured = json.loads(DURATIONS.read_text(encoding="utf-8"))
    assert measured and list(measured) == sorted(measured)
    assert all("::" in nodeid and isinstance(took, int | float) and took >= 0 for nodeid, took in measured.items())


def test_every_test_recorded_as_slow_is_marked_slow(request: pytest.FixtureRequest) -> None:
    """Each collected test whose call took SLOW_SECONDS or more when last measured carries `slow`
    (under `make test-fast` they were deselected, so none is collected at all)."""
    measured = json.loads(DURATIONS.read_text(encoding="utf-8"))
    unmarked = [
        item.nodeid
        for item in request.session.items
        if measured.get(item.nodeid, 0.0) >= SLOW_SECONDS and item.get_closest_marker("slow") is None
    ]
    assert not unmarked, unmarked[:5]
