"""What the history commands do (`reinspect`, `ledger`, `verify`, `history`), apart from argument
parsing: the CLI calls these and prints what they return."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from ..errors import UsageError
from ..rules.packs import DEFAULT_RULES_DIR
from ..rules.spec import SEVERITY_LABELS
from ..rules.vocabulary import ENTITY_LABELS
from ..waivers import summary_lines
from . import database
from .checks import preflight
from .diff import CHANGE_LABELS, Reinspection, classify
from .documents import DocumentError, parse_document, report_claims
from .integrity import audit_id_of, document_files, output_files, sha256_text, verify_files
from .ledger import Event, Item, Ledger
from .lifecycle import Lifecycle, load_lifecycle
from .location import DEFAULT_LIFECYCLE, DbRef
from .store import AuditRecord, HistoryStore
from .trends import build_trends
from .verification import ledger_head, verify

__all__ = [
    "import_audit",
    "ledger_head",
    "ledger_list",
    "ledger_show",
    "ledger_update",
    "list_audits",
    "reinspect",
    "render_import",
    "render_reinspect",
    "trends_text",
    "verify",
]

if TYPE_CHECKING:
    from ..audit import AuditResult

Progress = Callable[[str, int, int], None]


@contextmanager
def _store(db: DbRef, *, create: bool = False) -> Iterator[HistoryStore]:
    """The store at `db`; the database's own errors, wherever they happen, in the user's words."""
    with HistoryStore.open(db, create=create) as store:
        try:
            yield store
        except DBAPIError as exc:
            raise store.translate(exc) from None


@contextmanager
def _ledger(db: DbRef, lifecycle_path: Path, *, create: bool = False) -> Iterator[tuple[HistoryStore, Ledger]]:
    lifecycle = load_lifecycle(lifecycle_path)
    with _store(db, create=create) as store, lifecycle.engine() as engine:
        yield store, Ledger(store, lifecycle, engine)


def _read_findings(path: Path, *, source: Path | None = None) -> bytes:
    """An output folder's findings.json, refused (exit 2) unless the store can take it: it must be a
    valid document, and the reports beside it and the data folder (`source`) must be its own."""
    file = path / "findings.json" if path.is_dir() else path
    if not file.is_file():
        raise UsageError(f"{path} 中没有 findings.json：请指向一次审核的输出文件夹")
    data = file.read_bytes()
    document = parse_document(data, str(file))
    problems = report_claims(file.parent, sha256_text(data))
    if source is not None:
        for check in verify_files(document_files(document), source, None, None):
            if check.status in ("mismatch", "missing"):
                problems.append(f"--source {source}：{str(check).strip()}（与 findings.json 记录的不符）")
    if problems:
        raise DocumentError(str(file), problems)
    return data


def _describe_events(events: Sequence[Event], lifecycle: Lifecycle) -> list[str]:
    counts = Counter((e.transition, e.to_state) for e in events)
    lines = []
    for (transition, state), n in sorted(counts.items()):
        title = "新建台账事项" if transition == "open" else lifecycle.transition_title(transition)
        lines.append(f"    {title} → {lifecycle.title(state)}：{n} 项")
    return lines


# -- history import ----------------------------------------------------------------------------


@dataclass
class ImportReport:
    record: AuditRecord
    created: bool
    events: list[Event] = field(default_factory=list)


def import_audit(
    db: DbRef,
    out_dir: Path,
    *,
    today: dt.date,
    source: Path | None = None,
    rules_dir: Path = DEFAULT_RULES_DIR,
    lifecycle_path: Path = DEFAULT_LIFECYCLE,
) -> tuple[ImportReport, Lifecycle]:
    """Store an audit's output folder (findings.json and the digests of every output file) and
    open ledger items for its findings; an audit already stored is left as it is.

    The folder is checked first (`_read_findings`), the store too (`checks.preflight`).
    """
    if source is not None and not (source / "audit.yaml").is_file():
        raise UsageError(f"--source {source} 不是审核数据文件夹（缺少 audit.yaml）")
    data = _read_findings(out_dir, source=source)
    folder = out_dir if out_dir.is_dir() else out_dir.parent
    with _ledger(db, lifecycle_path, create=True) as (store, ledger):
        with store.transaction():
            preflight(store, ledger.lifecycle)
            record, created = store.import_document(
                data,
                today=today,
                outputs=output_files(folder),
                source_dir=source,
                out_dir=folder,
                rules_dir=rules_dir,
            )
            report = ImportReport(record, created)
            if created:
                ledger.check_today(today)
                report.events = ledger.open_items(record, today)
                report.events += ledger.advance(ledger.items(), today)
        return report, ledger.lifecycle


def render_import(report: ImportReport, lifecycle: Lifecycle) -> str:
    if not report.created:
        return f"审核 {report.record.label()} 已在历史库中，未重复导入。"
    lines = [f"已导入审核 {report.record.label()}"]
    if report.events:
        lines.append("  整改台账：")
        lines.extend(_describe_events(report.events, lifecycle))
    return "\n".join(lines)


def list_audits(db: DbRef) -> str:
    with _store(db) as store:
        audits = store.audits()
    if not audits:
        return "历史库中尚无审核。"
    lines = ["审核编号\t基准日\t名称\t对比审核\t导入日期"]
    lines.extend(f"{a.id}\t{a.as_of}\t{a.name}\t{a.previous_id or ''}\t{a.imported_on}" for a in audits)
    return "\n".join(lines)


# -- reinspect ---------------------------------------------------------------------------------


@dataclass
class ReinspectReport:
    result: AuditResult
    record: AuditRecord
    previous: AuditRecord
    classification: Reinspection
    events: list[Event]
    written: dict[str, Path]
    out_dir: Path


def reinspect(
    db: DbRef,
    folder: Path,
    against: str,
    out_dir: Path,
    *,
    today: dt.date,
    packs: Sequence[str] | None = None,
    rules_dir: Path = DEFAULT_RULES_DIR,
    keep_going: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    lifecycle_path: Path = DEFAULT_LIFECYCLE,
) -> tuple[ReinspectReport, Lifecycle]:
    from ..audit import run_audit
    from ..output.document import audit_document
    from ..publish import write_outputs

    previous_path = Path(against)
    previous_data = _read_findings(previous_path) if previous_path.exists() else None
    if previous_data is None:
        if "/" in against or "\\" in against:
            raise UsageError(f"对比审核的输出文件夹 {against} 不存在")
        if not database.exists(db):
            raise UsageError(
                f"历史库 {database.label(db)} 不存在，无法按审核编号“{against}”查找对比审核：请用 --against 指向其输出文件夹"
            )
    elif (previous_path if previous_path.is_dir() else previous_path.parent).resolve() == out_dir.resolve():
        raise UsageError(f"输出文件夹 {out_dir} 就是对比审核的输出文件夹：复查的输出会覆盖它，请用 --out 另选文件夹")
    result = run_audit(
        folder,
        packs=packs,
        keep_going=keep_going,
        rules_dir=rules_dir,
        progress=progress,
        workers=workers,
        keep_tables=True,
    )
    audit_id = audit_id_of(audit_document(result, keep_going=keep_going))
    with _ledger(db, lifecycle_path, create=True) as (store, ledger):
        with store.transaction():
            preflight(store, ledger.lifecycle)
            ledger.check_today(today)
            events: list[Event] = []
            if previous_data is not None:
                previous_dir = previous_path if previous_path.is_dir() else previous_path.parent
                previous, created = store.import_document(
                    previous_data,
                    today=today,
                    outputs=output_files(previous_dir),
                    out_dir=previous_dir,
                    rules_dir=rules_dir,
                )
                if created:
                    events += ledger.open_items(previous, today)
            else:
                previous = store.audit(against)
            if previous.id == audit_id:
                raise UsageError(
                    f"新审核与对比审核 {previous.id} 相同（输入、规则包和参数都一样）：请用 --against 指向更早的一次审核"
                )
            if previous.as_of > result.config.as_of:
                raise UsageError(f"对比审核 {previous.id} 的基准日 {previous.as_of} 晚于新审核的 {result.config.as_of}")
            document = store.document(previous.id)
            classification = classify(result, audit_id, document, previous.id, store)
            current = [row.model_dump(mode="json") for row in result.indicators]
            trends = build_trends(store, current, audit_id, result.config.as_of, result.book.rules)
            result.annotations = classification.annotations(trends)
            written = write_outputs(result, out_dir, keep_going=keep_going, progress=progress, workers=workers)
            data = (out_dir / "findings.json").read_bytes()
            record, _ = store.import_document(
                data,
                today=today,
                outputs=output_files(out_dir, written),
                source_dir=folder,
                out_dir=out_dir,
                rules_dir=rules_dir,
                previous_id=previous.id,
            )
            events += ledger.open_items(record, today)
            events += ledger.advance(ledger.items(), today)
        report = ReinspectReport(result, record, previous, classification, events, written, out_dir)
        return report, ledger.lifecycle


def render_reinspect(report: ReinspectReport, lifecycle: Lifecycle) -> str:
    result, counts = report.result, report.classification.counts()
    lines = [
        f"复查完成：{result.config.name}（基准日 {result.config.as_of}，审核编号 {report.record.id}）",
        f"  对比：{report.previous.label()}",
        "  问题：共 {} 项（{}）".format(
            len(result.findings), "，".join(f"{CHANGE_LABELS[c]} {counts[c]}" for c in CHANGE_LABELS)
        ),
        f"  已整改（复查通过）：{counts['resolved']} 项；无法核实：{counts['unverified']} 项（见 findings.json 的 resolved、unverified）",
    ]
    if result.waivers is not None:
        lines.extend(summary_lines(result.waivers))
    if report.events:
        lines.append("  整改台账：")
        lines.extend(_describe_events(report.events, lifecycle))
    lines.append(f"  输出：{report.out_dir}/（" + "、".join(sorted(report.written)) + "）")
    return "\n".join(lines)


# -- ledger ------------------------------------------------------------------------------------


def _states(lifecycle: Lifecycle, names: Sequence[str]) -> list[str]:
    states = []
    for name in names:
        state = lifecycle.state_id(name)
        if state is None:
            raise UsageError(f"未知的台账状态“{name}”；可用：{lifecycle.state_names()}")
        states.append(state)
    return states


def _item_dict(item: Item, lifecycle: Lifecycle, today: dt.date) -> dict[str, Any]:
    final = lifecycle.states[item.state].final
    overdue = (today - item.deadline).days if not final and item.state != "waived" and today > item.deadline else 0
    return {
        **{k: v for k, v in item.__dict__.items() if k not in ("deadline", "since")},
        "deadline": item.deadline.isoformat(),
        "since": item.since.isoformat(),
        "state_label": lifecycle.title(item.state),
        "level_label": lifecycle.level_title(item.level),
        "holder": lifecycle.holder(item.level, item.county, item.responsible),
        "days_overdue": overdue,
    }


def ledger_list(
    db: DbRef,
    *,
    today: dt.date,
    county: str | None = None,
    school: str | None = None,
    states: Sequence[str] = (),
    fmt: str = "text",
    lifecycle_path: Path = DEFAULT_LIFECYCLE,
) -> str:
    with _ledger(db, lifecycle_path) as (store, ledger):
        wanted = _states(ledger.lifecycle, states)
        with store.transaction():
            preflight(store, ledger.lifecycle)
            ledger.check_today(today)
            events = ledger.advance(ledger.items(county=county, school=school), today)
        items = ledger.items(county=county, school=school, states=wanted)
        rows = [_item_dict(item, ledger.lifecycle, today) for item in items]
        if fmt == "json":
            return json.dumps(
                {"today": today.isoformat(), "items": rows, "events": [e.as_dict() for e in events]},
                ensure_ascii=False,
                indent=2,
            )
        lines = []
        if events:
            lines.append(f"按 {today} 自动流转 {len(events)} 项：")
            lines.extend(_describe_events(events, ledger.lifecycle))
        if not rows:
            lines.append("没有符合条件的台账事项。")
            return "\n".join(lines)
        lines.append("问题编号\t状态\t督办层级\t责任主体\t整改期限\t区县\t学校\t规则\t对象")
        for row in rows:
            deadline = row["deadline"] + (f"（逾期 {row['days_overdue']} 天）" if row["days_overdue"] else "")
            lines.append(
                "\t".join(
                    [
                        row["finding_id"],
                        row["state_label"],
                        row["level_label"],
                        row["holder"],
                        deadline,
                        row["county"],
                        row["school_name"] or "",
                        row["rule_title"],
                        f"{ENTITY_LABELS.get(row['entity_type'], row['entity_type'])} {row['entity_id']}",
                    ]
                )
            )
        by_state = Counter(row["state_label"] for row in rows)
        lines.append(
            "共 {} 项：{}".format(len(rows), "，".join(f"{state} {n}" for state, n in sorted(by_state.items())))
        )
        return "\n".join(lines)


def ledger_update(
    db: DbRef, finding: str, *, to: str, by: str, note: str, today: dt.date, lifecycle_path: Path = DEFAULT_LIFECYCLE
) -> str:
    if not by.strip():
        raise UsageError("--by 不能为空：台账须记录由谁变更")
    if not note.strip():
        raise UsageError("--note 不能为空：台账须记录变更理由")
    with _ledger(db, lifecycle_path) as (store, ledger):
        with store.transaction():
            preflight(store, ledger.lifecycle)
            ledger.check_today(today)
            events = ledger.request(finding, to, by.strip(), note.strip(), today)
        lifecycle = ledger.lifecycle
        lines = []
        for event in events:
            lines.append(
                f"第 {event.seq} 号事件：{event.finding_id} {lifecycle.title(event.from_state)} → {lifecycle.title(event.to_state)}"
                f"（{lifecycle.transition_title(event.transition)}，{event.actor}，{event.day}）：{event.note}"
            )
        return "\n".join(lines)


def ledger_show(db: DbRef, finding: str, *, fmt: str = "text", lifecycle_path: Path = DEFAULT_LIFECYCLE) -> str:
    with _ledger(db, lifecycle_path) as (store, ledger):
        preflight(store, ledger.lifecycle, audits=False)  # what it shows is the chain's state, or nothing
        item = ledger.resolve(finding)
        events = ledger.events(item.finding_id)
        history = store.statuses([item.finding_id]).get(item.finding_id, [])
        lifecycle = ledger.lifecycle
        last = dt.date.fromisoformat(events[-1].day) if events else item.since
        data = _item_dict(item, lifecycle, last)
        if fmt == "json":
            return json.dumps(
                {
                    "item": data,
                    "events": [e.as_dict() for e in events],
                    "audits": [
                        {"audit_id": s.audit_id, "as_of": s.as_of.isoformat(), "status": s.status} for s in history
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        lines = [
            f"{item.finding_id}  {item.rule_title}（{item.rule_id}，{SEVERITY_LABELS.get(item.severity, item.severity)}）",
            f"  对象：{item.county} {item.school_name or ''} {ENTITY_LABELS.get(item.entity_type, item.entity_type)} {item.entity_id}",
            f"  问题：{item.message}",
            f"  状态：{data['state_label']}（自 {item.since}），督办层级：{data['level_label']}（{data['holder']}），整改期限：{item.deadline}",
            "  各次审核："
            + (
                "；".join(
                    f"{s.audit_id}（{s.as_of}）{ {'fails': '仍存在', 'passes': '已通过', 'unverified': '无法核实'}[s.status] }"
                    for s in history
                )
                or "无"
            ),
            "  事件：",
        ]
        for event in events:
            lines.append(
                f"    #{event.seq} {event.day} {event.actor}：{lifecycle.title(event.from_state)} → {lifecycle.title(event.to_state)}"
                f"（{lifecycle.transition_title(event.transition)}）{event.note}"
            )
        return "\n".join(lines)


# -- trends ------------------------------------------------------------------------------------


def trends_text(db: DbRef, *, rule: str | None = None, county: str | None = None) -> str:
    with _store(db) as store:
        series: dict[tuple[str, str], list[tuple[AuditRecord, dict[str, Any]]]] = {}
        for record, row in store.indicator_series():
            if (rule and row["rule_id"] != rule) or (county and row["county"] != county):
                continue
            series.setdefault((row["rule_id"], row["entity_id"]), []).append((record, row))
    if not series:
        return "历史库中没有符合条件的指标值。"
    lines = []
    for (rule_id, entity_id), points in sorted(series.items()):
        title = points[0][1].get("rule_title") or rule_id
        values = []
        for record, row in points:
            observed = (row.get("observed") or [{}])[0]
            verdict = {"pass": "达标", "fail": "未达标", "gap": "无法评估"}.get(row["verdict"], row["verdict"])
            values.append(f"{record.as_of.year}（{record.as_of}）{observed.get('text', '—')} {verdict}")
        lines.append(f"{title}｜{entity_id}：" + "；".join(values))
    return "\n".join(lines)
