"""Findings: what fired, on what, against which threshold, because of which input rows.

A finding is immutable and self-describing: an auditor can read its rule, the clause it rests
on, the values observed, the threshold and the rows of the input files behind it without the
rule pack at hand. Its id depends only on the rule and the entity, so the same problem keeps
the same id from one audit to the next. Findings are built rule by rule from the engine's
verdicts: the failing entities' fields are read column-wise in one frame per rule, and only
their messages are rendered one by one.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import polars as pl

from ..engine.evaluate import RuleOutcome
from ..engine.facts import exact_value
from ..engine.indicators import Trace
from ..engine.tables import ID, REF, SCHOOL, SMALL_FRAME, EntityTables, ref_of
from ..numbers import Exact, Interval, Surd, decode
from ..records.loader import Dataset
from ..records.schema import RECORD_KINDS
from ..rules.compiler import CompiledRule, RuleBook
from ..rules.spec import LEVEL_OF_ENTITY, NO_TARGET, SEVERITY_ORDER
from ..rules.templates import COMPARED, Num, params_context, render, template_context, template_paths
from ..rules.typed import Lookup, Present, fields_of, nodes
from ..rules.vocabulary import AREA_KINDS, EntityVocabulary, FieldInfo
from .display import display, exact_text, json_number, json_value, progress_reading
from .model import DataGap, Evidence, Finding, IndicatorResult, Observed, ProgressReading, Rectification, Threshold

_CONTEXT_NAMES = frozenset({"params", "as_of", "target_year", "observed", "threshold"})  # not entity fields
_TRACE_ROLES = frozenset({"denominator", "numerator", "counted", "peer", "input"})  # rows cited without their values
EVIDENCE_INLINE = 200  # rows of one role kept inline in findings.json; all of them are in evidence.csv


def finding_id(rule_id: str, entity_type: str, entity_id: str) -> str:
    """Stable across audits: the same rule firing on the same entity gets the same id."""
    digest = hashlib.sha256(f"{rule_id}\0{entity_type}\0{entity_id}".encode()).hexdigest()
    return f"F-{digest[:16]}"


def sort_key(finding: Finding) -> tuple[Any, ...]:
    return (
        finding.county,
        finding.school_id or "",
        SEVERITY_ORDER[finding.severity],
        finding.rule_id,
        finding.entity_id,
    )


class RowValues:
    """The values of input rows by packed reference, read from the loaded tables on demand."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.kinds = {info.source: info.kind for info in dataset.inputs}
        self._cache: dict[int, dict[str, Any]] = {}

    def load(self, refs: Iterable[int]) -> None:
        wanted: dict[str, set[int]] = {}
        for ref in refs:
            if ref not in self._cache:
                source = self.dataset.sources[ref >> 32]
                wanted.setdefault(self.kinds.get(source, ""), set()).add(ref)
        for kind, packed in wanted.items():
            if kind not in self.dataset.tables:
                continue
            table = self.dataset.tables[kind]
            keys = pl.DataFrame({"__ref": sorted(packed)}, schema={"__ref": pl.Int64})
            rows = table.with_columns(
                (pl.col("__src").cast(pl.Int64) * (1 << 32) + pl.col("__row")).alias("__ref")
            ).join(keys, on="__ref", how="semi")
            shown = [(name, self._converter(kind, name)) for name in rows.columns if not name.startswith("__")]
            for ref, cells in zip(rows["__ref"], rows.select(name for name, _ in shown).iter_rows()):
                self._cache[ref] = {
                    name: convert(value) for (name, convert), value in zip(shown, cells) if value is not None
                }

    def _converter(self, kind: str, name: str) -> Callable[[Any], Any]:
        """How a column's cells are shown in findings.json: a number at its column's scale exactly,
        anything else as JSON has it."""
        column = RECORD_KINDS[kind].by_name.get(name)
        extra = self.dataset.extra_columns.get(kind, {}).get(name)
        if column is not None and column.type in ("int", "decimal", "rate"):
            return _scaled(column.scale)
        if column is None and extra is not None and extra.numeric:
            return _scaled(10**extra.places)
        return _as_json

    def get(self, ref: int) -> dict[str, Any] | None:
        return self._cache.get(ref)


