"""`inspector verify` and `inspector ledger head`: the store checked end to end, and the ledger's
head hash exported so that an inspector can keep it elsewhere and check the store against it
later (`inspector verify --head HASH`).

verify reports, in order: the structure (tables, columns; nothing else is checked without it),
each audit (its rows against its stored findings.json, then its files on disk), and the ledger
(the hash chain, the items against the chain's replay, the append-only triggers, the given head).
It exits 1 when anything is wrong; a store it cannot read at all ends in a message, not a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from ..errors import UsageError
from .checks import LedgerCheck, audit_checks, ledger_check, preflight, structure_problems
from .errors import VERIFY_HINT, StoreDamaged
from .integrity import GENESIS, Check, chain_head, chain_rows, verify_files
from .lifecycle import Lifecycle, load_lifecycle
from .location import DEFAULT_LIFECYCLE, DbRef
from .store import HistoryStore

MIN_HEAD = 12
_HEX = re.compile(r"^[0-9a-f]+$")


def head_argument(value: str) -> str:
    """`--head`: the head hash or a prefix of at least 12 hex digits (exit 2 otherwise)."""
    wanted = value.strip().lower()
    if not _HEX.match(wanted) or not MIN_HEAD <= len(wanted) <= len(GENESIS):
        raise UsageError(
            f"--head {value}：应为台账末尾哈希（inspector ledger head 的输出），或其前至少 {MIN_HEAD} 位十六进制数字"
        )
    return wanted


def verify(
    db: DbRef,
    audit_ref: str | None = None,
    *,
    ledger_only: bool = False,
    lifecycle_path: Path = DEFAULT_LIFECYCLE,
    head: str | None = None,
) -> tuple[str, bool]:
    """Recompute the stored rows and digests and walk the ledger's chain; (text, everything intact)."""
    expected_head = head_argument(head) if head is not None else None
    lifecycle = load_lifecycle(lifecycle_path)
    with HistoryStore.open(db, check=False) as store:
        lines: list[str] = []
        try:
            ok = _verify(store, lifecycle, lines, audit_ref, ledger_only, expected_head)
        except StoreDamaged as exc:
            lines.append(str(exc).replace("：" + VERIFY_HINT, "").replace("。" + VERIFY_HINT, ""))
            ok = False
        except DBAPIError as exc:
            translated = store.translate(exc)
            if not isinstance(translated, StoreDamaged):
                raise translated from None
            lines.append(str(translated).replace("。" + VERIFY_HINT, ""))
            ok = False
    return "\n".join(lines), ok


def _verify(
    store: HistoryStore,
    lifecycle: Lifecycle,
    lines: list[str],
    audit_ref: str | None,
    ledger_only: bool,
    expected_head: str | None,
) -> bool:
    structure = structure_problems(store.conn)
    if structure:
        lines.append(f"历史库 {store.path} 的结构已被改动：")
        lines.extend(f"  {p}" for p in structure)
        lines.append("  其余校验需要完整的表结构，未进行")
        return False
    ok = True
    if not ledger_only:
        for record in [store.audit(audit_ref)] if audit_ref else store.audits():
            try:
                checks = audit_checks(store, record)
            except StoreDamaged as exc:
                checks = [Check("store", "库内记录", "mismatch", str(exc).split("：" + VERIFY_HINT)[0])]
            checks += verify_files(store.files(record.id), record.source_dir, record.out_dir, record.rules_dir)
            bad = [c for c in checks if not c.ok]
            ok = ok and not bad
            lines.append(f"审核 {record.label()}：" + ("完整" if not bad else f"{len(bad)} 处不一致"))
            lines.extend(str(c) for c in checks if c.status != "ok")
            unknown = [c for c in checks if c.status == "unknown"]
            if not bad:
                lines.append(
                    f"  已复核 {len(checks) - len(unknown)} 个文件与记录"
                    + (f"，{len(unknown)} 个无法复核" if unknown else "")
                )
    ledger = ledger_check(store, lifecycle)
    _render_ledger(ledger, lines)
    ok = ok and ledger.ok
    if expected_head is not None:
        ok = _check_head(store, ledger, expected_head, lines) and ok
    return ok


def _render_ledger(ledger: LedgerCheck, lines: list[str]) -> None:
    if ledger.ok:
        _, digest = ledger.head
        lines.append(
            f"整改台账：{ledger.count} 条事件，哈希链完整" + (f"（末尾哈希 {digest}）" if ledger.count else "")
        )
        return
    lines.append(f"整改台账：{ledger.count} 条事件，发现问题：")
    lines.extend(f"  {p}" for p in ledger.chain)
    lines.extend(f"  {p}" for p in ledger.items)
    lines.extend(f"  {p}" for p in ledger.protection)
    if ledger.chain:
        lines.append(f"  第一处问题：第 {ledger.chain[0].seq} 号事件")
    elif ledger.items:
        lines.append(f"  第一处问题：{ledger.items[0]}")


def _check_head(store: HistoryStore, ledger: LedgerCheck, expected: str, lines: list[str]) -> bool:
    seq, digest = ledger.head
    if digest.startswith(expected):
        lines.append(f"  末尾哈希与所给的 {expected} 一致（第 {seq} 号事件）")
        return True
    earlier = next((e["seq"] for e in chain_rows(store.conn) if str(e["hash"]).startswith(expected)), None)
    if earlier is not None:
        why = (
            f"所给的是第 {earlier} 号事件的哈希：其后又记录了 {seq - earlier} 条事件，请核对这些事件后使用新的末尾哈希"
        )
    elif expected == GENESIS[: len(expected)]:
        why = "所给的是空台账的哈希：此后记录的事件都不在所给的记录中"
    else:
        why = "所给的哈希不是本台账任何一条事件的哈希：台账被改写，或所给的不是本历史库的末尾哈希"
    lines.append(f"  末尾哈希不符：库内末尾为第 {seq} 号事件 {digest}，所给的为 {expected}（{why}）")
    return False


def ledger_head(db: DbRef, *, lifecycle_path: Path = DEFAULT_LIFECYCLE) -> str:
    """The ledger's head hash, once the store verifies (a head of a tampered chain is worth nothing)."""
    lifecycle = load_lifecycle(lifecycle_path)
    with HistoryStore.open(db) as store:
        try:
            preflight(store, lifecycle, audits=False)
            return chain_head(store.conn)[1]
        except DBAPIError as exc:
            raise store.translate(exc) from None
