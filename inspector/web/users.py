"""Users and roles: accounts with an argon2 password hash (pwdlib), a role, and for county and
school accounts the county or school they see. Passwords are never stored, logged or shown, except
a one-time password printed once to whoever created the account."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import Connection, Select, func, insert, select, update

from ..errors import UsageError
from ..history import schema
from ..records.regions import LIUZHOU

ROLE_LABELS = {"admin": "管理员", "inspector": "督学", "county": "区县", "school": "学校", "auditor": "审计"}
MIN_PASSWORD = 10
_hasher = PasswordHash.recommended()  # argon2id with the library's current parameters


@functools.lru_cache(maxsize=1)
def _dummy_hash(hasher: PasswordHash) -> str:
    """A hash to verify against when the user does not exist (made on first use, not at import:
    a fifth of a second that every process importing the module paid)."""
    return hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    county: str | None
    school_id: str | None
    active: bool
    must_change_password: bool

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def actor(self) -> str:
        """How the ledger names this user in an event: name, role and unit, account."""
        unit = self.county or (f"学校 {self.school_id}" if self.school_id else "")
        return f"{self.display_name}（{self.role_label}{'，' + unit if unit else ''}；账号 {self.username}）"


_COLUMNS = ("id", "username", "display_name", "role", "county", "school_id", "active", "must_change_password")


def _user(row: Sequence[Any]) -> User:
    values: dict[str, Any] = dict(zip(_COLUMNS, tuple(row)))
    values["active"] = bool(values["active"])
    values["must_change_password"] = bool(values["must_change_password"])
    return User(**values)


def _select() -> Select[Any]:
    return select(*(schema.users.c[name] for name in _COLUMNS))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"密码至少 {MIN_PASSWORD} 个字符")
    if password.strip() != password or not password.strip():
        raise UsageError("密码首尾不能有空白")


def check_role(
    role: str, county: str | None, school_id: str | None, imported: Collection[str] = ()
) -> tuple[str | None, str | None]:
    """The county and school an account of `role` is bound to, checked: a county is one of the
    store's imported runs (`imported`, as the runs spell it: another region's, or a national
    folder's), else one of Liuzhou's built-in divisions in any of its spellings."""
    if role not in ROLE_LABELS:
        raise UsageError(f"未知的角色“{role}”；可用：{'、'.join(ROLE_LABELS)}")
    if role == "county":
        if not county:
            raise UsageError("区县账号须指定 --county（如 柳北区）")
        if county.strip() in imported:
            return county.strip(), None
        canonical = LIUZHOU.canonical(county)
        if canonical is None:
            hint = LIUZHOU.suggestion(county)
            raise UsageError(
                f"“{county}”既不是已导入的督导结果中的区县，也不是柳州市的区县"
                + (f"；是否指 {hint}？" if hint else f"；柳州市的区县：{'、'.join(LIUZHOU)}")
            )
        return canonical, None
    if role == "school":
        if not school_id:
            raise UsageError("学校账号须指定 --school（学校代码）")
        return None, school_id.strip()
    if county or school_id:
        raise UsageError(f"{ROLE_LABELS[role]}账号不属于某个区县或学校：请去掉 --county / --school")
    return None, None


def add_user(
    conn: Connection,
    username: str,
    password: str,
    role: str,
    *,
    county: str | None = None,
    school_id: str | None = None,
    display_name: str | None = None,
    must_change: bool = False,
    now: dt.datetime | None = None,
) -> User:
    """Create an account (inside the caller's transaction)."""
    name = username.strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise UsageError("用户名不能为空、不能含空白，最长 64 个字符")
    check_password(password)
    imported: set[str] = set()
    if role == "county" and county:
        imported = set(
            conn.execute(select(schema.items.c.county).where(schema.items.c.county == county.strip())).scalars()
        )
    county, school_id = check_role(role, county, school_id, imported)
    if conn.execute(select(func.count()).select_from(schema.users).where(schema.users.c.username == name)).scalar_one():
        raise UsageError(f"用户名“{name}”已存在")
    conn.execute(
        insert(schema.users).values(
            username=name,
            display_name=(display_name or name).strip(),
            password_hash=_hasher.hash(password),
            role=role,
            county=county,
            school_id=school_id,
            active=1,
            must_change_password=int(must_change),
            created_at=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        )
    )
    user = find_user(conn, name)
    assert user is not None
    return user


def find_user(conn: Connection, username: str) -> User | None:
    row = conn.execute(_select().where(schema.users.c.username == username.strip())).first()
    return _user(row) if row else None


def get_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(_select().where(schema.users.c.id == user_id)).first()
    return _user(row) if row else None


def all_users(conn: Connection) -> list[User]:
    return [_user(row) for row in conn.execute(_select().order_by(schema.users.c.username))]


def authenticate(conn: Connection, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (as slow either way: a missing user
    costs one hash verification too)."""
    row = conn.execute(
        select(schema.users.c.id, schema.users.c.password_hash, schema.users.c.active).where(
            schema.users.c.username == username.strip()
        )
    ).first()
    if row is None:
        _hasher.verify(password, _dummy_hash(_hasher))
        return None
    if not _hasher.verify(password, row.password_hash) or not row.active:
        return None
    return get_user(conn, int(row.id))


def set_password(conn: Connection, user_id: int, password: str, *, must_change: bool = False) -> None:
    check_password(password)
    conn.execute(
        update(schema.users)
        .where(schema.users.c.id == user_id)
        .values(password_hash=_hasher.hash(password), must_change_password=int(must_change))
    )


def set_active(conn: Connection, user_id: int, active: bool) -> None:
    conn.execute(update(schema.users).where(schema.users.c.id == user_id).values(active=int(active)))


def one_time_password() -> str:
    return secrets.token_urlsafe(12)
