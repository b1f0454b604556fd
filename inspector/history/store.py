"""The history store: audits, their findings, re-inspection results, indicator values and the
ledger, in one database (a SQLite file by default, or PostgreSQL; see `database`). Its schema is
brought to the latest Alembic revision when it is opened (`migrations`). Every write happens
inside `transaction()`, so an interrupted import leaves the store as it was; importing an audit
already stored changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, Engine, Row, case, func, insert, literal, select, union_all
from sqlalchemy.exc import DBAPIError, OperationalError

from ..errors import UsageError
from ..findings.model import loads_exact
from . import database, migrations, schema
from .documents import derived_rows, parse_document
from .errors import VERIFY_HINT, StoreDamaged
from .integrity import FileHash, audit_id_of, sha256_text
from .location import DEFAULT_DB, DbRef

__all__ = ["DEFAULT_DB", "AuditRecord", "HistoryStore", "Status"]

T = TypeVar("T")


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    id: str
    name: str
    region: str | None
    as_of: dt.date
    target_year: int | None
    source_dir: Path | None
    out_dir: Path | None
    rules_dir: Path | None
    previous_id: str | None
    imported_on: dt.date
    document_sha256: str

    @property
    def order(self) -> tuple[dt.date, int]:
        return (self.as_of, self.seq)

    def label(self) -> str:
        return f"{self.id}（{self.name}，基准日 {self.as_of}）"


@dataclass(frozen=True)
class Status:
    """What one stored audit says about one finding id."""

    audit_id: str
    as_of: dt.date
    seq: int
    status: str  # fails | passes | unverified
    deadline: dt.date | None = None
    waiver_expires: dt.date | None = None

    @property
    def order(self) -> tuple[dt.date, int]:
        return (self.as_of, self.seq)


_AUDIT_COLUMNS = tuple(
    schema.audits.c[name]
    for name in (
        "seq",
        "id",
        "name",
        "region",
        "as_of",
        "target_year",
        "source_dir",
        "out_dir",
        "rules_dir",
        "previous_id",
        "imported_on",
        "document_sha256",
    )
)


def read_value(table: str, column: str, key: object, convert: Callable[[Any], T], value: Any) -> T:
    """`convert(value)` for a value read from the store; a value it cannot take is damage (exit 1)."""
    try:
        return convert(value)
    except (TypeError, ValueError, AttributeError):
        raise StoreDamaged(
            f"历史库中{schema.TABLE_TITLES.get(table, table)} {key} 的 {column} 无法读取（“{str(value)[:40]}”）：{VERIFY_HINT}"
        ) from None


def to_date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise TypeError(value)
    return dt.date.fromisoformat(value)


def _optional_date(value: Any) -> dt.date | None:
    return None if value is None else to_date(value)


def _optional_path(value: Any) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(value)
    return Path(value)


def _optional_int(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(value)
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


class HistoryStore:
    """One history store, migrated to the latest schema when opened.

    `conn` is the store's one SQLAlchemy connection: reads begin a transaction of their own, and
    writes go through `transaction()`.
    """

    def __init__(self, engine: Engine, conn: Connection, label: str) -> None:
        self.engine = engine
        self.conn = conn
        self.path = label  # where the store is, as messages name it (a path, or a URL without its password)

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name

    @classmethod
    def open(cls, db: DbRef, *, create: bool = False, check: bool = True) -> HistoryStore:
        """Open (or with `create`, make) the store at `db` and bring its schema up to date.

        With `check` (the default) a store whose tables or columns are not what the schema says
        is refused (exit 1); `inspector verify` opens without, to report them itself.
        """
        label = database.label(db)
        engine = database.engine_for(db, create=create)
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            engine.dispose()
            raise UsageError(f"无法连接历史库 {label}：{_reason(exc)}") from None
        store = cls(engine, conn, label)
        try:
            migrations.upgrade(conn, label)
            if check:
                from .checks import structure_problems

                problems = structure_problems(conn)
                if problems:
                    raise StoreDamaged(f"历史库 {label} 的结构已被改动：{problems[0]}。{VERIFY_HINT}")
        except BaseException as exc:
            store.close()
            if isinstance(exc, DBAPIError):
                raise store.translate(exc) from None
            raise
        return store

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def translate(self, exc: DBAPIError) -> Exception:
        """The database's error in the user's words: a busy store, or a damaged one."""
        reason = _reason(exc)
        lowered = reason.lower()
        if isinstance(exc, OperationalError) and (
            "locked" in lowered or "lock timeout" in lowered or "busy" in lowered
        ):
            return UsageError(f"历史库 {self.path} 正由另一个 inspector 命令写入，请稍后重试（{reason}）")
        if "not a database" in lowered or "malformed" in lowered:
            return UsageError(f"{self.path} 不是可用的历史库（SQLite）：{reason}")
        if isinstance(exc, OperationalError) and self.dialect == "postgresql" and "connection" in lowered:
            return UsageError(f"与历史库 {self.path} 的连接中断：{reason}")
        return StoreDamaged(f"历史库 {self.path} 无法按其结构读写：{reason}。{VERIFY_HINT}")

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: everything in it is stored, or (on any exception) nothing."""
        with database.write_transaction(self.conn) as conn:
            yield conn

    # -- audits --------------------------------------------------------------------------------

    def _record(self, row: Row[Any]) -> AuditRecord:
        seq, id_, name, region, as_of, target, source, out, rules, previous, imported, sha = tuple(row)
        key = id_

        def read(column: str, convert: Callable[[Any], T], value: Any) -> T:
            return read_value("audits", column, key, convert, value)

        return AuditRecord(
            read("seq", _optional_int, seq) or 0,
            read("id", _text, id_),
            read("name", _text, name),
            read("region", _optional_text, region),
            read("as_of", to_date, as_of),
            read("target_year", _optional_int, target),
            read("source_dir", _optional_path, source),
            read("out_dir", _optional_path, out),
            read("rules_dir", _optional_path, rules),
            read("previous_id", _optional_text, previous),
            read("imported_on", to_date, imported),
            read("document_sha256", _text, sha),
        )

    def audits(self) -> list[AuditRecord]:
        rows = self.conn.execute(select(*_AUDIT_COLUMNS).order_by(schema.audits.c.as_of, schema.audits.c.seq)).all()
        records = [self._record(row) for row in rows]
        records.sort(key=lambda a: a.order)  # as dates, whatever the text sorted as
        return records

    def find_audit(self, audit_id: str) -> AuditRecord | None:
        row = self.conn.execute(select(*_AUDIT_COLUMNS).where(schema.audits.c.id == audit_id)).first()
        return self._record(row) if row else None

    def audit(self, ref: str) -> AuditRecord:
        """An audit by its id or a unique prefix of it."""
        wanted = ref.strip()
        exact = self.find_audit(wanted)
        if exact is not None:
            return exact
        column = schema.audits.c.id
        rows = self.conn.execute(
            select(*_AUDIT_COLUMNS)
            .where(func.substr(column, 1, len(wanted)) == wanted)
            .order_by(schema.audits.c.as_of, schema.audits.c.seq)
        ).all()
        if len(rows) == 1:
            return self._record(rows[0])
        known = "、".join(a.id for a in self.audits()[-5:]) or "（库中尚无审核）"
        if not rows:
            raise UsageError(f"历史库 {self.path} 中没有审核“{wanted}”；最近的审核：{known}")
        raise UsageError(f"审核编号“{wanted}”不唯一：{'、'.join(self._record(r).id for r in rows[:5])}")

    def document_bytes(self, audit_id: str) -> bytes:
        value = self.conn.execute(select(schema.audits.c.document).where(schema.audits.c.id == audit_id)).scalar_one()
        return read_value("audits", "document", audit_id, _bytes, value)

    def document(self, audit_id: str) -> dict[str, Any]:
        return read_value("audits", "document", audit_id, _json_object, self.document_bytes(audit_id))

    def files(self, audit_id: str) -> list[FileHash]:
        t = schema.audit_files
        rows = self.conn.execute(
            select(t.c.role, t.c.name, t.c.sha256).where(t.c.audit_id == audit_id).order_by(t.c.role, t.c.name)
        ).all()
        return [
            FileHash(*(read_value("audit_files", "role/name/sha256", audit_id, _text, v) for v in row)) for row in rows
        ]

    def import_document(
        self,
        data: bytes,
        *,
        today: dt.date,
        outputs: Iterable[FileHash] = (),
        source_dir: Path | None = None,
        out_dir: Path | None = None,
        rules_dir: Path | None = None,
        previous_id: str | None = None,
    ) -> tuple[AuditRecord, bool]:
        """Store one findings.json (inside the caller's transaction); (record, False) if already stored.

        The document is checked first (`documents.parse_document`): one the store cannot take as
        it is, or that was doctored, is refused (exit 2).
        """
        document = parse_document(data, str(out_dir / "findings.json") if out_dir is not None else "findings.json")
        audit_id = audit_id_of(document)
        existing = self.find_audit(audit_id)
        if existing is not None:
            return existing, False
        rows = derived_rows(document, audit_id)
        conn = self.conn
        conn.execute(
            insert(schema.audits).values(
                **rows.audit,
                source_dir=_path_text(source_dir),
                out_dir=_path_text(out_dir),
                rules_dir=_path_text(rules_dir),
                previous_id=previous_id,
                imported_on=today.isoformat(),
                document=data,
                document_sha256=sha256_text(data),
            )
        )
        files = {(f.role, f.name): f for f in [*rows.files, *outputs]}
        conn.execute(
            insert(schema.audit_files),
            [{"audit_id": audit_id, "role": f.role, "name": f.name, "sha256": f.sha256} for f in files.values()],
        )
        for table, values in (
            (schema.findings, rows.findings),
            (schema.resolutions, rows.resolutions),
            (schema.indicator_values, rows.indicators),
        ):
            if values:
                conn.execute(insert(table), values)
        record = self.find_audit(audit_id)
        assert record is not None
        return record, True

    # -- what the history says about findings ----------------------------------------------------

    def statuses(
        self, finding_ids: Iterable[str] | None = None, *, exclude: str | None = None, until: dt.date | None = None
    ) -> dict[str, list[Status]]:
        """Per finding id, every stored audit's verdict on it, oldest first (optionally leaving out
        one audit and audits dated after `until`)."""
        ids = None if finding_ids is None else sorted(set(finding_ids))
        a, f, r = schema.audits, schema.findings, schema.resolutions
        result: dict[str, list[Status]] = {}
        chunks: Iterable[list[str] | None] = [None] if ids is None else id_chunks(ids)
        for chunk in chunks:
            fails = select(
                f.c.finding_id,
                a.c.id,
                a.c.as_of,
                a.c.seq,
                literal("fails").label("status"),
                f.c.deadline,
                f.c.waiver_expires,
            ).join_from(f, a, a.c.id == f.c.audit_id)
            passes = select(
                r.c.finding_id,
                a.c.id,
                a.c.as_of,
                a.c.seq,
                case((r.c.status == "resolved", literal("passes")), else_=literal("unverified")).label("status"),
                literal(None).label("deadline"),
                literal(None).label("waiver_expires"),
            ).join_from(r, a, a.c.id == r.c.audit_id)
            if chunk is not None:
                fails = fails.where(f.c.finding_id.in_(chunk))
                passes = passes.where(r.c.finding_id.in_(chunk))
            for fid, audit_id, as_of, seq, status, deadline, waiver in self.conn.execute(union_all(fails, passes)):
                key = f"{audit_id}/{fid}"
                day = read_value("audits", "as_of", audit_id, to_date, as_of)
                if audit_id == exclude or (until is not None and day > until):
                    continue
                result.setdefault(fid, []).append(
                    Status(
                        audit_id,
                        day,
                        seq,
                        status,
                        read_value("findings", "deadline", key, _optional_date, deadline),
                        read_value("findings", "waiver_expires", key, _optional_date, waiver),
                    )
                )
        for entries in result.values():
            entries.sort(key=lambda s: s.order)
        return result

    def latest_finding(self, finding_id: str, *, exclude: str | None = None) -> dict[str, Any] | None:
        """The finding as in the most recent stored audit where it fired."""
        f, a = schema.findings, schema.audits
        rows = self.conn.execute(
            select(f.c.data, f.c.audit_id)
            .join_from(f, a, a.c.id == f.c.audit_id)
            .where(f.c.finding_id == finding_id)
            .order_by(a.c.as_of.desc(), a.c.seq.desc())
        ).all()
        for data, audit_id in rows:
            if audit_id != exclude:
                return read_value("findings", "data", f"{audit_id}/{finding_id}", _json_object, data)
        return None

    def findings_of(self, audit_id: str) -> list[dict[str, Any]]:
        f = schema.findings
        rows = self.conn.execute(
            select(f.c.finding_id, f.c.data).where(f.c.audit_id == audit_id).order_by(f.c.finding_id)
        )
        return [read_value("findings", "data", f"{audit_id}/{fid}", _json_object, data) for fid, data in rows]

    def indicator_series(self) -> list[tuple[AuditRecord, dict[str, Any]]]:
        """Every stored indicator value with its audit, oldest audit first."""
        audits = {a.id: a for a in self.audits()}
        t = schema.indicator_values
        rows = self.conn.execute(select(t.c.audit_id, t.c.rule_id, t.c.data)).all()
        result = []
        for audit_id, rule_id, data in rows:
            if audit_id not in audits:
                raise StoreDamaged(f"历史库中指标值 {rule_id} 属于不存在的审核 {audit_id}：{VERIFY_HINT}")
            result.append(
                (audits[audit_id], read_value("indicator_values", "data", f"{audit_id}/{rule_id}", _json_object, data))
            )
        result.sort(key=lambda pair: (pair[0].order, str(pair[1].get("rule_id")), str(pair[1].get("entity_id"))))
        return result


def _bytes(value: Any) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(value)
    return bytes(value)


def _json_object(value: Any) -> dict[str, Any]:
    """A stored JSON object, integers exact: a row's text, or a document's bytes."""
    data = loads_exact(value if isinstance(value, bytes) else _text(value))
    if not isinstance(data, dict):
        raise TypeError(data)
    return data


def _path_text(path: Path | None) -> str | None:
    return str(path.resolve()) if path is not None else None


def _reason(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc.orig or exc).__name__


def id_chunks(ids: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """`ids` a few hundred at a time: within the bound parameters a statement may carry."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])
