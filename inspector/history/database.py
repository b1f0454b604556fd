"""The `--db` option: a SQLite file (the default, `./inspector.sqlite`) or a database URL
(`sqlite:///path`, `postgresql+psycopg://user:password@host:port/database`), turned into an
SQLAlchemy Engine by `engine_for`, the one place that knows the backends.

SQLite gets what the store has always had: a 10 s busy timeout, foreign keys, and now WAL (readers
do not block the writer). Transactions are begun by us, not by the sqlite3 module, so that a
transaction covers DDL and reads too: `write_transaction` begins `BEGIN IMMEDIATE` (one writer at
a time, decided up front rather than by a failed lock upgrade); plain reads begin `BEGIN`. On
PostgreSQL a write transaction takes a transaction-level advisory lock, so writers queue the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ..errors import UsageError
from .location import DbRef

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000
WRITE_LOCK = 0x1A5_7EC7  # the advisory lock id of the store's writers on PostgreSQL
_WRITE = "inspector.write"
SUPPORTED = "SQLite 文件路径、sqlite:///路径 或 postgresql+psycopg://用户:密码@主机:端口/数据库"


@dataclass(frozen=True)
class Target:
    url: URL
    path: Path | None  # the SQLite file
    label: str  # for messages: the path as given, or the URL without its password

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()


def target(db: DbRef) -> Target:
    """Where `db` points, refused with a message when it is no database the store can use."""
    if isinstance(db, Path):
        return Target(URL.create("sqlite+pysqlite", database=str(db)), db, str(db))
    text_ = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", db.strip())
    try:
        url = make_url(text_)
    except ArgumentError:
        raise UsageError(f"--db {_hide_password(db)} 不是有效的数据库地址；可用：{SUPPORTED}") from None
    label = url.render_as_string(hide_password=True)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise UsageError(f"--db {label}：历史库须是一个 SQLite 文件（sqlite:///路径）")
        return Target(url.set(drivername="sqlite+pysqlite"), Path(url.database), url.database)
    if backend == "postgresql":
        if url.drivername != "postgresql+psycopg":
            raise UsageError(f"--db {label}：PostgreSQL 请用 psycopg 驱动（postgresql+psycopg://…）")
        if not url.database:
            raise UsageError(f"--db {label}：地址中缺少数据库名（postgresql+psycopg://用户:密码@主机:端口/数据库）")
        return Target(url, None, label)
    raise UsageError(f"--db {label}：不支持的数据库“{backend}”；可用：{SUPPORTED}")


def label(db: DbRef) -> str:
    try:
        return target(db).label
    except UsageError:
        return _hide_password(str(db))


def exists(db: DbRef) -> bool:
    """Whether a store may already be there (a server's database is assumed to be)."""
    where = target(db)
    return where.path is None or where.path.exists()


def engine_for(db: DbRef, *, create: bool = False) -> Engine:
    """An Engine for the store at `db`; a SQLite file must exist unless `create`."""
    where = target(db)
    if where.path is not None:
        _check_sqlite_file(where.path, create=create)
        engine = create_engine(where.url)
        _sqlite_events(engine)
        return engine
    try:
        return create_engine(where.url, connect_args={"connect_timeout": 10, "application_name": "inspector"})
    except ModuleNotFoundError as exc:
        raise UsageError(f"连接 PostgreSQL 需要 psycopg：请安装 inspector[postgresql]（缺少 {exc.name}）") from None


def _check_sqlite_file(path: Path, *, create: bool) -> None:
    if not path.exists():
        if not create:
            raise UsageError(
                f"历史库 {path} 不存在：先用 inspector reinspect 或 inspector history import 建立，或用 --db 指定已有的历史库"
            )
        if not path.parent.is_dir():
            raise UsageError(f"无法在 {path.parent} 中建立历史库：文件夹不存在")
        return
    if path.is_dir():
        raise UsageError(f"{path} 是文件夹，不是历史库文件")
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if not header:
        raise UsageError(f"{path} 是空文件，不是历史库：如要在此新建历史库，请先删除这个空文件")
    if header != SQLITE_HEADER:
        raise UsageError(f"{path} 不是可用的历史库（SQLite）：文件开头不是 SQLite 数据库的标志")


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see the module docstring)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get(_WRITE) else "BEGIN")


@contextmanager
def write_transaction(conn: Connection) -> Iterator[Connection]:
    """One write transaction: all of it is stored, or (on any exception) none of it.

    A read transaction the connection began on its own is ended first: the write sees the
    database as it is once the write lock is held.
    """
    if conn.in_transaction():
        conn.rollback()
    conn.info[_WRITE] = True
    try:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK})
            yield conn
    finally:
        conn.info.pop(_WRITE, None)


def _hide_password(text_: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text_)
