"""The history store's tables as SQLAlchemy Core metadata: what the Alembic revisions under
`alembic/versions/` build, step by step, and what the store reads and writes.

Dates are ISO text (`YYYY-MM-DD`), as the first schema stored them: the ledger's hash chain
hashes them as text, and a store written by the sqlite3 code keeps its values unchanged.
`data` columns hold a finding, resolution or indicator as canonical JSON (`integrity.canonical`).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, Table, Text
from sqlalchemy.dialects.sqlite import REAL

# a double: REAL on SQLite (as the sqlite3 store declared it), double precision on PostgreSQL
DOUBLE = Float().with_variant(REAL(), "sqlite")

metadata = MetaData()

audits = Table(
    "audits",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", Text, nullable=False, unique=True),  # derived from the audit's inputs, packs and params
    Column("name", Text, nullable=False),
    Column("region", Text),
    Column("as_of", Text, nullable=False),
    Column("target_year", Integer),
    Column("source_dir", Text),  # the audit folder, when known
    Column("out_dir", Text),  # the output folder, when known
    Column("rules_dir", Text),  # where its rule packs were read
    Column("previous_id", Text),  # the audit it was re-inspected against
    Column("imported_on", Text, nullable=False),  # the importing command's --today
    Column("document", LargeBinary, nullable=False),  # findings.json, byte for byte
    Column("document_sha256", Text, nullable=False),
    sqlite_autoincrement=True,
)

audit_files = Table(
    "audit_files",
    metadata,
    Column("audit_id", Text, ForeignKey("audits.id"), primary_key=True),
    Column("role", Text, primary_key=True),  # config | input | waivers | pack | output
    Column("name", Text, primary_key=True),
    Column("sha256", Text, nullable=False),
)

findings = Table(
    "findings",
    metadata,
    Column("audit_id", Text, ForeignKey("audits.id"), primary_key=True),
    Column("finding_id", Text, primary_key=True),
    Column("rule_id", Text, nullable=False),
    Column("entity_type", Text, nullable=False),
    Column("entity_id", Text, nullable=False),
    Column("school_id", Text),
    Column("county", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("deadline", Text, nullable=False),
    Column("change", Text),  # new | persisting | regressed (re-inspections)
    Column("data", Text, nullable=False),  # the finding as in findings.json
    Column("waiver_expires", Text),  # the valid waiver's expiry, if waived
    Index("findings_by_finding", "finding_id"),
)

resolutions = Table(
    "resolutions",
    metadata,
    Column("audit_id", Text, ForeignKey("audits.id"), primary_key=True),
    Column("finding_id", Text, primary_key=True),
    Column("status", Text, nullable=False),
    Column("rule_id", Text, nullable=False),
    Column("entity_type", Text, nullable=False),
    Column("entity_id", Text, nullable=False),
    Column("county", Text, nullable=False),
    Column("data", Text, nullable=False),  # the entry of findings.json's resolved / unverified
    CheckConstraint("status IN ('resolved', 'unverified')"),
    Index("resolutions_by_finding", "finding_id"),
)

indicator_values = Table(
    "indicator_values",
    metadata,
    Column("audit_id", Text, ForeignKey("audits.id"), primary_key=True),
    Column("rule_id", Text, primary_key=True),
    Column("entity_type", Text, primary_key=True),
    Column("entity_id", Text, primary_key=True),
    Column("county", Text, nullable=False),
    Column("verdict", Text, nullable=False),  # pass | fail | gap
    Column("field", Text),
    Column("value", DOUBLE),
    Column("data", Text, nullable=False),  # the entry of findings.json's indicators
)

items = Table(
    "items",
    metadata,
    Column("finding_id", Text, primary_key=True),
    Column("rule_id", Text, nullable=False),
    Column("rule_title", Text, nullable=False),
    Column("entity_type", Text, nullable=False),
    Column("entity_id", Text, nullable=False),
    Column("school_id", Text),
    Column("school_name", Text),
    Column("county", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("responsible", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("level", Integer, nullable=False),
    Column("deadline", Text, nullable=False),
    Column("since", Text, nullable=False),
    Column("opened_audit", Text, nullable=False),
    Column("last_audit", Text, nullable=False),
    # +1 on every change of the row: a writer names the version it read (optimistic locking)
    Column("version", Integer, nullable=False, server_default="1"),
    # the findings list's order, and each of its filters followed by that order (revision 0007)
    Index("items_in_order", "county", "school_id", "rule_id", "entity_id", "finding_id"),
    Index("items_by_state", "state", "county", "school_id", "rule_id", "entity_id", "finding_id"),
    Index("items_by_severity", "severity", "county", "school_id", "rule_id", "entity_id", "finding_id"),
    Index("items_by_rule", "rule_id", "county", "school_id", "entity_id", "finding_id"),
    Index("items_by_school", "school_id", "rule_id", "entity_id", "finding_id"),
    Index("items_by_entity_type", "entity_type"),
)

events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),  # 1, 2, 3 … without gaps
    Column("finding_id", Text, nullable=False),
    Column("transition", Text, nullable=False),  # a lifecycle transition id, or `open`
    Column("from_state", Text),
    Column("to_state", Text, nullable=False),
    Column("level", Integer, nullable=False),
    Column("deadline", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("day", Text, nullable=False),  # the command's --today
    Column("note", Text, nullable=False),
    Column("audit_id", Text),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),  # sha256(prev_hash + canonical JSON of the event)
    Index("events_by_finding", "finding_id", "seq"),
)

ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", Text, nullable=False),
    CheckConstraint("id = 1"),
)

# -- the web application's tables (revision 0006) ------------------------------------------------

ROLES = ("admin", "inspector", "county", "school", "auditor")

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),  # argon2, never the password
    Column("role", Text, nullable=False),
    Column("county", Text),  # a county reviewer's county
    Column("school_id", Text),  # a school account's school
    Column("active", Integer, nullable=False, server_default="1"),
    Column("must_change_password", Integer, nullable=False, server_default="0"),  # a one-time password
    Column("created_at", Text, nullable=False),
    CheckConstraint("role IN ('admin', 'inspector', 'county', 'school', 'auditor')", name="users_role"),
    sqlite_autoincrement=True,
)

# Sessions and API tokens: only the sha256 of the token is kept, so a copy of the table logs no one in.
web_tokens = Table(
    "web_tokens",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("kind", Text, nullable=False),  # session | api
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    CheckConstraint("kind IN ('session', 'api')", name="web_tokens_kind"),
    Index("web_tokens_by_user", "user_id"),
)

# An evidence file's metadata; the file itself is kept outside the database and outside any served
# folder, named by its sha256, and its sha256 is in the note of the ledger event `event_seq`.
evidence = Table(
    "evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("finding_id", Text, nullable=False),
    Column("event_seq", Integer, ForeignKey("events.seq"), nullable=False, unique=True),
    Column("filename", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("uploaded_by", Text, nullable=False),
    Column("uploaded_at", Text, nullable=False),
    Index("evidence_by_finding", "finding_id"),
    sqlite_autoincrement=True,
)

# The person a county made responsible for an item and the date they promised, as of the ledger
# event `event_seq` (whose note says the same, under the chain's hash).
assignments = Table(
    "assignments",
    metadata,
    Column("finding_id", Text, primary_key=True),
    Column("assignee", Text, nullable=False),
    Column("due", Text, nullable=False),
    Column("event_seq", Integer, ForeignKey("events.seq"), nullable=False),
)

# Events are append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL); see
# the revision that creates the ledger. `inspector verify` reports them missing.
APPEND_ONLY_TRIGGERS = ("events_append_only_update", "events_append_only_delete")
POSTGRESQL_APPEND_ONLY_TRIGGERS = (*APPEND_ONLY_TRIGGERS, "events_append_only_truncate")

TABLE_TITLES = {
    "audits": "审核",
    "audit_files": "审核文件",
    "findings": "问题记录",
    "resolutions": "复查结果",
    "indicator_values": "指标值",
    "items": "台账事项",
    "events": "台账事件",
    "ledger_head": "台账末尾",
    "users": "用户",
    "web_tokens": "登录凭据",
    "evidence": "整改材料",
    "assignments": "整改责任人",
}
