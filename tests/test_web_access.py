"""Access control of every route of the web application, for every role, from its route list: a
route added without a row here fails `test_every_route_has_an_access_rule`. Then isolation by id:
a county reviewer (or a school) asking for another county's finding, trace, trail, evidence or API
record gets 404, never the data."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from history_databases import Database
from inspector.web.app import route_table
from web_support import *
from web_support import CZ_LARGE, LB_LARGE, USERS, Web, csrf, login, post, token, version_of

ROLES = ("anonymous", *USERS)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# what each role gets: "ok" (allowed: 200, or 303 after a form, or 400/409 when the form's content
# or the lifecycle refuses it), 403, 404, or "login" (a page redirects to /login; the API answers 401)
OK, FORBIDDEN, LOGIN = "ok", 403, "login"
READERS = {"admin": FORBIDDEN, "inspector": OK, "liubei": OK, "chengzhong": 404, "school_p1": OK, "auditor": OK}


def _only(*roles: str, other: object = FORBIDDEN) -> dict[str, object]:
    return {name: OK if name in roles else other for name in USERS}


def _form(
    path: str, data: Callable[[TestClient], dict[str, Any]] | None = None, files: Any = None
) -> Callable[[TestClient], Any]:
    def send(client: TestClient) -> Any:
        fields = data(client) if data else {}
        return post(client, path, fields, files=files() if callable(files) else files)

    return send


def _get(path: str) -> Callable[[TestClient], Any]:
    return lambda client: client.get(path)


def _version(client: TestClient) -> dict[str, Any]:
    try:
        return {"version": version_of(client, LB_LARGE)}
    except AssertionError:
        return {"version": 1}


F = f"/findings/{LB_LARGE}"
NAMES = itertools.count()  # a new name per failed login: the per-name throttle is tested elsewhere
# (method, route path) → (request, expected per user; anonymous always LOGIN unless given)
ACCESS: dict[tuple[str, str], tuple[Callable[[TestClient], Any], dict[str, object]]] = {
    ("GET", "/"): (_get("/"), {**READERS, "admin": OK, "chengzhong": OK}),
    ("GET", "/login"): (_get("/login"), {**{u: OK for u in USERS}, "anonymous": OK}),
    ("POST", "/login"): (
        _form("/login", lambda c: {"username": f"nobody{next(NAMES)}", "password": "wrong-password"}),
        {**{u: 401 for u in USERS}, "anonymous": 401},
    ),
    ("POST", "/logout"): (_form("/logout"), {u: LOGIN for u in USERS}),  # logged out: to the login page
    ("GET", "/account/password"): (_get("/account/password"), {u: OK for u in USERS}),
    ("POST", "/account/password"): (
        _form("/account/password", lambda c: {"current": "wrong", "new": "x", "repeat": "y"}),
        {u: OK for u in USERS},
    ),
    ("GET", "/findings"): (_get("/findings"), {**READERS, "chengzhong": OK}),
    ("GET", "/findings/{finding_id}"): (_get(F), READERS),
    ("GET", "/findings/{finding_id}/trace"): (_get(F + "/trace"), READERS),
    ("GET", "/findings/{finding_id}/trail"): (_get(F + "/trail"), READERS),
    ("POST", "/findings/{finding_id}/assign"): (
        _form(F + "/assign", lambda c: {**_version(c), "assignee": "张三", "due": "2025-05-01"}),
        {**_only("liubei"), "chengzhong": 404},
    ),
    ("POST", "/findings/{finding_id}/evidence"): (
        _form(F + "/evidence", _version, lambda: {"file": ("photo.png", io.BytesIO(PNG), "image/png")}),
        {**_only("liubei"), "chengzhong": 404},
    ),
    ("POST", "/findings/{finding_id}/submit"): (
        _form(F + "/submit", lambda c: {**_version(c), "note": "已整改"}),
        {**_only("liubei"), "chengzhong": 404},
    ),
    ("POST", "/findings/{finding_id}/review"): (
        _form(F + "/review", lambda c: {**_version(c), "decision": "reject", "note": "材料不全"}),
        _only("inspector"),
    ),
    ("POST", "/findings/{finding_id}/comment"): (
        _form(F + "/comment", lambda c: {**_version(c), "note": "请尽快"}),
        {**_only("liubei", "inspector"), "chengzhong": 404},
    ),
    ("GET", "/evidence/{evidence_id}"): (_get("/evidence/1"), READERS),
    ("GET", "/runs"): (_get("/runs"), _only("inspector", "auditor")),
    ("POST", "/runs/import"): (
        _form("/runs/import", files=lambda: {"file": ("out.zip", io.BytesIO(b"not a zip"), "application/zip")}),
        _only("inspector"),
    ),
    ("GET", "/ledger/verify"): (_get("/ledger/verify"), _only("inspector", "auditor")),
    ("GET", "/admin/users"): (_get("/admin/users"), _only("admin")),
    ("POST", "/admin/users"): (
        _form("/admin/users", lambda c: {"username": "x y", "display_name": "", "role": "auditor"}),
        _only("admin"),
    ),
    ("POST", "/admin/users/{user_id}/reset"): (_form("/admin/users/999/reset"), {**_only("admin"), "admin": 404}),
    ("POST", "/admin/users/{user_id}/active"): (
        _form("/admin/users/999/active", lambda c: {"active": 0}),
        {**_only("admin"), "admin": 404},
    ),
    ("GET", "/selfcheck"): (_get("/selfcheck"), _only("school_p1")),
    ("POST", "/selfcheck"): (
        _form("/selfcheck", files=lambda: {"file": ("classes.csv", io.BytesIO(b"x"), "text/csv")}),
        _only("school_p1"),
    ),
    ("GET", "/static/{rest}"): (_get("/static/app.css"), {**{u: OK for u in USERS}, "anonymous": OK}),
    ("GET", "/openapi.json"): (_get("/openapi.json"), {**{u: OK for u in USERS}, "anonymous": OK}),
    ("GET", "/api/health"): (_get("/api/health"), {**{u: OK for u in USERS}, "anonymous": OK}),
    ("POST", "/api/token"): (
        lambda c: c.post("/api/token", data={"username": f"nobody{next(NAMES)}", "password": "wrong"}),
        {**{u: 401 for u in USERS}, "anonymous": 401},
    ),
    ("GET", "/api/findings"): (lambda c: c.get("/api/findings"), {}),
    ("GET", "/api/findings/{finding_id}"): (lambda c: c.get(f"/api/findings/{LB_LARGE}"), {}),
    ("GET", "/api/findings/{finding_id}/events"): (lambda c: c.get(f"/api/findings/{LB_LARGE}/events"), {}),
}
# the API's expectations with a bearer token of each user (the clients above carry session cookies only)
API = {"admin": FORBIDDEN, "inspector": OK, "liubei": OK, "chengzhong": OK, "school_p1": OK, "auditor": OK}
API_BY_ID = {**API, "chengzhong": 404}
TOKENS: dict[str, str] = {}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, web_template: Path) -> Iterator[tuple[Web, dict[str, TestClient]]]:
    import shutil

    root = tmp_path_factory.mktemp("access")
    shutil.copy(web_template, root / "store.sqlite")
    web = Web(Database("sqlite", root / "store.sqlite"), root, login_attempts_per_address="1000/minute")
    clients = {"anonymous": web.client()}
    for name in USERS:
        clients[name] = web.client(name)
        TOKENS[name] = token(clients[name], name)
    # one evidence file of 柳北区 (id 1), for the evidence route
    lb = clients["liubei"]
    uploaded = post(
        lb,
        f"/findings/{LB_LARGE}/evidence",
        {"version": version_of(lb, LB_LARGE)},
        files={"file": ("photo.png", io.BytesIO(PNG), "image/png")},
    )
    assert uploaded.status_code == 303, uploaded.text
    yield web, clients
    web.close()


def test_every_route_has_an_access_rule(site: tuple[Web, dict[str, TestClient]]) -> None:
    """The application's routes are exactly those of the table: a new route needs its row (and its checks)."""
    web, _ = site
    routes = {
        (method or "GET", path) for path, methods in route_table(web.app) for method in (sorted(methods) or ["GET"])
    }
    assert routes == set(ACCESS), (
        f"routes without an access rule: {sorted(routes - set(ACCESS))}; stale rules: {sorted(set(ACCESS) - routes)}"
    )


