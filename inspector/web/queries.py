"""What the pages and the API read: ledger items joined with their finding, always within the
caller's scope (`access.item_scope`), filtered and paginated in the database."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Select, and_, exists, func, select

from ..findings.model import Finding, decode_json
from ..history import schema
from ..history.ledger import ITEM_COLUMNS
from .access import item_scope, not_found
from .users import User

MAX_PAGE = 200


@dataclass(frozen=True)
class Filters:
    county: str | None = None
    rule_id: str | None = None
    severity: str | None = None
    state: str | None = None
    school: str | None = None
    audit: str | None = None

    def clauses(self) -> list[Any]:
        t = schema.items
        result: list[Any] = []
        if self.county:
            result.append(t.c.county == self.county)
        if self.rule_id:
            result.append(t.c.rule_id == self.rule_id)
        if self.severity:
            result.append(t.c.severity == self.severity)
        if self.state:
            result.append(t.c.state == self.state)
        if self.school:
            result.append(t.c.school_id == self.school)
        if self.audit:
            f = schema.findings
            result.append(exists().where(f.c.audit_id == self.audit, f.c.finding_id == t.c.finding_id))
        return result

    def query(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class ItemRow:
    finding_id: str
    rule_id: str
    rule_title: str
    entity_type: str
    entity_id: str
    school_id: str | None
    school_name: str | None
    county: str
    severity: str
    message: str
    responsible: str
    state: str
    level: int
    deadline: str
    since: str
    opened_audit: str
    last_audit: str
    version: int
    assignee: str | None = None
    due: str | None = None

    def overdue_days(self, today: dt.date) -> int:
        deadline = dt.date.fromisoformat(self.deadline)
        return (today - deadline).days if self.state not in ("closed", "waived") and today > deadline else 0


_ITEM = tuple(schema.items.c[name] for name in ITEM_COLUMNS)


def scope_key(user: User) -> tuple[str, str | None, str | None]:
    """What `item_scope` depends on: users with the same key see the same items."""
    return (user.role, user.county, user.school_id)


def _items(user: User) -> Select[Any]:
    a = schema.assignments
    return (
        select(*_ITEM, a.c.assignee, a.c.due)
        .join_from(schema.items, a, a.c.finding_id == schema.items.c.finding_id, isouter=True)
        .where(item_scope(user))
    )


def _order(query: Select[Any]) -> Select[Any]:
    t = schema.items
    return query.order_by(t.c.county, t.c.school_id, t.c.rule_id, t.c.entity_id, t.c.finding_id)


@dataclass
class Page:
    rows: list[ItemRow]
    total: int
    page: int
    per_page: int
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.per_page - 1) // self.per_page)


def list_items(conn: Connection, user: User, filters: Filters, *, page: int = 1, per_page: int = 50) -> Page:
    per_page = max(1, min(per_page, MAX_PAGE))
    page = max(1, page)
    clauses = filters.clauses()
    query = _items(user).where(*clauses)
    t = schema.items
    total = conn.execute(select(func.count()).select_from(t).where(item_scope(user), *clauses)).scalar_one()
    rows = conn.execute(_order(query).limit(per_page).offset((page - 1) * per_page)).all()
    return Page([ItemRow(*row) for row in rows], int(total), page, per_page)


def counts(conn: Connection, user: User, filters: Filters | None = None) -> dict[str, Counter[str]]:
    """Items in scope by state, severity and county (for the overview and the filter bar)."""
    t = schema.items
    clauses = filters.clauses() if filters else []
    result: dict[str, Counter[str]] = {}
    for name in ("state", "severity", "county"):
        column = t.c[name]
        rows = conn.execute(select(column, func.count()).where(item_scope(user), *clauses).group_by(column)).all()
        result[name] = Counter({key: int(n) for key, n in rows})
    return result


def school_counts(conn: Connection, user: User, county: str | None) -> list[tuple[str, str, str, int]]:
    """(school id, name, state, count) of the items in scope, for a county's overview."""
    t = schema.items
    query = (
        select(t.c.school_id, func.max(t.c.school_name), t.c.state, func.count())
        .where(item_scope(user), t.c.school_id.is_not(None))
        .group_by(t.c.school_id, t.c.state)
    )
    if county:
        query = query.where(t.c.county == county)
    return [(str(a), str(b or a), str(c), int(n)) for a, b, c, n in conn.execute(query)]


def rule_ids(conn: Connection, user: User) -> list[tuple[str, str]]:
    t = schema.items
    rows = conn.execute(
        select(t.c.rule_id, func.max(t.c.rule_title))
        .where(item_scope(user))
        .group_by(t.c.rule_id)
        .order_by(t.c.rule_id)
    )
    return [(str(a), str(b)) for a, b in rows]


