"""Integrity: audit ids, file digests, the ledger's hash chain, and their verification.

An audit's id is derived from what determines its result (the date, audit.yaml, every input
file, the waivers, the rule packs and the effective params), so importing the same audit twice
finds the same id. Each stored audit keeps the sha256 of its inputs, rule packs and outputs;
`verify_audit` recomputes them from the files. Ledger events are hash-chained:
`hash = sha256(prev_hash + canonical JSON of the event)`, the first event's `prev_hash` being
64 zeros, and the chain's head (last seq and hash) is kept apart, so an edited, deleted or
truncated event is found by `verify_chain`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..records.readers import sha256_file
from ..rules.packs import pack_digest
from . import schema

GENESIS = "0" * 64
EVENT_FIELDS = (
    "seq",
    "finding_id",
    "transition",
    "from_state",
    "to_state",
    "level",
    "deadline",
    "actor",
    "day",
    "note",
    "audit_id",
)


def canonical(value: Any) -> str:
    """The JSON text hashed: sorted keys, no spaces, UTF-8 characters as themselves."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_text(text: str | bytes) -> str:
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()


def event_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    return sha256_text(prev_hash + canonical({name: event[name] for name in EVENT_FIELDS}))


def audit_id_of(document: Mapping[str, Any]) -> str:
    """`A<as_of>-<10 hex>`: the same inputs, waivers, packs and params give the same id."""
    audit = document["audit"]
    key = {
        "as_of": audit["as_of"],
        "name": audit["name"],
        "region": audit.get("region"),
        "config": audit.get("config", {}).get("sha256"),
        "inputs": sorted((i["file"], i["sha256"], i.get("rows_loaded")) for i in audit.get("inputs", [])),
        "packs": sorted((p["id"], p.get("version"), p["sha256"]) for p in audit.get("packs", [])),
        "params": audit.get("params"),
        "target_year": audit.get("target_year"),
        "keep_going": audit.get("keep_going", False),
        "waivers": (document.get("waivers") or {}).get("sha256"),
    }
    return f"A{audit['as_of'].replace('-', '')}-{sha256_text(canonical(key))[:10]}"


@dataclass(frozen=True)
class FileHash:
    role: str  # config | input | waivers | pack | output
    name: str
    sha256: str


def document_files(document: Mapping[str, Any]) -> list[FileHash]:
    """The input, config, waivers and pack digests a findings.json records."""
    audit = document["audit"]
    files: list[FileHash] = []
    config = audit.get("config")
    if config:
        files.append(FileHash("config", config["file"], config["sha256"]))
    for item in audit.get("inputs", []):
        files.append(FileHash("input", item["file"], item["sha256"]))
    waivers = document.get("waivers")
    if waivers:
        files.append(FileHash("waivers", waivers["file"], waivers["sha256"]))
    for pack in audit.get("packs", []):
        files.append(FileHash("pack", pack["id"], pack["sha256"]))
    return files


def output_files(out_dir: Path, names: Iterable[str] | None = None) -> list[FileHash]:
    """Digests of an output folder's files (or of the named ones; a folder name stands for its files)."""
    paths: list[Path] = []
    tops = [out_dir / name for name in names] if names is not None else sorted(out_dir.iterdir())
    for top in tops:
        if top.name.startswith("."):
            continue
        if top.is_dir():
            paths.extend(p for p in sorted(top.rglob("*")) if p.is_file() and not p.name.startswith("."))
        elif top.is_file():
            paths.append(top)
    return [FileHash("output", p.relative_to(out_dir).as_posix(), sha256_file(p)) for p in sorted(paths)]


# -- verification ------------------------------------------------------------------------------

ROLE_LABELS = {
    "config": "配置",
    "input": "输入",
    "waivers": "豁免清单",
    "pack": "规则包",
    "output": "输出",
    "store": "库内记录",
}


@dataclass(frozen=True)
class Check:
    role: str
    name: str
    status: str  # ok | mismatch | missing | unknown
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "unknown")

    def __str__(self) -> str:
        mark = {"ok": "一致", "mismatch": "不一致", "missing": "缺失", "unknown": "无法复核"}[self.status]
        text = f"  [{mark}] {ROLE_LABELS.get(self.role, self.role)} {self.name}"
        return f"{text}：{self.detail}" if self.detail else text


def _compare(role: str, name: str, expected: str, path: Path | None) -> Check:
    if path is None:
        return Check(role, name, "unknown", "导入时未记录其所在文件夹")
    if not path.is_file():
        return Check(role, name, "missing", f"{path} 不存在")
    actual = sha256_file(path)
    if actual != expected:
        return Check(role, name, "mismatch", f"记录 {expected[:12]}…，现为 {actual[:12]}…")
    return Check(role, name, "ok")


