"""The review and rectification web application (`inspector serve`).

Inspectors, county reviewers, schools and auditors work on the same history store and ledger the
command line uses; nothing is duplicated: pages and the JSON API read the store's tables, and every
workflow action is a ledger request or action, run on the one thread that owns the lifecycle engine.

`settings` (what a server is started with) → `backend` (the database and the engine thread) →
`users`, `auth` (passwords, sessions, tokens, login throttling) → `access` (roles and the scope
of each caller) → `queries`, `evidence`, `workflow`, `selfcheck` → `routes/` → `app` (the factory).
Only `inspector.cli` imports this package.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(*args: object, **kwargs: object) -> object:
    """The ASGI application (see `inspector.web.app.create_app`)."""
    from .app import create_app as factory

    return factory(*args, **kwargs)  # type: ignore[arg-type]
