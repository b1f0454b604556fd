"""report.md: a readable summary per county and school, for quick reading and for diffs."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from typing import Any

import jinja2

from ..jinja_cache import DataEnvironment, bytecode_cache
from ..resources import TEMPLATES_DIR
from ..rules.spec import SEVERITY_LABELS
from ..rules.vocabulary import ENTITY_LABELS

TEMPLATES = TEMPLATES_DIR


# characters with a meaning anywhere in a line of CommonMark/GFM (emphasis, code, links and
# images, raw HTML and autolinks, entities, table cells, strikethrough, closing `#`s of a heading)
_MARKUP = frozenset("\\`*_[]<>|&~#")
_ESCAPED = str.maketrans({char: "\\" + char for char in _MARKUP})
_HAS_MARKUP = re.compile("[" + re.escape("".join(sorted(_MARKUP))) + "]").search
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _flat(value: object) -> str:
    """One line: control characters dropped, any whitespace (newlines, U+2028 …) one space."""
    return " ".join(_CONTROL.sub("", "" if value is None else str(value)).split())


def md(value: object) -> str:
    """Text from the data made inert inside a line of Markdown (a table cell, a heading, a list
    item): on one line, every character with a Markdown meaning backslash-escaped. No value is
    ever placed at the start of a line, where `-`, `+`, `1.` or `#` would start a block."""
    text = _flat(value)
    # most values hold no such character: looked for at C speed, `translate` (a dict lookup per
    # character) only where one is (report.md's 34,000 values took 0.04 s in `translate` alone)
    return text.translate(_ESCAPED) if _HAS_MARKUP(text) else text


def code(value: object) -> str:
    """A value as an inline code span that no content can close or break out of: fenced with one
    backtick more than its longest run, padded where it touches one, `|` escaped (GFM ends a
    table cell at a pipe even inside code)."""
    text = _flat(value).replace("|", "\\|")
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[0] == "`" or text[-1] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def environment() -> jinja2.Environment:
    """The Markdown templates' environment, one per process: it keeps the templates it loaded (jinja2
    reloads one whose file changed), where a new environment loaded each again on every audit."""
    return _environment()


@functools.cache
def _environment() -> jinja2.Environment:
    env = DataEnvironment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        bytecode_cache=bytecode_cache("markdown"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md
    env.filters["code"] = code
    env.globals.update(severity_label=SEVERITY_LABELS, entity_label=ENTITY_LABELS)
    return env


CITY = f"{ENTITY_LABELS['city']}（市级层面）"  # where city-level findings are listed, first


def _by_county(document: dict[str, Any]) -> list[dict[str, Any]]:
    counties: dict[str, dict[str, Any]] = {}
    for finding in document["findings"]:
        name = CITY if finding["entity_type"] == "city" else finding["county"]
        county = counties.setdefault(name, {"name": name, "own": [], "schools": {}, "total": 0})
        county["total"] += 1
        if finding["school_id"] is None:
            county["own"].append(finding)
            continue
        school = county["schools"].setdefault(
            finding["school_id"], {"id": finding["school_id"], "name": finding["school_name"], "findings": []}
        )
        school["findings"].append(finding)
    result = []
    for name in sorted(counties, key=lambda n: (n != CITY, n)):
        county = counties[name]
        county["schools"] = [county["schools"][k] for k in sorted(county["schools"])]
        result.append(county)
    return result


def render_markdown(document: dict[str, Any]) -> str:
    gaps: dict[str, int] = defaultdict(int)
    for gap in document["data_gaps"]:
        gaps[gap["rule_id"]] += 1
    return (
        environment()
        .get_template("report.md.j2")
        .render(
            doc=document,
            audit=document["audit"],
            counties=_by_county(document),
            gaps=dict(gaps),
            data_quality=[f for f in document["findings"] if f.get("family") == "data"],  # see report.view.data_quality
        )
    )
