"""Fixtures of the web application's tests: a small two-county audit in two rounds (the second a
re-inspection in which one class was fixed), built once per session; a store with the first round
imported and one account per role, copied per test (SQLite) or rebuilt (PostgreSQL, when
`INSPECTOR_TEST_DATABASE_URL` names a server); and a logged-in test client.

A test module makes the fixtures its names: `from web_support import *`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from history_databases import Database, from_template, template
from inspector.audit import run_audit
from inspector.findings.build import finding_id
from inspector.history.commands import reinspect
from inspector.history.database import write_transaction
from inspector.history.store import HistoryStore
from inspector.publish import write_outputs
from inspector.testing import AuditBuilder
from inspector.web import users as users_module
from inspector.web.app import create_app
from inspector.web.importing import import_run
from inspector.web.settings import Settings
from inspector.web.users import add_user

__all__ = [
    "CITY_WIDE",
    "CZ_LARGE",
    "LB_LARGE",
    "LB_SUPER",
    "PASSWORD",
    "USERS",
    "Rounds",
    "Web",
    "client_for",
    "login",
    "rounds",
    "web",
    "web_db",
    "web_template",
]

PASSWORD = "correct-horse-battery"

# argon2id at the library's parameters takes a fifth of a second a hash, on purpose; the tests log in
# hundreds of times and are about access, not the cost of guessing: the same scheme, minimal cost
users_module._hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
IMPORTED = dt.date(2025, 1, 5)
TODAY = dt.date(2025, 2, 1)
# username → (role, county, school)
USERS: dict[str, tuple[str, str | None, str | None]] = {
    "admin": ("admin", None, None),
    "inspector": ("inspector", None, None),
    "liubei": ("county", "柳北区", None),
    "chengzhong": ("county", "城中区", None),
    "school_p1": ("school", None, "P1"),
    "auditor": ("auditor", None, None),
}
LB_LARGE = finding_id("class-size.large", "class", "C1")  # 柳北区, P1: fixed in the second round
LB_SUPER = finding_id("class-size.super-large", "class", "C2")  # 柳北区, P1
CZ_LARGE = finding_id("class-size.large", "class", "C3")  # 城中区, P2
CITY_WIDE = None  # the core pack has no city-level rule


def _round(root: Path, name: str, as_of: dt.date, c1: int) -> Path:
    builder = AuditBuilder(as_of=as_of, name=f"网页测试督导{name}")
    builder.school("P1", name="柳北区测试小学", county="柳北区", township="柳北街道")
    builder.klass("P1", "3", c1, "C1")
    builder.klass("P1", "4", 70, "C2")
    builder.school("P2", name="城中区测试小学", county="城中区", township="城中街道")
    builder.klass("P2", "5", 60, "C3")
    builder.klass("P2", "6", 40, "C4")
    return builder.write(root / name)


@dataclass(frozen=True)
class Rounds:
    first: Path  # the output folder of the first audit (all outputs)
    recheck: Path  # the output folder of the re-inspection (C1 fixed)
    data: Path  # the first audit's data folder


# The rounds, built once per process (once per xdist worker). Each test module that star-imports the
# fixtures holds its own copy of their definitions, and pytest keeps a session fixture's value per
# definition: without this, every web test module audited the two rounds again (the stores made from
# them are kept per process by history_databases.template). Tests only read these.
_BUILT: dict[str, Any] = {}


@pytest.fixture(scope="session")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> Rounds:
    """The two rounds' outputs, built once per process and read by every web test module."""
    if "rounds" not in _BUILT:
        _BUILT["rounds"] = _build_rounds(tmp_path_factory)
    built: Rounds = _BUILT["rounds"]
    return built


def _build_rounds(tmp_path_factory: pytest.TempPathFactory) -> Rounds:
    root = tmp_path_factory.mktemp("web-rounds")
    first = root / "out-first"
    write_outputs(run_audit(_round(root, "first", dt.date(2025, 1, 1), 60)), first)
    recheck = root / "out-recheck"
    reinspect(
        root / "scratch.sqlite",
        _round(root, "recheck", dt.date(2025, 3, 1), 40),
        str(first),
        recheck,
        today=dt.date(2025, 3, 5),
    )
    return Rounds(first, recheck, root / "first")


