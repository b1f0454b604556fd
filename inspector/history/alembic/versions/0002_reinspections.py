"""Waivers, re-inspection results and indicator values.

`PRAGMA user_version` 2 of the sqlite3 store.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.sqlite import REAL

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _user_version(version: int) -> None:
    """SQLite: the version number the sqlite3 code gave this schema, so that it can still read it."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA user_version = {version:d}")


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("waiver_expires", sa.Text))  # the valid waiver's expiry, if waived
    op.create_table(
        "resolutions",
        sa.Column("audit_id", sa.Text, sa.ForeignKey("audits.id"), primary_key=True),
        sa.Column("finding_id", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("rule_id", sa.Text, nullable=False),
        sa.Column("entity_type", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("county", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.CheckConstraint("status IN ('resolved', 'unverified')"),
    )
    op.create_index("resolutions_by_finding", "resolutions", ["finding_id"])
    op.create_table(
        "indicator_values",
        sa.Column("audit_id", sa.Text, sa.ForeignKey("audits.id"), primary_key=True),
        sa.Column("rule_id", sa.Text, primary_key=True),
        sa.Column("entity_type", sa.Text, primary_key=True),
        sa.Column("entity_id", sa.Text, primary_key=True),
        sa.Column("county", sa.Text, nullable=False),
        sa.Column("verdict", sa.Text, nullable=False),
        sa.Column("field", sa.Text),
        sa.Column("value", sa.Float().with_variant(REAL(), "sqlite")),
        sa.Column("data", sa.Text, nullable=False),
    )

    _user_version(2)


def downgrade() -> None:
    op.drop_table("indicator_values")
    op.drop_index("resolutions_by_finding", table_name="resolutions")
    op.drop_table("resolutions")
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("waiver_expires")
    _user_version(1)
