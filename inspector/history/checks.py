"""What `inspector verify` checks inside the database, and what every command that changes the
ledger checks before it starts (`preflight`).

* the structure: every table and column of the schema, of the right kind, and the triggers that
  keep events append-only (present, enabled, still refusing);
* each audit's rows against its stored findings.json, whose sha256 is checked first: the audit
  row, its files, and every column of its findings, resolutions and indicator values, recomputed
  with `documents.derived_rows` as an import writes them;
* the ledger: the hash chain (`integrity.verify_chain`), then every item against the replay of
  the chain (`replay.item_problems`).

Files outside the database (inputs, rule packs, outputs) are `integrity.verify_files`' part: they
may move without the store being wrong, so only `verify` looks at them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, select, text
from sqlalchemy.exc import DBAPIError

from . import schema
from .documents import DerivedRows, DocumentError, derived_rows, parse_document
from .errors import VERIFY_HINT, StoreDamaged
from .integrity import ChainProblem, Check, audit_id_of, chain_head, sha256_text, verify_chain
from .lifecycle import Lifecycle
from .replay import item_problems, same_value, show_value
from .store import AuditRecord, HistoryStore

_KINDS = {"String": "文字", "Integer": "整数", "Float": "小数", "_Binary": "二进制"}


def _reflected_columns(conn: Connection) -> dict[str, dict[str, Any]]:
    """Every column of every table, as the dialect reflects its declared type (or the declared type's
    text where the dialect knows no such type), in one catalog query: SQLAlchemy's inspector asks
    once per table, and every open of the store runs this check."""
    columns: dict[str, dict[str, Any]] = {}
    if conn.dialect.name == "postgresql":
        # the tables an unqualified name finds (the search path, as SQLAlchemy's inspector lists
        # them), not views; from the catalog, which shows columns whatever the role's privileges
        rows = conn.execute(
            text(
                "SELECT c.relname, a.attname, format_type(a.atttypid, NULL)"
                " FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid"
                " WHERE c.relkind IN ('r', 'p') AND pg_catalog.pg_table_is_visible(c.oid)"
                " AND a.attnum > 0 AND NOT a.attisdropped AND c.relname = ANY(:names)"
            ),
            {"names": [table.name for table in schema.metadata.sorted_tables]},
        ).all()
        for table, column, declared in rows:
            kind = conn.dialect.ischema_names.get(declared)  # type: ignore[attr-defined]  # the name → type map PostgreSQL's reflection uses
            try:
                found: Any = kind() if kind is not None else declared
            except TypeError:  # a type that needs arguments (an array, say): none of the schema's
                found = declared
            columns.setdefault(table, {})[column] = found
    else:
        rows = conn.execute(
            text(
                "SELECT m.name, p.name, p.type FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p"
                " WHERE m.type = 'table'"
            )
        ).all()
        for table, column, declared in rows:
            columns.setdefault(table, {})[column] = conn.dialect._resolve_type_affinity(declared)  # type: ignore[attr-defined]  # what SQLAlchemy's SQLite reflection calls
    return columns


def structure_problems(conn: Connection) -> list[str]:
    """Tables or columns of the schema that are missing or of another kind."""
    present = _reflected_columns(conn)
    problems: list[str] = []
    for table in schema.metadata.sorted_tables:
        if table.name not in present:
            problems.append(f"缺少表 {table.name}（{schema.TABLE_TITLES[table.name]}）")
            continue
        columns = present[table.name]
        for column in table.columns:
            found = columns.get(column.name)
            if found is None:
                problems.append(f"表 {table.name} 缺少列 {column.name}")
                continue
            wanted, actual = column.type._type_affinity, getattr(found, "_type_affinity", None)
            if actual is not wanted:
                problems.append(
                    f"表 {table.name} 的列 {column.name} 类型为 {found}，应为{_KINDS.get(wanted.__name__ if wanted else '', str(wanted))}"
                )
    return problems


def append_only_problems(conn: Connection) -> list[str]:
    """The append-only triggers on events: missing, disabled, or no longer refusing."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT t.tgname, t.tgenabled, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
                " WHERE t.tgrelid = to_regclass('events') AND NOT t.tgisinternal"
            )
        ).all()
        found = {name: (enabled, source) for name, enabled, source in rows}
        names: tuple[str, ...] = schema.POSTGRESQL_APPEND_ONLY_TRIGGERS
        refuses: Callable[[Any], bool] = lambda source: "RAISE EXCEPTION" in str(source).upper()  # noqa: E731
        disabled = [n for n in names if n in found and found[n][0] == "D"]
    else:
        rows = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
        ).all()
        found = {name: (None, sql) for name, sql in rows}
        names = schema.APPEND_ONLY_TRIGGERS
        refuses = lambda sql: "RAISE(ABORT" in str(sql).upper().replace(" ", "")  # noqa: E731
        disabled = []
    problems = []
    missing = [n for n in names if n not in found]
    if missing:
        problems.append(f"事件表的追加保护（触发器 {'、'.join(missing)}）已被移除")
    if disabled:
        problems.append(f"事件表的追加保护（触发器 {'、'.join(disabled)}）已被停用")
    neutered = [n for n in names if n in found and not refuses(found[n][1])]
    if neutered:
        problems.append(f"事件表的追加保护（触发器 {'、'.join(neutered)}）已被改写，不再拒绝修改")
    return problems


