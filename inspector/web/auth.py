"""Who is calling: sessions for the pages, bearer tokens for the API, and login throttling.

A session is Starlette's signed session cookie (itsdangerous; HttpOnly, SameSite=Lax, Secure
unless the server is told otherwise) holding a random token; a bearer token is such a token given
to a script by `POST /api/token`. Only the sha256 of a token is stored (`web_tokens`), so logging
out, disabling a user or a copy of the table ends or grants nothing. Login attempts are counted
per user name and per client address with the `limits` library (a moving window, in memory):
past the limit the answer is 429, whatever the password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Connection, delete, insert, select

from ..history import schema
from .users import User, get_user

SESSION_KEY = "sid"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def issue_token(conn: Connection, user: User, kind: str, hours: int) -> str:
    """A new random token for `user` (inside the caller's write transaction); only its hash is kept."""
    token = secrets.token_urlsafe(32)
    now = _now()
    conn.execute(
        insert(schema.web_tokens).values(
            token_hash=_digest(token),
            user_id=user.id,
            kind=kind,
            created_at=now.isoformat(timespec="seconds"),
            expires_at=(now + dt.timedelta(hours=hours)).isoformat(timespec="seconds"),
        )
    )
    return token


def user_for_token(conn: Connection, token: str, kind: str) -> User | None:
    """The active user a live token of `kind` belongs to, or None."""
    if not token or len(token) > 200:
        return None
    t = schema.web_tokens
    row = conn.execute(
        select(t.c.user_id, t.c.expires_at).where(t.c.token_hash == _digest(token), t.c.kind == kind)
    ).first()
    if row is None or dt.datetime.fromisoformat(row.expires_at) <= _now():
        return None
    user = get_user(conn, int(row.user_id))
    return user if user is not None and user.active else None


def revoke_token(conn: Connection, token: str) -> None:
    conn.execute(delete(schema.web_tokens).where(schema.web_tokens.c.token_hash == _digest(token)))


def revoke_user(conn: Connection, user_id: int) -> None:
    conn.execute(delete(schema.web_tokens).where(schema.web_tokens.c.user_id == user_id))


@dataclass
class LoginThrottle:
    """At most `per_user` login attempts per user name and `per_address` per client address
    (limits' notation, e.g. "5/15 minutes")."""

    per_user: str
    per_address: str

    def __post_init__(self) -> None:
        self._item = parse(self.per_user)
        self._address_item = parse(self.per_address)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def allow(self, username: str, address: str) -> bool:
        """Count one attempt; False when either the name or the address is over its limit."""
        by_name = self._limiter.hit(self._item, "user", username.strip().lower())
        by_address = self._limiter.hit(self._address_item, "address", address)
        return by_name and by_address

    def succeeded(self, username: str) -> None:
        """A correct password starts the name's count afresh (the address keeps its own)."""
        self._limiter.clear(self._item, "user", username.strip().lower())
