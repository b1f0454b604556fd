"""Where the store is (the `--db` option's value, a SQLite file path or a database URL) and the
ledger's lifecycle file (`--lifecycle`).

Kept apart from `database` (which imports SQLAlchemy) and `lifecycle` (its models) so that building
the command line, which every command does, costs neither: an audit never opens the store.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..rules.packs import DEFAULT_RULES_DIR

DbRef = str | Path
DEFAULT_DB = Path("inspector.sqlite")
LIFECYCLE_FILE = "lifecycle.yaml"
DEFAULT_LIFECYCLE = DEFAULT_RULES_DIR / LIFECYCLE_FILE
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def parse_db(value: str) -> DbRef:
    """The `--db` option's value: a URL stays text, anything else is a path."""
    return value if _URL.match(value) else Path(value)