# -- an audit's rows against its stored document ---------------------------------------------


# (findings.json's sha256, audit id) → (the id its content gives, the rows an import derives from
# it): what a document implies does not change, so a process parses each stored document once, not
# once per audit per command (every command that changes the ledger checks every stored audit, and
# a server or a test session runs many); the rows themselves are read from the store each time
_DERIVED: OrderedDict[tuple[str, str], tuple[str, DerivedRows]] = OrderedDict()
_DERIVED_KEPT = 16
_DERIVED_LOCK = threading.Lock()  # the web server checks from several threads


def _derived(data: bytes, digest: str, audit_id: str) -> tuple[str, DerivedRows]:
    """`data`'s audit id and derived rows (DocumentError when the store cannot take it)."""
    key = (digest, audit_id)
    with _DERIVED_LOCK:
        found = _DERIVED.get(key)
        if found is not None:
            _DERIVED.move_to_end(key)
            return found
    document = parse_document(data)  # through the findings.json model, as at import
    found = (audit_id_of(document), derived_rows(document, audit_id))
    with _DERIVED_LOCK:
        _DERIVED[key] = found
        while len(_DERIVED) > _DERIVED_KEPT:
            _DERIVED.popitem(last=False)
    return found


def audit_checks(store: HistoryStore, record: AuditRecord) -> list[Check]:
    """The audit's stored rows against its findings.json (failed checks, and one ok per table)."""
    data = store.document_bytes(record.id)
    digest = sha256_text(data)
    recorded = {(f.role, f.name): f.sha256 for f in store.files(record.id)}
    if digest != record.document_sha256 or recorded.get(("output", "findings.json"), digest) != digest:
        return [Check("store", "findings.json", "mismatch", "库内保存的 findings.json 与导入时的 sha256 不符")]
    try:
        computed, rows = _derived(data, digest, record.id)
    except DocumentError as exc:
        return [
            Check("store", "findings.json", "mismatch", f"库内保存的 findings.json 不可接受：{p}") for p in exc.problems
        ]
    checks: list[Check] = []
    if computed != record.id:
        checks.append(Check("store", "审核编号", "mismatch", f"由内容推算为 {computed}"))
    stored_audit = {
        "id": record.id,
        "name": record.name,
        "region": record.region,
        "as_of": record.as_of.isoformat(),
        "target_year": record.target_year,
    }
    for column, value in rows.audit.items():
        if not same_value(stored_audit[column], value):
            checks.append(_mismatch("审核记录", column, stored_audit[column], value))
    for item in rows.files:
        got = recorded.get((item.role, item.name))
        if got != item.sha256:
            detail = "库内缺少此记录" if got is None else f"库内为 {got[:12]}…，findings.json 中为 {item.sha256[:12]}…"
            checks.append(Check("store", f"文件记录 {item.role} {item.name}", "mismatch", detail))
    extra = sorted(key for key in recorded if key[0] != "output" and key not in {(f.role, f.name) for f in rows.files})
    checks.extend(
        Check("store", f"文件记录 {role} {name}", "mismatch", "findings.json 中没有此文件：记录被添加")
        for role, name in extra
    )
    for table, wanted in (
        (schema.findings, rows.findings),
        (schema.resolutions, rows.resolutions),
        (schema.indicator_values, rows.indicators),
    ):
        checks.extend(_table_checks(store, table, record.id, wanted))
    return checks


