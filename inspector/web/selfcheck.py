"""自查 (self-check): a school's corrected rows, validated by the same loader and re-evaluated by
the same rules on an engine kept warm in the server process, show which of the school's findings
would close and which would open. Nothing official changes: only an inspector's re-inspection does.

One `SelfCheck` per audit data folder is built on the engine thread the first time a school asks
(the folder loaded, the rule book compiled, the school-level rules registered on a durable_rules
evaluator) and kept there: the evaluator, like every durable_rules object, stays on that thread.
A check slices the audit's rows to the school, replaces the kind of rows uploaded, and evaluates
the rules about classes, teachers, schools and school stages on that slice, before (once per
school, cached) and after the correction, so both sides are judged alike. County- and city-level
rules need every school of the county and are not re-evaluated here.

After the correction only the rules that read the uploaded kind of rows are re-evaluated; the
others keep their verdicts from before, which the same rows would give again. What each rule
reads is observed, not declared: when the engine is built, each rule's fact frame is prepared
alone on one school's slice whose tables record every table asked for (`_Recording`), the same
way `evaluate` prepares it (its indicators, then `EntityTables.frame` of its reads), and the
rules reading a kind get an evaluator of their own. Which tables a rule's frame is built from
follows from the rule and its indicators, not from the rows' values.

A check costs what polars costs per operation on a one-school frame (a tenth of a millisecond or
more, whatever the rows), so it makes few: the school's own indicators computed before the
correction are kept with the frames each one read (`_Computed`), and after it an indicator whose
reads give the same frames again takes its columns from there instead of being computed (the
uploaded rows carry a source of their own in every frame that holds them, so an indicator over
them is always computed again); and the verdicts are decided by `_judge`, on the same facts and
engine as `evaluate`, from one frame per entity kind.

Peers indicators (a licence number or a teacher held in more than one school) are computed over
the whole audit; one whose computation reads the uploaded kind is computed again for the check,
on the school's corrected rows and the rows of the schools that hold one of its keys.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from ..audit import extra_fields, unusable_kinds
from ..engine.durable_adapter import DurableEvaluator
from ..engine.evaluate import Fact, decide, engine_rules, match_facts, skip_reason
from ..engine.facts import Projection, engine_fact, exact_fact
from ..engine.indicators import Precomputed, compute_indicators, compute_peers
from ..engine.tables import ID, EntityTables
from ..errors import DataError, Problem
from ..findings.build import finding_id
from ..records.config import AUDIT_FILE, load_config_doc
from ..records.loader import Dataset, load_dataset, load_table
from ..records.readers import sha256_file
from ..records.values import text_key
from ..rules.compiler import CompiledIndicator, CompiledRule, compile_rulebook, effective_params
from ..rules.packs import DEFAULT_RULES_DIR, load_packs
from ..rules.targets import Reading
from ..rules.typed import fields_of
from ..rules.vocabulary import FieldInfo

SCHOOL_LEVEL = ("class", "teacher", "school", "school_stage")
# the table of each entity kind that is one row per entity (as `EntityTables` builds its bases)
_RECORD_OF = {"school": "schools", "class": "classes", "teacher": "teachers"}


class _Recording(dict[str, pl.DataFrame]):
    """A dataset's tables that note the name of every table read (`EntityTables` reads them by
    `[name]` and `.get(name)` only)."""

    def __init__(self, tables: dict[str, pl.DataFrame]) -> None:
        super().__init__(tables)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> pl.DataFrame:
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.read.add(name)
        return super().get(name, default)


Read = tuple[str, str, tuple[str, ...]]  # ("frame" | "base", entity kind, paths)


class _Tables(EntityTables):
    """Entity tables that note, while `reads` is a list, each outermost `frame` and `base` read
    with its result, and each `add_indicator` call in `added`; `preset` answers reads already made
    (the tables do not change between a replay's reads and the computation that follows it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reads: list[tuple[Read, pl.DataFrame]] | None = None
        self.added: list[tuple[str, pl.DataFrame]] = []
        self.preset: dict[Read, pl.DataFrame] = {}
        self._depth = 0

    def read(self, what: Read) -> pl.DataFrame:
        return self.frame(what[1], what[2]) if what[0] == "frame" else self.base(what[1])

    def _outer(self, what: Read, make: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        if self._depth:
            return make()
        result = self.preset.get(what)
        if result is None:
            self._depth += 1
            try:
                result = make()
            finally:
                self._depth -= 1
        if self.reads is not None:
            self.reads.append((what, result))
        return result

    def frame(self, kind: str, paths: Iterable[str] = ()) -> pl.DataFrame:
        wanted = tuple(paths)
        return self._outer(("frame", kind, wanted), lambda: super(_Tables, self).frame(kind, wanted))

    def base(self, kind: str) -> pl.DataFrame:
        return self._outer(("base", kind, ()), lambda: super(_Tables, self).base(kind))

    def add_indicator(self, kind: str, columns: pl.DataFrame) -> None:
        self.preset = {}
        self.added.append((kind, columns))
        super().add_indicator(kind, columns)


@dataclass(frozen=True)
class _Computed:
    """One indicator as computed on a school's rows: the tables it read (in order, with what they
    gave), the columns it added and its trace."""

    reads: tuple[tuple[Read, pl.DataFrame], ...]
    added: tuple[tuple[str, pl.DataFrame], ...]
    trace: Any


# the indicators whose computation reads the tables only through `frame` and `base` (so equal reads
# give equal results): not an entered figure (`apply_entered` reads the indicator columns), nor a
# coefficient of variation (it reads and writes the county metrics), nor peers (from the whole audit)
_REPLAYABLE = ("count", "share", "formula")


@dataclass(frozen=True)
class Verdict:
    finding_id: str
    rule_id: str
    rule_title: str
    entity_type: str
    entity_id: str
    verdict: str  # fail | pass | gap


@dataclass
class CheckResult:
    school_id: str
    kind: str
    rows_read: int
    rows_loaded: int
    problems: list[Problem]
    closes: list[Verdict] = field(default_factory=list)  # fail before, not after
    opens: list[Verdict] = field(default_factory=list)  # fail after, not before
    remains: list[Verdict] = field(default_factory=list)  # fail before and after
    gaps: list[Verdict] = field(default_factory=list)  # not evaluable after the correction
    seconds: float = 0.0  # validation and re-evaluation of the corrected rows

    @property
    def ms_per_record(self) -> float:
        return self.seconds * 1000 / max(1, self.rows_loaded)


class SelfCheck:
    """The warm engine of one audit data folder (create and use on one thread only)."""

    def __init__(self, folder: Path, rules_dir: Path = DEFAULT_RULES_DIR) -> None:
        config, doc = load_config_doc(folder)
        dataset = load_dataset(folder, config, sha256_file(folder / AUDIT_FILE))
        if dataset.problems:
            raise DataError(dataset.problems)
        loaded = load_packs(config.packs, rules_dir)
        reading = Reading.of(config.as_of, config.target_year)  # as run_audit reads the plan's year targets
        params, bad = effective_params(loaded, config.params, reading)
        if bad:
            raise DataError(doc.problem(("params", name), "param", reason) for name, reason in bad)
        self.book = compile_rulebook(
            loaded, as_of=config.as_of, params=params, reading=reading, extra_columns=extra_fields(dataset)
        )
        self.dataset = dataset
        self.missing = unusable_kinds(dataset)
        whole = EntityTables(dataset, self.book.vocabulary, region=config.region, audit_year=config.as_of.year)
        self.peers = compute_peers(self.book.indicators, whole)
        self.context = self._context(whole)
        self.rules: list[CompiledRule] = [
            r for r in self.book.rules if r.spec.applies_to in SCHOOL_LEVEL and not skip_reason(r, self.missing)
        ]
        self.indicators = self._needed(self.rules)
        self.evaluator = DurableEvaluator(engine_rules(self.rules), label="selfcheck")
        self._by_school: dict[str, dict[str, pl.DataFrame]] = {
            kind: {str(key[0]): frame for key, frame in table.partition_by("school_id", as_dict=True).items()}
            for kind, table in dataset.tables.items()
            if "school_id" in table.columns and table.height
        }
        # per school: its verdicts and its indicators as computed before a correction, for the schools
        # checked last (~0.25 MB a school: a province's 20,000 schools would hold gigabytes)
        self._kept: OrderedDict[str, tuple[dict[str, Verdict], dict[str, _Computed]]] = OrderedDict()
        self._judged: Judged = {}  # per rule (and column types): the verdict of each combination judged
        self._round = 0
        self.reads = self._trace_reads()
        self._peer_reads, self._peer_keys = self._trace_peers()
        # per uploadable kind: the rules that read it, their indicators and an evaluator of their own
        self._partial: dict[str, tuple[list[CompiledRule], list[CompiledIndicator], DurableEvaluator | None]] = {}
        for kind in self._by_school:
            rules = [r for r in self.rules if kind in self.reads[r.id]]
            if len(rules) < len(self.rules):
                evaluator = DurableEvaluator(engine_rules(rules), label=f"sc-{kind}"[:16]) if rules else None
                self._partial[kind] = (rules, self._needed(rules), evaluator)

    def _context(self, whole: EntityTables) -> Precomputed:
        """Every indicator above the school (county, city, county metrics) computed once on the whole
        audit, with the peers: a school's slice holds one school of its county, so these are read as
        the audit computed them (context, as the county's verdicts are) rather than recomputed per
        check from one school's rows; only the school's own indicators are recomputed."""
        compute_indicators(self.book.indicators, whole, precomputed=self.peers)
        result = dict(self.peers)
        for indicator in self.book.indicators:
            kind, name = indicator.spec.entity, indicator.spec.id
            # county metrics (coefficients of variation) are rows of their own, not indicator columns: left to the check
            if kind not in SCHOOL_LEVEL and name not in result and kind in whole.indicators:
                result[name] = (kind, whole.traces[name], whole.indicators[kind].select(ID, name))
        return result

    def _trace_reads(self) -> dict[str, frozenset[str]]:
        """Per rule, the tables its fact frame is built from: prepared alone, as `evaluate` prepares
        it, on the slice of the school with the most rows (so that no table it reads is empty)."""
        probe = self._probe()
        if probe is None:
            return {rule.id: frozenset(self.dataset.tables) for rule in self.rules}
        sliced = self._slice(probe)
        config = sliced.config
        result: dict[str, frozenset[str]] = {}
        for rule in self.rules:
            recording = _Recording(sliced.tables)
            tables = EntityTables(
                replace(sliced, tables=recording),
                self.book.vocabulary,
                region=config.region,
                audit_year=config.as_of.year,
            )
            compute_indicators(self._needed([rule]), tables, precomputed=self.context)
            tables.frame(rule.spec.applies_to, Projection(rule.reads, rule.presence).paths)
            result[rule.id] = frozenset(recording.read)
        return result

    def _probe(self) -> str | None:
        """The school with the most rows (so that no table its computations read is empty)."""
        return max(
            self._by_school.get("schools", {}),
            key=lambda s: (sum(frames[s].height for frames in self._by_school.values() if s in frames), s),
            default=None,
        )

    def _needed(self, rules: Sequence[CompiledRule]) -> list[CompiledIndicator]:
        """The indicators `rules` read, and those these read in turn (declaration order)."""

        def indicators_in(*parts: Any) -> set[str]:
            found: set[str] = set()
            for part in parts:
                if part is None:
                    continue
                infos = (
                    [part] if isinstance(part, FieldInfo) else [f.info for f in fields_of(part, include_presence=True)]
                )
                found.update(info.indicator for info in infos if info.indicator)
            return found

        by_id = {i.spec.id: i for i in self.book.indicators}
        wanted: set[str] = set()
        for rule in rules:
            wanted |= indicators_in(rule.scope, rule.condition, *rule.reads, *rule.presence, *rule.observed)
        todo = list(wanted)
        while todo:
            indicator = by_id.get(todo.pop())
            if indicator is None:
                continue
            for name in (
                indicators_in(
                    indicator.where,
                    indicator.numerator,
                    indicator.formula,
                    indicator.key,
                    indicator.value,
                    indicator.weight,
                )
                - wanted
            ):
                wanted.add(name)
                todo.append(name)
        return [i for i in self.book.indicators if i.spec.id in wanted]

    def close(self) -> None:
        self.evaluator.close()
        for _rules, _indicators, evaluator in self._partial.values():
            if evaluator is not None:
                evaluator.close()

    def schools(self) -> set[str]:
        return set(self._by_school.get("schools", {}))

    def _slice(
        self,
        school_id: str,
        replaced: tuple[str, pl.DataFrame] | None = None,
        source: str | None = None,
        also: Sequence[str] = (),
    ) -> Dataset:
        """The audit's rows of the school (with its rows of one kind `replaced`), and of the schools
        `also`, their counties' statistics and the tables of no school."""
        data = self.dataset
        tables: dict[str, pl.DataFrame] = {}
        schools = [school_id, *also]
        counties = [self._by_school["schools"][s]["county"][0] for s in schools if s in self._by_school["schools"]]
        for kind, table in data.tables.items():
            if kind in self._by_school or "school_id" in table.columns:
                by_school = self._by_school.get(kind, {})
                parts = [by_school[s] for s in schools if s in by_school]
                if replaced is not None and replaced[0] == kind:
                    frame = replaced[1]
                    own = frame.select(table.columns) if set(table.columns) <= set(frame.columns) else frame
                    parts = [own, *(by_school[s] for s in also if s in by_school)]
                tables[kind] = (
                    parts[0]
                    if len(parts) == 1
                    else pl.concat(parts, how="diagonal_relaxed")
                    if parts
                    else table.clear()
                )
            elif kind == "county_stats":
                tables[kind] = table.filter(pl.col("county").is_in(counties))
            else:
                tables[kind] = table
        sources = data.sources if replaced is None else (*data.sources, source or "自查")
        return replace(data, tables=tables, sources=sources)

    def _trace_peers(self) -> tuple[dict[str, frozenset[str]], dict[str, pl.DataFrame | None]]:
        """Per peers indicator (entities of every county sharing a key: a licence number held by
        two kindergartens): the tables its computation reads, traced as `_trace_reads` traces a
        rule's, and its key per row of the whole audit (`school_id`, `__k`: the key as `_peers`
        compares it), or None when the key is not a column of the entity's own table."""
        reads: dict[str, frozenset[str]] = {}
        keys: dict[str, pl.DataFrame | None] = {}
        probe = self._probe()
        for indicator in self.book.indicators:
            name = indicator.spec.id
            if name not in self.peers or indicator.key is None:
                continue
            if probe is None:
                reads[name] = frozenset(self.dataset.tables)
            else:
                sliced = self._slice(probe)
                recording = _Recording(sliced.tables)
                config = sliced.config
                tables = EntityTables(
                    replace(sliced, tables=recording),
                    self.book.vocabulary,
                    region=config.region,
                    audit_year=config.as_of.year,
                )
                compute_peers([indicator], tables)
                reads[name] = frozenset(recording.read)
            table = self.dataset.tables.get(_RECORD_OF.get(indicator.spec.entity, ""))
            path = indicator.key.path
            keys[name] = (
                _peer_key(table.select("school_id", pl.col(path).alias("__k")))
                if table is not None and path in table.columns and "school_id" in table.columns
                else None
            )
        return reads, keys

    def _context_of(self, school_id: str, dataset: Dataset, kind: str, frame: pl.DataFrame) -> Precomputed:
        """The context of the school's check with its rows of `kind` replaced by `frame`: a peers
        indicator whose computation reads `kind` is computed again, on the school's corrected rows
        and the rows of every school holding one of the keys its own table now holds (the whole
        audit when its key is not a column of that table); the rest as the audit computed them."""
        context = dict(self.context)
        for name, reads in self._peer_reads.items():
            if kind not in reads:
                continue
            indicator = next(i for i in self.book.indicators if i.spec.id == name)
            keys = self._peer_keys[name]
            if keys is None:
                also = sorted(self.schools() - {school_id})
            else:
                assert indicator.key is not None
                own = dataset.tables[_RECORD_OF[indicator.spec.entity]]
                held = _peer_key(own.select("school_id", pl.col(indicator.key.path).alias("__k")))["__k"]
                also = sorted(
                    set(
                        keys.filter((pl.col("school_id") != school_id) & pl.col("__k").is_in(held.to_list()))[
                            "school_id"
                        ]
                    )
                )
            if not also:
                del context[name]  # computed on the check's own tables, as any of the school's indicators
                continue
            source = dataset.sources[-1] if len(dataset.sources) > len(self.dataset.sources) else None
            wider = self._slice(school_id, (kind, frame), source, also)
            config = wider.config
            tables = EntityTables(wider, self.book.vocabulary, region=config.region, audit_year=config.as_of.year)
            context.update(compute_peers([indicator], tables))
        return context

    def _verdicts(
        self,
        dataset: Dataset,
        rules: list[CompiledRule] | None = None,
        indicators: list[CompiledIndicator] | None = None,
        evaluator: DurableEvaluator | None = None,
        *,
        known: Mapping[str, _Computed] | None = None,
        record: dict[str, _Computed] | None = None,
        context: Precomputed | None = None,
    ) -> dict[str, Verdict]:
        """The verdicts of `rules` (all school-level rules by default, with their indicators and the
        evaluator registered with exactly those rules) on `dataset`, the indicators computed by
        `_compute` (with `known` and `record`), in `context` (the audit's by default)."""
        if rules is None:
            rules, indicators, evaluator = self.rules, self.indicators, self.evaluator
        if not rules:
            return {}
        assert evaluator is not None  # registered with `rules` whenever there are any
        self._round += 1
        config = dataset.config
        tables = _Tables(dataset, self.book.vocabulary, region=config.region, audit_year=config.as_of.year)
        self._compute(indicators or [], tables, known, record, context)
        result: dict[str, Verdict] = {}
        for rule, entity_id, verdict in _judge(rules, tables, evaluator, f"sc{self._round}", self._judged):
            fid = finding_id(rule.id, rule.spec.applies_to, entity_id)
            result[fid] = Verdict(fid, rule.id, rule.spec.title, rule.spec.applies_to, entity_id, verdict)
        return result

    def _compute(
        self,
        indicators: Sequence[CompiledIndicator],
        tables: _Tables,
        known: Mapping[str, _Computed] | None = None,
        record: dict[str, _Computed] | None = None,
        context: Precomputed | None = None,
    ) -> None:
        """`compute_indicators` on `tables`, one indicator at a time. An indicator in `known` (the
        school's, as computed before the correction) whose reads give now what they gave then (the
        same frames, to the dtype) is not computed again: its columns and trace are taken from
        there, as its computation would make them again from the same reads. Into `record` go what
        each indicator that can be so replayed read and made."""
        for indicator in indicators:
            name = indicator.spec.id
            computed = known.get(name) if known is not None else None
            if computed is not None:
                made: dict[Read, pl.DataFrame] = {}
                for what, then in computed.reads:
                    now = made[what] = tables.read(what)
                    if now.schema != then.schema or not now.equals(then):
                        break
                else:
                    for kind, columns in computed.added:
                        tables.add_indicator(kind, columns)
                    tables.traces[name] = computed.trace
                    continue
                tables.preset = made  # the reads up to the first that differs are not made twice
            replayable = (
                record is not None
                and name not in self.context
                and indicator.spec.kind in _REPLAYABLE
                and indicator.entered is None
            )
            tables.reads, tables.added = ([] if replayable else None), []
            compute_indicators([indicator], tables, precomputed=self.context if context is None else context)
            if record is not None and tables.reads is not None:
                record[name] = _Computed(tuple(tables.reads), tuple(tables.added), tables.traces[name])
            tables.reads, tables.preset = None, {}

    def _school(self, school_id: str) -> tuple[dict[str, Verdict], dict[str, _Computed]]:
        """The school's verdicts and recorded indicators before a correction, kept for the last
        SCHOOLS_KEPT schools checked."""
        kept = self._kept.get(school_id)
        if kept is None:
            memo: dict[str, _Computed] = {}
            kept = self._kept[school_id] = (self._verdicts(self._slice(school_id), record=memo), memo)
            while len(self._kept) > SCHOOLS_KEPT:
                self._kept.popitem(last=False)
        self._kept.move_to_end(school_id)
        return kept

    def before(self, school_id: str) -> dict[str, Verdict]:
        return self._school(school_id)[0]

    def after(
        self, school_id: str, kind: str, frame: pl.DataFrame, source: str, *, full: bool = False
    ) -> dict[str, Verdict]:
        """The school's verdicts with its rows of `kind` replaced by `frame`: the rules that read
        `kind` re-evaluated (all of them when `kind` is one the engine did not trace), the others'
        verdicts as before, and the indicators not computed again whose reads are as before; with
        `full`, every rule re-evaluated and every indicator computed."""
        dataset = self._slice(school_id, (kind, frame), source)
        context = self._context_of(school_id, dataset, kind, frame)
        if full:
            return self._verdicts(dataset, context=context)
        before, known = self._school(school_id)
        partial = self._partial.get(kind)
        if partial is None:
            return self._verdicts(dataset, known=known, context=context)
        rules, indicators, evaluator = partial
        changed = {rule.id for rule in rules}
        kept = {fid: v for fid, v in before.items() if v.rule_id not in changed}
        return kept | self._verdicts(dataset, rules, indicators, evaluator, known=known, context=context)

    def check(self, school_id: str, path: Path) -> CheckResult:
        """Validate the corrected table at `path` (alone in its folder) and re-evaluate the school with it."""
        before = self.before(school_id)
        started = time.perf_counter()
        kind, frame, problems, read = load_table(
            path, self.dataset.tables, len(self.dataset.sources), self.dataset.config.limits
        )
        result = CheckResult(school_id, kind, read, 0, problems)
        if not kind:
            return result
        if "school_id" in frame.columns and frame.height:
            others = frame.filter(pl.col("school_id") != school_id)
            for row, other in zip(others["__row"].to_list(), others["school_id"].to_list()):
                problems.append(
                    Problem(
                        path.name,
                        int(row),
                        "学校代码",
                        "other_school",
                        f"学校代码“{other}”不是本校（{school_id}）：自查只能提交本校的数据",
                    )
                )
            frame = frame.filter(pl.col("school_id") == school_id)
        if kind == "schools" and frame.height != 1:
            problems.append(Problem(path.name, 0, "", "school_row", "学校表应只有本校一行"))
            return result
        result.rows_loaded = frame.height
        after = self.after(school_id, kind, frame, path.name)
        result.seconds = time.perf_counter() - started
        for fid in sorted(set(before) | set(after)):
            was, now = before.get(fid), after.get(fid)
            if was is not None and was.verdict == "fail" and (now is None or now.verdict != "fail"):
                (result.gaps if now is not None and now.verdict == "gap" else result.closes).append(now or was)
            elif now is not None and now.verdict == "fail":
                (result.remains if was is not None and was.verdict == "fail" else result.opens).append(now)
        result.problems = sorted(problems)
        return result


Rows = tuple[list[str], dict[str, tuple[int, pl.DataType]], list[tuple[Any, ...]]]
Judged = dict[tuple[str, tuple[pl.DataType, ...]], dict[tuple[Any, ...], str | None]]
SCHOOLS_KEPT = 256
_JUDGED_PER_RULE = 100_000  # combinations remembered per rule (and column types)


def _entity_rows(tables: EntityTables, kind: str, paths: list[str]) -> Rows:
    """The entities of `kind` (ids, in base order) with the values of `paths`, as Python rows,
    and each column's position and type: the frame `evaluate` builds per rule, built once for
    all of a kind's rules."""
    frame = tables.frame(kind, paths)
    columns = {name: (n, dtype) for n, (name, dtype) in enumerate(frame.schema.items())}
    return frame[ID].to_list(), columns, frame.rows()


def _judge(
    rules: Sequence[CompiledRule], tables: EntityTables, evaluator: DurableEvaluator, label: str, judged: Judged
) -> list[tuple[CompiledRule, str, str]]:
    """(rule, entity id, verdict) of every entity in scope of `rules` on `tables`, as
    `engine.evaluate` decides them (the same facts, one per distinct combination of what a rule
    reads, on `evaluator`, registered with `engine_rules(rules)`), for a school's few rows: each
    kind's entities are read once with every path its rules read, and combinations are found in
    Python rather than by a polars projection, deduplication and join per rule (each costs more
    on a one-school frame than the engine does).

    A kind whose frame of every path would not have one row per entity (a relation with a
    repeated key) is read rule by rule, as `evaluate` reads it.

    A fact's verdict depends on nothing but the fact: `judged` keeps the verdict of each
    combination a rule has been judged on (with the types of its columns), and only the
    combinations not found there go to the engine (a correction changes a few rows)."""
    paths_of: dict[str, list[str]] = {}
    projections = [Projection(rule.reads, rule.presence) for rule in rules]
    for rule, projection in zip(rules, projections):
        paths_of.setdefault(rule.spec.applies_to, []).extend(projection.paths)
    read: dict[str, Rows] = {}
    for kind, paths in paths_of.items():
        ids, columns, rows = _entity_rows(tables, kind, paths)
        if len(ids) == tables.base(kind).height:
            read[kind] = ids, columns, rows
    facts: list[Fact] = []
    entity_combos: list[
        tuple[list[str], list[tuple[Any, ...]], list[tuple[Any, ...]], dict[tuple[Any, ...], str | None]]
    ] = []
    for index, (rule, projection) in enumerate(zip(rules, projections)):
        kind = rule.spec.applies_to
        ids, columns, rows = read.get(kind) or _entity_rows(tables, kind, projection.paths)
        valued = [columns[info.path][0] for info in projection.valued]
        present = [columns[info.path][0] for info in projection.present]
        known = judged.setdefault((rule.id, tuple(columns[path][1] for path in projection.paths)), {})
        keys = [(*(row[n] for n in valued), *(row[n] is not None for n in present)) for row in rows]
        new = [key for key in dict.fromkeys(keys) if key not in known]
        entity_combos.append((ids, keys, new, known))
        for number, combo in enumerate(new):
            exact = exact_fact(projection, combo)
            facts.append((f"r{index}", str(number), engine_fact(projection, combo, exact, rule.atoms)))
    matched = match_facts(evaluator, label, facts)
    result: list[tuple[CompiledRule, str, str]] = []
    for index, (rule, (ids, keys, new, known)) in enumerate(zip(rules, entity_combos)):
        verdicts = {key: decide(matched.get((index, number), set())) for number, key in enumerate(new)}
        if len(known) < _JUDGED_PER_RULE:
            known.update(verdicts)
        for entity_id, key in zip(ids, keys):
            verdict = verdicts[key] if key in verdicts else known[key]
            if verdict is not None:
                result.append((rule, entity_id, verdict))
    return result


def _peer_key(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` (`school_id`, `__k`) without the rows that have no key, each key as `_peers` compares
    it: as text, through `text_key`."""
    keys = frame.filter(pl.col("__k").is_not_null()).with_columns(pl.col("__k").cast(pl.String))
    if keys.is_empty():
        return keys
    mapping = {key: text_key(key) for key in keys["__k"].unique().to_list()}
    return keys.with_columns(pl.col("__k").replace_strict(mapping, return_dtype=pl.String))
