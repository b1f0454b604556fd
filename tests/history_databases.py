"""The databases the history store is tested on: a SQLite file, and PostgreSQL when
`INSPECTOR_TEST_DATABASE_URL` names a server (`.ci/run` starts a throw-away one).

`database` is parametrised over both. Each test gets a database of its own, created before and
dropped after it, so tests do not see each other's rows. `database` is empty (the tests of creating
and migrating a store need that); `migrated` is a copy of a store already at the head revision,
made once per process (a file copy, or PostgreSQL's `CREATE DATABASE … TEMPLATE`), for the tests
of what a store does once it exists. Without the variable the PostgreSQL
case skips, except under CI (`CI` set), where it fails: a CI run that silently tested SQLite
only would prove nothing about PostgreSQL.

A test module makes the fixtures its names: `database = history_databases.database` and
`backend = history_databases.backend` (the parameter they share).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from inspector.history import schema
from inspector.history.location import DbRef
from inspector.history.store import HistoryStore

URL_VARIABLE = "INSPECTOR_TEST_DATABASE_URL"


@dataclass
class Database:
    """One test's database: `ref` is what `--db` is given."""

    backend: str  # sqlite | postgresql
    ref: DbRef
    server: URL | None = None  # PostgreSQL: the server's own database, to create and drop others from
    copies: list[Database] = field(default_factory=list)

    def __str__(self) -> str:
        return str(self.ref)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.drop()  # a test's own database (and its copies) ends with the test

    @property
    def url(self) -> str:
        return str(self.ref) if self.backend == "postgresql" else f"sqlite:///{self.ref}"

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        (rows,) = self.queries(sql, **params)
        return rows

    def queries(self, *sql: str, **params: Any) -> list[list[tuple[Any, ...]]]:
        """Each statement's rows, all read on one connection (a PostgreSQL connection costs about 10 ms
        of CPU, client and server, to authenticate)."""
        if self.backend == "sqlite":
            file = sqlite3.connect(self.ref)
            try:
                return [file.execute(statement, params).fetchall() for statement in sql]
            finally:
                file.close()
        engine = create_engine(str(self.ref))
        try:
            with engine.connect() as conn:
                return [[tuple(row) for row in conn.execute(text(statement), params)] for statement in sql]
        finally:
            engine.dispose()

    def execute(self, *statements: str) -> None:
        """Run statements as someone holding the database would, bypassing inspector."""
        if self.backend == "sqlite":
            file = sqlite3.connect(self.ref)
            try:
                file.executescript(";\n".join(statements) + ";")
            finally:
                file.close()
            return
        engine = create_engine(str(self.ref))
        try:
            with engine.begin() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            engine.dispose()

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table of the store, in a fixed order: to compare before and after."""
        tables = schema.metadata.sorted_tables
        selects = ["SELECT {} FROM {}".format(", ".join(f'"{c.name}"' for c in t.columns), t.name) for t in tables]
        return {
            table.name: sorted(
                (tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows), key=repr
            )
            for table, rows in zip(tables, self.queries(*selects), strict=True)
        }

    def drop_append_only_triggers(self) -> None:
        if self.backend == "sqlite":
            self.execute("DROP TRIGGER events_append_only_update", "DROP TRIGGER events_append_only_delete")
        else:
            self.execute(*(f"DROP TRIGGER events_append_only_{n} ON events" for n in ("update", "delete", "truncate")))

    def restore_append_only_triggers(self) -> None:
        """The triggers put back as the migration made them: a careful tamperer covers their tracks."""
        if self.backend == "sqlite":
            self.execute(
                *(
                    f"CREATE TRIGGER events_append_only_{n} BEFORE {n.upper()} ON events"
                    " BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END"
                    for n in ("update", "delete")
                )
            )
        else:
            self.execute(
                *(
                    f"CREATE TRIGGER events_append_only_{n} BEFORE {n.upper()} ON events FOR EACH {each}"
                    " EXECUTE FUNCTION inspector_events_append_only()"
                    for n, each in (("update", "ROW"), ("delete", "ROW"), ("truncate", "STATEMENT"))
                )
            )

    def copy(self, name: str) -> Database:
        """Another database holding what this one holds now (a SQLite file `name` beside this one),
        dropped with this one."""
        copy = self.duplicate(self.ref.with_name(f"{name}.sqlite") if isinstance(self.ref, Path) else None)
        self.copies.append(copy)
        return copy

    def duplicate(self, file: Path | None) -> Database:
        """A database holding what this one holds now: the SQLite file copied to `file`, or a new
        PostgreSQL database created with this one as its template (nobody may be connected to
        this one meanwhile)."""
        if self.backend == "sqlite":
            assert isinstance(self.ref, Path) and file is not None
            shutil.copy(self.ref, file)
            return Database("sqlite", file)
        assert self.server is not None
        name = _fresh_name()
        _admin(self.server, f'CREATE DATABASE "{name}" TEMPLATE "{make_url(str(self.ref)).database}"')
        return Database("postgresql", self.server.set(database=name).render_as_string(hide_password=False), self.server)

    def drop(self) -> None:
        for copy in self.copies:
            copy.drop()
        if self.backend == "postgresql" and self.server is not None:
            _admin(self.server, f'DROP DATABASE IF EXISTS "{make_url(str(self.ref)).database}" WITH (FORCE)')


_ADMIN: dict[str, Engine] = {}  # per process: server → an engine on its own database, kept to the end


def _admin(server: URL, statement: str) -> None:
    """Run `statement` on the server's own database, on a connection kept for the process: tests
    create and drop a few hundred databases, and a new connection costs about 10 ms of CPU (client
    and server) to authenticate. That database is never a template, so the idle connection is in
    no `CREATE DATABASE … TEMPLATE`'s way."""
    key = server.render_as_string(hide_password=False)
    if key not in _ADMIN:
        _ADMIN[key] = create_engine(server, isolation_level="AUTOCOMMIT", pool_size=1)
    with _ADMIN[key].connect() as conn:
        conn.execute(text(statement))


