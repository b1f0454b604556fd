"""What `inspector serve --demo` does before it serves, in process: the store is created, the demo
audit imported, and each role gets an account with a one-time password that opens no API token
until it is changed. tests/test_web_serve.py runs the same as a child process over real HTTP
(marked slow)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from history_databases import Database
from inspector.web.serve import demo
from web_support import *
from web_support import LB_LARGE, Rounds, Web

ROLES = {"管理员": "admin", "督学": "inspector", "区县": "county", "学校": "school", "审计": "auditor"}


def test_demo_creates_the_store_imports_the_audit_and_prints_a_one_time_password_per_role(
    rounds: Rounds, tmp_path: Path
) -> None:
    """The printed table names one account per role with five different passwords; a one-time
    password is refused at /api/token with the reason, a wrong one plainly, and the county's
    finding is in the store."""
    db = tmp_path / "demo.sqlite"
    lines = demo(db, rounds.first, dt.date(2025, 1, 5), rounds.data)
    assert db.is_file()
    assert "已导入审核" in "\n".join(lines) and "演示账号（一次性密码，首次登录后须修改）：" in lines
    accounts = {}
    for line in lines:
        cells = line.strip().split("\t")
        if len(cells) >= 3 and cells[0] in ROLES:
            accounts[ROLES[cells[0]]] = (cells[1], cells[2])
    assert set(accounts) == set(ROLES.values())
    assert len({password for _, password in accounts.values()}) == 5
    web = Web(Database("sqlite", db), tmp_path)
    try:
        client = web.client()
        name, password = accounts["county"]
        refused = client.post("/api/token", data={"username": name, "password": password})
        assert refused.status_code == 401 and "修改一次性密码" in refused.json()["detail"]
        assert client.post("/api/token", data={"username": name, "password": password + "x"}).status_code == 401
    finally:
        web.close()
    assert Database("sqlite", db).query("SELECT count(*) FROM items WHERE finding_id = :f", f=LB_LARGE) == [(1,)]


def test_demo_run_again_keeps_the_import_and_gives_fresh_passwords(rounds: Rounds, tmp_path: Path) -> None:
    """A second `serve --demo` on the same store imports nothing twice and replaces every password."""
    db = tmp_path / "demo.sqlite"
    first = demo(db, rounds.first, dt.date(2025, 1, 5), rounds.data)
    second = demo(db, rounds.first, dt.date(2025, 1, 6), rounds.data)
    passwords = [
        {c[1]: c[2] for c in (line.strip().split("\t") for line in lines) if len(c) >= 3 and c[0] in ROLES}
        for lines in (first, second)
    ]
    assert set(passwords[0]) == set(passwords[1]) and len(passwords[0]) == 5
    assert all(passwords[0][user] != passwords[1][user] for user in passwords[0])
    assert Database("sqlite", db).query("SELECT count(*) FROM users") == [(5,)]
    assert Database("sqlite", db).query("SELECT count(*) FROM audits") == [(1,)]
