"""The web application's tables: users and roles, sessions and API tokens (only their sha256),
evidence files' metadata and the responsible person of each item.

Nothing existing changes: every audit, finding and ledger event is kept as it was, so a store
that verified before verifies after.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.Text, nullable=False, unique=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("county", sa.Text),
        sa.Column("school_id", sa.Text),
        sa.Column("active", sa.Integer, nullable=False, server_default="1"),
        sa.Column("must_change_password", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.CheckConstraint("role IN ('admin', 'inspector', 'county', 'school', 'auditor')", name="users_role"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "web_tokens",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('session', 'api')", name="web_tokens_kind"),
    )
    op.create_index("web_tokens_by_user", "web_tokens", ["user_id"])
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("finding_id", sa.Text, nullable=False),
        sa.Column("event_seq", sa.Integer, sa.ForeignKey("events.seq"), nullable=False, unique=True),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("uploaded_by", sa.Text, nullable=False),
        sa.Column("uploaded_at", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("evidence_by_finding", "evidence", ["finding_id"])
    op.create_table(
        "assignments",
        sa.Column("finding_id", sa.Text, primary_key=True),
        sa.Column("assignee", sa.Text, nullable=False),
        sa.Column("due", sa.Text, nullable=False),
        sa.Column("event_seq", sa.Integer, sa.ForeignKey("events.seq"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("assignments")
    op.drop_index("evidence_by_finding", table_name="evidence")
    op.drop_table("evidence")
    op.drop_index("web_tokens_by_user", table_name="web_tokens")
    op.drop_table("web_tokens")
    op.drop_table("users")
