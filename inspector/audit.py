"""One audit, end to end: load → compile → indicators → evaluate → findings."""

from __future__ import annotations

import functools
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .engine.evaluate import RuleOutcome
from .engine.indicators import compute_peers
from .engine.tables import EntityTables
from .errors import DataError, Problem, RulePackError, UsageError
from .findings import DataGap, Finding, IndicatorResult
from .findings.build import FindingBuilder
from .partitions import BookSpec, merge, resolve_workers, run_partitions
from .records.config import AUDIT_FILE, AuditConfig, load_config_doc
from .records.loader import Dataset, load_dataset
from .records.readers import sha256_file
from .rules.compiler import RuleBook, compile_rulebook, effective_params, params_at_fault
from .rules.packs import DEFAULT_RULES_DIR, load_packs
from .rules.targets import Reading
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
    tables: EntityTables | None = None  # the entities evaluated, when kept (re-inspection reads passing ones)
    builder: FindingBuilder | None = None
    # every evidence row of every finding (finding id, packed row, role), for evidence.csv
    evidence: list[tuple[str, int, str]] = field(default_factory=list)
    # added by re-inspection (inspector.history.diff): {"findings": {id: {field: value}}, "sections": {name: value}}
    annotations: Mapping[str, Any] | None = None

    @property
    def rejected(self) -> list[Problem]:
        return self.dataset.problems

    def release(self) -> None:
        """Let go of what only the evaluation and findings.json need: the loaded tables, the
        entities and each entity's verdict (a national audit's ~4 GB), keeping the findings,
        gaps, indicators, the rules' counts and the inputs' provenance."""
        self.dataset.tables = {}
        for outcome in self.outcomes.values():
            outcome.release()
        self.tables = None
        self.builder = None


def tool_versions() -> dict[str, str]:
    """The versions findings.json records: a fresh dict of what this process runs."""
    return dict(_tool_versions())


@functools.cache
def _tool_versions() -> tuple[tuple[str, str], ...]:
    """Looked up once per process: reading the installed packages' metadata took a few ms per audit."""

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "unknown"

    return (
        ("inspector", version("inspector")),
        ("durable-rules", version("durable-rules")),
        ("python", platform.python_version()),
    )


def unusable_kinds(dataset: Dataset) -> tuple[str, ...]:
    """Kinds with no file, or whose every row was rejected: rules needing them are not evaluated."""
    loaded: dict[str, int] = {}
    read: dict[str, int] = {}
    for item in dataset.inputs:
        loaded[item.kind] = loaded.get(item.kind, 0) + item.rows_loaded
        read[item.kind] = read.get(item.kind, 0) + item.rows_read
    emptied = tuple(kind for kind in read if read[kind] and not loaded[kind])
    return tuple(dataset.missing_kinds) + emptied


def extra_fields(dataset: Dataset) -> dict[str, dict[str, tuple[bool, int]]]:
    """The extra columns of each record kind as the rule vocabulary takes them: (numeric, places)."""
    return {
        kind: {header: (extra.numeric, extra.places) for header, extra in columns.items()}
        for kind, columns in dataset.extra_columns.items()
    }


def run_audit(
    folder: Path,
    *,
    packs: Sequence[str] | None = None,
    keep_going: bool = False,
    rules_dir: Path = DEFAULT_RULES_DIR,
    progress: Stage | None = None,
    workers: int | None = None,
    keep_tables: bool = False,
    dask: str | None = None,
) -> AuditResult:
    """Audit one folder. Raises `DataError` (bad input), `RulePackError` (bad rules) or `EngineError`.

    The counties are evaluated in partitions (`workers` processes; by default one per core for a
    large audit); `keep_tables` evaluates them in one and keeps the entity tables, for a
    re-inspection that reads the values of entities that now pass."""
    stage = progress or (lambda _name, _done, _total: None)
    stage("读取数据", 0, 1)
    config, doc = load_config_doc(folder)
    dataset = load_dataset(folder, config, sha256_file(folder / AUDIT_FILE))
    fatal = [p for p in dataset.problems if p.code in FATAL]
    if fatal or (dataset.problems and not keep_going):
        raise DataError(dataset.problems)
    stage("编译规则", 0, 1)
    loaded = load_packs(packs or config.packs, rules_dir)
    reading = Reading.of(config.as_of, config.target_year)
    params, bad = effective_params(loaded, config.params, reading)
    if bad:
        raise DataError(doc.problem(("params", name), "param", reason) for name, reason in bad)
    try:
        book = compile_rulebook(
            loaded, as_of=config.as_of, params=params, reading=reading, extra_columns=extra_fields(dataset)
        )
    except RulePackError:
        # a value audit.yaml gives that the packs cannot take is audit.yaml's error, located there
        blamed = params_at_fault(
            loaded, config.params, reading, as_of=config.as_of, extra_columns=extra_fields(dataset)
        )
        if not blamed:
            raise
        raise DataError(doc.problem(("params", name), "param", reason) for name, reason in blamed) from None
    waivers = load_waivers(folder, (rule.id for rule in book.rules))
    stage("计算指标", 0, 1)
    missing = unusable_kinds(dataset)
    label = book.fingerprint[:12]
    whole = EntityTables(dataset, book.vocabulary, region=config.region, audit_year=config.as_of.year)
    peers = compute_peers(book.indicators, whole)
    rows = sum(table.height for table in dataset.tables.values())
    count = 1 if keep_tables else resolve_workers(workers, rows)
    if dask is not None and keep_tables:
        raise UsageError("复查需要在本机保留实体表，不能与 --dask 同用")
    if dask is not None:
        count = workers if workers is not None else 2
    spec = BookSpec.of(book, rules_dir, config, extra_fields(dataset)) if count > 1 or dask else None
    results = run_partitions(
        book,
        spec,
        dataset,
        missing,
        workers=count,
        peers=peers,
        label=label,
        keep=keep_tables,
        progress=lambda done, total: stage("规则评估", done, total),
        dask=dask,
    )
    stage("生成问题清单", 0, 1)
    merged = merge(book, dataset, missing, results, whole, label=label)
    report = apply_waivers(waivers, merged.findings, config.as_of) if waivers is not None else None
    return AuditResult(
        config,
        dataset,
        book,
        merged.outcomes,
        merged.findings,
        merged.gaps,
        merged.indicators,
        report,
        merged.tables,
        merged.builder,
        merged.evidence,
    )
