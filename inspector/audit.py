"""One audit, end to end: load → compile → indicators → evaluate → findings."""

from __future__ import annotations

import gc
import platform
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from .engine.entities import EntityStore
from .engine.evaluate import RuleOutcome, evaluate
from .engine.indicators import compute_indicators
from .errors import DataError, Problem
from .findings import DataGap, Finding, FindingBuilder, IndicatorResult
from .records.config import AUDIT_FILE, AuditConfig, load_config_doc
from .records.loader import Dataset, load_dataset
from .records.readers import sha256_file
from .rules.compiler import RuleBook, compile_rulebook, effective_params
from .rules.packs import DEFAULT_RULES_DIR, load_packs
from .waivers import WaiverReport, apply_waivers, load_waivers

# problems no `--keep-going` can audit around: there would be nothing, or the wrong thing, to audit
FATAL = frozenset({"missing_file", "ambiguous_source"})

Stage = Callable[[str, int, int], None]


@dataclass
class AuditResult:
    config: AuditConfig
    dataset: Dataset
    book: RuleBook
    outcomes: dict[str, RuleOutcome]
    findings: list[Finding]
    gaps: list[DataGap]
    indicators: list[IndicatorResult]
    waivers: WaiverReport | None = None  # from the folder's waivers.yaml, when it has one
    store: EntityStore | None = None  # the entities evaluated (re-inspection reads passing ones)
    # added by re-inspection (inspector.history.diff): {"findings": {id: {field: value}}, "sections": {name: value}}
    annotations: Mapping[str, Any] | None = None

    @property
    def rejected(self) -> list[Problem]:
        return self.dataset.problems


def tool_versions() -> dict[str, str]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {"inspector": version("inspector"), "durable-rules": version("durable-rules"), "python": platform.python_version()}


def unusable_kinds(dataset: Dataset) -> tuple[str, ...]:
    """Kinds with no file, or whose every row was rejected: rules needing them are not evaluated."""
    loaded: dict[str, int] = {}
    read: dict[str, int] = {}
    for item in dataset.inputs:
        loaded[item.kind] = loaded.get(item.kind, 0) + item.rows_loaded
        read[item.kind] = read.get(item.kind, 0) + item.rows_read
    emptied = tuple(kind for kind in read if read[kind] and not loaded[kind])
    return tuple(dataset.missing_kinds) + emptied


@contextmanager
def _loading() -> Iterator[None]:
    """No cyclic garbage collection while millions of acyclic records are built (it would rescan
    them again and again: a province-scale load ran 40% slower), and none of them rescanned
    later either (frozen), while the engine's short-lived cycles are still collected."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def run_audit(
    folder: Path,
    *,
    packs: Sequence[str] | None = None,
    keep_going: bool = False,
    rules_dir: Path = DEFAULT_RULES_DIR,
    progress: Stage | None = None,
    workers: int | None = None,
) -> AuditResult:
    """Audit one folder. Raises `DataError` (bad input), `RulePackError` (bad rules) or `EngineError`."""
    try:
        return _audit(folder, packs, keep_going, rules_dir, progress, workers)
    finally:
        gc.unfreeze()


def _audit(
    folder: Path, packs: Sequence[str] | None, keep_going: bool, rules_dir: Path, progress: Stage | None,
    workers: int | None,
) -> AuditResult:
    stage = progress or (lambda _name, _done, _total: None)
    stage("读取数据", 0, 1)
    config, doc = load_config_doc(folder)
    with _loading():
        dataset = load_dataset(folder, config, sha256_file(folder / AUDIT_FILE))
    fatal = [p for p in dataset.problems if p.code in FATAL]
    if fatal or (dataset.problems and not keep_going):
        raise DataError(dataset.problems)
    stage("编译规则", 0, 1)
    loaded = load_packs(packs or config.packs, rules_dir)
    params, bad = effective_params(loaded, config.params, config.milestone)
    if bad:
        raise DataError(doc.problem(("params", name), "param", reason) for name, reason in bad)
    with _loading():
        store = EntityStore(dataset)
    book = compile_rulebook(
        loaded, as_of=config.as_of, params=params, target_year=config.milestone, extra_columns=store.numeric
    )
    waivers = load_waivers(folder, (rule.id for rule in book.rules))
    stage("计算指标", 0, 1)
    compute_indicators(book.indicators, store)
    outcomes = evaluate(
        book, store, unusable_kinds(dataset), label=book.fingerprint[:12], workers=workers,
        progress=lambda done, total: stage("规则评估", done, total),
    )
    stage("生成问题清单", 0, 1)
    builder = FindingBuilder(book, store)
    findings, gaps = builder.build(outcomes)
    report = apply_waivers(waivers, findings, config.as_of) if waivers is not None else None
    return AuditResult(config, dataset, book, outcomes, findings, gaps, builder.indicators(outcomes), report, store)
