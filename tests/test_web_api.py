"""The JSON API's contract, as scripts rely on it: the OAuth2 password flow, 401 without a token,
findings as in findings.json plus their ledger state, filters and pagination, 404 out of scope,
/api/health without authentication, and /openapi.json describing it all."""

from __future__ import annotations

import json
from typing import Any

from web_support import *
from web_support import CZ_LARGE, LB_LARGE, LB_SUPER, Rounds, Web, token


def _headers(web: Web, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(web.client(), username)}"}


def test_token_flow_and_401(web: Web) -> None:
    """The password flow gives a bearer token that opens /api/findings; a wrong password, no token, a bad
    token or a session cookie instead of a token get 401."""
    client = web.client()
    response = client.post("/api/token", data={"username": "inspector", "password": "correct-horse-battery"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and len(body["access_token"]) > 30
    wrong = client.post("/api/token", data={"username": "inspector", "password": "wrong"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/findings").status_code == 401
    assert client.get("/api/findings", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get("/api/findings", headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200
    # a session cookie is not an API credential
    browser = web.client("inspector")
    assert browser.get("/api/findings").status_code == 401


def test_findings_are_as_in_findings_json_with_their_ledger_state(web: Web, rounds: Rounds) -> None:
    document = json.loads((rounds.first / "findings.json").read_text(encoding="utf-8"))
    expected = {f["id"]: f for f in document["findings"]}
    client = web.client()
    found = client.get("/api/findings", params={"per_page": 200}, headers=_headers(web, "inspector")).json()
    assert found["total"] == len(expected)
    for item in found["items"]:
        wanted = {k: v for k, v in expected[item["id"]].items() if v is not None}
        assert item["finding"] == wanted
        assert (
            item["ledger"]["state"] == "open"
            and item["ledger"]["state_label"] == "待整改"
            and item["ledger"]["version"] == 1
        )
    one = client.get(f"/api/findings/{LB_LARGE}", headers=_headers(web, "auditor")).json()
    assert one["finding"]["rule_id"] == "class-size.large" and one["finding"]["basis"] == expected[LB_LARGE]["basis"]
    events = client.get(f"/api/findings/{LB_LARGE}/events", headers=_headers(web, "auditor")).json()
    assert events[0]["transition"] == "open" and len(events[0]["hash"]) == 64


def test_filters_and_pagination(web: Web) -> None:
    """/api/findings filters by county, rule, severity and state, each giving exactly the matching findings."""
    client = web.client()
    headers = _headers(web, "inspector")

    def ids(**params: Any) -> set[str]:
        return {
            i["id"]
            for i in client.get("/api/findings", params={**params, "per_page": 200}, headers=headers).json()["items"]
        }

    assert ids(county="柳北区") == {LB_LARGE, LB_SUPER}
    assert ids(rule_id="class-size.large") == {LB_LARGE, CZ_LARGE}
    assert ids(severity="critical") == {LB_SUPER}
    assert ids(state="open") == {LB_LARGE, LB_SUPER, CZ_LARGE}
    assert ids(state="closed") == set()
    assert ids(county="柳北区", rule_id="class-size.large") == {LB_LARGE}
    pages = [
        client.get("/api/findings", params={"per_page": 1, "page": n}, headers=headers).json() for n in (1, 2, 3, 4)
    ]
    assert [p["pages"] for p in pages] == [3, 3, 3, 3]
    assert {p["items"][0]["id"] for p in pages[:3]} == {LB_LARGE, LB_SUPER, CZ_LARGE}
    assert pages[3]["items"] == []
    assert client.get("/api/findings", params={"per_page": 1000}, headers=headers).status_code == 422
    assert client.get("/api/findings", params={"severity": "fatal"}, headers=headers).status_code == 422


def test_out_of_scope_is_404_for_county_and_school(web: Web) -> None:
    client = web.client()
    county = _headers(web, "liubei")
    assert client.get(f"/api/findings/{CZ_LARGE}", headers=county).status_code == 404
    assert client.get(f"/api/findings/{LB_LARGE}", headers=county).status_code == 200
    school = _headers(web, "school_p1")
    assert {i["id"] for i in client.get("/api/findings", headers=school).json()["items"]} == {LB_LARGE, LB_SUPER}
    assert client.get(f"/api/findings/{CZ_LARGE}", headers=school).status_code == 404
    assert client.get("/api/findings", headers=_headers(web, "admin")).status_code == 403


def test_health_and_openapi(web: Web) -> None:
    """/api/health answers ok; the OpenAPI document lists the API's paths, filters and OAuth2 scheme, and no page."""
    client = web.client()
    assert client.get("/api/health").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert {"/api/token", "/api/findings", "/api/findings/{finding_id}", "/api/health"} <= set(spec["paths"])
    parameters = {p["name"] for p in spec["paths"]["/api/findings"]["get"]["parameters"]}
    assert {"county", "rule_id", "severity", "state", "page", "per_page"} <= parameters
    assert "OAuth2PasswordBearer" in spec["components"]["securitySchemes"]
    assert all(path.startswith("/api/") for path in spec["paths"])  # the pages are not part of the API
    # the list is serialised by the route itself (not re-validated by FastAPI) and still documented as a page
    listed = spec["paths"]["/api/findings"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed == {"$ref": "#/components/schemas/FindingPage"}
    assert {"items", "total", "page", "per_page", "pages"} <= set(
        spec["components"]["schemas"]["FindingPage"]["properties"]
    )
