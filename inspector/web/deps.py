"""Typed dependencies of the routes: the backend, the calling user (session or bearer token), and
the page renderer with the CSRF token and flash messages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.responses import Response

from ..history.lifecycle import Lifecycle
from ..rules.spec import SEVERITY_LABELS
from . import auth
from .access import PERMISSIONS, may, require
from .backend import Backend
from .users import ROLE_LABELS, User

TEMPLATES = Path(__file__).resolve().parent / "templates"


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the login form."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PasswordChangeRequired(Exception):
    """Logged in with a one-time password: every page leads to the change-password form first."""


def get_backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


BackendDep = Annotated[Backend, Depends(get_backend)]


def page_user(request: Request, backend: BackendDep) -> User:
    """The user of the session cookie; otherwise the page redirects to /login."""
    sid = request.session.get(auth.SESSION_KEY)
    user = None
    if isinstance(sid, str):
        with backend.read() as conn:
            user = auth.user_for_token(conn, sid, "session")
    if user is None:
        request.session.pop(auth.SESSION_KEY, None)
        raise LoginRequired(request.url.path)
    if user.must_change_password and request.url.path not in ("/account/password", "/logout"):
        raise PasswordChangeRequired()
    request.state.user = user
    return user


PageUser = Annotated[User, Depends(page_user)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/token", auto_error=False)


def api_user(backend: BackendDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """The user of the bearer token; 401 otherwise."""
    user = None
    if token:
        with backend.read() as conn:
            user = auth.user_for_token(conn, token, "api")
    if user is None:
        raise HTTPException(status_code=401, detail="未登录或令牌无效", headers={"WWW-Authenticate": "Bearer"})
    return user


ApiUser = Annotated[User, Depends(api_user)]


def options(choices: Iterable[tuple[str, str]]) -> Markup:
    """A select's <option> elements, (value, label) each, none selected: kept by the caller with the
    data it lists (the findings filter lists 440 counties: ~4 ms a page in a jinja2 loop)."""
    return Markup("".join(f'<option value="{escape(value)}">{escape(label)}</option>' for value, label in choices))


def selected(listing: Markup, value: str | None) -> Markup:
    """`listing` (from `options`) with the option of `value` selected, if it lists one."""
    if not value:
        return listing
    option = f'<option value="{escape(value)}"'
    return Markup(str(listing).replace(option + ">", option + " selected>", 1))


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        SEVERITY_LABELS=SEVERITY_LABELS, ROLE_LABELS=ROLE_LABELS, may=may, PERMISSIONS=PERMISSIONS, selected=selected
    )
    return env


class Pages:
    """Renders a page with what every page needs: the user, the CSRF token, the flash message."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.templates = Jinja2Templates(env=environment())
        self.lifecycle = lifecycle
        self.templates.env.globals.update(
            state_title=lifecycle.title,
            STATES=[(s.id, s.title) for s in lifecycle.spec.states],
            transition_title=lifecycle.transition_title,
            level_title=lifecycle.level_title,
        )

    def fragment(self, name: str, **context: Any) -> Markup:
        """A part of a page rendered on its own (autoescaped like the pages), to be kept and placed in one."""
        return Markup(self.templates.env.get_template(name).render(**context))

    def render(self, request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        csrf = request.app.state.csrf
        token, cookie = csrf.token(request)
        context.setdefault("user", getattr(request.state, "user", None))
        context["csrftoken"] = token
        context["flash"] = request.session.pop("flash", None) if "session" in request.scope else None
        response = self.templates.TemplateResponse(request, name, context, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        if cookie is not None:
            csrf.set_cookie(cookie, response)
        return response


def get_pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


PagesDep = Annotated[Pages, Depends(get_pages)]


def flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session["flash"] = [kind, text]


def role(action: str) -> Callable[..., User]:
    """A dependency: the page's user, refused (403) before anything else is read unless their role may do `action`."""

    def dependency(user: PageUser) -> User:
        require(user, action)
        return user

    return dependency