def item(conn: Connection, user: User, finding_id: str) -> ItemRow:
    """One item in the caller's scope; 404 otherwise."""
    row = conn.execute(_items(user).where(schema.items.c.finding_id == finding_id)).first()
    if row is None:
        raise not_found()
    return ItemRow(*row)


def finding(conn: Connection, audit_id: str, finding_id: str) -> Finding:
    """A finding as the audit reported it (read through the findings.json model)."""
    f = schema.findings
    data = conn.execute(
        select(f.c.data).where(and_(f.c.audit_id == audit_id, f.c.finding_id == finding_id))
    ).scalar_one()
    return Finding.model_validate_json(data)


def findings_of(conn: Connection, rows: list[ItemRow]) -> dict[str, Finding]:
    """The findings of a page of items (each as in its latest audit), in one query."""
    f = schema.findings
    wanted = {(row.last_audit, row.finding_id) for row in rows}
    if not wanted:
        return {}
    result: dict[str, Finding] = {}
    query = select(f.c.audit_id, f.c.finding_id, f.c.data).where(f.c.finding_id.in_([fid for _, fid in wanted]))
    for audit_id, fid, data in conn.execute(query):
        if (audit_id, fid) in wanted:
            raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
            result[fid] = Finding.model_validate(decode_json(raw, f"历史库中 {fid} 的记录"))
    return result


def events(conn: Connection, finding_id: str) -> list[dict[str, Any]]:
    e = schema.events
    rows = conn.execute(select(e).where(e.c.finding_id == finding_id).order_by(e.c.seq))
    return [dict(row._mapping) for row in rows]


def evidence_of(conn: Connection, finding_id: str) -> list[dict[str, Any]]:
    v = schema.evidence
    return [dict(row._mapping) for row in conn.execute(select(v).where(v.c.finding_id == finding_id).order_by(v.c.id))]


def evidence_item(conn: Connection, user: User, evidence_id: int) -> dict[str, Any]:
    """An evidence file's record, if its item is in the caller's scope; 404 otherwise."""
    v, t = schema.evidence, schema.items
    row = conn.execute(
        select(v).join_from(v, t, t.c.finding_id == v.c.finding_id).where(v.c.id == evidence_id, item_scope(user))
    ).first()
    if row is None:
        raise not_found()
    return dict(row._mapping)


def audit_row(conn: Connection, audit_id: str) -> dict[str, Any] | None:
    a = schema.audits
    row = conn.execute(
        select(
            a.c.seq, a.c.id, a.c.name, a.c.region, a.c.as_of, a.c.imported_on, a.c.document_sha256, a.c.previous_id
        ).where(a.c.id == audit_id)
    ).first()
    return dict(row._mapping) if row else None


def audits(conn: Connection) -> list[dict[str, Any]]:
    a, f = schema.audits, schema.findings
    count = select(func.count()).where(f.c.audit_id == a.c.id).scalar_subquery()
    rows = conn.execute(
        select(
            a.c.seq, a.c.id, a.c.name, a.c.as_of, a.c.imported_on, a.c.previous_id, count.label("findings")
        ).order_by(a.c.as_of, a.c.seq)
    )
    return [dict(row._mapping) for row in rows]


def input_files(conn: Connection, audit_id: str) -> dict[str, str]:
    """The audit's input files and their sha256, by file name (a workbook's sheets by `file[sheet]`)."""
    t = schema.audit_files
    rows = conn.execute(
        select(t.c.name, t.c.sha256).where(t.c.audit_id == audit_id, t.c.role.in_(("input", "config")))
    ).all()
    return {str(name): str(sha) for name, sha in rows}


def statuses(conn: Connection, finding_id: str) -> list[dict[str, Any]]:
    """Every stored audit's verdict on the finding, oldest first (fails / passes / unverified)."""
    a, f, r = schema.audits, schema.findings, schema.resolutions
    fails = conn.execute(
        select(a.c.id, a.c.as_of, a.c.seq).join_from(f, a, a.c.id == f.c.audit_id).where(f.c.finding_id == finding_id)
    ).all()
    others = conn.execute(
        select(a.c.id, a.c.as_of, a.c.seq, r.c.status)
        .join_from(r, a, a.c.id == r.c.audit_id)
        .where(r.c.finding_id == finding_id)
    ).all()
    result = [{"audit_id": i, "as_of": d, "seq": s, "status": "fails"} for i, d, s in fails]
    result += [
        {"audit_id": i, "as_of": d, "seq": s, "status": "passes" if st == "resolved" else "unverified"}
        for i, d, s, st in others
    ]
    result.sort(key=lambda x: (x["as_of"], x["seq"]))
    return result
