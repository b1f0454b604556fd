"""Fill in the rows that earlier schema steps added tables for but never filled.

Migration 2 of the sqlite3 store added `resolutions`, `indicator_values` and
`findings.waiver_expires` without filling them for the audits already stored, so a store begun
at version 1 lacks them. They are derived from each audit's findings.json (kept byte for byte in
`audits.document`); `inspector verify` now recomputes them from it, so they are filled here the
way an import fills them. Audits that already have such rows, and documents that do not read,
are left alone (verify reports the latter).

The derivation is copied here, not imported: a migration must do tomorrow what it did today.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

audits = sa.table("audits", sa.column("id"), sa.column("document"))
findings = sa.table("findings", sa.column("audit_id"), sa.column("finding_id"), sa.column("waiver_expires"))
resolutions = sa.table(
    "resolutions",
    *(
        sa.column(c)
        for c in ("audit_id", "finding_id", "status", "rule_id", "entity_type", "entity_id", "county", "data")
    ),
)
indicator_values = sa.table(
    "indicator_values",
    *(
        sa.column(c)
        for c in ("audit_id", "rule_id", "entity_type", "entity_id", "county", "verdict", "field", "value", "data")
    ),
)


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _main_value(indicator: dict[str, Any]) -> tuple[Any, Any]:
    observed = indicator.get("observed") or []
    if not observed:
        return None, None
    value = observed[0].get("value")
    return observed[0].get("field"), float(value) if isinstance(value, (int, float)) and not isinstance(
        value, bool
    ) else None


def _rows(
    audit_id: str, document: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[str, str]]]:
    resolved = [
        {
            "audit_id": audit_id,
            "finding_id": r["id"],
            "status": status,
            "rule_id": r["rule_id"],
            "entity_type": r["entity_type"],
            "entity_id": r["entity_id"],
            "county": r["county"],
            "data": _canonical(r),
        }
        for status in ("resolved", "unverified")
        for r in document.get(status) or []
    ]
    indicators = []
    for i in document.get("indicators") or []:
        field, value = _main_value(i)
        indicators.append(
            {
                "audit_id": audit_id,
                "rule_id": i["rule_id"],
                "entity_type": i["entity_type"],
                "entity_id": i["entity_id"],
                "county": i["county"],
                "verdict": i["verdict"],
                "field": field,
                "value": value,
                "data": _canonical(i),
            }
        )
    waived = [
        (f["id"], (f.get("waiver") or {}).get("expires")) for f in document.get("findings") or [] if f.get("waived")
    ]
    return resolved, indicators, [(fid, expires) for fid, expires in waived if expires]


def _count(conn: sa.Connection, table: sa.TableClause, audit_id: str) -> int:
    return int(
        conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.audit_id == audit_id)).scalar_one()
    )


def upgrade() -> None:
    conn = op.get_bind()
    for audit_id, data in conn.execute(sa.select(audits.c.id, audits.c.document)).all():
        try:
            document = json.loads(bytes(data).decode("utf-8"))
            resolved, indicators, waived = _rows(audit_id, document)
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
        if resolved and not _count(conn, resolutions, audit_id):
            conn.execute(resolutions.insert(), resolved)
        if indicators and not _count(conn, indicator_values, audit_id):
            conn.execute(indicator_values.insert(), indicators)
        for finding_id, expires in waived:
            conn.execute(
                findings.update()
                .where(
                    findings.c.audit_id == audit_id,
                    findings.c.finding_id == finding_id,
                    findings.c.waiver_expires.is_(None),
                )
                .values(waiver_expires=expires)
            )


def downgrade() -> None:
    pass  # the rows are derived data an import would have written; they stay
