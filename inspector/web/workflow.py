"""The rectification workflow as the web application runs it: each action a ledger request (a
transition of rules/lifecycle.yaml) or a recorded action, in one write transaction on the engine
thread, after checking again — inside that transaction — that the item is the caller's to act on.

| who | action | in the ledger |
|---|---|---|
| 区县 | 指定责任人与完成日期 | `file-plan` (待整改/逾期 → 整改中), or the action `assign` once in progress |
| 区县 | 上传整改材料 | the action `evidence` (file name, type, size, sha256 in the note) |
| 区县 | 报告整改完成、申请销号 | `report-done` (→ 待复查); needs at least one evidence file |
| 督学 | 复查销号 / 退回 | `close` (needs a re-inspection in which the rule no longer fires) / `send-back` |
| 区县、督学 | 备注 | the action `comment` |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Connection, func, insert, select, update

from ..errors import UsageError
from ..history import schema
from ..history.ledger import Event, Ledger
from .access import item_scope, may_act_on, not_found, require
from .evidence import EvidenceStore, Staged
from .users import User

MAX_NOTE = 2000


def _item_for(ledger: Ledger, user: User, finding_id: str, action: str) -> None:
    """The item must be in the caller's scope (404) and theirs to act on (403); checked in the transaction."""
    require(user, action)
    t = schema.items
    row = ledger.conn.execute(
        select(t.c.county, t.c.entity_type).where(t.c.finding_id == finding_id, item_scope(user))
    ).first()
    if row is None:
        raise not_found()
    if not may_act_on(user, row.county, row.entity_type):
        from fastapi import HTTPException

        raise HTTPException(status_code=403, detail="全市层面的问题仅供参考，区县不能对其操作")


def _note(text: str, *, required: bool = True) -> str:
    note = " ".join(text.split())
    if required and not note:
        raise UsageError("请填写说明")
    if len(note) > MAX_NOTE:
        raise UsageError(f"说明过长（{len(note)} 字，上限 {MAX_NOTE} 字）")
    return note


def assign(
    user: User, finding_id: str, version: int, assignee: str, due: dt.date, note: str, today: dt.date
) -> Callable[[Ledger], list[Event]]:
    def run(ledger: Ledger) -> list[Event]:
        _item_for(ledger, user, finding_id, "assign")
        who = _note(assignee)
        if len(who) > 100:
            raise UsageError("责任人姓名过长")
        item = ledger.resolve(finding_id)
        if due < today:
            raise UsageError(f"计划完成日期 {due} 早于今天 {today}")
        if due > item.deadline:
            raise UsageError(f"计划完成日期 {due} 晚于整改期限 {item.deadline}")
        text = f"指定整改责任人：{who}；计划完成日期：{due.isoformat()}" + (
            f"；{_note(note, required=False)}" if note.strip() else ""
        )
        ledger.check_today(today)
        if "file-plan" in {t.id for t in ledger.lifecycle.manual_from(item.state)}:
            events = ledger.request(finding_id, "in_progress", user.actor, text, today, expected_version=version)
            seq = next(e.seq for e in events if e.transition == "file-plan")
        else:
            event = ledger.record(finding_id, "assign", user.actor, text, today, expected_version=version)
            events, seq = [event], event.seq
        a = schema.assignments
        values = {"assignee": who, "due": due.isoformat(), "event_seq": seq}
        if ledger.conn.execute(update(a).where(a.c.finding_id == finding_id).values(**values)).rowcount == 0:
            ledger.conn.execute(insert(a).values(finding_id=finding_id, **values))
        return events

    return run


def add_evidence(
    user: User,
    finding_id: str,
    version: int,
    staged: Staged,
    filename: str,
    note: str,
    today: dt.date,
    files: EvidenceStore,
) -> Callable[[Ledger], list[Event]]:
    def run(ledger: Ledger) -> list[Event]:
        _item_for(ledger, user, finding_id, "evidence")
        ledger.check_today(today)
        text = f"上传整改材料《{filename}》（{staged.content_type}，{staged.size} 字节，sha256 {staged.sha256}）" + (
            f"：{_note(note, required=False)}" if note.strip() else ""
        )
        event = ledger.record(finding_id, "evidence", user.actor, text, today, expected_version=version)
        ledger.conn.execute(
            insert(schema.evidence).values(
                finding_id=finding_id,
                event_seq=event.seq,
                filename=filename,
                content_type=staged.content_type,
                size=staged.size,
                sha256=staged.sha256,
                uploaded_by=user.actor,
                uploaded_at=today.isoformat(),
            )
        )
        files.place(staged)  # before the commit; if the commit fails, `discard_unrecorded` removes it
        return [event]

    return run


def discard_unrecorded(conn: Connection, files: EvidenceStore, staged: Staged) -> None:
    """After a failed upload: the staged file, and the placed one unless a record holds that content."""
    v = schema.evidence
    held = conn.execute(select(func.count()).where(v.c.sha256 == staged.sha256)).scalar_one()
    files.discard(staged, placed=True, referenced=bool(held))


def submit(user: User, finding_id: str, version: int, note: str, today: dt.date) -> Callable[[Ledger], list[Event]]:
    def run(ledger: Ledger) -> list[Event]:
        _item_for(ledger, user, finding_id, "submit")
        v = schema.evidence
        if not ledger.conn.execute(select(func.count()).where(v.c.finding_id == finding_id)).scalar_one():
            raise UsageError("申请销号前请先上传整改材料")
        ledger.check_today(today)
        return ledger.request(finding_id, "awaiting_review", user.actor, _note(note), today, expected_version=version)

    return run


def review(
    user: User, finding_id: str, version: int, decision: str, note: str, today: dt.date
) -> Callable[[Ledger], list[Event]]:
    if decision not in ("accept", "reject"):
        raise UsageError("复查结论应为“销号”或“退回”")

    def run(ledger: Ledger) -> list[Event]:
        _item_for(ledger, user, finding_id, "review")
        ledger.check_today(today)
        to = "closed" if decision == "accept" else "open"
        return ledger.request(finding_id, to, user.actor, _note(note), today, expected_version=version)

    return run


def comment(user: User, finding_id: str, version: int, note: str, today: dt.date) -> Callable[[Ledger], list[Event]]:
    def run(ledger: Ledger) -> list[Event]:
        _item_for(ledger, user, finding_id, "comment")
        ledger.check_today(today)
        return [ledger.record(finding_id, "comment", user.actor, _note(note), today, expected_version=version)]

    return run