def _as_json(value: Any) -> Any:
    return json_value(None, value)


@functools.cache
def _scaled(scale: int) -> Callable[[Any], Any]:
    """A cell holding a number in 1/`scale` units as findings.json shows it."""
    info = FieldInfo("", "", "number", False, "record", scale=scale)
    return lambda raw: json_number(exact_value(info, raw))


def _sources(rule: CompiledRule) -> tuple[set[str], frozenset[str]]:
    """The relation prefixes (rows cited as evidence) and the entity's own indicators (their traces
    cited) that a rule's scope and condition read."""
    prefixes: set[str] = set()
    indicators: set[str] = set()
    for cond in (rule.scope, rule.condition):
        for node in nodes(cond) if cond is not None else ():
            info = getattr(node.field if isinstance(node, Present) else node, "info", None)
            if info is None:
                continue
            if info.indicator and not info.relation:
                indicators.add(info.indicator)
            elif info.origin == "derived" and not info.relation:
                indicators.add(info.path)  # a derived field's rows, where it keeps them (EntityTables.traces)
            else:
                prefixes.add(info.relation)
    return prefixes, frozenset(indicators)


def _typed(values: Mapping[str, Any], paths: Sequence[str]) -> tuple[tuple[type, Any], ...]:
    """The values at `paths` with their types, as a key: 1 and True, 5 and Fraction(5) are told apart."""
    return tuple((type(value), value) for value in (values.get(path) for path in paths))


@dataclass
class _Plan:
    """A rule's findings' needs, worked out once: fields to fetch, rows to cite, numbers to keep
    apart when shown, and each template's rendered texts by the values it reads."""

    vocab: EntityVocabulary
    paths: list[str]
    prefixes: set[str]
    indicators: frozenset[str]
    numeric: tuple[str, ...]
    keys: dict[str, tuple[str, ...]]
    params: dict[str, Any]
    rendered: dict[tuple[Any, ...], str]
    fields: dict[str, Any]  # the rule's own fields of each finding (`_rule_fields`)
    deadline: str
    reading: ProgressReading | None
    observed_paths: tuple[str, ...]  # the fields its observed values are made from
    lookup_paths: tuple[str, ...]  # the fields its thresholds are looked up by
    # a province's 6,484 observed values were 199 distinct, its 3,125 thresholds 10: each made once
    # (the models are frozen, so findings share them), by the values they are made from
    observed: dict[tuple[Any, ...], list[Observed]] = field(default_factory=dict)
    thresholds: dict[tuple[Any, ...], list[Threshold]] = field(default_factory=dict)


