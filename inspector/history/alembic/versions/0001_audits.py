"""Audits, their files and findings.

The first schema (`PRAGMA user_version` 1 of the sqlite3 store): a store at that version is
stamped with this revision when it is first opened, then upgraded.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _user_version(version: int) -> None:
    """SQLite: the version number the sqlite3 code gave this schema, so that it can still read it."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA user_version = {version:d}")


def upgrade() -> None:
    op.create_table(
        "audits",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("region", sa.Text),
        sa.Column("as_of", sa.Text, nullable=False),
        sa.Column("target_year", sa.Integer),
        sa.Column("source_dir", sa.Text),
        sa.Column("out_dir", sa.Text),
        sa.Column("rules_dir", sa.Text),
        sa.Column("previous_id", sa.Text),
        sa.Column("imported_on", sa.Text, nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("document_sha256", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "audit_files",
        sa.Column("audit_id", sa.Text, sa.ForeignKey("audits.id"), primary_key=True),
        sa.Column("role", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("sha256", sa.Text, nullable=False),
    )
    op.create_table(
        "findings",
        sa.Column("audit_id", sa.Text, sa.ForeignKey("audits.id"), primary_key=True),
        sa.Column("finding_id", sa.Text, primary_key=True),
        sa.Column("rule_id", sa.Text, nullable=False),
        sa.Column("entity_type", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("school_id", sa.Text),
        sa.Column("county", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("deadline", sa.Text, nullable=False),
        sa.Column("change", sa.Text),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("findings_by_finding", "findings", ["finding_id"])

    _user_version(1)


def downgrade() -> None:
    op.drop_index("findings_by_finding", table_name="findings")
    op.drop_table("findings")
    op.drop_table("audit_files")
    op.drop_table("audits")
    _user_version(0)
