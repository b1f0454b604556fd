"""Roles and scope, enforced on the server for every page and API call.

What a role may do is one table (`PERMISSIONS`); what a caller may see is one clause on the
ledger's items (`item_scope`), applied by every query that reads items, findings, evidence or
events, so that no handler can forget it: a county reviewer sees its own county's items (and the
city-level verdicts, read-only, as context), a school its own school's, inspectors and auditors
all. Asking for something out of scope by id is answered 404, as if it did not exist; asking for
an action the role does not have is 403.
"""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy import ColumnElement, and_, false, or_, true

from ..history import schema
from .users import User

# what each action needs; every route names one of these
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({"inspector", "county", "school", "auditor"}),  # findings, traces, events, evidence
    "assign": frozenset({"county"}),
    "evidence": frozenset({"county"}),
    "submit": frozenset({"county"}),  # propose closure (报告整改完成)
    "comment": frozenset({"county", "inspector"}),
    "review": frozenset({"inspector"}),  # accept (销号) or reject (退回)
    "import": frozenset({"inspector"}),
    "verify": frozenset({"inspector", "auditor"}),
    "runs": frozenset({"inspector", "auditor"}),
    "selfcheck": frozenset({"school"}),
    "users": frozenset({"admin"}),
}
CITY_ENTITIES = ("city",)


def may(user: User, action: str) -> bool:
    return user.role in PERMISSIONS[action]


def require(user: User, action: str) -> None:
    """403 unless the user's role may do `action`."""
    if not may(user, action):
        raise HTTPException(status_code=403, detail="您的角色无权进行此操作")


def item_scope(user: User) -> ColumnElement[bool]:
    """The ledger items `user` may see, as a WHERE clause on `schema.items`."""
    t = schema.items
    if user.role in ("inspector", "auditor"):
        return true()
    if user.role == "county" and user.county:
        return or_(t.c.county == user.county, t.c.entity_type.in_(CITY_ENTITIES))
    if user.role == "school" and user.school_id:
        return and_(t.c.school_id == user.school_id, t.c.school_id.is_not(None))
    return false()


def may_act_on(user: User, county: str, entity_type: str) -> bool:
    """Whether a county reviewer's actions reach this item (the city's verdicts are context only)."""
    if user.role == "county":
        return county == user.county and entity_type not in CITY_ENTITIES
    return True


def not_found() -> HTTPException:
    return HTTPException(status_code=404, detail="未找到")
