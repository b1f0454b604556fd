"""自查 (self-check): a school uploads corrected rows and sees which of its findings would close or
open, re-evaluated on the warm engine; nothing official changes (see `web.selfcheck`)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from sqlalchemy import select
from starlette.responses import Response

from ...errors import InspectorError
from ...history import schema
from ..backend import Backend
from ..deps import BackendDep, PagesDep, role
from ..evidence import clean_name
from ..selfcheck import CheckResult, SelfCheck
from ..users import User

router = APIRouter()


def data_folder(backend: Backend) -> Path | None:
    """The data folder of the latest audit imported with its inputs (`runs import --source`)."""
    a = schema.audits
    with backend.read() as conn:
        rows = conn.execute(
            select(a.c.source_dir).where(a.c.source_dir.is_not(None)).order_by(a.c.as_of.desc(), a.c.seq.desc())
        ).all()
    for (folder,) in rows:
        if Path(folder).is_dir():
            return Path(folder)
    return None


def warm(backend: Backend, folder: Path) -> SelfCheck:
    """The folder's warm engine, built once (call on the engine thread only)."""
    state = backend.thread_state()
    current = getattr(state, "selfcheck", None)
    if current is None or current.folder != folder:
        if current is not None:
            current.close()
        current = SelfCheck(folder)
        current.folder = folder  # type: ignore[attr-defined]
        state.selfcheck = current
    return current


def run_check(backend: Backend, folder: Path, school_id: str, path: Path) -> CheckResult:
    return backend.call(lambda: warm(backend, folder).check(school_id, path))


@router.get("/selfcheck")
def selfcheck_page(
    request: Request, backend: BackendDep, pages: PagesDep, user: Annotated[User, Depends(role("selfcheck"))]
) -> Response:
    return pages.render(
        request, "selfcheck.html.j2", result=None, error=None, available=data_folder(backend) is not None
    )


@router.post("/selfcheck")
async def selfcheck(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    user: Annotated[User, Depends(role("selfcheck"))],
    file: Annotated[UploadFile, File()],
) -> Response:
    folder = data_folder(backend)
    if folder is None:
        return pages.render(
            request,
            "selfcheck.html.j2",
            400,
            result=None,
            available=False,
            error="服务器上没有可用于自查的审核数据（导入审核时须附数据文件夹：inspector runs import OUT --source FOLDER）",
        )
    limit = backend.settings.evidence_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        return pages.render(
            request, "selfcheck.html.j2", 413, result=None, available=True, error=f"文件过大（上限 {limit:,} 字节）"
        )
    school_id = user.school_id or ""
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as tmp:
        path = Path(tmp) / clean_name(file.filename)
        path.write_bytes(data)
        try:
            result = await backend.acall(lambda: warm(backend, folder).check(school_id, path))
        except InspectorError as exc:
            return pages.render(request, "selfcheck.html.j2", 400, result=None, available=True, error=str(exc))
    return pages.render(request, "selfcheck.html.j2", result=result, available=True, error=None)
