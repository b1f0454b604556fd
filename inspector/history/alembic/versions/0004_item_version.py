"""A version on each ledger item, +1 on every change (optimistic locking for concurrent reviewers);
and `items.finding_id` NOT NULL, which the sqlite3 schema left out (SQLite lets a TEXT primary key be NULL).

The first revision the sqlite3 code never knew: on SQLite it sets `PRAGMA user_version` to 4, so
that an older inspector refuses the store ("newer than this program") instead of writing items
without their version.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        batch.alter_column("finding_id", existing_type=sa.Text, nullable=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA user_version = 4")


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("version")  # finding_id stays NOT NULL: it never held a NULL
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA user_version = 3")
