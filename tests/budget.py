"""What the developer loop spends: how many examples the property tests outside tests/fuzz draw,
and which tests are slow.

`make test` runs each at the number its decorator names. The developer loop (`make test-fast`)
sets `INSPECTOR_FUZZ=dev`, which gives the fuzz targets their `dev` profile (tests/fuzz/fuzzing.py)
and these tests a fifth of their examples, at least ten: the same properties and assertions, drawn
fewer times, so the loop stays short while `make test` keeps the full search.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEV = os.environ.get("INSPECTOR_FUZZ", "").strip() == "dev"


def examples(full: int) -> int:
    """`full` under `make test`; a fifth of it (at least ten) under INSPECTOR_FUZZ=dev."""
    return max(10, full // 5) if DEV else full


# What each test's call took in the last `make durations` (its set-up is left out: a module's shared
# fixture is paid by whichever of its tests runs first on a worker, so counting it would mark a
# different test slow on each refresh). A test whose call took SLOW_SECONDS or more is `slow`
# (tests/conftest.py), so the developer loop (`make test-fast`) is the quick majority and `make test`
# runs everything. A test not in the file yet counts as quick until the next refresh.
DURATIONS = Path(__file__).with_name("durations.json")
SLOW_SECONDS = 0.15

# The same measurements order a run: modules by what their tests took, longest first
# (tests/conftest.py), the totals kept here for tests/test_markers.py.
MODULE_TIMES = pytest.StashKey[dict[str, float]]()