class FindingBuilder:
    """Turns engine outcomes into findings, data gaps and indicator results, with evidence."""

    def __init__(self, book: RuleBook, tables: EntityTables, dataset: Dataset) -> None:
        self.book = book
        self.tables = tables
        self.dataset = dataset
        self.rows = RowValues(dataset)
        self.school_names = dict(
            zip(dataset.tables["schools"]["school_id"].to_list(), dataset.tables["schools"]["name"].to_list())
        )
        self.school_townships = dict(
            zip(dataset.tables["schools"]["school_id"].to_list(), dataset.tables["schools"]["township"].to_list())
        )
        self._plans: dict[str, _Plan] = {}

    def _plan(self, rule: CompiledRule) -> _Plan:
        """What every finding of `rule` needs, worked out once per rule."""
        plan = self._plans.get(rule.id)
        if plan is None:
            vocab = self.book.vocabulary[rule.spec.applies_to]
            prefixes, indicators = _sources(rule)
            paths = self._paths(rule, vocab, prefixes)
            numeric = tuple(f.path for f in fields_of(rule.condition) if f.type == "number")
            keys = {}
            for name, source in (
                ("message", rule.spec.message),
                ("action", rule.spec.rectification.action),
                ("responsible", rule.spec.rectification.responsible),
            ):
                read = template_paths(source)
                derived = any(p.split(".", 1)[0] in ("observed", "threshold") for p in read)
                keys[name] = tuple(p for p in paths if derived or any(p == r or p.startswith(r + ".") for r in read))
            plan = self._plans[rule.id] = _Plan(
                vocab,
                paths,
                prefixes,
                indicators,
                numeric,
                keys,
                params_context(rule.pack_params),
                {},
                self._rule_fields(rule),
                (self.book.as_of + dt.timedelta(days=rule.spec.rectification.deadline_days)).isoformat(),
                self._reading(rule),
                tuple(
                    path
                    for info in rule.observed
                    for path in (info.path, f"{info.path}.numerator", f"{info.path}.denominator")
                ),
                tuple(lookup.key.path for lookup in rule.lookup_of.values()),
            )
        return plan

    # -- reading the failing entities --------------------------------------------------------------

    def _paths(self, rule: CompiledRule, vocab: EntityVocabulary, prefixes: set[str]) -> list[str]:
        """Every field a finding of `rule` shows: observed fields, what its templates read, lookup
        keys, and the rows its evidence cites."""
        paths: dict[str, None] = {}
        for info in rule.observed:
            paths[info.path] = None
            for part in ("numerator", "denominator"):
                if f"{info.path}.{part}" in vocab.fields:
                    paths[f"{info.path}.{part}"] = None
        for name in rule.template_paths:
            if name in vocab.fields:
                paths[name] = None
                if vocab.fields[name].indicator:  # a share's parts travel with it (`share.denominator`)
                    paths.update((p, None) for p in (f"{name}.numerator", f"{name}.denominator") if p in vocab.fields)
            elif name.split(".", 1)[0] not in _CONTEXT_NAMES:
                prefix = name + "."
                paths.update((p, None) for p in vocab.fields if p.startswith(prefix) and "__" not in p)
        for lookup in rule.lookups:
            paths[lookup.key.path] = None
        for prefix in prefixes:
            if prefix:
                paths[f"{prefix}.__ref"] = None
        row_path = self.tables.row_path(rule.spec.applies_to)
        if row_path and row_path != REF:
            paths[row_path] = None
        return list(paths)

    def _entities(
        self, rule: CompiledRule, ids: Sequence[str], frame: pl.DataFrame | None = None
    ) -> list[dict[str, Any]]:
        """The entities `ids` of the rule's kind with the plan's paths, read from `frame` when given
        (every entity of the kind, with those paths)."""
        plan = self._plan(rule)
        vocab, paths = plan.vocab, plan.paths
        if frame is None:
            frame = self.tables.frame(rule.spec.applies_to, paths)
        wanted = set(ids)
        if frame.height > SMALL_FRAME:  # else picked in Python, not by a query
            frame = frame.filter(pl.col(ID).is_in(pl.Series(ids, dtype=pl.String).implode()))
        entities = []
        for row in frame.iter_rows(named=True):
            if row[ID] not in wanted:
                continue
            values = {}
            for path in paths:
                info = vocab.fields.get(path)
                if info is not None and row.get(path) is not None:
                    values[path] = exact_value(info, row[path])
            entities.append({"row": row, "values": values})
        return sorted(entities, key=lambda e: e["row"][ID])

    # -- parts of a finding ----------------------------------------------------------------------

    def _thresholds(self, rule: CompiledRule, values: Mapping[str, Any]) -> list[Threshold]:
        result: list[Threshold] = []
        for name, value in rule.params.items():
            spec = rule.param_specs[name]
            lookup: Lookup | None = rule.lookup_of.get(name)
            if lookup is not None and isinstance(value, dict):
                key = values.get(lookup.key.path)
                if key is not None and key in value:
                    shown = (lookup.key.info.enum or {}).get(key, key)
                    result.append(
                        Threshold(
                            param=f"{name}[{key}]",
                            label=f"{spec.title}（{shown}）",
                            value=json_number(value[key]),
                            unit=spec.unit or "",
                            exact=exact_text(value[key]),
                        )
                    )
                    continue
            shown_value = None if value is NO_TARGET else value
            result.append(
                Threshold(
                    param=name,
                    label=spec.title,
                    value=_param_json(shown_value),
                    unit=spec.unit or "",
                    exact=exact_text(shown_value),
                )
            )
        return result

    def _threshold_values(self, rule: CompiledRule, values: Mapping[str, Any]) -> tuple[Exact, ...]:
        """The numbers an observed value is read against: the thresholds, and the values of the
        other numeric fields of the condition (`pay < prev.pay`): none may look equal when shown."""
        plan = self._plan(rule)
        found: list[Exact] = [
            values[path] for path in plan.numeric if path in values and not isinstance(values[path], Interval)
        ]
        for name, value in rule.params.items():
            if isinstance(value, dict) and name in rule.lookup_of:
                value = value.get(values.get(rule.lookup_of[name].key.path))
            if isinstance(value, (int, Fraction, Surd)) and not isinstance(value, bool):
                found.append(value)
        return tuple(found)

    def _observed(
        self, rule: CompiledRule, vocab: EntityVocabulary, values: Mapping[str, Any], thresholds: Sequence[Exact]
    ) -> list[Observed]:
        result: list[Observed] = []
        for info in rule.observed:
            value = values.get(info.path)
            result.append(
                Observed(
                    field=info.path,
                    label=info.label,
                    value=json_value(info, value),
                    text=display(info, value, thresholds),
                    exact=exact_text(value),
                )
            )
            for part in ("numerator", "denominator"):
                part_info = vocab.fields.get(f"{info.path}.{part}")
                if part_info is not None and part_info.origin == info.origin:
                    part_value = values.get(part_info.path)
                    result.append(
                        Observed(
                            field=part_info.path,
                            label=part_info.label,
                            value=json_value(part_info, part_value),
                            text=display(part_info, part_value),
                            exact=exact_text(part_value),
                        )
                    )
        return result

    def _trace_rows(self, indicator: str, entity_id: str, school_id: str | None) -> list[tuple[int, str]]:
        trace: Trace | None = self.tables.traces.get(indicator)
        if trace is None:
            return []
        row = _trace_row(trace, entity_id)
        if row is None:
            return []
        numerator = set(row.get("numerator_rows") or ())
        rows = [(ref, "numerator" if ref in numerator else trace.role) for ref in row.get("rows") or ()]
        for source, relation in trace.inputs:
            owner = school_id if relation == "school" else entity_id
            if owner is not None:
                owner_school = owner if relation == "school" else school_id
                rows.extend((ref, trace.role) for ref, _ in self._trace_rows(source, owner, owner_school))
        return rows

    def _evidence(self, rule: CompiledRule, entity: Mapping[str, Any]) -> list[tuple[int, str, dict[str, Any] | None]]:
        """The rows a finding rests on, as (packed row, role, values shown instead of the row's)."""
        row = entity["row"]
        kind = rule.spec.applies_to
        own = row.get(REF)
        items: list[tuple[int, str, dict[str, Any] | None]] = []
        if own is not None:
            items.append((own, "record", None))
        plan = self._plan(rule)
        for prefix in sorted(plan.prefixes - {""}):
            ref = row.get(f"{prefix}.__ref")
            if ref is not None:
                items.append((ref, prefix, None))
        indicators = set(plan.indicators)
        if kind == "county_metric":
            metric = row[ID].rsplit("/", 1)[-1]
            indicators.add(metric)
        seen = {ref for ref, _, _ in items}
        for indicator in sorted(indicators):
            trace = self.tables.traces.get(indicator)
            if trace is None:
                continue
            if trace.role == "contributing":
                trace_row = _trace_row(trace, row[ID])
                if trace_row is None:
                    continue
                for ref, item in zip(trace_row.get("rows") or (), trace_row.get("contributions") or ()):
                    items.append(
                        (
                            ref,
                            trace.role,
                            {
                                "school_id": item["school_id"],
                                "name": item["name"],
                                "value": json_number(_decode(item["value"])),
                                "weight": json_number(_decode(item["weight"])),
                            },
                        )
                    )
                continue
            unique: dict[int, str] = {}
            for ref, role in self._trace_rows(indicator, row[ID], row.get(SCHOOL)):
                if ref not in seen:
                    unique.setdefault(ref, role)
            items.extend((ref, role, None) for ref, role in sorted(unique.items()))
            seen |= set(unique)
        return items

    def _cut(
        self, items: list[tuple[int, str, dict[str, Any] | None]]
    ) -> tuple[list[tuple[int, str, dict[str, Any] | None]], dict[str, int] | None]:
        """The first rows of each role (all are kept for evidence.csv), and the counts when cut."""
        counts = Counter(role for _, role, _ in items)
        kept: list[tuple[int, str, dict[str, Any] | None]] = []
        taken: Counter[str] = Counter()
        for item in items:
            if taken[item[1]] < EVIDENCE_INLINE:
                kept.append(item)
                taken[item[1]] += 1
        return kept, (dict(sorted(counts.items())) if len(kept) < len(items) else None)

    def _objects(self, kept: Sequence[tuple[int, str, dict[str, Any] | None]]) -> list[Evidence]:
        evidence = []
        for ref, role, values in kept:
            where = ref_of(ref, self.dataset.sources)
            if values is None and role not in _TRACE_ROLES:
                values = self.rows.get(ref)
            evidence.append(Evidence(file=where.file, row=where.row, role=role, values=values))
        return evidence

    # -- findings --------------------------------------------------------------------------------

    def _context(
        self,
        rule: CompiledRule,
        vocab: EntityVocabulary,
        values: Mapping[str, Any],
        observed: Sequence[Observed],
        thresholds: Sequence[Threshold],
        threshold_values: Sequence[Exact],
    ) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for path, value in values.items():
            info = vocab.fields.get(path)
            if info is not None and info.type == "number":
                shown[path] = Num(value, decimals=info.decimals, percent=info.percent)
            elif info is None or info.type == "bool":
                shown[path] = value
            else:
                shown[path] = display(info, value)
        threshold = [
            {"param": t.param, "label": t.label, "value": v, "unit": t.unit}
            for t, v in zip(thresholds, _threshold_raw(rule, values))
        ]

        context = template_context(
            shown,
            self._plan(rule).params,
            self.book.as_of,
            target_year=self.book.target_year,
            target_label=rule.target_label(self.book.reading),
            observed=[
                {"field": o.field, "label": o.label, "value": values.get(o.field), "text": o.text} for o in observed
            ],
            threshold=threshold,
        )
        context[COMPARED] = threshold_values
        return context

    def build(self, outcomes: Mapping[str, RuleOutcome]) -> tuple[list[Finding], list[DataGap]]:
        """Findings and data gaps of every rule; every evidence row is also kept in
        `evidence_index` (finding id, packed row, role) for evidence.csv."""
        self.evidence_index: list[tuple[str, int, str]] = []
        pending: list[
            tuple[
                str, CompiledRule, dict[str, Any], list[tuple[int, str, dict[str, Any] | None]], dict[str, int] | None
            ]
        ] = []
        gaps: list[DataGap] = []
        frames = self._frames(
            (
                rule,
                ((("failed", self._plan(rule).paths),) if outcome.failed else ())
                + ((("gaps", self._gap_paths(rule)),) if outcome.gaps else ()),
            )
            for rule in self.book.rules
            if (outcome := outcomes.get(rule.id)) is not None
        )
        for rule in self.book.rules:
            outcome = outcomes.get(rule.id)
            if outcome is None:
                continue
            failed = sorted(outcome.failed)
            for entity in self._entities(rule, failed, frames[rule.id, "failed"]) if failed else ():
                items = self._evidence(rule, entity)
                fid = finding_id(rule.id, rule.spec.applies_to, entity["row"][ID])
                self.evidence_index.extend((fid, ref, role) for ref, role, _ in items)
                kept, counts = self._cut(items)
                pending.append((fid, rule, entity, kept, counts))
            if outcome.gaps:
                gaps.extend(self._gaps(rule, sorted(outcome.gaps), frames[rule.id, "gaps"]))
        self.rows.load(
            ref
            for _, _, _, kept, _ in pending
            for ref, role, values in kept
            if values is None and role not in _TRACE_ROLES
        )
        findings = [self._finding(*item) for item in pending]
        findings.sort(key=sort_key)
        gaps.sort(key=lambda g: (g.county, g.school_id or "", g.rule_id, g.entity_id))
        return findings, gaps

    def _frames(
        self, wanted: Iterable[tuple[CompiledRule, Iterable[tuple[str, list[str]]]]]
    ) -> dict[tuple[str, str], pl.DataFrame]:
        """The entity frames read for each rule (by rule id and purpose, with their paths): those
        of one kind joined once (`EntityTables.frames`)."""
        by_kind: dict[str, list[tuple[tuple[str, str], list[str]]]] = {}
        for rule, purposes in wanted:
            for purpose, paths in purposes:
                by_kind.setdefault(rule.spec.applies_to, []).append(((rule.id, purpose), paths))
        frames: dict[tuple[str, str], pl.DataFrame] = {}
        for kind, items in by_kind.items():
            frames.update(zip((key for key, _ in items), self.tables.frames(kind, [paths for _, paths in items])))
        return frames

    def _finding(
        self,
        fid: str,
        rule: CompiledRule,
        entity: Mapping[str, Any],
        kept: Sequence[tuple[int, str, dict[str, Any] | None]],
        counts: dict[str, int] | None,
    ) -> Finding:
        vocab = self.book.vocabulary[rule.spec.applies_to]
        row, values = entity["row"], entity["values"]
        threshold_values = self._threshold_values(rule, values)
        plan = self._plan(rule)
        observed_key = (threshold_values, *_typed(values, plan.observed_paths))
        observed = plan.observed.get(observed_key)
        if observed is None:
            observed = plan.observed[observed_key] = self._observed(rule, vocab, values, threshold_values)
        thresholds_key = _typed(values, plan.lookup_paths)
        thresholds = plan.thresholds.get(thresholds_key)
        if thresholds is None:
            thresholds = plan.thresholds[thresholds_key] = self._thresholds(rule, values)
        rendered: dict[str, str] = {}
        context: dict[str, Any] | None = None
        for name, template in (("message", rule.message), ("action", rule.action), ("responsible", rule.responsible)):
            key = (name, *(values.get(p) for p in plan.keys[name]))
            text = plan.rendered.get(key)
            if text is None:
                if context is None:
                    context = self._context(rule, vocab, values, observed, thresholds, threshold_values)
                text = plan.rendered[key] = render(template, context)  # type: ignore[arg-type]
            rendered[name] = text
        school_id = row.get(SCHOOL)
        if plan.reading is not None:
            rendered["message"] += f"（{plan.reading.text}）"
        return Finding(
            id=fid,
            entity_id=row[ID],
            school_id=school_id,
            school_name=self.school_names.get(school_id) if school_id else None,
            county=row["__county"],
            township=self.school_townships.get(school_id) if school_id else None,
            message=rendered["message"],
            observed=observed,
            threshold=thresholds,
            evidence=self._objects(kept),
            evidence_count=counts,
            rectification=Rectification(
                action=rendered["action"], responsible=rendered["responsible"], deadline=plan.deadline
            ),
            reading=plan.reading,
            **plan.fields,
        )

    def _rule_fields(self, rule: CompiledRule) -> dict[str, Any]:
        """What every finding of `rule` says about the rule (its spec and pack), as `Finding` fields."""
        spec = rule.spec
        return {
            "rule_id": rule.id,
            "rule_version": spec.version,
            "rule_title": spec.title,
            "pack": rule.pack.id,
            "pack_version": rule.pack.version,
            "family": spec.family,
            "severity": rule.severity,
            "binding": spec.binding,
            "level": LEVEL_OF_ENTITY[spec.applies_to],
            "entity_type": spec.applies_to,
            "scope": " ".join(spec.scope.split()) if spec.scope else None,
            "condition": " ".join(spec.condition.split()),
            "basis": spec.basis.model_dump(exclude_none=True),
        }

    @staticmethod
    def _reading(rule: CompiledRule) -> ProgressReading | None:
        """How the rule's target was read as progress, if it was (the first such param)."""
        if not rule.progress:
            return None
        progress = rule.progress[0]
        return progress_reading(progress, rule.param_specs[progress.param].unit)

    def trails(
        self, rule: CompiledRule, ids: Sequence[str]
    ) -> dict[str, tuple[list[Observed], list[Threshold], list[Evidence]]]:
        """What a re-inspection shows for entities that now pass: observed values, thresholds, rows."""
        vocab = self.book.vocabulary[rule.spec.applies_to]
        result = {}
        for entity in self._entities(rule, ids):
            values = entity["values"]
            threshold_values = self._threshold_values(rule, values)
            kept, _counts = self._cut(self._evidence(rule, entity))
            self.rows.load(ref for ref, role, values in kept if values is None and role not in _TRACE_ROLES)
            result[entity["row"][ID]] = (
                self._observed(rule, vocab, values, threshold_values),
                self._thresholds(rule, values),
                self._objects(kept),
            )
        return result

    @staticmethod
    def _gap_paths(rule: CompiledRule) -> list[str]:
        return [f.path for f in fields_of(rule.condition)] + [lookup.key.path for lookup in rule.lookups]

    def _gaps(self, rule: CompiledRule, ids: Sequence[str], frame: pl.DataFrame) -> list[DataGap]:
        """The data gaps of entities `ids` of `frame` (every entity of the rule's kind, with `_gap_paths`)."""
        condition_fields = [f.info for f in fields_of(rule.condition)]
        frame = frame.filter(pl.col(ID).is_in(pl.Series(ids, dtype=pl.String).implode())).sort(ID)
        own_refs = [r for r in frame[REF].to_list() if r is not None]
        self.rows.load(own_refs)
        result = []
        for row in frame.iter_rows(named=True):
            missing: list[str] = []
            for info in condition_fields:
                raw = row.get(info.path)
                if raw is not None:
                    value = exact_value(info, raw)
                    if isinstance(value, Interval):  # present but bounded only: the blanks decide it
                        trace = self.tables.traces.get(info.indicator or "") if not info.relation else None
                        trace_row = _trace_row(trace, row[ID]) if trace is not None else None
                        whys = "；".join(trace_row.get("missing") or ()) if trace_row else ""
                        missing.append(
                            f"{info.label}只能确定在 {display(info, value)} 之间" + (f"（{whys}）" if whys else "")
                        )
                    continue
                trace = self.tables.traces.get(info.indicator or "") if not info.relation else None
                if rule.spec.applies_to == "county_metric" and trace is None:
                    trace = self.tables.traces.get(row[ID].rsplit("/", 1)[-1])
                trace_row = _trace_row(trace, row[ID]) if trace is not None else None
                reasons = list(trace_row.get("missing") or ()) if trace_row else []
                if reasons:
                    missing.extend(f"{info.label}：{why}" for why in reasons)
                else:
                    missing.append(info.label)
            for lookup in rule.lookups:
                key = row.get(lookup.key.path)
                if key is not None and key not in dict(lookup.table):
                    missing.append(f"{lookup.key.info.label}“{key}”不在参数 {lookup.param} 中")
            own = row.get(REF)
            evidence = []
            if own is not None:
                where = ref_of(own, self.dataset.sources)
                evidence.append(Evidence(file=where.file, row=where.row, role="record", values=self.rows.get(own)))
            result.append(
                DataGap(
                    rule_id=rule.id,
                    level=LEVEL_OF_ENTITY[rule.spec.applies_to],
                    entity_type=rule.spec.applies_to,
                    entity_id=row[ID],
                    school_id=row.get(SCHOOL),
                    county=row["__county"],
                    missing=missing,
                    evidence=evidence,
                )
            )
        return result

    def indicators(self, outcomes: Mapping[str, RuleOutcome]) -> list[IndicatorResult]:
        """Every area a county-level (or wider) rule evaluated, with its values and threshold."""
        results: list[IndicatorResult] = []
        frames = self._frames(
            (rule, (("indicators", self._plan(rule).paths),))
            for rule in self.book.rules
            if rule.spec.applies_to in AREA_KINDS
            and (outcome := outcomes.get(rule.id)) is not None
            and outcome.verdicts.height
        )
        for rule in self.book.rules:
            outcome = outcomes.get(rule.id)
            if rule.spec.applies_to not in AREA_KINDS or outcome is None:
                continue
            if outcome.verdicts.height == 0:
                continue
            verdicts = dict(zip(outcome.verdicts[ID].to_list(), outcome.verdicts["verdict"].to_list()))
            vocab = self.book.vocabulary[rule.spec.applies_to]
            for entity in self._entities(rule, sorted(verdicts), frames[rule.id, "indicators"]):
                row, values = entity["row"], entity["values"]
                verdict = verdicts[row[ID]]
                threshold_values = self._threshold_values(rule, values)
                results.append(
                    IndicatorResult(
                        rule_id=rule.id,
                        rule_title=rule.spec.title,
                        severity=rule.severity,
                        binding=rule.spec.binding,
                        level=LEVEL_OF_ENTITY[rule.spec.applies_to],
                        entity_type=rule.spec.applies_to,
                        entity_id=row[ID],
                        county=row["__county"],
                        verdict=verdict,
                        finding_id=finding_id(rule.id, rule.spec.applies_to, row[ID]) if verdict == "fail" else None,
                        observed=self._observed(rule, vocab, values, threshold_values),
                        threshold=self._thresholds(rule, values),
                        reading=self._reading(rule),
                    )
                )
        results.sort(key=lambda r: (r.rule_id, r.county, r.entity_id))
        return results


