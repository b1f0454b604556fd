"""The workflow's forms: each POST is one ledger change on the engine thread (see `web.workflow`);
success redirects back to the finding's page, a refusal answers 400 (409 when someone else changed
the item first) with the reason in Chinese."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from ...errors import InspectorError
from ...history.errors import ItemChanged
from ...history.ledger import Event, Ledger
from .. import workflow
from ..deps import BackendDep, PagesDep, flash, role
from ..evidence import EvidenceRefused, EvidenceStore, clean_name
from ..users import User

router = APIRouter()
Note = Annotated[str, Form(max_length=workflow.MAX_NOTE)]
Version = Annotated[int, Form(ge=1)]


def _apply(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    finding_id: str,
    change: Callable[[Ledger], list[Event]],
    done: str,
) -> Response:
    try:
        events = backend.change(change)
    except ItemChanged as exc:
        return pages.render(request, "refused.html.j2", 409, finding_id=finding_id, message=str(exc))
    except InspectorError as exc:
        return pages.render(request, "refused.html.j2", 400, finding_id=finding_id, message=str(exc))
    lifecycle = backend.lifecycle
    steps = "；".join(f"{lifecycle.transition_title(e.transition)}（第 {e.seq} 号事件）" for e in events)
    flash(request, f"{done}：{steps}")
    return RedirectResponse(f"/findings/{finding_id}", status_code=303)


@router.post("/findings/{finding_id}/assign")
def assign(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    user: Annotated[User, Depends(role("assign"))],
    finding_id: str,
    version: Version,
    assignee: Annotated[str, Form(max_length=100)],
    due: Annotated[dt.date, Form()],
    note: Note = "",
) -> Response:
    today = backend.settings.today()
    return _apply(
        request,
        backend,
        pages,
        finding_id,
        workflow.assign(user, finding_id, version, assignee, due, note, today),
        "已指定整改责任人",
    )


@router.post("/findings/{finding_id}/evidence")
async def evidence(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    user: Annotated[User, Depends(role("evidence"))],
    finding_id: str,
    version: Version,
    file: Annotated[UploadFile, File()],
    note: Note = "",
) -> Response:
    files: EvidenceStore = request.app.state.evidence
    data = await file.read(files.max_bytes + 1)
    try:
        staged = files.stage(data)
    except EvidenceRefused as exc:
        code = 413 if len(data) > files.max_bytes else 415 if data else 400
        return pages.render(request, "refused.html.j2", code, finding_id=finding_id, message=str(exc))
    today = backend.settings.today()
    change = workflow.add_evidence(user, finding_id, version, staged, clean_name(file.filename), note, today, files)

    def record() -> list[Event]:
        try:
            return backend.change_here(change)
        except BaseException:
            with backend.read() as conn:
                workflow.discard_unrecorded(conn, files, staged)
            raise

    try:
        events = await backend.acall(record)
    except ItemChanged as exc:
        return pages.render(request, "refused.html.j2", 409, finding_id=finding_id, message=str(exc))
    except InspectorError as exc:
        return pages.render(request, "refused.html.j2", 400, finding_id=finding_id, message=str(exc))
    flash(request, f"已上传整改材料（第 {events[0].seq} 号事件，sha256 {staged.sha256[:12]}…）")
    return RedirectResponse(f"/findings/{finding_id}", status_code=303)


@router.post("/findings/{finding_id}/submit")
def submit(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    user: Annotated[User, Depends(role("submit"))],
    finding_id: str,
    version: Version,
    note: Note,
) -> Response:
    today = backend.settings.today()
    return _apply(
        request, backend, pages, finding_id, workflow.submit(user, finding_id, version, note, today), "已报告整改完成"
    )


@router.post("/findings/{finding_id}/review")
def review(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    user: Annotated[User, Depends(role("review"))],
    finding_id: str,
    version: Version,
    decision: Annotated[str, Form(max_length=10)],
    note: Note,
) -> Response:
    today = backend.settings.today()
    try:
        change = workflow.review(user, finding_id, version, decision, note, today)
    except InspectorError as exc:
        return pages.render(request, "refused.html.j2", 400, finding_id=finding_id, message=str(exc))
    return _apply(request, backend, pages, finding_id, change, "复查结论已记录")


@router.post("/findings/{finding_id}/comment")
def comment(
    request: Request,
    backend: BackendDep,
    pages: PagesDep,
    user: Annotated[User, Depends(role("comment"))],
    finding_id: str,
    version: Version,
    note: Note,
) -> Response:
    today = backend.settings.today()
    return _apply(
        request, backend, pages, finding_id, workflow.comment(user, finding_id, version, note, today), "已记录备注"
    )
