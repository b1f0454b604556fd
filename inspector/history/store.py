"""The history store: audits, their findings, re-inspection results, indicator values and the
ledger, in one SQLite file (no server). Every write happens inside `transaction()`, so an
interrupted import leaves the store as it was; importing an audit already stored changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from . import migrations
from .integrity import FileHash, audit_id_of, canonical, document_files, sha256_text

DEFAULT_DB = Path("inspector.sqlite")


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


_AUDIT_COLUMNS = (
    "seq, id, name, region, as_of, target_year, source_dir, out_dir, rules_dir, previous_id, imported_on, document_sha256"
)


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _path(text: str | None) -> Path | None:
    return Path(text) if text else None


class HistoryStore:
    """One SQLite history file, migrated to the latest schema when opened."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    @classmethod
    def open(cls, path: Path, *, create: bool = False) -> HistoryStore:
        if not path.exists():
            if not create:
                raise UsageError(
                    f"历史库 {path} 不存在：先用 inspector reinspect 或 inspector history import 建立，或用 --db 指定已有的历史库"
                )
            if not path.parent.is_dir():
                raise UsageError(f"无法在 {path.parent} 中建立历史库：文件夹不存在")
        elif path.is_dir():
            raise UsageError(f"{path} 是文件夹，不是历史库文件")
        try:
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA foreign_keys = ON")
            migrations.migrate(conn)
        except migrations.SchemaTooNew as exc:
            raise UsageError(f"历史库 {path} 的版本（{exc.found}）高于本程序支持的版本（{migrations.LATEST}）：请升级 inspector") from None
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"{path} 不是可用的历史库（SQLite）：{exc}") from None
        return cls(path, conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything in it is stored, or (on any exception) nothing."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- audits --------------------------------------------------------------------------------

    def _record(self, row: Sequence[Any]) -> AuditRecord:
        seq, id_, name, region, as_of, target, source, out, rules, previous, imported, sha = row
        return AuditRecord(
            seq, id_, name, region, dt.date.fromisoformat(as_of), target, _path(source), _path(out), _path(rules),
            previous, dt.date.fromisoformat(imported), sha,
        )

    def audits(self) -> list[AuditRecord]:
        rows = self.conn.execute(f"SELECT {_AUDIT_COLUMNS} FROM audits ORDER BY as_of, seq").fetchall()
        return [self._record(row) for row in rows]

    def find_audit(self, audit_id: str) -> AuditRecord | None:
        row = self.conn.execute(f"SELECT {_AUDIT_COLUMNS} FROM audits WHERE id = ?", (audit_id,)).fetchone()
        return self._record(row) if row else None

    def audit(self, ref: str) -> AuditRecord:
        """An audit by its id or a unique prefix of it."""
        wanted = ref.strip()
        exact = self.find_audit(wanted)
        if exact is not None:
            return exact
        rows = self.conn.execute(
            f"SELECT {_AUDIT_COLUMNS} FROM audits WHERE substr(id, 1, ?) = ? ORDER BY as_of, seq", (len(wanted), wanted)
        ).fetchall()
        if len(rows) == 1:
            return self._record(rows[0])
        known = "、".join(a.id for a in self.audits()[-5:]) or "（库中尚无审核）"
        if not rows:
            raise UsageError(f"历史库 {self.path} 中没有审核“{wanted}”；最近的审核：{known}")
        raise UsageError(f"审核编号“{wanted}”不唯一：{'、'.join(self._record(r).id for r in rows[:5])}")

    def document(self, audit_id: str) -> dict[str, Any]:
        row = self.conn.execute("SELECT document FROM audits WHERE id = ?", (audit_id,)).fetchone()
        return json.loads(bytes(row[0]).decode("utf-8"))

    def document_bytes(self, audit_id: str) -> bytes:
        return bytes(self.conn.execute("SELECT document FROM audits WHERE id = ?", (audit_id,)).fetchone()[0])

    def files(self, audit_id: str) -> list[FileHash]:
        rows = self.conn.execute(
            "SELECT role, name, sha256 FROM audit_files WHERE audit_id = ? ORDER BY role, name", (audit_id,)
        ).fetchall()
        return [FileHash(*row) for row in rows]

    def import_document(
        self, data: bytes, *, today: dt.date, outputs: Iterable[FileHash] = (), source_dir: Path | None = None,
        out_dir: Path | None = None, rules_dir: Path | None = None, previous_id: str | None = None,
    ) -> tuple[AuditRecord, bool]:
        """Store one findings.json (inside the caller's transaction); (record, False) if already stored."""
        try:
            document = json.loads(data.decode("utf-8"))
            audit = document["audit"]
            audit_id = audit_id_of(document)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UsageError(f"不是有效的 findings.json：{exc}") from None
        stated = (document.get("reinspection") or {}).get("audit_id")
        if stated is not None and stated != audit_id:
            raise UsageError(f"findings.json 记录的审核编号 {stated} 与其内容推算的 {audit_id} 不符：文件可能被修改")
        existing = self.find_audit(audit_id)
        if existing is not None:
            return existing, False
        digest = sha256_text(data)
        conn = self.conn
        conn.execute(
            "INSERT INTO audits (id, name, region, as_of, target_year, source_dir, out_dir, rules_dir, previous_id,"
            " imported_on, document, document_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                audit_id, audit["name"], audit.get("region"), audit["as_of"], audit.get("target_year"),
                _text(source_dir), _text(out_dir), _text(rules_dir), previous_id, today.isoformat(), data, digest,
            ),
        )
        files = {(f.role, f.name): f for f in [*document_files(document), *outputs]}
        conn.executemany(
            "INSERT INTO audit_files (audit_id, role, name, sha256) VALUES (?, ?, ?, ?)",
            [(audit_id, f.role, f.name, f.sha256) for f in files.values()],
        )
        conn.executemany(
            "INSERT INTO findings (audit_id, finding_id, rule_id, entity_type, entity_id, school_id, county, severity,"
            " deadline, change, waiver_expires, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    audit_id, f["id"], f["rule_id"], f["entity_type"], f["entity_id"], f.get("school_id"), f["county"],
                    f["severity"], f["rectification"]["deadline"], f.get("change"),
                    (f.get("waiver") or {}).get("expires") if f.get("waived") else None, canonical(f),
                )
                for f in document.get("findings", [])
            ],
        )
        for status, key in (("resolved", "resolved"), ("unverified", "unverified")):
            conn.executemany(
                "INSERT INTO resolutions (audit_id, finding_id, status, rule_id, entity_type, entity_id, county, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (audit_id, r["id"], status, r["rule_id"], r["entity_type"], r["entity_id"], r["county"], canonical(r))
                    for r in document.get(key, [])
                ],
            )
        conn.executemany(
            "INSERT INTO indicator_values (audit_id, rule_id, entity_type, entity_id, county, verdict, field, value, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (audit_id, i["rule_id"], i["entity_type"], i["entity_id"], i["county"], i["verdict"],
                 *_main_value(i), canonical(i))
                for i in document.get("indicators", [])
            ],
        )
        record = self.find_audit(audit_id)
        assert record is not None
        return record, True

    # -- what the history says about findings ----------------------------------------------------

    def statuses(self, finding_ids: Iterable[str] | None = None, *, exclude: str | None = None,
                 until: dt.date | None = None) -> dict[str, list[Status]]:
        """Per finding id, every stored audit's verdict on it, oldest first (optionally leaving out
        one audit and audits dated after `until`)."""
        ids = None if finding_ids is None else sorted(set(finding_ids))
        result: dict[str, list[Status]] = {}
        queries = (
            "SELECT f.finding_id, a.id, a.as_of, a.seq, 'fails', f.deadline, f.waiver_expires"
            " FROM findings f JOIN audits a ON a.id = f.audit_id",
            "SELECT r.finding_id, a.id, a.as_of, a.seq, CASE r.status WHEN 'resolved' THEN 'passes' ELSE 'unverified' END,"
            " NULL, NULL FROM resolutions r JOIN audits a ON a.id = r.audit_id",
        )
        for query in queries:
            for chunk in _chunks(ids):
                sql = query + (f" WHERE {'f' if 'findings f' in query else 'r'}.finding_id IN ({','.join('?' * len(chunk))})" if chunk is not None else "")
                for fid, audit_id, as_of, seq, status, deadline, waiver in self.conn.execute(sql, chunk or ()):
                    day = dt.date.fromisoformat(as_of)
                    if audit_id == exclude or (until is not None and day > until):
                        continue
                    result.setdefault(fid, []).append(Status(audit_id, day, seq, status, _date(deadline), _date(waiver)))
        for entries in result.values():
            entries.sort(key=lambda s: s.order)
        return result

    def latest_finding(self, finding_id: str, *, exclude: str | None = None) -> dict[str, Any] | None:
        """The finding as in the most recent stored audit where it fired."""
        rows = self.conn.execute(
            "SELECT f.data, f.audit_id FROM findings f JOIN audits a ON a.id = f.audit_id WHERE f.finding_id = ?"
            " ORDER BY a.as_of DESC, a.seq DESC",
            (finding_id,),
        ).fetchall()
        for data, audit_id in rows:
            if audit_id != exclude:
                return json.loads(data)
        return None

    def findings_of(self, audit_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT data FROM findings WHERE audit_id = ? ORDER BY finding_id", (audit_id,))
        return [json.loads(data) for (data,) in rows]

    def indicator_series(self) -> list[tuple[AuditRecord, dict[str, Any]]]:
        """Every stored indicator value with its audit, oldest audit first."""
        audits = {a.id: a for a in self.audits()}
        rows = self.conn.execute("SELECT audit_id, data FROM indicator_values").fetchall()
        result = [(audits[audit_id], json.loads(data)) for audit_id, data in rows]
        result.sort(key=lambda pair: (pair[0].order, pair[1]["rule_id"], pair[1]["entity_id"]))
        return result


def _text(path: Path | None) -> str | None:
    return str(path.resolve()) if path is not None else None


def _main_value(indicator: dict[str, Any]) -> tuple[str | None, float | None]:
    observed = indicator.get("observed") or []
    if not observed:
        return None, None
    value = observed[0].get("value")
    return observed[0].get("field"), float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _chunks(ids: list[str] | None, size: int = 500) -> Iterator[list[str] | None]:
    if ids is None:
        yield None
        return
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
