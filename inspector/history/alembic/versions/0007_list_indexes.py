"""Indexes for the web application's lists: the findings list's order (county, school, rule,
entity, id) and each of its filters followed by that order, so that a page of the list is read
in order from an index instead of sorting every item in scope on each request; and the entity
type, the second half of a county account's scope (its county's items or the city's).

`items_by_place` (county, school) is dropped: `items_in_order` starts with the same columns.
Only indexes change: every row is kept as it was, so a store that verified before verifies after.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ORDER = ["county", "school_id", "rule_id", "entity_id", "finding_id"]
INDEXES = {
    "items_in_order": ORDER,
    "items_by_state": ["state", *ORDER],
    "items_by_severity": ["severity", *ORDER],
    "items_by_rule": ["rule_id", "county", "school_id", "entity_id", "finding_id"],
    "items_by_school": ["school_id", "rule_id", "entity_id", "finding_id"],
    "items_by_entity_type": ["entity_type"],
}


def upgrade() -> None:
    op.drop_index("items_by_place", table_name="items")
    for name, columns in INDEXES.items():
        op.create_index(name, "items", columns)


def downgrade() -> None:
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="items")
    op.create_index("items_by_place", "items", ["county", "school_id"])
