"""Names derived from data that must be safe as file names, HTML ids and sheet titles."""

from __future__ import annotations

import hashlib
import re

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_-]+")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def slug(text: str) -> str:
    """`text` itself when it is a plain identifier (school codes are), else a readable part plus
    a digest, so that ids like `../x` or `<script>` become distinct, inert file names."""
    if _SAFE.fullmatch(text) and not text.endswith("."):
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    readable = _UNSAFE_RUN.sub("_", text).strip("_")[:40]
    return f"{readable}_{digest}" if readable else f"id_{digest}"


def sheet_title(name: str, taken: set[str]) -> str:
    """An Excel sheet title: at most 31 characters, none of []:*?/\\, unique (case-insensitively)."""
    base = _SHEET_FORBIDDEN.sub("_", name).strip("'") or "区县"
    title = base[:31]
    number = 2
    while title.lower() in taken:
        suffix = f"({number})"
        title = base[: 31 - len(suffix)] + suffix
        number += 1
    taken.add(title.lower())
    return title
