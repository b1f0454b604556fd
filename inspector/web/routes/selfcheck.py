"""自查 (self-check): a school uploads corrected rows and sees which of its findings would close or
open, re-evaluated on the warm engine; nothing official changes (see `web.selfcheck`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..access import require
from ..deps import BackendDep, PagesDep, PageUser

router = APIRouter()


@router.get("/selfcheck")
def selfcheck_page(request: Request, backend: BackendDep, pages: PagesDep, user: PageUser) -> Response:
    require(user, "selfcheck")
    return pages.render(request, "selfcheck.html.j2", result=None, error=None)
