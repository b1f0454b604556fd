"""Reading: the overview (a county's view of its schools), the list of findings with filters, a
finding's workflow page, its trace, its full trail as a file, and evidence files."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from markupsafe import Markup
from starlette.responses import FileResponse, RedirectResponse, Response

from ...findings.model import Finding
from ...rules.vocabulary import ENTITY_LABELS
from .. import queries
from ..access import may, may_act_on, require
from ..backend import Backend
from ..deps import BackendDep, Pages, PagesDep, PageUser, options, role
from ..users import User

router = APIRouter()


@router.get("/")
def overview(request: Request, backend: BackendDep, pages: PagesDep, user: PageUser) -> Response:
    if user.role == "admin":
        return RedirectResponse("/admin/users", status_code=303)
    require(user, "read")
    scope = queries.scope_key(user)
    with backend.read() as conn:
        counts = backend.summary(conn, ("counts", scope), lambda: queries.counts(conn, user))
        # the tables' HTML is kept like the counts it shows (440 counties' rows cost ~25 ms to render)
        tables = backend.summary(conn, ("overview-tables", scope), lambda: _overview_tables(conn, pages, user))
        runs = queries.audits(conn) if may(user, "runs") else []
    return pages.render(
        request, "overview.html.j2", counts=counts, tables=tables, runs=runs, today=backend.settings.today()
    )


def _overview_tables(conn: Any, pages: Pages, user: User) -> Markup:
    """The overview's table of counties (and, for county and school accounts, of schools) by state."""
    by_county: dict[str, Counter[str]] = defaultdict(Counter)
    schools: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    if user.county or user.school_id:  # the page lists schools to county and school accounts only
        for school_id, name, state, n in queries.school_counts(conn, user, user.county):
            schools[(school_id, name)][state] += n
    for county, state, n in _county_states(conn, user):
        by_county[county][state] += n
    return pages.fragment(
        "_overview_tables.html.j2",
        user=user,
        by_county=dict(sorted(by_county.items())),
        schools=sorted(schools.items()),
    )


def _county_states(conn: Any, user: User) -> list[tuple[str, str, int]]:
    from sqlalchemy import func, select

    from ...history import schema
    from ..access import item_scope

    t = schema.items
    rows = conn.execute(
        select(t.c.county, t.c.state, func.count()).where(item_scope(user)).group_by(t.c.county, t.c.state)
    )
    return [(str(c), str(s), int(n)) for c, s, n in rows]


def filters_from(
    county: str | None,
    rule_id: str | None,
    severity: str | None,
    state: str | None,
    school: str | None,
    audit: str | None,
) -> queries.Filters:
    def clean(value: str | None) -> str | None:
        return value.strip() or None if value else None

    return queries.Filters(clean(county), clean(rule_id), clean(severity), clean(state), clean(school), clean(audit))


Text = Annotated[str | None, Query(max_length=200)]


