"""The application factory: routes, sessions, CSRF, limits on request bodies, security headers,
error pages, and the start and end of the engine thread."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import UsageError
from ..history import schema
from . import csrf
from .auth import LoginThrottle
from .backend import Backend
from .deps import LoginRequired, Pages, PasswordChangeRequired
from .evidence import EvidenceStore
from .routes import admin, api, auth, findings, runs, selfcheck, workflow
from .settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("inspector.web")


class BodyLimit:
    """Refuses request bodies over `limit` bytes (413), by Content-Length and while streaming."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = "请求过大".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Headers every response carries: no framing, no sniffing, scripts and styles from this site only."""

    HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (
            b"content-security-policy",
            (
                b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
            ),
        ),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                message["headers"] = headers + [(name, value) for name, value in self.HEADERS if name not in present]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def create_app(settings: Settings) -> FastAPI:
    """The web application over the store `settings.db` (created or migrated now)."""
    backend = Backend(settings)
    files = EvidenceStore(settings.evidence_dir, settings.evidence_max_bytes)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with backend.read() as conn:
            referenced = conn.execute(select(schema.evidence.c.sha256)).scalars().all()
        removed = files.sweep(referenced)
        if removed:
            log.warning("removed %d evidence files no ledger event records (an interrupted upload)", len(removed))
        await backend.acall(lambda: _advance(backend, settings.today()))
        try:
            yield
        finally:
            backend.close()

    app = FastAPI(
        title="inspector 督导整改平台 API",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(csrf.guard)],
        description="督导问题、整改台账与追溯的 JSON 接口。POST /api/token 以用户名和密码换取令牌（OAuth2 password），"
        "其余接口以 Authorization: Bearer 令牌调用；区县、学校账号只能看到本区县、本校的问题。",
    )
    app.state.backend = backend
    app.state.pages = Pages(backend.lifecycle)
    app.state.evidence = files
    app.state.throttle = LoginThrottle(settings.login_attempts, settings.login_attempts_per_address)
    app.state.settings = settings
    app.state.csrf = csrf.Csrf(
        settings.secret_key, secure=settings.secure_cookies, max_age=settings.session_hours * 3600
    )
    for router in (auth.router, findings.router, workflow.router, runs.router, admin.router, selfcheck.router):
        app.include_router(router, include_in_schema=False)  # pages: the OpenAPI document is the API's
    app.include_router(api.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _handlers(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="inspector_session",
        max_age=settings.session_hours * 3600,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=max(settings.upload_max_bytes, settings.evidence_max_bytes) + 1024 * 1024)
    return app


def _advance(backend: Backend, today: dt.date) -> None:
    """The automatic transitions due today (overdue escalation, ended waivers), as every CLI command applies them."""

    def run(ledger: Any) -> None:
        last = ledger.last_day()
        if last is None or today >= last:
            ledger.advance(ledger.items(), today)

    backend.change_here(run)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change(request: Request, exc: PasswordChangeRequired) -> Response:
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        pages: Pages = request.app.state.pages
        return pages.render(request, "error.html.j2", exc.status_code, status=exc.status_code, message=_message(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": jsonable(exc.errors())}, status_code=422)
        pages: Pages = request.app.state.pages
        return pages.render(
            request, "error.html.j2", 400, status=400, message="提交的内容不完整或格式不正确，请检查后重试"
        )

    @app.exception_handler(UsageError)
    async def usage(request: Request, exc: UsageError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=400)
        pages: Pages = request.app.state.pages
        return pages.render(request, "error.html.j2", 400, status=400, message=str(exc))


def _message(exc: HTTPException) -> str:
    return {
        404: "未找到：该页面或记录不存在，或不在您的查看范围内",
        403: "您的角色无权进行此操作",
        405: "不支持此请求方法",
    }.get(exc.status_code, str(exc.detail))


def jsonable(errors: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(errors)


def route_table(app: FastAPI) -> list[tuple[str, frozenset[str]]]:
    """Every path the application answers, with its methods (a mount as `path/{rest}` with none):
    what the access-control tests walk, so that a route added without a test fails them."""
    result: list[tuple[str, frozenset[str]]] = []

    def walk(routes: Any) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes)
            elif hasattr(route, "methods") and getattr(route, "methods", None):
                result.append((route.path, frozenset(route.methods) - {"HEAD"}))
            elif hasattr(route, "path"):
                result.append((route.path + "/{rest}", frozenset()))

    walk(app.routes)
    return sorted(result, key=lambda r: (r[0], sorted(r[1])))
