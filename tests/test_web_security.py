"""Sessions, CSRF, login throttling and secrets of the web application: cookies are Secure,
HttpOnly and SameSite; every state-changing form needs its CSRF token; a sixth login attempt in the
window is refused whatever the password; passwords appear in no log, page or table; logging out
or changing the password ends the old session; one-time passwords must be changed first."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from web_support import *
from web_support import LB_LARGE, PASSWORD, Web, client_for, csrf, login, post, users_module


def _cookie_header(response: Any, name: str) -> str:
    for value in response.headers.get_list("set-cookie"):
        if value.startswith(name + "="):
            return value.lower()
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


class TestCookies:
    def test_session_and_csrf_cookies_are_secure_httponly_samesite(self, web: Web) -> None:
        """The session cookie is Secure, HttpOnly and SameSite=Lax; the CSRF cookie Secure, HttpOnly, SameSite=Strict."""
        client = web.client()
        page = client.get("/login")
        csrf_cookie = _cookie_header(page, "inspector_csrf")
        assert "secure" in csrf_cookie and "httponly" in csrf_cookie and "samesite=strict" in csrf_cookie
        response = login(client, "liubei")
        session = _cookie_header(response, "inspector_session")
        assert "secure" in session and "httponly" in session and "samesite=lax" in session

    def test_security_headers(self, web: Web) -> None:
        """Pages forbid framing and sniffing and allow scripts from the site only."""
        response = web.client().get("/login")
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "script-src 'self'" in response.headers["content-security-policy"]


class TestCsrf:
    @pytest.mark.parametrize(
        "path, data",
        [
            (f"/findings/{LB_LARGE}/comment", {"version": 1, "note": "x"}),
            (f"/findings/{LB_LARGE}/assign", {"version": 1, "assignee": "张三", "due": "2025-05-01"}),
            ("/logout", {}),
        ],
    )
    def test_a_form_without_or_with_a_wrong_token_is_refused(self, web: Web, path: str, data: dict[str, Any]) -> None:
        """A POST of a logged-in user without the token, or with another's, is 403 and changes nothing."""
        client = web.client("liubei")
        before = web.db.query("SELECT count(*) FROM events")
        assert client.post(path, data=data).status_code == 403
        assert client.post(path, data={**data, "csrftoken": "forged"}).status_code == 403
        other = web.client("chengzhong")
        assert client.post(path, data={**data, "csrftoken": csrf(other)}).status_code == 403
        assert web.db.query("SELECT count(*) FROM events") == before
        assert client.get("/findings").status_code == 200  # still logged in: the logout was refused too

    def test_a_multipart_upload_without_the_token_is_refused(self, web: Web) -> None:
        client = web.client("liubei")
        response = client.post(
            f"/findings/{LB_LARGE}/evidence",
            data={"version": "1"},
            files={"file": ("a.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 16, "image/png")},
        )
        assert response.status_code == 403
        assert web.db.query("SELECT count(*) FROM evidence") == [(0,)]

    def test_the_login_form_needs_its_token_too(self, web: Web) -> None:
        """Login CSRF: a login POST without the form's token is refused."""
        client = web.client()
        client.get("/login")
        response = client.post("/login", data={"username": "liubei", "password": PASSWORD})
        assert response.status_code == 403


class TestThrottling:
    def test_the_sixth_attempt_in_the_window_is_refused_even_with_the_right_password(self, web: Web) -> None:
        client = web.client()
        for _ in range(5):
            response = client.post(
                "/login", data={"username": "liubei", "password": "wrong-password", "csrftoken": csrf(client)}
            )
            assert response.status_code == 401
        response = client.post("/login", data={"username": "liubei", "password": PASSWORD, "csrftoken": csrf(client)})
        assert response.status_code == 429
        assert "过于频繁" in response.text
        # the API's token endpoint counts against the same name
        assert client.post("/api/token", data={"username": "liubei", "password": PASSWORD}).status_code == 429
        # another user is not locked out by it
        login(web.client(), "chengzhong")

    def test_a_correct_login_starts_the_count_afresh(self, web: Web) -> None:
        client = web.client()
        for _ in range(4):
            client.post("/login", data={"username": "liubei", "password": "wrong-password", "csrftoken": csrf(client)})
        login(client, "liubei")
        for _ in range(4):
            assert (
                client.post(
                    "/login", data={"username": "liubei", "password": "wrong", "csrftoken": csrf(client)}
                ).status_code
                == 401
            )

    def test_an_unknown_name_costs_one_password_verification_like_a_known_one(
        self, web: Web, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A login as nobody is refused after verifying against a dummy hash, so its time does not tell
        which names exist."""
        hasher = users_module._hasher
        verified: list[str] = []
        real_verify = hasher.verify

        def counting(password: str, hash: str) -> bool:
            verified.append(hash)
            return bool(real_verify(password, hash))

        monkeypatch.setattr(hasher, "verify", counting)
        client = web.client()
        for name in ("nobody-here", "liubei"):
            response = client.post(
                "/login", data={"username": name, "password": "wrong-password", "csrftoken": csrf(client)}
            )
            assert response.status_code == 401
        assert len(verified) == 2 and verified[0].startswith("$argon2id$") and verified[0] != verified[1]


class TestSessions:
    def test_logging_out_ends_the_session_on_the_server(self, web: Web) -> None:
        """A copy of the session cookie kept from before logging out no longer opens anything."""
        client = web.client("liubei")
        stolen = client.cookies.get("inspector_session")
        assert post(client, "/logout").status_code == 303
        thief = client_for(web.app)
        thief.cookies.set("inspector_session", stolen)
        response = thief.get("/findings")
        assert response.status_code == 303 and response.headers["location"].startswith("/login")

    def test_a_disabled_user_is_logged_out_everywhere(self, web: Web) -> None:
        client = web.client("liubei")
        admin = web.client("admin")
        user_id = web.db.query("SELECT id FROM users WHERE username = 'liubei'")[0][0]
        assert post(admin, f"/admin/users/{user_id}/active", {"active": 0}).status_code == 303
        assert client.get("/findings").status_code == 303
        response = web.client().post(
            "/login", data={"username": "liubei", "password": PASSWORD, "csrftoken": csrf(web.client())}
        )
        assert response.status_code in (401, 403)

    def test_only_token_hashes_are_stored(self, web: Web) -> None:
        client = web.client("liubei")
        stored = {row[0] for row in web.db.query("SELECT token_hash FROM web_tokens")}
        assert stored and all(len(h) == 64 for h in stored)
        cookie = client.cookies.get("inspector_session")
        assert all(h not in cookie for h in stored)

    def test_a_one_time_password_must_be_changed_first(self, web: Web) -> None:
        """An account made by the administrator gets a one-time password, shown once; its first
        login leads to the change-password form, and nothing else opens until it is changed."""
        admin = web.client("admin")
        page = post(
            admin,
            "/admin/users",
            {"username": "newcounty", "display_name": "新区县", "role": "county", "county": "柳南区"},
        )
        assert page.status_code == 200
        import re

        one_time = re.search(r'id="one-time">([^<]+)<', page.text)
        assert one_time
        assert one_time.group(1) not in admin.get("/admin/users").text  # shown once only
        client = web.client()
        response = login(client, "newcounty", one_time.group(1))
        assert response.headers["location"] == "/account/password"
        assert client.get("/findings").headers["location"] == "/account/password"
        changed = post(
            client,
            "/account/password",
            {"current": one_time.group(1), "new": "a-new-password-1", "repeat": "a-new-password-1"},
        )
        assert changed.status_code == 303
        assert client.get("/findings").status_code == 200

    def test_no_open_redirect_after_login(self, web: Web) -> None:
        client = web.client()
        client.get("/login")
        response = client.post(
            "/login",
            data={"username": "liubei", "password": PASSWORD, "csrftoken": csrf(client), "next": "//evil.example/"},
        )
        assert response.status_code == 303 and response.headers["location"] == "/"


def test_passwords_are_never_logged_shown_or_stored(web: Web, caplog: pytest.LogCaptureFixture, tmp_path: Any) -> None:
    """Logins right and wrong, a token, a new account and a password change: no password in any log
    record, page or column of the store."""
    caplog.set_level(logging.DEBUG)
    secret_wrong = "wrong-password-XYZ"
    client = web.client()
    client.post("/login", data={"username": "liubei", "password": secret_wrong, "csrftoken": csrf(client)})
    login(client, "liubei")
    client.post("/api/token", data={"username": "liubei", "password": PASSWORD})
    changed = post(
        client, "/account/password", {"current": PASSWORD, "new": "brand-new-secret-9", "repeat": "brand-new-secret-9"}
    )
    assert changed.status_code == 303
    texts = [r.getMessage() for r in caplog.records]
    for secret in (PASSWORD, secret_wrong, "brand-new-secret-9"):
        assert not any(secret in text for text in texts)
        for table in ("users", "web_tokens", "events"):
            rows = web.db.query(f"SELECT * FROM {table}")
            assert secret not in repr(rows)
    assert client.get("/").status_code == 200
    assert "brand-new-secret-9" not in client.get("/account/password").text
