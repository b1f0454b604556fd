"""The `slow` marker follows tests/durations.json (tests/conftest.py), so `make test-fast` stays the quick majority;
the same measurements order the run longest module first."""

from __future__ import annotations

import json

import pytest

from budget import DURATIONS, MODULE_TIMES, SLOW_SECONDS


@pytest.fixture(autouse=True)
def _recorded(request: pytest.FixtureRequest) -> None:
    """`make durations` removes the file and writes it afresh when its run ends: nothing to check yet."""
    if request.config.getoption("--record-durations") and not DURATIONS.is_file():
        pytest.skip("tests/durations.json is being recorded afresh (make durations)")


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


def test_modules_run_longest_first_each_in_one_piece(request: pytest.FixtureRequest) -> None:
    """The collected tests come module by module, each module once, in order of the time its tests
    took when last measured (all of them, before -m or -k chose), longest first, so no long module is
    left for the end of a run."""
    took = request.config.stash[MODULE_TIMES]
    modules: list[str] = []
    for item in request.session.items:
        module = item.nodeid.split("::", 1)[0]
        if not modules or modules[-1] != module:
            modules.append(module)
    assert len(modules) == len(set(modules)), "a module's tests are split"
    totals = [took[module] for module in modules]
    assert totals == sorted(totals, reverse=True)