def _trace_row(trace: Trace, entity_id: str) -> dict[str, Any] | None:
    index = getattr(trace, "_index", None)
    if index is None:
        index = {row[ID]: row for row in trace.frame.iter_rows(named=True)}
        object.__setattr__(trace, "_index", index)
    return index.get(entity_id)


def _decode(text: str) -> Any:
    return decode(text)


def _param_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_number(v) for k, v in value.items()}
    if isinstance(value, list):
        return list(value)
    return json_number(value)


def _threshold_raw(rule: CompiledRule, values: Mapping[str, Any]) -> list[Any]:
    raw: list[Any] = []
    for name, value in rule.params.items():
        lookup = rule.lookup_of.get(name)
        if lookup is not None and isinstance(value, dict):
            key = values.get(lookup.key.path)
            if key in value:
                raw.append(value[key])
                continue
        raw.append(None if value is NO_TARGET else value)
    return raw


def summarize(findings: Iterable[Finding], rules: Sequence[CompiledRule]) -> dict[str, Any]:
    by_rule = {rule.id: 0 for rule in rules}
    by_severity = {severity: 0 for severity in SEVERITY_ORDER}
    by_county: dict[str, int] = {}
    by_family: dict[str, int] = {}
    total = 0
    for finding in findings:
        total += 1
        by_rule[finding.rule_id] = by_rule.get(finding.rule_id, 0) + 1
        by_severity[finding.severity] += 1
        by_county[finding.county] = by_county.get(finding.county, 0) + 1
        by_family[finding.family] = by_family.get(finding.family, 0) + 1
    return {
        "total": total,
        "by_severity": by_severity,
        "by_rule": by_rule,
        "by_family": dict(sorted(by_family.items())),
        "by_county": dict(sorted(by_county.items())),
    }
