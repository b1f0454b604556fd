"""Bringing a store's schema to the latest Alembic revision when it is opened.

The revisions live in `alembic/versions/` (shipped inside the package) and run through
`alembic.command.upgrade` with the store's connection passed in `config.attributes`: no
alembic.ini at run time. The whole upgrade is one transaction, so a failed step leaves the store
as it was.

A SQLite file written by the sqlite3 code kept its schema version in `PRAGMA user_version` and has
no `alembic_version` table: it is adopted by stamping the revision that built the same schema
(`BASELINES`), then upgraded like any other store. A database with tables of its own, or with a
revision this program does not know (a newer inspector's), is refused.

A change of schema is a new revision, never an edit of a released one: change `schema.py`, then
`alembic.command.revision(alembic_config(db), message="…", autogenerate=True)` against a store at
head drafts it under `alembic/versions/` (review it: SQLite alters in batch mode), and its id
goes at the end of `REVISIONS`. `alembic.command.check(alembic_config(db))` says whether a
store's schema is the declared one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError

from ..errors import UsageError
from .database import write_transaction
from .errors import VERIFY_HINT, StoreDamaged
from .location import DbRef
from .schema import metadata

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPTS = Path(__file__).resolve().parent / "alembic"
# The revisions under alembic/versions, oldest first (a test checks them against the scripts): known
# here so that opening a store that is up to date does not load Alembic at all.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")
BASELINES = {1: "0001", 2: "0002", 3: "0003"}  # PRAGMA user_version of the sqlite3 store → its revision
LEGACY_LATEST = max(BASELINES)
ALEMBIC_USER_VERSION = 4  # set by revision 0004 on SQLite: older inspectors refuse the store


def alembic_config(db: DbRef | None = None, connection: Connection | None = None) -> Config:
    """Alembic's Config for the store's scripts: with a connection to run on, or (for the `alembic`
    tooling during development) a database to connect to."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if db is not None:
        config.set_main_option("sqlalchemy.url", str(db).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    return REVISIONS[-1]


def current(conn: Connection) -> str | None:
    """The store's revision, as Alembic records it (None before the first)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return str(versions[0]) if len(versions) == 1 else None


def upgrade(conn: Connection, label: str) -> list[str]:
    """Bring the store to the head revision; returns the revisions applied (oldest first)."""
    if _state(conn, label) == head():
        conn.rollback()
        return []
    from alembic import command

    try:
        with write_transaction(conn):
            start = _state(conn, label)  # again, now that no other writer can be half-way through
            config = alembic_config(connection=conn)
            if start is not None and start.startswith("legacy:"):
                start = BASELINES[int(start.split(":", 1)[1])]
                command.stamp(config, start)
            if start != head():
                command.upgrade(config, "head")
    except DBAPIError as exc:
        if isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower():
            raise  # a busy store: the caller says so
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        raise StoreDamaged(f"历史库 {label} 无法升级到本程序的结构（{reason}）：升级已整体撤销，库未改动") from None
    return list(REVISIONS[REVISIONS.index(start) + 1 :] if start in REVISIONS else REVISIONS)


def _state(conn: Connection, label: str) -> str | None:
    """The store's revision; `legacy:N` for a sqlite3 store at user_version N; None when empty."""
    revision = current(conn)
    if revision is not None:
        if revision not in REVISIONS:
            raise UsageError(
                f"历史库 {label} 的结构版本（{revision}）高于本程序支持的版本（{head()}）：请升级 inspector"
            )
        return revision
    tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
    user_version = int(conn.execute(text("PRAGMA user_version")).scalar_one()) if conn.dialect.name == "sqlite" else 0
    if user_version == ALEMBIC_USER_VERSION and "audits" in tables:
        raise StoreDamaged(f"历史库 {label} 缺少版本记录（alembic_version 表）：{VERIFY_HINT}")
    if user_version > LEGACY_LATEST:
        raise UsageError(
            f"历史库 {label} 的版本（{user_version}）高于本程序支持的版本（{LEGACY_LATEST}）：请升级 inspector"
        )
    if user_version:
        return f"legacy:{user_version}"
    if tables:
        ours = sorted(tables & set(metadata.tables))
        detail = (
            f"其中已有表 {'、'.join(ours)}，但没有版本记录"
            if ours
            else f"其中有其他程序的表（{'、'.join(sorted(tables)[:5])}）"
        )
        raise UsageError(f"{label} 不是 inspector 的历史库：{detail}")
    return None
