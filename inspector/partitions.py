"""Partitioned execution: an audit's counties split into partitions, evaluated apart, merged.

Rules are county-local: a class, a teacher, a school, a township or a county is decided by the
rows of its own county. An audit therefore splits its counties into partitions and evaluates
each on its own (indicators, the engine, findings) — in this process, in forked worker
processes, or on a Dask cluster — then merges: findings and data gaps sorted, tallies summed,
and each city-level share or count summed from its parts before the city's rules run on the
engine. What crosses counties is computed once before partitioning (`peers`: one licence held by
kindergartens of two counties). Whatever the number of partitions or workers, the outputs are
the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl

from .engine.evaluate import RuleOutcome, evaluate, skip_reason
from .engine.indicators import Precomputed, Trace, apply_entered, compute_indicators, count_bounds, share_bounds
from .engine.tables import ID, SMALL_FRAME, EntityTables
from .errors import EngineError, UsageError
from .findings import DataGap, Finding, IndicatorResult
from .findings.build import FindingBuilder, sort_key
from .numbers import encode
from .records.config import AuditConfig
from .records.loader import Dataset
from .rules.compiler import CompiledRule, RuleBook
from .rules.targets import Reading
from .workers import available_cpus, requested_workers, spawned_pool

PARALLEL_FROM = 500_000  # rows from which starting worker processes can pay for itself
# CPUs from which they can: below, polars' own threads already keep the CPUs busy, and on 2 CPUs
# two workers took 1.2-1.9 s longer than one process for a province (1.03M rows) and were no
# quicker at 2.65M rows, with more memory (README, Performance)
PARALLEL_CPUS = 3
# rows one partition holds at most (whole counties, so about): a worker's memory is that of one
# partition, not of the audit divided by the workers, and the main process keeps only the
# partitions in flight (one per worker) sliced at a time
PARTITION_ROWS = 1_000_000
CITY = "city"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CityPart:
    """One partition's part of a city-level share or count: its amounts by what is known of its
    members (`indicators._aggregate`), what was missing, and its rows."""

    parts: Mapping[str, Any]
    missing: tuple[str, ...]
    rows: tuple[int, ...]
    numerator_rows: tuple[int, ...]
    open_rows: tuple[int, ...]


@dataclass
class PartitionResult:
    """What one partition found, ready to merge."""

    findings: list[Finding]
    gaps: list[DataGap]
    indicators: list[IndicatorResult]
    verdicts: dict[str, pl.DataFrame]  # per rule: __id, verdict, __county
    entities: dict[str, int]
    facts: dict[str, int]
    evidence: list[tuple[str, int, str]]
    city_parts: dict[str, CityPart]
    tables: EntityTables | None = field(default=None, repr=False)
    builder: FindingBuilder | None = field(default=None, repr=False)


def slice_dataset(dataset: Dataset, counties: Iterable[str]) -> Dataset:
    """The part of a dataset that belongs to `counties` (the city's statistics go with every part)."""
    wanted = sorted(counties)
    schools = dataset.tables["schools"].filter(pl.col("county").is_in(wanted))
    ids = schools.select("school_id")
    tables = {"schools": schools}
    for kind, table in dataset.tables.items():
        if kind == "schools":
            continue
        if "school_id" in table.columns:
            tables[kind] = table.join(ids, on="school_id", how="semi", maintain_order="left")
        elif kind == "county_stats":
            tables[kind] = table.filter(pl.col("county").is_in(wanted))
        else:
            tables[kind] = table
    return replace(dataset, tables=tables)


def plan(dataset: Dataset, count: int) -> list[tuple[str, ...]]:
    """Counties in `count` partitions of about equal rows: the largest county first into the
    lightest partition (deterministic: ties broken by name)."""
    schools = dataset.tables["schools"]
    sizes = {county: 0 for county in schools["county"].unique().to_list()}
    for kind, table in dataset.tables.items():
        if "school_id" not in table.columns or table.height == 0:
            continue
        counted = (
            table.join(schools.select("school_id", "county"), on="school_id", how="inner")
            if kind != "schools"
            else table
        )
        for county, n in counted.group_by("county").len().iter_rows():
            sizes[county] = sizes.get(county, 0) + n
    parts: list[list[str]] = [[] for _ in range(max(1, min(count, len(sizes) or 1)))]
    loads = [0] * len(parts)
    for county in sorted(sizes, key=lambda c: (-sizes[c], c)):
        lightest = min(range(len(parts)), key=lambda i: (loads[i], i))
        parts[lightest].append(county)
        loads[lightest] += sizes[county]
    return [tuple(sorted(p)) for p in parts if p]


def _city_parts(book: RuleBook, tables: EntityTables) -> dict[str, CityPart]:
    parts: dict[str, CityPart] = {}
    for indicator in book.indicators:
        spec = indicator.spec
        if spec.entity != CITY or spec.kind not in ("share", "count"):
            continue
        trace = tables.traces[spec.id]
        rows = trace.frame.filter(pl.col(ID) == tables.region)
        row = rows.row(0, named=True) if rows.height else {}
        parts[spec.id] = CityPart(
            {k: v for k, v in trace.parts.get(tables.region, {}).items() if k in _AMOUNTS},
            tuple(row.get("missing") or ()),
            tuple(row.get("rows") or ())[:EVIDENCE_CAP],
            tuple(row.get("numerator_rows") or ())[:EVIDENCE_CAP],
            tuple(row.get("open_rows") or ())[:EVIDENCE_CAP],
        )
    return parts


_AMOUNTS = frozenset(
    {"certain_num", "certain_den", "open_num", "maybe_both", "maybe_den", "maybe_any", "unbounded", "unpopulated"}
)


EVIDENCE_CAP = 100_000  # rows one indicator's trace keeps (the first, in file order)


def audit_partition(
    book: RuleBook,
    dataset: Dataset,
    missing_kinds: Sequence[str],
    *,
    peers: Precomputed,
    label: str = "audit",
    keep: bool = False,
    progress: Progress | None = None,
) -> PartitionResult:
    """Indicators, the engine's verdicts on every rule below the city, and their findings, for
    one partition (or, as one partition, the whole audit)."""
    tables = EntityTables(dataset, book.vocabulary, region=dataset.config.region, audit_year=dataset.config.as_of.year)
    compute_indicators(book.indicators, tables, precomputed=peers)
    rules = [rule for rule in book.rules if rule.spec.applies_to != CITY]
    outcomes = evaluate(book, tables, missing_kinds, rules=rules, label=label, progress=progress)
    builder = FindingBuilder(book, tables, dataset)
    findings, gaps = builder.build({rule.id: outcomes[rule.id] for rule in rules})
    indicators = builder.indicators({rule.id: outcomes[rule.id] for rule in rules})
    verdicts = {rule.id: outcomes[rule.id].verdicts for rule in rules}
    return PartitionResult(
        findings,
        gaps,
        indicators,
        verdicts,
        {r.id: outcomes[r.id].entities for r in rules},
        {r.id: outcomes[r.id].facts for r in rules},
        builder.evidence_index,
        _city_parts(book, tables),
        tables if keep else None,
        builder if keep else None,
    )


def _merge_city(book: RuleBook, tables: EntityTables, parts: Sequence[Mapping[str, CityPart]]) -> None:
    """The city's shares and counts summed from their parts, into `tables` (values and traces)."""
    for indicator in book.indicators:
        spec = indicator.spec
        if spec.entity != CITY or spec.kind not in ("share", "count"):
            continue
        pieces = [p[spec.id] for p in parts if spec.id in p]
        amounts: dict[str, Any] = {name: Fraction(0) for name in _AMOUNTS if name not in ("unbounded", "unpopulated")}
        amounts["unbounded"] = False
        # a count over no rows is a gap only when no partition has the rows it counts over
        amounts["unpopulated"] = bool(pieces) and all(piece.parts.get("unpopulated") for piece in pieces)
        for piece in pieces:
            for name, value in piece.parts.items():
                if name == "unpopulated":
                    continue
                amounts[name] = (amounts[name] or value) if name == "unbounded" else amounts[name] + value
        missing = [
            m for piece in pieces if amounts["unpopulated"] or not piece.parts.get("unpopulated") for m in piece.missing
        ]
        rows = sorted(r for piece in pieces for r in piece.rows)[:EVIDENCE_CAP]
        numerator_rows = sorted(r for piece in pieces for r in piece.numerator_rows)[:EVIDENCE_CAP]
        open_rows = sorted(r for piece in pieces for r in piece.open_rows)[:EVIDENCE_CAP]
        if spec.kind == "share":
            value, numerator, denominator = share_bounds(amounts)
            frame = pl.DataFrame(
                {
                    ID: [tables.region],
                    spec.id: [None if value is None else encode(value)],
                    f"{spec.id}.numerator": [encode(numerator)],
                    f"{spec.id}.denominator": [encode(denominator)],
                },
                schema={
                    ID: pl.String,
                    spec.id: pl.String,
                    f"{spec.id}.numerator": pl.String,
                    f"{spec.id}.denominator": pl.String,
                },
            )
            role = "denominator"
        else:
            total = count_bounds(amounts)
            frame = pl.DataFrame(
                {ID: [tables.region], spec.id: [None if total is None else encode(total)]},
                schema={ID: pl.String, spec.id: pl.String},
            )
            role = "counted"
        tables.add_indicator(CITY, frame)
        trace = pl.DataFrame(
            {
                ID: [tables.region],
                "rows": [rows],
                "numerator_rows": [numerator_rows],
                "missing": [missing],
                "open_rows": [open_rows],
            },
            schema={
                ID: pl.String,
                "rows": pl.List(pl.Int64),
                "numerator_rows": pl.List(pl.Int64),
                "missing": pl.List(pl.String),
                "open_rows": pl.List(pl.Int64),
            },
        )
        merged = Trace(spec.id, role, trace, parts={tables.region: amounts})
        tables.traces[spec.id] = merged if indicator.entered is None else apply_entered(indicator, tables, merged)


@dataclass
class Merged:
    """Every partition merged, and the city's rules evaluated."""

    outcomes: dict[str, RuleOutcome]
    findings: list[Finding]
    gaps: list[DataGap]
    indicators: list[IndicatorResult]
    evidence: list[tuple[str, int, str]]
    tables: EntityTables | None
    builder: FindingBuilder | None


def _by_id(frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The partitions' verdicts of a rule as one frame sorted by entity id; a small one sorted in
    Python (ids are distinct strings: polars' byte order is Python's code point order)."""
    whole = pl.concat(frames) if len(frames) > 1 else frames[0]
    ids = whole[ID].to_list() if whole.height <= SMALL_FRAME else None
    if ids is None or None in ids or len(set(ids)) < len(ids):
        return whole.sort(ID)
    order = sorted(range(len(ids)), key=ids.__getitem__)
    columns = [whole.get_column(c).to_list() for c in whole.columns]
    return pl.DataFrame(
        {name: [values[i] for i in order] for name, values in zip(whole.columns, columns)}, schema=whole.schema
    )


def merge(
    book: RuleBook,
    dataset: Dataset,
    missing_kinds: Sequence[str],
    results: Sequence[PartitionResult],
    city_tables: EntityTables,
    *,
    label: str = "audit",
) -> Merged:
    """The partitions' results as one audit's, with the city-level rules decided on the merged parts."""
    city_rules = [rule for rule in book.rules if rule.spec.applies_to == CITY]
    # shares and counts of the city depend on the partitions only; its formulas may read them
    _merge_city(book, city_tables, [r.city_parts for r in results])
    compute_indicators(
        [i for i in book.indicators if i.spec.entity == CITY and i.spec.kind not in ("share", "count")], city_tables
    )
    city_outcomes = evaluate(book, city_tables, missing_kinds, rules=city_rules, label=label)
    city_builder = FindingBuilder(book, city_tables, dataset)
    city_findings, city_gaps = city_builder.build({r.id: city_outcomes[r.id] for r in city_rules})
    city_indicators = city_builder.indicators({r.id: city_outcomes[r.id] for r in city_rules})
    outcomes: dict[str, RuleOutcome] = {}
    for rule in book.rules:
        if rule.spec.applies_to == CITY:
            outcomes[rule.id] = city_outcomes[rule.id]
            continue
        outcome = RuleOutcome(rule, skipped_reason=skip_reason(rule, missing_kinds))
        frames = [r.verdicts[rule.id] for r in results if rule.id in r.verdicts]
        if frames:
            outcome.verdicts = _by_id(frames)
        outcome.entities = sum(r.entities.get(rule.id, 0) for r in results)
        outcome.facts = sum(r.facts.get(rule.id, 0) for r in results)
        outcomes[rule.id] = outcome
    findings = sorted([f for r in results for f in r.findings] + city_findings, key=sort_key)
    gaps = sorted(
        [g for r in results for g in r.gaps] + city_gaps,
        key=lambda g: (g.county, g.school_id or "", g.rule_id, g.entity_id),
    )
    indicators = sorted(
        [i for r in results for i in r.indicators] + city_indicators, key=lambda r: (r.rule_id, r.county, r.entity_id)
    )
    evidence = [e for r in results for e in r.evidence] + city_builder.evidence_index
    single = results[0] if len(results) == 1 else None
    return Merged(
        outcomes,
        findings,
        gaps,
        indicators,
        evidence,
        single.tables if single else None,
        single.builder if single else city_builder,
    )


# -- running partitions ------------------------------------------------------------------------


@dataclass(frozen=True)
class BookSpec:
    """What compiles a rule book the same way in another process or on another machine: the
    packs' files (bytes by relative path), the audit's config and effective params."""

    packs: tuple[tuple[str, tuple[tuple[str, bytes], ...]], ...]
    config: AuditConfig
    params: Mapping[str, Mapping[str, object]]
    extra_columns: Mapping[str, Mapping[str, tuple[bool, int]]]
    fingerprint: str

    @classmethod
    def of(
        cls,
        book: RuleBook,
        rules_dir: Path,
        config: AuditConfig,
        extra_columns: Mapping[str, Mapping[str, tuple[bool, int]]],
    ) -> BookSpec:
        packs = []
        for pack in book.packs:
            folder = rules_dir / pack.id
            files = tuple(
                (p.relative_to(folder).as_posix(), p.read_bytes())
                for p in sorted(folder.rglob("*"))
                if p.is_file() and "__pycache__" not in p.parts
            )
            packs.append((pack.id, files))
        return cls(tuple(packs), config, book.params, extra_columns, book.fingerprint)

    def compile(self) -> RuleBook:
        from .rules.compiler import compile_rulebook
        from .rules.packs import load_packs

        with tempfile.TemporaryDirectory(prefix="inspector-packs-") as name:
            folder = Path(name)
            for pack_id, files in self.packs:
                for relative, data in files:
                    path = folder / pack_id / relative
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
            loaded = load_packs([pack_id for pack_id, _ in self.packs], folder)
            book = compile_rulebook(
                loaded,
                as_of=self.config.as_of,
                params=self.params,
                reading=Reading.of(self.config.as_of, self.config.target_year),
                extra_columns=self.extra_columns,
            )
        if book.fingerprint != self.fingerprint:  # pragma: no cover - the same packs and params compile the same
            raise EngineError("工作进程编译出的规则集与主进程不一致", detail=f"{book.fingerprint} ≠ {self.fingerprint}")
        return book


_BOOKS: dict[str, RuleBook] = {}  # per worker process: the book it compiled, by fingerprint


def partition_task(
    spec: BookSpec, dataset: Dataset, missing_kinds: Sequence[str], peers: Precomputed, label: str
) -> PartitionResult:
    """One partition in a worker process (spawned, or a Dask worker): the book compiled once per
    process from `spec`, the partition's tables as sent."""
    book = _BOOKS.get(spec.fingerprint)
    if book is None:
        book = _BOOKS[spec.fingerprint] = spec.compile()
    return audit_partition(book, dataset, missing_kinds, peers=peers, label=label)


def resolve_workers(requested: int | None, rows: int, *, cpus: int | None = None) -> int:
    """Processes worth starting: as asked (`--workers`, else `INSPECTOR_WORKERS`, see
    `inspector.workers`), else one per CPU (at most 8) for a large audit on `PARALLEL_CPUS` or
    more CPUs (`cpus`, by default those available), else one."""
    count = requested_workers(requested, os.environ)
    if count is not None:
        return count
    cpus = available_cpus() if cpus is None else cpus
    if rows < PARALLEL_FROM or cpus < PARALLEL_CPUS:
        return 1
    return min(cpus, 8)


def run_partitions(
    book: RuleBook,
    spec: BookSpec | None,
    dataset: Dataset,
    missing_kinds: Sequence[str],
    *,
    workers: int,
    peers: Precomputed,
    label: str,
    keep: bool,
    progress: Progress | None,
    dask: str | None = None,
) -> list[PartitionResult]:
    """Every partition's result, in partition order: on a Dask cluster when `dask` names one, in
    this process for one worker (one partition after another when the audit has more than
    `PARTITION_ROWS` rows), else in spawned worker processes (polars' thread pool makes `fork`
    unsafe), each compiling the book once from `spec`, one partition per worker in flight."""
    if dask is not None and spec is not None:
        return _run_on_dask(
            dask, spec, dataset, missing_kinds, workers=workers, peers=peers, label=label, progress=progress
        )
    rows = sum(table.height for table in dataset.tables.values())
    if keep or (workers <= 1 and rows <= PARTITION_ROWS):
        return [audit_partition(book, dataset, missing_kinds, peers=peers, label=label, keep=keep, progress=progress)]
    parts = plan(dataset, partition_count(rows, workers))
    if workers <= 1 or spec is None:
        results = []
        for i, counties in enumerate(parts):
            part = slice_dataset(dataset, counties)
            results.append(audit_partition(book, part, missing_kinds, peers=peers, label=f"{label}p{i}"))
            if progress is not None:
                progress(i + 1, len(parts))
        return results
    try:
        # an executor, not a Pool: a worker killed outright (out of memory, a crash in the engine's
        # C code) breaks it with an error where a Pool would wait for ever
        with spawned_pool(min(workers, len(parts))) as pool:

            def submit(i: int) -> Future[PartitionResult]:
                part = slice_dataset(dataset, parts[i])
                return pool.submit(partition_task, spec, part, missing_kinds, peers, f"{label}p{i}")

            return _bounded(submit, len(parts), min(workers, len(parts)), progress)
    except BrokenProcessPool as exc:
        raise EngineError(
            "规则评估的工作进程意外退出（可能是内存不足或引擎崩溃）",
            detail="可加 --workers 1 在单个进程中重新运行，以查看原因。",
        ) from exc


def partition_count(rows: int, workers: int) -> int:
    """Partitions for an audit of `rows` rows on `workers` workers: one per worker, more when a
    partition would exceed `PARTITION_ROWS`."""
    return max(workers, 1, -(-rows // PARTITION_ROWS))


def _bounded(
    submit: Callable[[int], Future[PartitionResult]], count: int, in_flight: int, progress: Progress | None
) -> list[PartitionResult]:
    """Results of tasks 0 … count-1 in task order, with at most `in_flight` submitted and not yet
    done: a partition's tables are sliced when its task is submitted and dropped once it is done,
    so the main process never holds every partition's copy at once."""
    results: dict[int, PartitionResult] = {}
    running: dict[Future[PartitionResult], int] = {}
    following = 0
    while following < count or running:
        while following < count and len(running) < in_flight:
            running[submit(following)] = following
            following += 1
        done, _pending = wait(running, timeout=0.1, return_when=FIRST_COMPLETED)
        for future in done:
            results[running.pop(future)] = future.result()
        if progress is not None and done:
            progress(len(results), count)
    return [results[i] for i in range(count)]


def _run_on_dask(
    address: str,
    spec: BookSpec,
    dataset: Dataset,
    missing_kinds: Sequence[str],
    *,
    workers: int,
    peers: Precomputed,
    label: str,
    progress: Progress | None,
) -> list[PartitionResult]:
    """The partitions as tasks of a Dask cluster: an existing one (`tcp://host:port`), or, for
    `local`, a LocalCluster of `workers` single-threaded worker processes started for this audit.
    Each task carries its partition's tables and the packs' bytes, so the workers need no access
    to the audit folder."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("使用 --dask 需要安装 dask 分布式组件：pip install 'inspector[dask]'") from None
    cluster = None
    try:
        if address == "local":
            cluster = LocalCluster(
                n_workers=max(workers, 1), threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            )
            client = Client(cluster)
        else:
            client = Client(address, timeout="30s")
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"无法连接 Dask 集群“{address}”：{exc}") from None
    try:
        slots = max(workers, len(client.scheduler_info().get("workers", {})) or 1)
        parts = plan(dataset, partition_count(sum(t.height for t in dataset.tables.values()), slots))
        from distributed import as_completed

        def submit(i: int) -> Any:
            return client.submit(
                partition_task,
                spec,
                slice_dataset(dataset, parts[i]),
                missing_kinds,
                peers,
                f"{label}p{i}",
                pure=False,
                key=f"inspector-{label}-{i}",
            )

        # as in `_bounded`: one partition per worker in flight, the next sliced when one is done
        first = [submit(i) for i in range(min(slots, len(parts)))]
        index = {future.key: i for i, future in enumerate(first)}
        following = len(first)
        results: dict[int, PartitionResult] = {}
        queue = as_completed(first)
        for future in queue:
            results[index.pop(future.key)] = future.result()
            future.release()
            if following < len(parts):
                task = submit(following)
                index[task.key] = following
                queue.add(task)
                following += 1
            if progress is not None:
                progress(len(results), len(parts))
        return [results[i] for i in range(len(parts))]
    except EngineError:
        raise
    except Exception as exc:  # a lost worker (KilledWorker), a broken connection: the cluster's, not the data's
        name = type(exc).__name__
        raise EngineError(
            f"Dask 集群上的规则评估未能完成（{name}：{exc}）",
            detail="之前的输出未被改动。可去掉 --dask 在本机重新运行，以查看原因。",
        ) from None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def city_rules(book: RuleBook) -> list[CompiledRule]:
    return [rule for rule in book.rules if rule.spec.applies_to == CITY]