@router.get("/findings")
def findings_page(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    user: Annotated[User, Depends(role("read"))],
    county: Text = None,
    rule_id: Text = None,
    severity: Text = None,
    state: Text = None,
    school: Text = None,
    audit: Text = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    filters = filters_from(county, rule_id, severity, state, school, audit)
    with backend.read() as conn:
        result = queries.list_items(conn, user, filters, page=page, per_page=50)
        scope = queries.scope_key(user)
        # the filter's choices, kept as HTML with the counts they come from (selected per page)
        rules = backend.summary(conn, ("rule-options", scope), lambda: _rule_options(conn, user))
        counts = backend.summary(conn, ("counts", scope), lambda: queries.counts(conn, user))
        counties = backend.summary(
            conn, ("county-options", scope), lambda: options((c, c) for c in sorted(counts["county"]))
        )
    query = filters.query()
    return pages.render(
        request,
        "findings.html.j2",
        page=result,
        filters=filters,
        rules=rules,
        counties=counties,
        query=urlencode(query),
        today=backend.settings.today(),
        ENTITY_LABELS=ENTITY_LABELS,
    )


def _rule_options(conn: Any, user: User) -> Markup:
    return options((rid, f"{title}（{rid}）") for rid, title in queries.rule_ids(conn, user))


def _detail(
    backend: Backend, conn: Any, user: User, finding_id: str
) -> tuple[queries.ItemRow, Finding, dict[str, Any] | None]:
    item = queries.item(conn, user, finding_id)
    finding = queries.finding(conn, item.last_audit, finding_id)
    return item, finding, backend.audit_row(conn, item.last_audit)


@router.get("/findings/{finding_id}")
def finding_page(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    user: Annotated[User, Depends(role("read"))],
    finding_id: str,
) -> Response:
    with backend.read() as conn:
        item, finding, audit = _detail(backend, conn, user, finding_id)
        events = queries.events(conn, finding_id)
        evidence = queries.evidence_of(conn, finding_id)
        statuses = queries.statuses(conn, finding_id)
    lifecycle = backend.lifecycle
    manual = {t.id for t in lifecycle.manual_from(item.state)}
    latest = statuses[-1]["status"] if statuses else "none"
    acts = may_act_on(user, item.county, item.entity_type)
    actions = {
        "assign": acts and may(user, "assign") and not lifecycle.states[item.state].final,
        "evidence": acts and may(user, "evidence") and not lifecycle.states[item.state].final,
        "submit": acts and may(user, "submit") and "report-done" in manual,
        "review": may(user, "review") and "close" in manual,
        "comment": acts and may(user, "comment"),
    }
    return pages.render(
        request,
        "finding.html.j2",
        item=item,
        finding=finding,
        audit=audit,
        events=events,
        evidence=evidence,
        statuses=statuses,
        latest=latest,
        actions=actions,
        today=backend.settings.today(),
        close_requires=lifecycle.by_id("close").spec.requires,
        ENTITY_LABELS=ENTITY_LABELS,
    )


@router.get("/findings/{finding_id}/trace")
def trace_page(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    user: Annotated[User, Depends(role("read"))],
    finding_id: str,
) -> Response:
    with backend.read() as conn:
        item, finding, audit = _detail(backend, conn, user, finding_id)
        inputs = queries.input_files(conn, item.last_audit)
    files = _evidence_files(finding, inputs)
    return pages.render(
        request, "trace.html.j2", item=item, finding=finding, audit=audit, files=files, ENTITY_LABELS=ENTITY_LABELS
    )


def _evidence_files(finding: Finding, inputs: dict[str, str]) -> list[tuple[str, str | None, int]]:
    """The input files the finding's rows come from, with their sha256 as the audit recorded it."""
    seen: dict[str, int] = {}
    for row in finding.evidence:
        seen[row.file] = seen.get(row.file, 0) + 1
    result = []
    for name, n in seen.items():
        sha = inputs.get(name) or next(
            (s for f, s in inputs.items() if f.split("[", 1)[0] == name.split("[", 1)[0]), None
        )
        result.append((name, sha, n))
    return result


@router.get("/findings/{finding_id}/trail")
def trail(backend: BackendDep, user: Annotated[User, Depends(role("read"))], finding_id: str) -> Response:
    """One item's full trail as a JSON file: the finding, its trace, every audit's verdict, every
    ledger event with its hashes, and the evidence files' sha256."""
    with backend.read() as conn:
        document = trail_document(backend, conn, user, finding_id, backend.settings.today())
    body = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True)
    name = f"trail-{finding_id}.json"
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def trail_document(backend: Backend, conn: Any, user: User, finding_id: str, today: dt.date) -> dict[str, Any]:
    item, finding, audit = _detail(backend, conn, user, finding_id)
    return {
        "format": "inspector.trail/1",
        "exported_on": today.isoformat(),
        "exported_by": user.actor,
        "item": item.__dict__,
        "finding": finding.model_dump(mode="json"),
        "audit": audit,
        "inputs": queries.input_files(conn, item.last_audit),
        "audits": queries.statuses(conn, finding_id),
        "events": queries.events(conn, finding_id),
        "evidence": queries.evidence_of(conn, finding_id),
    }


@router.get("/evidence/{evidence_id}")
def evidence_file(
    request: Request, backend: BackendDep, user: Annotated[User, Depends(role("read"))], evidence_id: int
) -> Response:
    with backend.read() as conn:
        record = queries.evidence_item(conn, user, evidence_id)
    files = request.app.state.evidence
    path = files.path_of(record["sha256"])
    name = quote(record["filename"])
    return FileResponse(
        path,
        media_type=record["content_type"],
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