def _judge(response: Any, expected: object, api: bool) -> None:
    status = response.status_code
    if expected == OK:
        assert status in (200, 303, 400, 409, 413, 415), (status, response.text[:300])
        if status == 303:
            assert not response.headers["location"].startswith("/login"), response.headers["location"]
    elif expected == LOGIN:
        if api:
            assert status == 401
        else:
            assert status == 303 and response.headers["location"].startswith("/login"), (
                status,
                response.headers.get("location"),
            )
    else:
        assert status == expected, (status, response.text[:300])


@pytest.mark.parametrize("route", sorted(ACCESS), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_each_role_as_the_table_says(
    site: tuple[Web, dict[str, TestClient]], route: tuple[str, str]
) -> None:
    """Every role (and no login at all) gets what the table says, enforced on the server."""
    _web, clients = site
    send, expected = ACCESS[route]
    api = route[1].startswith("/api/") and route[1] not in ("/api/health", "/api/token")
    for role in ROLES:
        client = clients[role]
        if api:
            want = LOGIN if role == "anonymous" else (API_BY_ID if "{" in route[1] else API)[role]
            if role != "anonymous":
                response = client.get(_path(route[1]), headers={"Authorization": f"Bearer {TOKENS[role]}"})
            else:
                response = send(client)
        else:
            want = expected.get(role, LOGIN)
            response = send(client)
        _judge(response, want, api)
        if route == ("POST", "/logout") and role != "anonymous":
            login(client, role)  # the module's clients stay logged in for the routes after this one
    # a session that did something is still the same user's
    assert clients["auditor"].get("/findings").status_code == 200


def _path(template: str) -> str:
    return template.replace("{finding_id}", LB_LARGE)


@pytest.mark.parametrize(
    "path",
    [
        f"/findings/{CZ_LARGE}",
        f"/findings/{CZ_LARGE}/trace",
        f"/findings/{CZ_LARGE}/trail",
        "/findings/F-0000000000000000",
    ],
)
def test_a_county_asking_for_another_countys_finding_gets_404(web: Web, path: str) -> None:
    """柳北区 asking for 城中区's finding by id: 404, and nothing of it in the answer."""
    client = web.client("liubei")
    response = client.get(path)
    assert response.status_code == 404
    assert "C3" not in response.text and "城中区测试小学" not in response.text


def test_lists_and_api_hold_only_the_callers_county(web: Web) -> None:
    """The list page, the API list and the overview of a county user hold only its own county's items."""
    client = web.client("liubei")
    page = client.get("/findings").text
    assert LB_LARGE in page and CZ_LARGE not in page and "城中区测试小学" not in page
    headers = {"Authorization": f"Bearer {token(client, 'liubei')}"}
    found = client.get("/api/findings", headers=headers).json()
    assert {item["finding"]["county"] for item in found["items"]} == {"柳北区"}
    assert client.get(f"/api/findings/{CZ_LARGE}", headers=headers).status_code == 404
    assert client.get(f"/api/findings/{CZ_LARGE}/events", headers=headers).status_code == 404
    assert client.get("/api/findings", params={"county": "城中区"}, headers=headers).json()["total"] == 0


def test_evidence_of_another_county_is_404_and_a_school_sees_only_itself(web: Web) -> None:
    """An evidence file of 城中区 asked for by 柳北区 is 404; a school account sees only its own school."""
    cz = web.client("chengzhong")
    response = post(
        cz,
        f"/findings/{CZ_LARGE}/evidence",
        {"version": version_of(cz, CZ_LARGE)},
        files={"file": ("整改照片.png", io.BytesIO(PNG), "image/png")},
    )
    assert response.status_code == 303, response.text
    assert cz.get("/evidence/1").status_code == 200
    lb = web.client("liubei")
    assert lb.get("/evidence/1").status_code == 404
    school = web.client("school_p1")
    assert school.get("/evidence/1").status_code == 404
    assert school.get(f"/findings/{CZ_LARGE}").status_code == 404
    assert LB_LARGE in school.get("/findings").text
    # a county reviewer cannot act on another county's item either, even knowing its id and version
    assert post(lb, f"/findings/{CZ_LARGE}/comment", {"version": 1, "note": "x"}).status_code == 404


def test_csrf_token_of_one_client_is_not_anothers(web: Web) -> None:
    """Sanity of the helper: each client has its own CSRF cookie."""
    a, b = web.client("liubei"), web.client("chengzhong")
    assert csrf(a) != csrf(b)
