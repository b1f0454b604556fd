"""The rectification ledger (整改台账): one item per finding id, moved through the lifecycle.

An item is opened when a stored audit first reports its finding. People request manual
transitions (`inspector ledger update`); every command that touches items first applies the
automatic ones the lifecycle enables on the engine (overdue → escalation, failed re-inspection,
recurrence, waivers). Every state change is an event — who, on which day, why, from and to,
the audit involved — appended to a hash chain; the `items` table is the chain's current state
(what `replay` recomputes). Each item has a version, +1 on every change of its row: a caller that
names the version it read (`request(..., expected_version=)`) is refused if someone else changed
the item since, and every update is made only on the version it was read at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from ..errors import UsageError
from ..rules.typed import fields_of
from . import schema
from .errors import ItemChanged
from .integrity import EVENT_FIELDS, chain_head, event_hash
from .lifecycle import NO_DATE, REINSPECTION, ItemFact, Lifecycle, LifecycleEngine, Transition
from .store import AuditRecord, HistoryStore, Status, id_chunks, read_value, to_date

SYSTEM = "inspector（台账规则）"
MAX_ROUNDS = 10

ITEM_COLUMNS = (  # an item's columns, in the order `Item` and the web's rows read them
    "finding_id",
    "rule_id",
    "rule_title",
    "entity_type",
    "entity_id",
    "school_id",
    "school_name",
    "county",
    "severity",
    "message",
    "responsible",
    "state",
    "level",
    "deadline",
    "since",
    "opened_audit",
    "last_audit",
    "version",
)
# what an item says of its finding: copied from the audit that opened it …
DESCRIPTION = ("rule_id", "rule_title", "entity_type", "entity_id", "school_id", "county", "severity")
# … and refreshed from the most recent audit in which it fired
REFRESHED = ("school_name", "message", "responsible")
_EVENT_COLUMNS = (*EVENT_FIELDS, "prev_hash", "hash")


@dataclass(frozen=True)
class Item:
    finding_id: str
    rule_id: str
    rule_title: str
    entity_type: str
    entity_id: str
    school_id: str | None
    school_name: str | None
    county: str
    severity: str
    message: str
    responsible: str
    state: str
    level: int
    deadline: dt.date
    since: dt.date
    opened_audit: str
    last_audit: str
    version: int = 1  # +1 on every change of the row

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Item:
        values = dict(zip(ITEM_COLUMNS, row))
        key = values["finding_id"]
        for name in ("deadline", "since"):
            values[name] = read_value("items", name, key, to_date, values[name])
        for name in ("level", "version"):
            values[name] = read_value("items", name, key, _integer, values[name])
        return cls(**values)

    def values(self) -> dict[str, Any]:
        values = self.__dict__.copy()
        values["deadline"] = self.deadline.isoformat()
        values["since"] = self.since.isoformat()
        return values


def description(finding: dict[str, Any]) -> dict[str, Any]:
    """An item's columns taken from the finding that opens it."""
    return {
        "rule_id": finding["rule_id"],
        "rule_title": finding["rule_title"],
        "entity_type": finding["entity_type"],
        "entity_id": finding["entity_id"],
        "school_id": finding.get("school_id"),
        "county": finding["county"],
        "severity": finding["severity"],
        **refreshed(finding),
    }


def refreshed(finding: dict[str, Any]) -> dict[str, Any]:
    """An item's columns taken again from each later audit in which its finding fires."""
    return {
        "school_name": finding.get("school_name"),
        "message": finding["message"],
        "responsible": finding["rectification"]["responsible"],
    }


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(value)
    return value


@dataclass(frozen=True)
class Event:
    seq: int
    finding_id: str
    transition: str
    from_state: str | None
    to_state: str
    level: int
    deadline: str
    actor: str
    day: str
    note: str
    audit_id: str | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class TransitionRefused(UsageError):
    """A requested state change the lifecycle does not allow (exit 2, allowed ones named)."""


