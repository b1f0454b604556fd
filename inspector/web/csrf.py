"""CSRF protection of every state-changing form, from fastapi-csrf-protect: a double-submit token,
signed with the server's secret (itsdangerous), in an HttpOnly, SameSite=Strict cookie and in a
hidden `csrftoken` field of each form; a POST whose field does not match its cookie is refused (403).

The check is one dependency of the whole application (`guard`), so a new form route is covered
without doing anything; the JSON API under /api/ takes bearer tokens, never cookies, and is left to
them. (asgi-csrf was the first choice, but it does not work with python-multipart ≥ 0.0.26, the
releases that fix that library's CVEs: simonw/asgi-csrf#38.)
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi_csrf_protect import CsrfProtect
from fastapi_csrf_protect.exceptions import CsrfProtectError
from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.responses import Response

COOKIE = "inspector_csrf"
FIELD = "csrftoken"
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class Csrf:
    """The CSRF tokens of one application (its own configuration: the library's is per class)."""

    def __init__(self, secret: str, *, secure: bool, max_age: int) -> None:
        class _Protect(CsrfProtect):
            pass

        _Protect.load_config(
            lambda: [
                ("secret_key", secret),
                ("cookie_key", COOKIE),
                ("token_location", "body"),
                ("token_key", FIELD),
                ("cookie_samesite", "strict"),
                ("cookie_secure", secure),
                ("httponly", True),
                ("max_age", max_age),
            ]
        )
        self._protect = _Protect()
        self._serializer = URLSafeTimedSerializer(secret, salt="fastapi-csrf-token")  # the library's own scheme
        self._max_age = max_age

    def token(self, request: Request) -> tuple[str, str | None]:
        """The token for the page's forms, and the signed cookie to set when the browser has none valid."""
        signed = request.cookies.get(COOKIE)
        if signed:
            try:
                return str(self._serializer.loads(signed, max_age=self._max_age)), None
            except BadData:
                pass
        token, signed = self._protect.generate_csrf_tokens()
        return token, signed

    def set_cookie(self, signed: str, response: Response) -> None:
        self._protect.set_csrf_cookie(signed, response)

    async def check(self, request: Request) -> None:
        await request.form()  # parsed (and cached) here, so the library reads the field of any form
        try:
            await self._protect.validate_csrf(request)
        except CsrfProtectError:
            raise HTTPException(
                status_code=403, detail="表单已失效或来源不明（CSRF 校验未通过）：请刷新页面后重试"
            ) from None


async def guard(request: Request) -> None:
    """Every state-changing request of the pages carries a valid CSRF token."""
    if request.method in SAFE or request.url.path.startswith("/api/"):
        return
    csrf: Csrf = request.app.state.csrf
    await csrf.check(request)
