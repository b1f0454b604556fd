"""How many examples the property tests outside tests/fuzz draw.

`make test` runs each at the number its decorator names. The developer loop (`make test-fast`)
sets `INSPECTOR_FUZZ=dev`, which gives the fuzz targets their `dev` profile (tests/fuzz/fuzzing.py)
and these tests a fifth of their examples, at least ten: the same properties and assertions, drawn
fewer times, so the loop stays short while `make test` keeps the full search.
"""

from __future__ import annotations

import os

DEV = os.environ.get("INSPECTOR_FUZZ", "").strip() == "dev"


def examples(full: int) -> int:
    """`full` under `make test`; a fifth of it (at least ten) under INSPECTOR_FUZZ=dev."""
    return max(10, full // 5) if DEV else full
