"""Names derived from data that must be safe as file names, HTML ids and sheet titles."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable

from ..output.paths import device_name

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_-]+")
_DIGESTED = re.compile(r".*_[0-9a-f]{12}")  # the shape of a name `slug` made with a digest
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_AREA_UNSAFE = re.compile(r"[^0-9A-Za-z_\-\u3400-\u9fff]")
_AREA_DIGESTED = re.compile(r".*_[0-9a-f]{10}")  # the shape of a name `area_name` made with a digest


def _digest(text: str, length: int = 12) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def slug(text: str) -> str:
    """`text` itself when it is a plain identifier (school codes are), else a readable part plus
    a digest, so that ids like `../x` or `<script>` become distinct, inert file names. A plain id
    shaped like such a name (`x_y_887fcea6a803`) is digested too, so no two ids share a slug."""
    if _SAFE.fullmatch(text) and not text.endswith(".") and not _DIGESTED.fullmatch(text) and not device_name(text):
        return text
    digest = _digest(text)
    readable = _UNSAFE_RUN.sub("_", text).strip("_")[:40]
    return f"{readable}_{digest}" if readable else f"id_{digest}"


def unique_slugs(ids: Iterable[str]) -> dict[str, str]:
    """A slug per id, unique even where file names are compared without case (Windows, macOS, a
    ZIP opened there): ids whose slugs clash get a digest of the id added, deterministically."""
    names = {text: slug(text) for text in sorted(set(ids))}
    for length in (12, 64):
        groups: dict[str, list[str]] = {}
        for text, name in names.items():
            groups.setdefault(name.casefold(), []).append(text)
        clashes = [text for group in groups.values() if len(group) > 1 for text in group]
        if not clashes:
            break
        for text in clashes:
            names[text] = f"{slug(text)}_{_digest(text, length)}"
    return names


@functools.lru_cache(maxsize=1024)  # a few dozen areas, each named for thousands of findings
def area_name(area: str) -> str:
    """A file or folder name for an area (a county, 全市) that stays inside its folder: its traces
    page and its notices folder. The name itself when it is made of digits, lower-case letters,
    `_`, `-` and Chinese characters (柳北区), else a cleaned name and a digest of the name: so
    two areas never share a name, also where file names are compared without case (Windows,
    macOS: `Ab` and `AB` are `Ab_…` and `AB_…`), and no plain name reads like a digested one."""
    cleaned = _AREA_UNSAFE.sub("_", area)[:40]
    if (
        cleaned == area
        and cleaned
        and cleaned == cleaned.lower()
        and not _AREA_DIGESTED.fullmatch(cleaned)
        and not device_name(cleaned)
    ):
        return cleaned
    return f"{cleaned or 'area'}_{_digest(area, 10)}"


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