def _table_checks(store: HistoryStore, table: Table, audit_id: str, wanted: Sequence[Mapping[str, Any]]) -> list[Check]:
    title = schema.TABLE_TITLES[table.name]
    key_columns = [c.name for c in table.primary_key.columns if c.name != "audit_id"]
    stored = {
        tuple(row._mapping[k] for k in key_columns): dict(row._mapping)
        for row in store.conn.execute(select(table).where(table.c.audit_id == audit_id))
    }
    checks: list[Check] = []
    for row in wanted:
        key = tuple(row[k] for k in key_columns)
        got = stored.pop(key, None)
        name = f"{title} {'/'.join(map(str, key))}"
        if got is None:
            checks.append(Check("store", name, "missing", "库内缺少此记录（findings.json 中有）"))
            continue
        for column, value in row.items():
            if not same_value(got.get(column), value):
                checks.append(_mismatch(name, column, got.get(column), value))
    checks.extend(
        Check("store", f"{title} {'/'.join(map(str, key))}", "mismatch", "findings.json 中没有此记录：记录被添加")
        for key in stored
    )
    if not checks:
        checks.append(Check("store", f"{title} {len(wanted)} 项", "ok"))
    return checks


def _mismatch(name: str, column: str, stored: Any, expected: Any) -> Check:
    if column == "data":
        return Check("store", f"{name} 的 {column}", "mismatch", "与 findings.json 不符")
    return Check(
        "store",
        f"{name} 的 {column}",
        "mismatch",
        f"库内为“{show_value(stored)}”，与 findings.json 不符（应为“{show_value(expected)}”）",
    )


# -- the ledger --------------------------------------------------------------------------------


@dataclass
class LedgerCheck:
    count: int = 0
    chain: list[ChainProblem] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    protection: list[str] = field(default_factory=list)
    head: tuple[int, str] = (0, "")

    @property
    def ok(self) -> bool:
        return not (self.chain or self.items or self.protection)

    def first(self) -> str | None:
        problems = [*map(str, self.chain), *self.items, *self.protection]
        return problems[0] if problems else None


def ledger_check(store: HistoryStore, lifecycle: Lifecycle) -> LedgerCheck:
    """The chain, then (when it holds) the items against its replay, and the append-only triggers."""
    result = LedgerCheck(protection=append_only_problems(store.conn), head=chain_head(store.conn))
    result.count, result.chain = verify_chain(store.conn)
    if not result.chain:
        result.items = item_problems(store, lifecycle)
    return result


# -- before a command changes the ledger ---------------------------------------------------------


def preflight(store: HistoryStore, lifecycle: Lifecycle, *, audits: bool = True) -> None:
    """Refuse (exit 1) to work on a store whose rows or ledger do not verify, naming the first problem.

    Called inside the command's write transaction: what is checked is what the command changes.
    Readers of the ledger alone (`ledger show`, `ledger head`) pass `audits=False`: the chain, and
    the items against its replay, without re-deriving every audit's rows from its document.
    """
    problems: list[str] = []
    try:
        for record in store.audits() if audits else ():
            problems.extend(
                f"审核 {record.id}：{c.name}：{c.detail}".rstrip("：") for c in audit_checks(store, record) if not c.ok
            )
        ledger = ledger_check(store, lifecycle)
    except StoreDamaged as exc:
        problems.append(str(exc).split("：" + VERIFY_HINT)[0])
    except DBAPIError as exc:
        raise store.translate(exc) from None
    else:
        problems.extend(str(p) for p in ledger.chain)
        problems.extend(ledger.items)
        problems.extend(ledger.protection)
    if problems:
        more = f"（另有 {len(problems) - 1} 处）" if len(problems) > 1 else ""
        raise StoreDamaged(f"历史库 {store.path} 未通过校验，本命令未执行：{problems[0]}{more}。{VERIFY_HINT}")
