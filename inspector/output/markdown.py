"""report.md: a readable summary per county and school, for quick reading and for diffs."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import jinja2

from ..resources import TEMPLATES_DIR
from ..rules.spec import SEVERITY_LABELS
from ..rules.vocabulary import ENTITY_LABELS
from ..jinja_cache import bytecode_cache

TEMPLATES = TEMPLATES_DIR


def md(value: object) -> str:
    """Text safe inside a Markdown table cell."""
    text = "" if value is None else str(value)
    for char in ("\\", "|", "*", "_", "`", "<", ">", "[", "]"):
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        bytecode_cache=bytecode_cache("markdown"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md
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
    return environment().get_template("report.md.j2").render(
        doc=document, audit=document["audit"], counties=_by_county(document), gaps=dict(gaps)
    )
