"""report.html: one self-contained page (inline CSS, SVG and script; no network) from findings.json."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..jinja_cache import bytecode_cache
from ..resources import TEMPLATES_DIR
from . import charts
from .format import (
    AREA_LABELS, CONFIDENCE_LABELS, SEVERITY_LABELS, VERDICT_LABELS, change_text, date_cn, evidence_groups,
    family_label, kind_label, threshold_text, value_text, waiver_items,
)
from .names import slug
from .rectification import list_rows, school_label
from .view import SEVERITIES, counties, indicator_groups, reinspection, rule_cards, schools_of, trend_groups

TEMPLATES = TEMPLATES_DIR

__all__ = ["environment", "inline_script", "render_report"]


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        bytecode_cache=bytecode_cache("html"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"), disabled_extensions=("css", "js"), default=True, default_for_string=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        slug=slug, date_cn=date_cn, value_text=value_text, threshold_text=threshold_text, evidence_groups=evidence_groups,
        waiver_items=waiver_items, school_label=school_label, family_label=family_label,
        kind_label=kind_label, change_text=change_text,
    )
    env.globals.update(
        severity_label=SEVERITY_LABELS, severities=SEVERITIES, area_label=AREA_LABELS,
        verdict_label=VERDICT_LABELS, confidence_label=CONFIDENCE_LABELS, charts=charts,
    )
    return env


def inline_script(name: str) -> tuple[Markup, str]:
    """A script file's text for inlining, and its CSP hash (only this script may run on the page)."""
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    if "</" in text or "<!--" in text:
        raise ValueError(f"{name} must not contain '</' or '<!--': it is inlined in a <script> element")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return Markup(text), f"'sha256-{digest}'"


def render_report(document: Mapping[str, Any], source_sha256: str, env: jinja2.Environment | None = None) -> str:
    env = env or environment()
    edition = document.get("edition")
    script, script_hash = inline_script("report.js")
    findings = document["findings"]
    county_views = counties(document)
    families = document["audit"].get("families") or {}
    return env.get_template("report.html.j2").render(
        doc=document,
        audit=document["audit"],
        edition=edition,
        source_sha256=source_sha256,
        counties=county_views,
        schools=schools_of(findings),
        groups=indicator_groups(document["indicators"]),
        rows=list_rows(findings),
        cards=rule_cards(document),
        county_bars=[(county.name, county.counts) for county in county_views],
        families=families,
        family_bars=[
            (families.get(family) or family_label(family), n)
            for family, n in sorted(document["summary"]["by_family"].items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        county_count=len({f["county"] for f in findings if f.get("county") and f.get("entity_type") != "city"}),
        has_city=any(row.get("entity_type") == "city" for row in document["indicators"]),
        resolved=[r for r in document.get("resolved") or [] if isinstance(r, Mapping)],
        unverified=[r for r in document.get("unverified") or [] if isinstance(r, Mapping)],
        reinspection=reinspection(document),
        trends=trend_groups(document.get("trends")),
        waivers=document.get("waivers") if isinstance(document.get("waivers"), Mapping) else None,
        finding_ids={f["id"] for f in findings},
        script=script,
        script_hash=Markup(script_hash),  # base64 and quotes only: nothing to escape
    )
