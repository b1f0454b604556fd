"""Logging in and out, and changing one's password (forced after a one-time password)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from ...errors import UsageError
from ...history.database import write_transaction
from .. import auth, users
from ..deps import BackendDep, PagesDep, PageUser, flash

router = APIRouter()


def _local(path: str | None) -> str:
    """Where to go after logging in: a path of this site only (no open redirect)."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/"


@router.get("/login")
def login_form(request: Request, pages: PagesDep, next: str = "/") -> Response:
    return pages.render(request, "login.html.j2", user=None, next=_local(next), error=None)


@router.post("/login")
def login(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    throttle: auth.LoginThrottle = request.app.state.throttle
    address = request.client.host if request.client else "unknown"
    if not throttle.allow(username, address):
        return pages.render(
            request, "login.html.j2", 429, user=None, next=_local(next), error="登录尝试过于频繁，请 15 分钟后再试"
        )
    with backend.read() as conn:
        user = users.authenticate(conn, username, password)
    if user is None:
        return pages.render(request, "login.html.j2", 401, user=None, next=_local(next), error="用户名或密码不正确")
    throttle.succeeded(username)
    with backend.engine.connect() as conn, write_transaction(conn):
        token = auth.issue_token(conn, user, "session", backend.settings.session_hours)
    request.session.clear()  # a new session at login: nothing carried over from before it
    request.session[auth.SESSION_KEY] = token
    return RedirectResponse("/account/password" if user.must_change_password else _local(next), status_code=303)


@router.post("/logout")
def logout(request: Request, backend: BackendDep, user: PageUser) -> Response:
    sid = request.session.get(auth.SESSION_KEY)
    if isinstance(sid, str):
        with backend.engine.connect() as conn, write_transaction(conn):
            auth.revoke_token(conn, sid)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password")
def password_form(request: Request, pages: PagesDep, user: PageUser) -> Response:
    return pages.render(request, "password.html.j2", error=None)


@router.post("/account/password")
def change_password(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    user: PageUser,
    current: Annotated[str, Form(max_length=256)],
    new: Annotated[str, Form(max_length=256)],
    repeat: Annotated[str, Form(max_length=256)],
) -> Response:
    error = None
    with backend.read() as conn:
        if users.authenticate(conn, user.username, current) is None:
            error = "当前密码不正确"
    if error is None and new != repeat:
        error = "两次输入的新密码不一致"
    if error is None and new == current:
        error = "新密码不能与当前密码相同"
    if error is None:
        try:
            with backend.engine.connect() as conn, write_transaction(conn):
                users.set_password(conn, user.id, new)
                auth.revoke_user(conn, user.id)  # every other session and token of the user ends
                token = auth.issue_token(conn, user, "session", backend.settings.session_hours)
        except UsageError as exc:
            error = str(exc)
    if error is not None:
        return pages.render(request, "password.html.j2", 400, error=error)
    request.session.clear()
    request.session[auth.SESSION_KEY] = token
    flash(request, "密码已修改")
    return RedirectResponse("/", status_code=303)
