"""`inspector serve` as a script starts it: a child process on a loopback port, the store created on
start, the demo audit imported and one account per role printed with a one-time password (what
`make serve` runs); `inspector users add` (password from stdin) beside the running server; then the
API's contract over real HTTP: /api/health without authentication, /openapi.json, the token flow
and a county's scope.

Marked slow (a child process and its start-up, seconds of CPU): make test-fast covers the same in
process, tests/test_web_demo.py what `--demo` does, tests/test_web_api.py the API and
tests/test_web_migration.py `users add` with its password from stdin."""

from __future__ import annotations

import functools
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from web_support import *
from web_support import CZ_LARGE, LB_LARGE, Rounds

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ROLES = {"管理员": "admin", "督学": "inspector", "区县": "county", "学校": "school", "审计": "auditor"}


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector.cli", *args],
        check=False,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, rounds: Rounds) -> Iterator[tuple[str, Path, list[str]]]:
    root = tmp_path_factory.mktemp("serve")
    db = root / "served.sqlite"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inspector.cli",
            "serve",
            "--db",
            str(db),
            "--port",
            "0",  # the system picks a free port, and the command prints the address it serves
            "--demo",
            str(rounds.first),
            "--source",
            str(rounds.data),
            "--today",
            "2025-01-05",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None

    def pump() -> None:
        for line in process.stdout or ():
            lines.put(line)

    pumping = threading.Thread(target=pump, daemon=True)
    pumping.start()
    printed: list[str] = []
    base = ""
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            try:
                printed.append(lines.get(timeout=0.2))
                if found := re.search(r"督导整改平台：(http://127\.0\.0\.1:[1-9][0-9]*)/", printed[-1]):
                    base = found.group(1)
                continue
            except queue.Empty:
                pass
            assert process.poll() is None, "".join(printed)
            if not base:
                continue
            try:
                if _http().get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
        else:
            pytest.fail("inspector serve did not answer /api/health:\n" + "".join(printed))
        yield base, db, printed
    finally:
        process.terminate()
        process.wait(timeout=30)
        pumping.join(timeout=10)  # the server's output ends with it
        process.stdout.close()
        _http().close()
        _http.cache_clear()


@functools.cache
def _http() -> httpx2.Client:
    """One client for the module's requests: `httpx2.get` builds a client, and with it a TLS context
    reading the CA bundle, for each request (about 30 ms of CPU each, while polling the server's start)."""
    return httpx2.Client()


def _passwords(printed: list[str]) -> dict[str, tuple[str, str]]:
    """role → (user name, one-time password), from the demo's table."""
    result = {}
    for line in printed:
        cells = line.strip().split("\t")
        if len(cells) >= 3 and cells[0] in ROLES:
            result[ROLES[cells[0]]] = (cells[1], cells[2])
    return result


def test_serve_creates_the_store_and_prints_a_one_time_password_per_role(served: tuple[str, Path, list[str]]) -> None:
    base, db, printed = served
    assert db.is_file()
    text = "".join(printed)
    assert "已导入审核" in text and f"督导整改平台：{base}/" in text
    accounts = _passwords(printed)
    assert set(accounts) == set(ROLES.values())
    assert len({password for _, password in accounts.values()}) == 5
    name, password = accounts["county"]
    # a one-time password opens the change-password page only: no API token until it is changed
    refused = _http().post(f"{base}/api/token", data={"username": name, "password": password})
    assert refused.status_code == 401 and "修改一次性密码" in refused.json()["detail"]
    assert _http().post(f"{base}/api/token", data={"username": name, "password": password + "x"}).status_code == 401


def test_health_and_openapi_need_no_login(served: tuple[str, Path, list[str]]) -> None:
    base, _, _ = served
    assert _http().get(f"{base}/api/health").json() == {"status": "ok"}
    paths = _http().get(f"{base}/openapi.json").json()["paths"]
    assert {"/api/token", "/api/findings", "/api/findings/{finding_id}", "/api/health"} <= set(paths)
    assert {"county", "rule_id", "severity", "state", "page", "per_page"} <= {
        p["name"] for p in paths["/api/findings"]["get"]["parameters"]
    }
    assert _http().get(f"{base}/api/findings").status_code == 401


def test_users_add_reads_the_password_from_stdin_and_the_account_works_on_the_server(
    served: tuple[str, Path, list[str]],
) -> None:
    base, db, _ = served
    password = "county-password-42"
    added = _cli(
        "users", "add", "liubei2", "--role", "county", "--county", "柳北区", "--db", str(db), stdin=password + "\n"
    )
    assert added.returncode == 0, added.stderr
    assert "已创建账号 liubei2" in added.stdout and password not in added.stdout + added.stderr
    token = _http().post(f"{base}/api/token", data={"username": "liubei2", "password": password})
    assert token.status_code == 200 and token.json()["token_type"] == "bearer"
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    listed = _http().get(f"{base}/api/findings", params={"per_page": 200}, headers=auth).json()
    assert LB_LARGE in {item["id"] for item in listed["items"]} and CZ_LARGE not in {
        item["id"] for item in listed["items"]
    }
    assert _http().get(f"{base}/api/findings/{LB_LARGE}", headers=auth).json()["ledger"]["state"] == "open"
    assert _http().get(f"{base}/api/findings/{CZ_LARGE}", headers=auth).status_code == 404


def test_a_port_in_use_or_out_of_range_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`inspector serve` binds its port before it announces the address: a port another program
    holds, or one that cannot be a port, ends in exit 2 with what to do, not in uvicorn's log."""
    import socket

    from inspector.cli import main

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["serve", "--db", str(tmp_path / "s.sqlite"), "--port", str(port)]) == 2
    held = capsys.readouterr()
    assert f"无法在 127.0.0.1:{port} 上监听" in held.err and "--port 0" in held.err
    assert "督导整改平台" not in held.out and "Traceback" not in held.err
    assert main(["serve", "--db", str(tmp_path / "s.sqlite"), "--port", "65536"]) == 2
    assert "端口应为 0–65535 之间的整数，实为 65536" in capsys.readouterr().err