def verify_files(
    files: Iterable[FileHash], source_dir: Path | None, out_dir: Path | None, rules_dir: Path | None
) -> list[Check]:
    checks: list[Check] = []
    seen: set[tuple[str, str]] = set()
    for item in files:
        if item.role == "pack":
            folder = rules_dir / item.name if rules_dir is not None else None
            if folder is None:
                checks.append(Check("pack", item.name, "unknown", "导入时未记录规则包目录"))
            elif not folder.is_dir():
                checks.append(Check("pack", item.name, "missing", f"{folder} 不存在"))
            else:
                actual = pack_digest(folder)
                status = "ok" if actual == item.sha256 else "mismatch"
                detail = (
                    "" if status == "ok" else f"记录 {item.sha256[:12]}…，现为 {actual[:12]}…（规则包在审核后被修改）"
                )
                checks.append(Check("pack", item.name, status, detail))
            continue
        name = item.name.split("[", 1)[0]  # "schools.xlsx[schools]": a sheet of a workbook
        if (item.role, name) in seen:
            continue
        seen.add((item.role, name))
        base = out_dir if item.role == "output" else source_dir
        checks.append(_compare(item.role, name, item.sha256, base / name if base is not None else None))
    return checks


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    message: str

    def __str__(self) -> str:
        return f"第 {self.seq} 号事件：{self.message}"


def chain_rows(conn: Connection) -> Iterator[dict[str, Any]]:
    columns = [schema.events.c[name] for name in (*EVENT_FIELDS, "prev_hash", "hash")]
    for row in conn.execute(select(*columns).order_by(schema.events.c.seq)):
        yield dict(row._mapping)


def chain_head(conn: Connection) -> tuple[int, str]:
    """The chain's end as recorded apart from the events: (0, GENESIS) before the first event."""
    head = conn.execute(
        select(schema.ledger_head.c.seq, schema.ledger_head.c.hash).where(schema.ledger_head.c.id == 1)
    ).first()
    return (head[0], head[1]) if head else (0, GENESIS)


def verify_chain(conn: Connection) -> tuple[int, list[ChainProblem]]:
    """Walk the events in order; returns how many were read and the problems, first bad event first."""
    problems: list[ChainProblem] = []
    expected_seq, prev_hash, count = 1, GENESIS, 0
    for event in chain_rows(conn):
        count += 1
        seq = event["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool):
            problems.append(ChainProblem(expected_seq, f"序号“{seq}”不是整数：事件被修改"))
            seq = expected_seq
        if seq != expected_seq:
            missing = f"第 {expected_seq} 号" if seq == expected_seq + 1 else f"第 {expected_seq}–{seq - 1} 号"
            problems.append(ChainProblem(expected_seq, f"缺失：{missing}事件被删除（其后的第 {seq} 号事件仍在）"))
        elif event["prev_hash"] != prev_hash:
            if seq == 1:
                problems.append(ChainProblem(seq, "第一条事件的前一哈希应为全零：事件被修改"))
            else:
                problems.append(ChainProblem(seq - 1, f"被修改或替换：其哈希与第 {seq} 号事件记录的前一哈希不符"))
        try:
            actual = event_hash(str(event["prev_hash"]), event)
        except (TypeError, ValueError):
            actual = None  # a value JSON cannot hold (bytes written into a text column)
        if actual != event["hash"]:
            problems.append(
                ChainProblem(
                    seq, f"内容与其哈希不符：事件被修改（问题 {event['finding_id']}，{event['day']}，{event['actor']}）"
                )
            )
        prev_hash = event["hash"]
        expected_seq = seq + 1
    head_seq, head_hash = chain_head(conn)
    if not isinstance(head_seq, int) or isinstance(head_seq, bool):
        problems.append(ChainProblem(expected_seq, f"台账末尾记录的序号“{head_seq}”不是整数：记录被修改"))
    elif head_seq >= expected_seq:
        problems.append(
            ChainProblem(
                expected_seq, f"台账应记到第 {head_seq} 号事件，实际只到第 {expected_seq - 1} 号：末尾的事件被删除"
            )
        )
    elif head_seq < expected_seq - 1:
        problems.append(
            ChainProblem(head_seq + 1, f"台账记录的末尾为第 {head_seq} 号事件，其后的事件不是经由 inspector 追加的")
        )
    elif head_hash != prev_hash:
        problems.append(ChainProblem(head_seq, "与台账记录的末尾哈希不符：最后一条事件被修改"))
    problems.sort(key=lambda p: p.seq)
    return count, problems
