"""report.html: one self-contained page (inline CSS, SVG and script; no network) from findings.json."""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jinja2
from markupsafe import Markup, escape

from ..jinja_cache import DataEnvironment, bytecode_cache
from ..resources import TEMPLATES_DIR
from . import charts, fragments
from .format import (
    AREA_LABELS,
    CONFIDENCE_LABELS,
    SEVERITY_LABELS,
    VERDICT_LABELS,
    change_text,
    date_cn,
    evidence_groups,
    family_label,
    kind_label,
    kind_name,
    threshold_text,
    value_text,
    waiver_items,
)
from .issuer import issuer_of
from .names import area_name, slug
from .notices import notice_link
from .rectification import list_rows, school_label
from .view import (
    CITY,
    SEVERITIES,
    School,
    counties,
    county_of,
    data_quality,
    indicator_groups,
    reinspection,
    rule_cards,
    schools_of,
    trend_groups,
)

TEMPLATES = TEMPLATES_DIR

__all__ = ["TRACES_DIR", "environment", "inline_script", "render_report", "render_traces", "trace_pages"]

TRACES_DIR = "traces"  # one page of traces per county (and one for the city's findings)


def environment() -> jinja2.Environment:
    """The report templates' environment, one per process: it keeps the templates it loaded (jinja2
    reloads one whose file changed), where a new environment loaded each again on every audit."""
    return _environment()


@functools.cache
def _environment() -> jinja2.Environment:
    env = DataEnvironment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        bytecode_cache=bytecode_cache("html"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"),
            disabled_extensions=("css", "js"),
            default=True,
            default_for_string=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        sev=fragments.sev,
        tags=fragments.tags,
        trace_link=trace_link,
        finding_table=lambda findings: fragments.finding_table(findings, trace_link),
        list_row=lambda row: fragments.list_row(row, trace_link),
        trace_article=fragments.trace_article,
        notice_item=fragments.notice_item,
        notice_link=notice_link,
        severity_counts=fragments.severity_counts,
        waiver_html=fragments.waiver_html,
        finding_ids=fragments.finding_ids,
        trace_href=trace_href,
        slug=slug,
        date_cn=date_cn,
        value_text=value_text,
        threshold_text=threshold_text,
        evidence_groups=evidence_groups,
        waiver_items=waiver_items,
        school_label=school_label,
        family_label=family_label,
        kind_label=kind_label,
        change_text=change_text,
    )
    env.globals.update(
        severity_label=SEVERITY_LABELS,
        severities=SEVERITIES,
        area_label=AREA_LABELS,
        verdict_label=VERDICT_LABELS,
        confidence_label=CONFIDENCE_LABELS,
        charts=charts,
        kind_name=kind_name,
        stylesheet=stylesheet,
    )
    return env


@functools.cache
def stylesheet(name: str) -> Markup:
    """A stylesheet's text for a <style> element (read once: every notice carries it)."""
    return Markup((TEMPLATES / name).read_text(encoding="utf-8"))


def inline_script(name: str) -> tuple[Markup, str]:
    """A script file's text for inlining, and its CSP hash (only this script may run on the page)."""
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    if "</" in text or "<!--" in text:
        raise ValueError(f"{name} must not contain '</' or '<!--': it is inlined in a <script> element")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return Markup(text), f"'sha256-{digest}'"


def render_report(
    document: Mapping[str, Any],
    source_sha256: str,
    env: jinja2.Environment | None = None,
    *,
    schools: Sequence[School] | None = None,
) -> str:
    """report.html; `schools` is `schools_of(document["findings"])` where the caller has it already."""
    env = env or environment()
    if schools is None:
        schools = schools_of(document["findings"])
    edition = document.get("edition")
    script, script_hash = inline_script("report.js")
    findings = document["findings"]
    county_views = counties(document, schools)
    families = document["audit"].get("families") or {}
    return env.get_template("report.html.j2").render(
        doc=document,
        audit=document["audit"],
        issuer=issuer_of(document["audit"]),
        edition=edition,
        source_sha256=source_sha256,
        counties=county_views,
        schools=schools,
        groups=indicator_groups(document["indicators"]),
        rows=list_rows(findings),
        data_quality=data_quality(document),
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
        trace_href={f["id"]: trace_href(f) for f in findings},
        trace_pages=trace_pages(findings),
        script=script,
        script_hash=Markup(script_hash),  # base64 and quotes only: nothing to escape
    )


def trace_page(finding: Mapping[str, Any]) -> str:
    """The traces page a finding's trace is on: its county's (the city's findings under 全市)."""
    return f"{TRACES_DIR}/{area_name(county_of(finding))}.html"


def trace_href(finding: Mapping[str, Any]) -> str:
    """The link from report.html to a finding's trace."""
    return f"{trace_page(finding)}#trace-{slug(finding['id'])}"


def trace_link(finding: Mapping[str, Any]) -> Markup:
    """The link from report.html to a finding's trace, as markup."""
    return Markup(
        f'<a class="trace-link" href="{escape(trace_href(finding))}" title="问题编号 {escape(finding["id"])}：'
        '规则依据、条件、观测值、阈值和输入行">追溯</a>'
    )


def trace_pages(findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The traces pages, 全市 first then counties by name, with how many findings each holds."""
    counts: dict[str, int] = {}
    for finding in findings:
        name = county_of(finding)
        counts[name] = counts.get(name, 0) + 1
    return [
        {"name": name, "href": f"{TRACES_DIR}/{area_name(name)}.html", "count": counts[name]}
        for name in sorted(counts, key=lambda n: (n != CITY, n))
    ]


def render_traces(
    document: Mapping[str, Any], source_sha256: str, env: jinja2.Environment | None = None
) -> dict[str, bytes]:
    """Each county's traces page by its path (`iter_traces`, held)."""
    return dict(iter_traces(document, source_sha256, env))


def iter_traces(
    document: Mapping[str, Any], source_sha256: str, env: jinja2.Environment | None = None
) -> Iterator[tuple[str, bytes]]:
    """Each county's traces page as (path, bytes), one at a time, the findings in document order."""
    env = env or environment()
    template = env.get_template("traces.html.j2")
    by_page: dict[str, list[Mapping[str, Any]]] = {}
    names: dict[str, str] = {}
    for finding in document["findings"]:
        page = trace_page(finding)
        by_page.setdefault(page, []).append(finding)
        names[page] = county_of(finding)
    for page, findings in by_page.items():
        yield (
            page,
            template.render(
                audit=document["audit"], area=names[page], findings=findings, source_sha256=source_sha256
            ).encode("utf-8"),
        )
