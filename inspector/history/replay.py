"""The ledger's items recomputed from what is hash-protected: the event chain and the stored audits.

An item's state, level, deadline and `since` are those of its last event that is a transition (an
action — an assignment, evidence, a comment — is recorded without changing them); `opened_audit` is the
audit of its `open` event. Its description (rule, entity, severity, …) is the finding as that audit
reported it, and its message, school name and responsible party are refreshed from each later
audit in which the finding fires and which is the most recent so far (`Ledger.open_items` does
the same when it writes). `item_problems` compares every column of the `items` table with this
replay, so a state, severity or deadline edited in the table is found, however it was written.
The version column is a lock, not content: it is not replayed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from . import schema
from .integrity import chain_rows
from .ledger import DESCRIPTION, REFRESHED, description, refreshed
from .lifecycle import Lifecycle
from .store import HistoryStore

COMPARED = (*DESCRIPTION, *REFRESHED, "state", "level", "deadline", "since", "opened_audit", "last_audit")


@dataclass
class _Replayed:
    finding_id: str
    values: dict[str, Any] = field(default_factory=dict)
    last_order: tuple[Any, ...] | None = None


def replay(
    store: HistoryStore, lifecycle: Lifecycle, events: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Every item as the chain and the stored audits make it, and what does not add up."""
    problems: list[str] = []
    items: dict[str, _Replayed] = {}
    actions = set(lifecycle.actions)
    transitions = {t.id for t in lifecycle.transitions} | {"open"} | actions
    states = lifecycle.states
    for event in events:
        seq, fid = event["seq"], event["finding_id"]
        if event["to_state"] not in states:
            problems.append(
                f"第 {seq} 号事件的状态“{event['to_state']}”不是生命周期 {lifecycle.spec.id} 中的状态（可用：{lifecycle.state_names()}）"
            )
        if event["transition"] not in transitions:
            problems.append(f"第 {seq} 号事件的状态变更“{event['transition']}”不在生命周期 {lifecycle.spec.id} 中")
        item = items.get(fid)
        if event["transition"] == "open":
            if item is not None:
                problems.append(
                    f"第 {seq} 号事件再次建立台账事项 {fid}（已于第 {item.values['opened_seq']} 号事件建立）"
                )
                continue
            item = items[fid] = _Replayed(fid, {"opened_audit": event["audit_id"], "opened_seq": seq, "state": None})
        elif item is None:
            problems.append(f"第 {seq} 号事件变更了尚未建立的台账事项 {fid}")
            continue
        if event["from_state"] != item.values["state"]:
            problems.append(
                f"第 {seq} 号事件记录的原状态“{event['from_state']}”与台账事项 {fid} 此前的状态“{item.values['state']}”不符"
            )
        if event["transition"] in actions:
            # recorded without a change: the item stays as it was, `since` included
            if (event["to_state"], event["level"], event["deadline"]) != tuple(
                item.values.get(k) for k in ("state", "level", "deadline")
            ):
                problems.append(
                    f"第 {seq} 号事件（{lifecycle.transition_title(event['transition'])}）改变了台账事项 {fid} 的状态、层级或期限"
                )
            continue
        item.values.update(
            state=event["to_state"], level=event["level"], deadline=event["deadline"], since=event["day"]
        )
    _describe(store, items)
    for item in items.values():
        if "rule_id" not in item.values:
            problems.append(f"建立台账事项 {item.finding_id} 的审核 {item.values['opened_audit']} 中没有这项问题")
    return {fid: item.values for fid, item in items.items()}, problems


def _describe(store: HistoryStore, items: dict[str, _Replayed]) -> None:
    """The description columns, taking the stored audits in the order they were imported."""
    for record in sorted(store.audits(), key=lambda a: a.seq):
        for finding in store.findings_of(record.id):
            item = items.get(str(finding.get("id")))
            if item is None:
                continue
            try:
                if item.values["opened_audit"] == record.id and item.last_order is None:
                    item.values.update(description(finding))
                elif item.last_order is not None and record.order >= item.last_order:
                    item.values.update(refreshed(finding))
                else:
                    continue
            except (KeyError, TypeError):
                continue  # a finding the store's own checks report
            item.values["last_audit"] = record.id
            item.last_order = record.order


def item_problems(store: HistoryStore, lifecycle: Lifecycle) -> list[str]:
    """Where the `items` table is not the replay of the chain (the chain itself verified first)."""
    expected, problems = replay(store, lifecycle, chain_rows(store.conn))
    t = schema.items
    columns = [t.c.finding_id, *(t.c[name] for name in COMPARED)]
    for row in store.conn.execute(select(*columns).order_by(t.c.finding_id)):
        stored = dict(row._mapping)
        fid = stored["finding_id"]
        wanted = expected.pop(fid, None)
        if wanted is None:
            problems.append(f"台账事项 {fid} 没有任何事件记录：台账被直接修改")
            continue
        for column in COMPARED:
            if column in wanted and not same_value(stored[column], wanted[column]):
                hint = f"（{lifecycle.title(wanted[column])}）" if column == "state" else ""
                problems.append(
                    f"台账事项 {fid} 的 {column} 为“{show_value(stored[column])}”，按事件与审核记录应为“{show_value(wanted[column])}”{hint}："
                    "台账被直接修改"
                )
    problems.extend(
        f"第 {values['opened_seq']} 号事件建立的台账事项 {fid} 不在台账中：台账事项被删除"
        for fid, values in expected.items()
    )
    return problems


def same_value(stored: Any, expected: Any) -> bool:
    """Whether a value read from the store is the one recomputed (numbers by value: 1 and 1.0 are one)."""
    if isinstance(stored, bool) or isinstance(expected, bool):
        return stored is expected
    if isinstance(stored, (int, float)) and isinstance(expected, (int, float)):
        return float(stored) == float(expected)
    return type(stored) is type(expected) and stored == expected


def show_value(value: Any) -> str:
    return "（空）" if value is None else str(value)[:60]
