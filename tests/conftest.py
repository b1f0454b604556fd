"""Hooks of the whole suite: markers, measured durations, hypothesis' profiles, and the plugins that
hold the shared fixtures and steps (shared_cases.py, steps_audit.py)."""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path

# before hypothesis is imported: its plugins are other packages' entry points, and the only one
# installed is trio's (pulled in by selenium), which cost every test process 0.18 s to import
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")

import pytest
from hypothesis import settings

import budget

# A test process keeps large results for its whole life (the shared case audits, module-scoped
# documents of the city case: millions of objects), and each of the cyclic collector's full passes
# walks all of them: at the default thresholds (700, 10, 10) the two workers spent 15 s of a
# `make test` in full passes (measured with gc.callbacks). A full pass a tenth as often; the young
# generations are collected as before, and every test process is short-lived.
gc.set_threshold(700, 10, 100)

# the product's fixtures and steps import the whole package (about 2 s): an xdist controller only
# hands tests out, so only the processes that run tests load them (pytest_configure)
PLUGINS = ("shared_cases", "steps_audit")

SHARED_CASE_FIXTURES = {"audited_case", "case_out"}

# hypothesis' defaults for tests that name no settings of their own: no deadline (a draw that takes
# over 200 ms on a busy shared machine is not a failure of the code: test_targets failed so under
# load), and under INSPECTOR_FUZZ=dev (make test-fast) 20 examples instead of 100 (tests/budget.py)
settings.register_profile("inspector", deadline=None)
settings.register_profile("inspector-dev", settings.get_profile("inspector"), max_examples=20)
settings.load_profile("inspector-dev" if budget.DEV else "inspector")


def pytest_configure(config: pytest.Config) -> None:
    controller = config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))
    if hasattr(config, "workerinput") or not controller:
        for name in PLUGINS:
            config.pluginmanager.import_plugin(name)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-durations",
        action="store_true",
        help=f"write what each test that ran took into {budget.DURATIONS.name} (make durations)",
    )


def _measured() -> dict[str, float]:
    return json.loads(budget.DURATIONS.read_text(encoding="utf-8")) if budget.DURATIONS.is_file() else {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark what needs more than this checkout: `browser` (tests/browser, headless Chromium) and
    `postgresql` (the PostgreSQL half of the `database`/`web_db` fixtures, and tests named for it);
    and `slow` on every test that reads a shared city-case audit (seconds per worker to make) or took
    SLOW_SECONDS or more when last measured (tests/durations.json). So `make test-fast` leaves them
    out by marker: `-m "not slow and not browser and not postgresql"`."""
    browser = Path(__file__).parent / "browser"
    measured = _measured()
    for item in items:
        if (
            SHARED_CASE_FIXTURES & set(getattr(item, "fixturenames", ()))
            or measured.get(item.nodeid, 0.0) >= budget.SLOW_SECONDS
        ):
            item.add_marker(pytest.mark.slow)
        if browser in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec is not None else ()
        if "postgresql" in params or "postgresql" in getattr(item, "originalname", item.name):
            item.add_marker(pytest.mark.postgresql)
    _longest_modules_first(items, measured, config)


def _longest_modules_first(items: list[pytest.Item], measured: dict[str, float], config: pytest.Config) -> None:
    """Modules in order of what their tests took when last measured, longest first, each module's
    tests together and in the order pytest chose: a long module collected last kept one xdist
    worker busy alone at the end of the run."""
    took: dict[str, float] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        took[module] = took.get(module, 0.0) + measured.get(item.nodeid, 0.0)
    config.stash[budget.MODULE_TIMES] = took
    rank = {module: (-seconds, index) for index, (module, seconds) in enumerate(took.items())}
    items.sort(key=lambda item: rank[item.nodeid.split("::", 1)[0]])


_TOOK: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _TOOK[report.nodeid] = report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The PostgreSQL databases the tests copied from are dropped with the session (history_databases);
    under --record-durations the main process (not an xdist worker) merges what the calls of the
    tests that ran took into tests/durations.json."""
    databases = sys.modules.get("history_databases")  # no templates where no test imported it
    if databases is not None:
        databases.drop_templates()
    config = session.config
    if config.getoption("--record-durations") and not hasattr(config, "workerinput") and _TOOK:
        measured = _measured() | {nodeid: round(took, 3) for nodeid, took in _TOOK.items()}
        text = json.dumps(dict(sorted(measured.items())), ensure_ascii=False, indent=0)
        budget.DURATIONS.write_text(text + "\n", encoding="utf-8")