class Ledger:
    """The ledger of one history store, under one lifecycle; writes only inside the store's transactions."""

    def __init__(self, store: HistoryStore, lifecycle: Lifecycle, engine: LifecycleEngine) -> None:
        self.store = store
        self.lifecycle = lifecycle
        self.engine = engine
        self.conn = store.conn

    # -- reading -------------------------------------------------------------------------------

    def item(self, finding_id: str) -> Item | None:
        return self._items_of([finding_id]).get(finding_id)

    def resolve(self, ref: str) -> Item:
        """An item by its finding id or a unique prefix of it."""
        wanted = ref.strip()
        exact = self.item(wanted)
        if exact is not None:
            return exact
        column = schema.items.c.finding_id
        rows = self.conn.execute(
            select(*_item_columns()).where(func.substr(column, 1, len(wanted)) == wanted).order_by(column)
        ).all()
        if len(rows) == 1:
            return Item.from_row(rows[0])
        if not rows:
            raise UsageError(
                f"整改台账中没有问题编号“{wanted}”（问题编号形如 F-1a2b3c4d5e6f7a8b，见 inspector ledger）"
            )
        raise UsageError(f"问题编号“{wanted}”不唯一：{'、'.join(r[0] for r in rows[:5])}")

    def items(self, *, county: str | None = None, school: str | None = None, states: Iterable[str] = ()) -> list[Item]:
        t = schema.items
        query = select(*_item_columns())
        if county:
            query = query.where(t.c.county == county)
        if school:
            position = func.instr if self.store.dialect == "sqlite" else func.strpos  # a substring, case and all
            query = query.where((t.c.school_id == school) | (position(t.c.school_name, school) > 0))
        wanted = list(states)
        if wanted:
            query = query.where(t.c.state.in_(wanted))
        items = [Item.from_row(row) for row in self.conn.execute(query)]
        # sorted here, not by the database: the same order whatever its collation and NULL placement
        items.sort(key=lambda i: (i.county, i.school_id is not None, i.school_id or "", i.rule_id, i.entity_id))
        return items

    def events(self, finding_id: str | None = None) -> list[Event]:
        t = schema.events
        query = select(*(t.c[name] for name in _EVENT_COLUMNS)).order_by(t.c.seq)
        if finding_id:
            query = query.where(t.c.finding_id == finding_id)
        return [Event(*row) for row in self.conn.execute(query)]

    def last_day(self) -> dt.date | None:
        day = self.conn.execute(select(func.max(schema.events.c.day))).scalar()
        return read_value("events", "day", "max(day)", to_date, day) if day else None

    def check_today(self, today: dt.date) -> None:
        last = self.last_day()
        if last is not None and today < last:
            raise UsageError(
                f"日期 {today} 早于台账最后一次记录的日期 {last}：台账按日期顺序记录，不能倒退（请检查 --today）"
            )

    # -- writing (inside a transaction) -----------------------------------------------------------

    def _append(
        self,
        item: Item,
        transition: str,
        from_state: str | None,
        actor: str,
        day: dt.date,
        note: str,
        audit_id: str | None,
    ) -> Event:
        (event,) = self._chain([(item, transition, from_state, actor, day, note, audit_id)])
        return event

    def _chain(self, entries: Sequence[tuple[Item, str, str | None, str, dt.date, str, str | None]]) -> list[Event]:
        """Append an event for each (item, transition, from state, actor, day, note, audit id), in order:
        chained in memory from the recorded head, inserted in one statement, the head moved once from
        the seq it was read at (a writer that moved it meanwhile makes this one fail, not fork the chain)."""
        first, prev = chain_head(self.conn)
        events: list[Event] = []
        for seq, (item, transition, from_state, actor, day, note, audit_id) in enumerate(entries, start=first + 1):
            body: dict[str, Any] = {
                "seq": seq,
                "finding_id": item.finding_id,
                "transition": transition,
                "from_state": from_state,
                "to_state": item.state,
                "level": item.level,
                "deadline": item.deadline.isoformat(),
                "actor": actor,
                "day": day.isoformat(),
                "note": note,
                "audit_id": audit_id,
            }
            digest = event_hash(prev, body)
            events.append(Event(**body, prev_hash=prev, hash=digest))
            prev = digest
        self.conn.execute(insert(schema.events), [event.as_dict() for event in events])
        head, last = schema.ledger_head, events[-1]
        if first == 0:
            self.conn.execute(insert(head).values(id=1, seq=last.seq, hash=last.hash))
        elif (
            self.conn.execute(
                update(head).where(head.c.id == 1, head.c.seq == first).values(seq=last.seq, hash=last.hash)
            ).rowcount
            != 1
        ):
            raise ItemChanged("整改台账正被另一处同时修改，本次变更未记录：请稍后重试")
        return events

    def _save(self, item: Item, *, read_at: int) -> Item:
        """Update the item read at version `read_at` (new items: `open_items`); the item as saved."""
        saved = replace(item, version=read_at + 1)
        t = schema.items
        result = self.conn.execute(
            update(t).where(t.c.finding_id == item.finding_id, t.c.version == read_at).values(**saved.values())
        )
        if result.rowcount != 1:
            raise ItemChanged(f"台账事项 {item.finding_id} 刚被他人修改，本次变更未记录：请重新查看后再操作")
        return saved

    def open_items(self, record: AuditRecord, today: dt.date, actor: str = SYSTEM) -> list[Event]:
        """Open an item for each finding of `record` not yet in the ledger; refresh the others'
        description and latest audit when `record` is their most recent. The new items are inserted
        and their `open` events chained in one statement each, in finding order (a province's
        audit opens tens of thousands)."""
        audits = {a.id: a for a in self.store.audits()}
        initial = self.lifecycle.spec.initial
        findings = self.store.findings_of(record.id)
        known = self._items_of([finding["id"] for finding in findings])
        opened: list[Item] = []
        for finding in findings:
            existing = known.get(finding["id"])
            if existing is None:
                opened.append(
                    Item(
                        finding_id=finding["id"],
                        **description(finding),
                        state=initial,
                        level=0,
                        deadline=dt.date.fromisoformat(finding["rectification"]["deadline"]),
                        since=today,
                        opened_audit=record.id,
                        last_audit=record.id,
                        version=1,
                    )
                )
            elif record.order >= audits[existing.last_audit].order:
                updated = replace(existing, **refreshed(finding), last_audit=record.id)
                if updated != existing:  # the same audit again changes nothing, not even the version
                    self._save(updated, read_at=existing.version)
        if not opened:
            return []
        self.conn.execute(insert(schema.items), [item.values() for item in opened])
        note = f"督导发现问题（审核 {record.id}，基准日 {record.as_of}）"
        return self._chain([(item, "open", None, actor, today, note, record.id) for item in opened])

    def _items_of(self, finding_ids: Sequence[str]) -> dict[str, Item]:
        """The items of these findings that are in the ledger."""
        found: dict[str, Item] = {}
        column = schema.items.c.finding_id
        for wanted in id_chunks(finding_ids):
            for row in self.conn.execute(select(*_item_columns()).where(column.in_(wanted))):
                item = Item.from_row(row)
                found[item.finding_id] = item
        return found

    # -- the engine ----------------------------------------------------------------------------

    def facts(self, items: Sequence[Item], today: dt.date) -> dict[str, tuple[ItemFact, Status | None]]:
        statuses = self.store.statuses(item.finding_id for item in items)
        result: dict[str, tuple[ItemFact, Status | None]] = {}
        for item in items:
            history = statuses.get(item.finding_id, [])
            latest = history[-1] if history else None
            waived_until = NO_DATE
            if latest is not None and latest.status == "fails" and latest.waiver_expires is not None:
                waived_until = latest.waiver_expires
            fact = ItemFact(
                finding_id=item.finding_id,
                state=item.state,
                level=item.level,
                deadline=item.deadline,
                today=today,
                since=item.since,
                reinspection=latest.status if latest else "none",
                reinspection_as_of=latest.as_of if latest else None,
                waived_until=waived_until,
                severity=item.severity,
                rule_id=item.rule_id,
                entity_type=item.entity_type,
                county=item.county,
            )
            result[item.finding_id] = (fact, latest)
        return result

    def advance(self, items: Sequence[Item], today: dt.date) -> list[Event]:
        """Apply the automatic transitions the engine enables, in lifecycle order, until none applies.

        The changes of a round are written together (`_write_round`): the same rows, events and
        hashes as one change at a time, without building a statement per item (a server starting on
        a store of 20,000 items, each just overdue, spent most of a minute doing that)."""
        events: list[Event] = []
        pending = {item.finding_id: item for item in items}
        order = {t.id: i for i, t in enumerate(self.lifecycle.transitions)}
        for _ in range(MAX_ROUNDS):
            if not pending:
                break
            facts = self.facts(list(pending.values()), today)
            enabled = self.engine.enabled(fact for fact, _ in facts.values())
            changed: dict[str, Item] = {}
            entries: list[tuple[Item, int, str, str | None, str, str | None]] = []
            for finding_id, item in pending.items():
                automatic = sorted(
                    (t for t in enabled[finding_id] if not self.lifecycle.by_id(t).manual), key=order.__getitem__
                )
                if not automatic:
                    continue
                transition = self.lifecycle.by_id(automatic[0])
                _fact, latest = facts[finding_id]
                updated, note = self._effect(item, transition, today, latest)
                audit_id = latest.audit_id if latest is not None and _reads_reinspection(transition) else None
                updated = replace(updated, version=item.version + 1)
                entries.append((updated, item.version, transition.id, item.state, note, audit_id))
                changed[finding_id] = updated
            events += self._write_round(entries, today)
            pending = changed
        return events

    def _write_round(
        self, entries: Sequence[tuple[Item, int, str, str | None, str, str | None]], today: dt.date
    ) -> list[Event]:
        """Save each (item, version it was read at, transition, from state, note, audit id) and append
        its event, in order: one compiled UPDATE per item (its version checked, as `_save` does), the
        events chained in memory from the recorded head and inserted in one statement, the head
        moved once from where it was read (as `_append` checks it)."""
        if not entries:
            return []
        t = schema.items
        names = [name for name in ITEM_COLUMNS if name != "finding_id"]
        save = (
            update(t)
            .where(t.c.finding_id == bindparam("key_finding_id"), t.c.version == bindparam("key_read_at"))
            .values({name: bindparam(f"new_{name}") for name in names})
        )
        for item, read_at, *_rest in entries:
            values = item.values()
            params = {f"new_{name}": values[name] for name in names}
            if (
                self.conn.execute(save, {**params, "key_finding_id": item.finding_id, "key_read_at": read_at}).rowcount
                != 1
            ):
                raise ItemChanged(f"台账事项 {item.finding_id} 刚被他人修改，本次变更未记录：请重新查看后再操作")
        return self._chain(
            [
                (item, transition, from_state, SYSTEM, today, note, audit_id)
                for item, _, transition, from_state, note, audit_id in entries
            ]
        )

    def _effect(self, item: Item, transition: Transition, today: dt.date, latest: Status | None) -> tuple[Item, str]:
        effect = transition.spec.effect
        level, deadline = item.level, item.deadline
        details: list[str] = []
        if "deadline" in _fields(transition) and today > item.deadline:
            details.append(f"整改期限 {item.deadline} 已过 {(today - item.deadline).days} 天")
        if _reads_reinspection(transition) and latest is not None:
            details.append(f"复查审核 {latest.audit_id}（基准日 {latest.as_of}）结果：{REINSPECTION[latest.status]}")
        if "waived_until" in _fields(transition) and latest is not None:
            if latest.waiver_expires is not None and latest.waiver_expires >= today:
                details.append(f"豁免有效期至 {latest.waiver_expires}")
            else:
                details.append("豁免已到期或已撤销" if latest.waiver_expires else "最近一次审核中无有效豁免")
        if effect.escalate:
            level = min(item.level + 1, len(self.lifecycle.spec.levels) - 1)
            holder = self.lifecycle.holder(level, item.county, item.responsible)
            details.append(f"升级至{self.lifecycle.level_title(level)}督办（{holder}）")
        if effect.reset_level and level:
            level = 0
            details.append(f"督办层级回到{self.lifecycle.level_title(0)}")
        if effect.deadline == "finding" and latest is not None and latest.deadline is not None:
            deadline = latest.deadline
        if effect.deadline_days is not None:
            deadline = today + dt.timedelta(days=int(self.lifecycle.params[effect.deadline_days]))
        if deadline != item.deadline:
            details.append(f"新整改期限 {deadline}")
        note = transition.spec.title + ("：" + "；".join(details) if details else "")
        return replace(item, state=transition.spec.to, level=level, deadline=deadline, since=today), note

    def request(
        self, ref: str, to: str, actor: str, note: str, today: dt.date, *, expected_version: int | None = None
    ) -> list[Event]:
        """A person's request to move an item to state `to`; refused unless the lifecycle allows it now.

        With `expected_version` (the item's version when the person looked at it), refused as well
        if anyone changed the item since: of two reviewers acting on what they both saw, one wins.
        """
        item = self.resolve(ref)
        if expected_version is not None and item.version != expected_version:
            raise ItemChanged(
                f"台账事项 {item.finding_id} 已被他人修改（您查看时为第 {expected_version} 版，现为第 {item.version} 版，"
                f"状态“{self.lifecycle.title(item.state)}”）：请重新查看后再操作"
            )
        target = self.lifecycle.state_id(to)
        if target is None:
            raise UsageError(f"未知的台账状态“{to}”；可用：{self.lifecycle.state_names()}")
        events = self.advance([item], today)
        item = self.item(item.finding_id) or item
        fact, latest = self.facts([item], today)[item.finding_id]
        enabled = self.engine.enabled([fact])[item.finding_id]
        possible = self.lifecycle.manual_from(item.state)
        allowed = [t for t in possible if t.id in enabled]
        title = self.lifecycle.title
        chosen = next((t for t in allowed if t.spec.to == target), None)
        if chosen is None:
            names = (
                "、".join(f"{title(t.spec.to)}（{t.spec.title}）" for t in allowed) or "（无：须等待复查或自动流转）"
            )
            blocked = [t for t in possible if t.spec.to == target]
            if blocked:
                why = blocked[0].spec.requires or f"条件 {blocked[0].spec.when}"
                seen = REINSPECTION[fact.reinspection] + (
                    f"（审核 {latest.audit_id}，基准日 {latest.as_of}）" if latest else ""
                )
                raise TransitionRefused(
                    f"不能将 {item.finding_id} 从“{title(item.state)}”变更为“{title(target)}”：{why}；"
                    f"最近一次复查结果：{seen}。当前允许变更为：{names}"
                )
            raise TransitionRefused(
                f"整改台账生命周期不允许将 {item.finding_id} 从“{title(item.state)}”变更为“{title(target)}”。"
                f"当前允许变更为：{names}"
            )
        updated = self._save(replace(item, state=chosen.spec.to, since=today), read_at=item.version)
        audit_id = latest.audit_id if latest is not None and _reads_reinspection(chosen) else None
        events.append(self._append(updated, chosen.id, item.state, actor, today, note, audit_id))
        events.extend(self.advance([updated], today))
        return events

    def record(
        self, ref: str, action: str, actor: str, note: str, today: dt.date, *, expected_version: int | None = None
    ) -> Event:
        """Record an action of the lifecycle's `actions` (an assignment, evidence, a comment) on an
        item without changing its state: an event of the chain, and +1 on the item's version, so
        that of two people acting on what they both saw, one wins here too."""
        if action not in self.lifecycle.actions:
            raise UsageError(f"整改台账生命周期中没有记录项“{action}”；可用：{'、'.join(self.lifecycle.actions)}")
        item = self.resolve(ref)
        if expected_version is not None and item.version != expected_version:
            raise ItemChanged(
                f"台账事项 {item.finding_id} 已被他人修改（您查看时为第 {expected_version} 版，现为第 {item.version} 版，"
                f"状态“{self.lifecycle.title(item.state)}”）：请重新查看后再操作"
            )
        saved = self._save(item, read_at=item.version)
        return self._append(saved, action, item.state, actor, today, note, None)


def _item_columns() -> list[Any]:
    return [schema.items.c[name] for name in ITEM_COLUMNS]


_FIELDS: dict[int, tuple[Transition, frozenset[str]]] = {}  # by id(): the transition is kept, so its id stays its own


def _fields(transition: Transition) -> frozenset[str]:
    """The fields the transition's condition reads (walked once per transition: `advance` asks per item)."""
    known = _FIELDS.get(id(transition))
    if known is None:
        paths = {f.path for f in fields_of(transition.condition)} if transition.condition is not None else set()
        known = _FIELDS[id(transition)] = (transition, frozenset(paths))
    return known[1]


def _reads_reinspection(transition: Transition) -> bool:
    """Whether the transition is decided by a re-inspection's result (not just held back by one)."""
    return "reinspection" in _fields(transition) and not transition.spec.effect.escalate
