"""Where the files the tool reads at run time live: the rule packs and the report templates.

In an installed wheel they are package data (`inspector/_data/rules`, `inspector/_data/templates`,
mapped in from the repository's top-level `rules/` and `reports/templates/` by the build); in a
checkout (an editable install) they are read from those folders directly.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_PACKAGE = Path(str(resources.files("inspector")))
_CHECKOUT = _PACKAGE.parent


def _data(name: str, checkout: Path) -> Path:
    installed = _PACKAGE / "_data" / name
    return installed if installed.is_dir() else checkout


RULES_DIR = _data("rules", _CHECKOUT / "rules")
TEMPLATES_DIR = _data("templates", _CHECKOUT / "reports" / "templates")
