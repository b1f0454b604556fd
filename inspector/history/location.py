"""Where the store is: the `--db` option's value, a SQLite file path or a database URL.

Kept apart from `database` (which imports SQLAlchemy) so that building the command line, which
every command does, costs no SQLAlchemy import: an audit never opens the store.
"""

from __future__ import annotations

import re
from pathlib import Path

DbRef = str | Path
DEFAULT_DB = Path("inspector.sqlite")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def parse_db(value: str) -> DbRef:
    """The `--db` option's value: a URL stays text, anything else is a path."""
    return value if _URL.match(value) else Path(value)