def _populate(db: Any, rounds: Rounds) -> None:
    import_run(db, rounds.first, IMPORTED, source=rounds.data)
    with HistoryStore.open(db) as store, write_transaction(store.conn) as conn:
        for name, (role, county, school) in USERS.items():
            add_user(conn, name, PASSWORD, role, county=county, school_id=school, display_name=f"测试{name}")


def _filled(backend: str, root: Path, rounds: Rounds) -> Database:
    """A store with the first round imported and the accounts of USERS, made once per process and
    backend (`history_databases.template`) and copied by each test."""
    return template(backend, "web", root, lambda ref: _populate(ref, rounds))


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory, rounds: Rounds) -> Path:
    """The SQLite file of that store, for tests that copy it themselves."""
    ref = _filled("sqlite", tmp_path_factory.getbasetemp(), rounds).ref
    assert isinstance(ref, Path)
    return ref


@pytest.fixture(params=["sqlite", "postgresql"])
def web_db(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, rounds: Rounds
) -> Iterator[Database]:
    """The store of one test: a copy of that store on SQLite, then on PostgreSQL."""
    with from_template(_filled(request.param, tmp_path_factory.getbasetemp(), rounds), tmp_path, "store") as db:
        yield db


class Web:
    """One test's application over its store, with a client per user when asked."""

    def __init__(self, db: Database, root: Path, today: dt.date = TODAY, **settings: Any) -> None:
        self.db = db
        self.root = root
        self.today = today
        self.settings = Settings(
            db=db.ref,
            evidence_dir=root / "evidence",
            secret_key="test-secret-key-0123456789",
            today=lambda: self.today,
            work_dir=root / "runs",
            **settings,
        )
        self.app = create_app(self.settings)
        self._clients: list[TestClient] = []

    def client(self, username: str | None = None) -> TestClient:
        """A client of its own (cookies); the first one runs the application's start and end."""
        client = client_for(self.app)
        if not self._clients:
            client.__enter__()
        self._clients.append(client)
        if username is not None:
            login(client, username)
        return client

    def close(self) -> None:
        if self._clients:
            self._clients[0].__exit__(None, None, None)
        else:
            self.app.state.backend.close()


def client_for(app: Any) -> TestClient:
    # https: the cookies are Secure, and a client sends them over https only
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def csrf(client: TestClient) -> str:
    """The token the forms of the client's pages carry (read from a page, as a browser would)."""
    page = client.get("/login")
    found = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert found, "no CSRF token on the login page"
    return found.group(1)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200  # enough of a PNG for its type to be read from its content


def zipped(folder: Path) -> bytes:
    """An output folder as the inspector uploads it: a zip with the folder inside."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                book.write(path, f"out/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


def token(client: TestClient, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    assert page.status_code == 200
    response = client.post(
        "/login", data={"username": username, "password": password, "csrftoken": csrf(client), "next": "/"}
    )
    assert response.status_code == 303, response.text
    return response


def post(client: TestClient, path: str, data: dict[str, Any] | None = None, files: Any = None) -> Any:
    """A form POST with the CSRF token, as the page's form sends it."""
    fields = {"csrftoken": csrf(client), **(data or {})}
    return client.post(path, data=fields, files=files)


def version_of(client: TestClient, fid: str) -> int:
    page = client.get(f"/findings/{fid}")
    assert page.status_code == 200, page.text
    found = re.search(r'name="version" value="(\d+)"', page.text)
    assert found, "no form with a version on the page"
    return int(found.group(1))


@pytest.fixture
def web(web_db: Database, tmp_path: Path) -> Iterator[Web]:
    app = Web(web_db, tmp_path)
    try:
        yield app
    finally:
        app.close()