def server_url() -> URL | None:
    """The PostgreSQL server of the tests, or None: skipped locally, a failure under CI."""
    value = os.environ.get(URL_VARIABLE)
    if value:
        return make_url(value)
    if os.environ.get("CI"):
        pytest.fail(f"CI 下必须用 PostgreSQL 测试历史库：请设置 {URL_VARIABLE}（.ci/run 会启动一个临时的 PostgreSQL）")
    pytest.skip(f"未设置 {URL_VARIABLE}：跳过 PostgreSQL 上的测试")


def _fresh_name() -> str:
    return f"inspector_test_{uuid.uuid4().hex[:12]}"


def new_database(backend: str, tmp_path: Path, name: str = "history") -> Database:
    if backend == "sqlite":
        return Database("sqlite", tmp_path / f"{name}.sqlite")
    server = server_url()
    assert server is not None
    database_name = _fresh_name()
    _admin(server, f'CREATE DATABASE "{database_name}"')
    return Database("postgresql", server.set(database=database_name).render_as_string(hide_password=False), server)


def from_template(template: Database, tmp_path: Path, name: str = "history") -> Database:
    """A database of the test's own holding what `template` holds (`Database.duplicate`)."""
    return template.duplicate(tmp_path / f"{name}.sqlite")


_TEMPLATES: dict[str, Database] = {}  # per process: "<backend>/<what it holds>" → a database kept to the end


def template(backend: str, what: str, root: Path, fill: Callable[[DbRef], None]) -> Database:
    """A database filled once per process by `fill` and copied by the tests (`from_template`); a
    PostgreSQL template is dropped when the process's session ends (`drop_templates`)."""
    key = f"{backend}/{what}"
    if key not in _TEMPLATES:
        db = new_database(backend, root, what)
        fill(db.ref)
        _TEMPLATES[key] = db
    return _TEMPLATES[key]


def drop_templates() -> None:
    while _TEMPLATES:
        _TEMPLATES.popitem()[1].drop()
    while _ADMIN:
        _ADMIN.popitem()[1].dispose()


def _migrate(db: DbRef) -> None:
    HistoryStore.open(db, create=True).close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The backend of the test's database: SQLite, then PostgreSQL."""
    return str(request.param)


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[Database]:
    """An empty database of its own for the test: a SQLite file, then a PostgreSQL database."""
    with new_database(backend, tmp_path) as db:
        yield db


@pytest.fixture
def migrated(backend: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A store of its own at the head revision, with nothing in it: SQLite, then PostgreSQL."""
    with from_template(template(backend, "migrated", tmp_path_factory.getbasetemp(), _migrate), tmp_path) as db:
        yield db
