"""The administrator's page: accounts, roles, one-time passwords, disabling an account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from ...errors import InspectorError
from ...history.database import write_transaction
from .. import auth, users
from ..access import not_found
from ..deps import BackendDep, PagesDep, flash, role
from ..users import User

router = APIRouter()
Field = Annotated[str, Form(max_length=100)]


@router.get("/admin/users")
def users_page(
    request: Request, backend: BackendDep, pages: PagesDep, user: Annotated[User, Depends(role("users"))]
) -> Response:
    with backend.read() as conn:
        accounts = users.all_users(conn)
    return pages.render(request, "users.html.j2", accounts=accounts, password=None)


@router.post("/admin/users")
def add_user(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    user: Annotated[User, Depends(role("users"))],
    username: Field,
    account_role: Annotated[str, Form(alias="role", max_length=20)],
    display_name: Field = "",
    county: Field = "",
    school_id: Field = "",
) -> Response:
    password = users.one_time_password()
    try:
        with backend.engine.connect() as conn, write_transaction(conn):
            created = users.add_user(
                conn,
                username,
                password,
                account_role,
                county=county or None,
                school_id=school_id or None,
                display_name=display_name or None,
                must_change=True,
            )
    except InspectorError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse("/admin/users", status_code=303)
    return _shown_once(request, backend, pages, created.username, password)


@router.post("/admin/users/{user_id}/reset")
def reset_password(
    request: Request, backend: BackendDep, pages: PagesDep, user: Annotated[User, Depends(role("users"))], user_id: int
) -> Response:
    password = users.one_time_password()
    with backend.engine.connect() as conn, write_transaction(conn):
        target = users.get_user(conn, user_id)
        if target is None:
            raise not_found()
        users.set_password(conn, user_id, password, must_change=True)
        auth.revoke_user(conn, user_id)
    return _shown_once(request, backend, pages, target.username, password)


def _shown_once(request: Request, backend: BackendDep, pages: PagesDep, username: str, password: str) -> Response:
    """The one-time password in this response only: never stored, logged or redirected with."""
    with backend.read() as conn:
        accounts = users.all_users(conn)
    return pages.render(request, "users.html.j2", accounts=accounts, password=[username, password])


@router.post("/admin/users/{user_id}/active")
def set_active(
    request: Request,
    backend: BackendDep,
    user: Annotated[User, Depends(role("users"))],
    user_id: int,
    active: Annotated[int, Form(ge=0, le=1)],
) -> Response:
    if user_id == user.id and not active:
        flash(request, "不能停用自己的账号", "error")
        return RedirectResponse("/admin/users", status_code=303)
    with backend.engine.connect() as conn, write_transaction(conn):
        if users.get_user(conn, user_id) is None:
            raise not_found()
        users.set_active(conn, user_id, bool(active))
        if not active:
            auth.revoke_user(conn, user_id)
    flash(request, "账号已" + ("启用" if active else "停用"))
    return RedirectResponse("/admin/users", status_code=303)
