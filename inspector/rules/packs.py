"""Finding and reading rule packs: `rules/<pack>/pack.yaml` plus any other YAML files in it."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ..errors import Problem, RulePackError
from ..resources import RULES_DIR
from ..validation_messages import message_for
from ..yamlsrc import Loc, YamlDoc, YamlSyntax, load_yaml
from .spec import IndicatorSpec, PackFile, PackSpec, RuleSpec

PACK_FILE = "pack.yaml"
DEFAULT_RULES_DIR = RULES_DIR


@dataclass(frozen=True)
class Located:
    """Where a spec was written: its document and key path (for `file:line` errors)."""

    doc: YamlDoc
    loc: Loc

    def problem(self, key: Loc, code: str, message: str, *, field: str | None = None) -> Problem:
        return self.doc.problem(self.loc + tuple(key), code, message, field=field)

    @property
    def where(self) -> str:
        line, _ = self.doc.line_of(self.loc)
        return f"{self.doc.path}:{line}"


@dataclass(frozen=True)
class LoadedPack:
    spec: PackSpec
    folder: Path
    sha256: str
    located: Located
    rules: tuple[tuple[RuleSpec, Located], ...]
    indicators: tuple[tuple[IndicatorSpec, Located], ...]

    @property
    def id(self) -> str:
        return self.spec.id


def available_packs(rules_dir: Path = DEFAULT_RULES_DIR) -> list[str]:
    if not rules_dir.is_dir():
        return []
    return sorted(p.name for p in rules_dir.iterdir() if (p / PACK_FILE).is_file())


def pack_digest(folder: Path) -> str:
    """sha256 over every file of the pack (relative path and bytes), in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _display(path: Path, rules_dir: Path) -> str:
    try:
        return str(Path("rules") / path.relative_to(rules_dir))
    except ValueError:
        return str(path)


def _validate(model: type[BaseModel], doc: YamlDoc, problems: list[Problem]) -> BaseModel | None:
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "type", "文件内容应为映射（键: 值）", field=""))
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(doc.problem(e["loc"], e["type"], message_for(e)) for e in exc.errors())
        return None


def _read_pack(folder: Path, rules_dir: Path, problems: list[Problem]) -> LoadedPack | None:
    documents: list[YamlDoc] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            documents.append(load_yaml(path, _display(path, rules_dir)))
        except YamlSyntax as exc:
            problems.append(exc.problem)
    pack_doc = next((d for d in documents if d.path.endswith(f"/{PACK_FILE}") or d.path == PACK_FILE), None)
    if pack_doc is None:
        return None
    spec = _validate(PackSpec, pack_doc, problems)
    rules: list[tuple[RuleSpec, Located]] = []
    indicators: list[tuple[IndicatorSpec, Located]] = []
    for doc in documents:
        if doc is pack_doc:
            continue
        content = _validate(PackFile, doc, problems)
        if content is None:
            continue
        assert isinstance(content, PackFile)
        rules.extend((rule, Located(doc, ("rules", i))) for i, rule in enumerate(content.rules))
        indicators.extend((ind, Located(doc, ("indicators", i))) for i, ind in enumerate(content.indicators))
    if not isinstance(spec, PackSpec):
        return None
    if spec.id != folder.name:
        problems.append(pack_doc.problem(("id",), "pack_id", f"规则包 id“{spec.id}”应与文件夹名“{folder.name}”一致"))
    return LoadedPack(spec, folder, pack_digest(folder), Located(pack_doc, ()), tuple(rules), tuple(indicators))


# packs read by this process, by `_pack_key`: a pack's files are parsed and validated once, not
# on every audit (tests and the web server's re-inspections load the same packs again and again)
_PACKS: OrderedDict[tuple[str, str, str], LoadedPack] = OrderedDict()
_PACKS_KEPT = 32
_PACKS_LOCK = threading.Lock()


def _pack_key(folder: Path, rules_dir: Path, digest: str) -> tuple[str, str, str]:
    """What a read pack depends on: its files' names and bytes (`pack_digest`), the folder it is
    read from and the rules folder its files are shown relative to (problems and rules cite them)."""
    return (str(folder), str(rules_dir), digest)


def _read_pack_once(folder: Path, rules_dir: Path, problems: list[Problem]) -> LoadedPack | None:
    """`_read_pack`, or the pack this process already read from the same bytes at the same place.

    Only a pack read without problems is kept, and only when its digest taken before the read
    equals the one taken after (no file changed meanwhile): a changed byte gives another key, so
    an edited pack is always read again. A `LoadedPack` is frozen (frozen specs, tuples); its
    documents are not changed after the read, as compiled books already share them."""
    before = pack_digest(folder)
    key = _pack_key(folder, rules_dir, before)
    with _PACKS_LOCK:
        pack = _PACKS.get(key)
        if pack is not None:
            _PACKS.move_to_end(key)
            return pack
    found = len(problems)
    pack = _read_pack(folder, rules_dir, problems)
    if pack is not None and len(problems) == found and pack.sha256 == before:
        with _PACKS_LOCK:
            _PACKS[key] = pack
            while len(_PACKS) > _PACKS_KEPT:
                _PACKS.popitem(last=False)
    return pack


def _check_duplicates(packs: Iterable[LoadedPack], problems: list[Problem]) -> None:
    seen_rules: dict[str, Located] = {}
    seen_indicators: dict[str, tuple[IndicatorSpec, Located]] = {}
    for pack in packs:
        for rule, located in pack.rules:
            if rule.id in seen_rules:
                problems.append(
                    located.problem(
                        ("id",), "duplicate_rule", f"规则 id“{rule.id}”重复（首次定义于 {seen_rules[rule.id].where}）"
                    )
                )
            else:
                seen_rules[rule.id] = located
        for indicator, located in pack.indicators:
            first = seen_indicators.get(indicator.id)
            if first is not None and first[0] != indicator:
                problems.append(
                    located.problem(
                        ("id",),
                        "duplicate_indicator",
                        f"指标 id“{indicator.id}”重复且定义不同（首次定义于 {first[1].where}）",
                    )
                )
            seen_indicators.setdefault(indicator.id, (indicator, located))


def load_packs(ids: Sequence[str], rules_dir: Path = DEFAULT_RULES_DIR) -> list[LoadedPack]:
    """Read the named packs; every problem of every file is reported together."""
    problems: list[Problem] = []
    packs: list[LoadedPack] = []
    known = available_packs(rules_dir)
    for pack_id in dict.fromkeys(ids):
        folder = rules_dir / pack_id
        if pack_id not in known:
            choices = "、".join(known) or "（无）"
            problems.append(
                Problem(str(rules_dir), 0, "packs", "unknown_pack", f"找不到规则包“{pack_id}”；可用：{choices}")
            )
            continue
        pack = _read_pack_once(folder, rules_dir, problems)
        if pack is not None:
            packs.append(pack)
    _check_duplicates(packs, problems)
    if problems:
        raise RulePackError(problems)
    return packs
