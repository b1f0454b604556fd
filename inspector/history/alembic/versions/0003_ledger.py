"""The rectification ledger: items and hash-chained, append-only events.

`PRAGMA user_version` 3 of the sqlite3 store. Events are append-only: a trigger refuses UPDATE and
DELETE (and on PostgreSQL TRUNCATE). Whoever owns the database can still drop a trigger; what it
protects against is a mistaken or casual edit, and `inspector verify` reports a missing one, while
the hash chain finds the edit itself.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MESSAGE = "ledger events are append-only"


def _user_version(version: int) -> None:
    """SQLite: the version number the sqlite3 code gave this schema, so that it can still read it."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA user_version = {version:d}")


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("finding_id", sa.Text, primary_key=True),
        sa.Column("rule_id", sa.Text, nullable=False),
        sa.Column("rule_title", sa.Text, nullable=False),
        sa.Column("entity_type", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("school_id", sa.Text),
        sa.Column("school_name", sa.Text),
        sa.Column("county", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("responsible", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("deadline", sa.Text, nullable=False),
        sa.Column("since", sa.Text, nullable=False),
        sa.Column("opened_audit", sa.Text, nullable=False),
        sa.Column("last_audit", sa.Text, nullable=False),
    )
    op.create_index("items_by_place", "items", ["county", "school_id"])
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("finding_id", sa.Text, nullable=False),
        sa.Column("transition", sa.Text, nullable=False),
        sa.Column("from_state", sa.Text),
        sa.Column("to_state", sa.Text, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("deadline", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("audit_id", sa.Text),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
    )
    op.create_index("events_by_finding", "events", ["finding_id", "seq"])
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.CheckConstraint("id = 1"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION inspector_events_append_only() RETURNS trigger LANGUAGE plpgsql AS"
            f" $$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        for name, when, each in (
            ("update", "UPDATE", "ROW"),
            ("delete", "DELETE", "ROW"),
            ("truncate", "TRUNCATE", "STATEMENT"),
        ):
            op.execute(
                f"CREATE TRIGGER events_append_only_{name} BEFORE {when} ON events"
                f" FOR EACH {each} EXECUTE FUNCTION inspector_events_append_only()"
            )
    else:
        for name, when in (("update", "UPDATE"), ("delete", "DELETE")):
            op.execute(
                f"CREATE TRIGGER events_append_only_{name} BEFORE {when} ON events"
                f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )

    _user_version(3)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER events_append_only_{name} ON events")
        op.execute("DROP FUNCTION inspector_events_append_only()")
    else:
        for name in ("update", "delete"):
            op.execute(f"DROP TRIGGER events_append_only_{name}")
    op.drop_table("ledger_head")
    op.drop_index("events_by_finding", table_name="events")
    op.drop_table("events")
    op.drop_index("items_by_place", table_name="items")
    op.drop_table("items")
    _user_version(2)
