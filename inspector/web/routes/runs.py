"""Audit runs: the list, the inspector's import of an output folder (uploaded as a zip), and the
auditor's check of the whole store and the ledger's hash chain (`inspector verify`)."""

from __future__ import annotations

import shutil
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from ...errors import InspectorError
from ...history.commands import render_import, verify
from .. import queries
from ..deps import BackendDep, PagesDep, flash, role
from ..importing import import_run, unpack
from ..users import User

router = APIRouter()


@router.get("/runs")
def runs_page(
    request: Request, backend: BackendDep, pages: PagesDep, user: Annotated[User, Depends(role("runs"))]
) -> Response:
    with backend.read() as conn:
        runs = queries.audits(conn)
    return pages.render(request, "runs.html.j2", runs=runs)


@router.post("/runs/import")
async def import_page(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    user: Annotated[User, Depends(role("import"))],
    file: Annotated[UploadFile, File()],
) -> Response:
    settings = backend.settings
    data = await file.read(settings.upload_max_bytes + 1)
    if len(data) > settings.upload_max_bytes:
        return pages.render(
            request,
            "refused.html.j2",
            413,
            finding_id=None,
            message=f"上传的文件过大（上限 {settings.upload_max_bytes:,} 字节）",
        )
    try:
        folder = unpack(data, settings.runs_dir, settings.upload_max_bytes * 4)
    except InspectorError as exc:
        return pages.render(request, "refused.html.j2", 400, finding_id=None, message=str(exc))
    today = settings.today()
    try:
        report = await backend.acall(lambda: import_run(settings.db, folder, today))
    except InspectorError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return pages.render(request, "refused.html.j2", 400, finding_id=None, message=str(exc))
    if not report.created:
        shutil.rmtree(folder, ignore_errors=True)
    flash(request, render_import(report, backend.lifecycle).replace("\n", "；"))
    return RedirectResponse("/runs", status_code=303)


@router.get("/ledger/verify")
async def verify_page(
    request: Request, backend: BackendDep, pages: PagesDep, user: Annotated[User, Depends(role("verify"))]
) -> Response:
    db = backend.settings.db
    text, ok = await backend.acall(lambda: verify(db))
    return pages.render(request, "verify.html.j2", text=text, ok=ok)
