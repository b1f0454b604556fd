"""Compiling rule packs for one audit: params resolved, expressions checked, templates verified.

Compilation is where every rule-author mistake surfaces, all at once and located at
`file:line:column`. The result, a `RuleBook`, is engine-neutral: the engine adapter translates
its normal-form formulas, the reference evaluator reads its typed trees.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2

from ..errors import Problem, RulePackError
from ..numbers import exact
from ..records.schema import RECORD_KINDS
from . import syntax
from .normal import FALSE, Lowering, NormalFormError, Operands, Verdicts, disjuncts, verdict_formulas
from .packs import LoadedPack, Located
from .spec import IndicatorSpec, ParamSpec, RuleSpec, Severity
from .targets import FINAL, Progress, Progressed, Reading
from .templates import (
    TemplateProblem,
    as_num,
    check_template,
    compile_template,
    params_context,
    template_context,
    template_paths,
)
from .typed import Cond, Const, Context, Expr, ExprError, Lookup, NoTarget, check, check_formula, fields_of, lookups_of
from .vocabulary import EntityVocabulary, FieldInfo, build_vocabulary


@dataclass(frozen=True)
class PackInfo:
    id: str
    version: str
    title: str
    sha256: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "title": self.title, "sha256": self.sha256}


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to run: its spec, checked expressions, engine formulas and templates."""

    spec: RuleSpec
    pack: PackInfo
    where: str
    scope: Cond | None
    condition: Cond
    verdicts: Verdicts
    observed: tuple[FieldInfo, ...]
    params: Mapping[str, object]
    param_specs: Mapping[str, ParamSpec]
    pack_params: Mapping[str, object]
    requires: tuple[str, ...]
    message: jinja2.Template | None = field(compare=False)
    action: jinja2.Template | None = field(compare=False)
    responsible: jinja2.Template | None = field(compare=False)
    skip: str = ""
    atoms: tuple[Operands, ...] = ()
    reads: tuple[FieldInfo, ...] = ()  # fields whose values the verdict depends on
    presence: tuple[FieldInfo, ...] = ()  # fields only tested for presence (exists(...))
    template_paths: frozenset[str] = frozenset()  # the dotted names its templates read

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def level(self) -> str:
        """The level the rule's target applies to: school, county or city (`RuleSpec.level`)."""
        return self.spec.target_level

    @functools.cached_property
    def progress(self) -> tuple[Progress, ...]:
        """How the thresholds read as progress were derived (none at a milestone)."""
        return tuple(value.progress for value in self.params.values() if isinstance(value, Progressed))

    @functools.cached_property
    def lookups(self) -> tuple[Lookup, ...]:
        """The condition's parameter tables looked up by a field (`lookups_of`), read once: every
        finding's thresholds and gaps ask for them."""
        return tuple(lookups_of(self.condition))

    @functools.cached_property
    def lookup_of(self) -> Mapping[str, Lookup]:
        """`lookups` by the param each looks up (the last, where a param is looked up twice)."""
        return {lookup.param: lookup for lookup in self.lookups}

    @property
    def severity(self) -> Severity:
        """The rule's severity, except that a lag in progress is never more than minor: the binding
        severity belongs to a milestone that is due."""
        return "minor" if self.progress else self.spec.severity

    def target_label(self, reading: Reading) -> str:
        """How messages name the target (`{{ target_label }}`): the milestone its targets are read at
        (2025 for a target 表一 sets for 2025 alone, though the audit is measured against 2022)."""
        progress = self.progress
        if progress:
            return f"按规划进度{progress[0].year}年应达到的水平"
        milestones = {reading.target(name, spec, None)[1] for name, spec in self.param_specs.items() if spec.by_year}
        milestones.discard(None)
        year = milestones.pop() if len(milestones) == 1 else reading.milestone
        return f"规划{year}年{'约束性' if self.spec.binding == '约束性' else ''}目标"


@dataclass(frozen=True)
class CompiledIndicator:
    spec: IndicatorSpec
    pack: PackInfo
    where: Cond | None = None
    numerator: Cond | None = None
    population: Cond | None = None  # a count's: the rows without which it is a data gap (`CountSpec.absent`)
    key: FieldInfo | None = None
    formula: Expr | None = None
    value: FieldInfo | None = None
    weight: FieldInfo | None = None
    entered: Expr | None = None
    requires: tuple[str, ...] = ()
    params: Mapping[str, tuple[object, ParamSpec]] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleBook:
    """Everything an audit evaluates, compiled against its params and date."""

    rules: tuple[CompiledRule, ...]
    indicators: tuple[CompiledIndicator, ...]
    packs: tuple[PackInfo, ...]
    params: Mapping[str, Mapping[str, object]]
    vocabulary: Mapping[str, EntityVocabulary]
    as_of: dt.date
    target_year: int
    reading: Reading
    fingerprint: str
    families: Mapping[str, str] = field(default_factory=dict)


def effective_params(
    packs: Sequence[LoadedPack], overrides: Mapping[str, object], reading: Reading | int = FINAL
) -> tuple[dict[str, dict[str, object]], list[tuple[str, str]]]:
    """Params per pack as this audit reads them (see `inspector.rules.targets`; an int is an
    explicit milestone) after `audit.yaml` overrides, and (name, reason) for bad overrides. A
    year-dependent param with no value this year is `NO_TARGET`; one read as progress is a
    `Progressed` value."""
    if not isinstance(reading, Reading):
        reading = Reading(reading, True)
    declared: dict[str, ParamSpec] = {}
    for pack in packs:
        declared.update(pack.spec.params)
    problems: list[tuple[str, str]] = []
    accepted: dict[str, object] = {}
    for name, value in overrides.items():
        spec = declared.get(name)
        if spec is None:
            known = "、".join(sorted(declared)) or "（无）"
            problems.append((name, f"所选规则包没有参数“{name}”；可用：{known}"))
            continue
        default = spec.value if spec.by_year is None else next(iter(spec.by_year.values()))
        reason = _override_problem(default, value) or spec.out_of_range(value)
        if reason:
            problems.append((name, reason))
        else:
            accepted[name] = value
    result: dict[str, dict[str, object]] = {}
    for pack in packs:
        specs = {
            name: _overridden(spec, accepted[name]) if name in accepted else spec
            for name, spec in pack.spec.params.items()
        }
        result[pack.id] = {
            name: exact_param(reading.target(name, spec, specs.get(spec.baseline) if spec.baseline else None)[0])
            for name, spec in specs.items()
        }
    return result, problems


def _overridden(spec: ParamSpec, value: object) -> ParamSpec:
    """The param as audit.yaml sets it: a mapping merged key by key, anything else replacing the
    value (a year target with it, for every year)."""
    if isinstance(spec.value, dict) and isinstance(value, dict):
        return spec.model_copy(update={"value": {**spec.value, **value}})
    return spec.model_copy(update={"value": value, "by_year": None, "baseline": None})


def exact_param(value: object) -> object:
    """A param as the rules use it: numbers exact (0.15 is 3/20), in maps too."""
    if isinstance(value, bool) or not isinstance(value, (int, float, dict)):
        return value
    if isinstance(value, dict):
        return {key: exact_param(item) for key, item in value.items()}
    return exact(value)


def _override_problem(default: object, value: object) -> str:
    def kind(v: object) -> str:
        if isinstance(v, bool):
            return "是/否"
        if isinstance(v, (int, float)):
            return "数值"
        if isinstance(v, str):
            return "文本"
        if isinstance(v, list):
            return "列表"
        return "映射"

    if kind(default) != kind(value):
        return f"类型应为{kind(default)}（默认值 {default!r}），实为{kind(value)}"
    if isinstance(default, dict) and isinstance(value, dict):
        unknown = sorted(set(value) - set(default))
        if unknown:
            return f"映射中的键 {'、'.join(unknown)} 不存在；可用：{'、'.join(default)}"
    return ""


class _Compiler:
    def __init__(
        self,
        packs: Sequence[LoadedPack],
        params: Mapping[str, Mapping[str, object]],
        as_of: dt.date,
        reading: Reading,
        vocabulary: Mapping[str, EntityVocabulary],
    ) -> None:
        self.packs = packs
        self.params = params
        self.as_of = as_of
        self.reading = reading
        self.target_year = reading.milestone
        self.vocabulary = vocabulary
        self.problems: list[Problem] = []
        self.used: dict[str, set[str]] = {pack.id: set() for pack in packs}
        self.indicators: list[CompiledIndicator] = []
        self._samples: dict[tuple[str, str], dict[str, Any]] = {}

    def sample(self, pack_id: str, kind: str, used: Sequence[str]) -> dict[str, Any]:
        """`sample_context` for a rule of `pack_id` on `kind`: the values' part made once per kind
        and pack (most of the cost), the rule's thresholds added to a shallow copy."""
        base = self._samples.get((pack_id, kind))
        if base is None:
            base = sample_context(self.vocabulary[kind], self.params[pack_id], self.as_of, (), self.target_year)
            self._samples[pack_id, kind] = base
        return {**base, "threshold": sample_thresholds(used)}

    def context(self, entity: str, params: Mapping[str, object], used: set[str]) -> Context:
        return Context(self.vocabulary[entity], params, self.as_of, used_params=used, target_year=self.target_year)

    def expression(self, located: Located, key: str, text: str, ctx: Context, *, formula: bool = False) -> Any:
        """A checked condition (or, with `formula`, a number expression); None after a located problem."""
        scalar = located.doc.scalar(located.loc + (key,))
        source = scalar.text if scalar is not None else text
        try:
            tree = syntax.parse(source)
            return check_formula(tree, ctx) if formula else check(tree, ctx)
        except (ExprError, syntax.ExprSyntaxError) as exc:
            if scalar is not None:
                line, column = scalar.locate(min(exc.offset, len(source)))
            else:
                line, column = located.doc.line_of(located.loc + (key,))
            self.problems.append(
                Problem(
                    located.doc.path,
                    line,
                    key,
                    f"expr_{exc.code}",
                    exc.message,
                    column=column,
                    excerpt=located.doc.line_text(line),
                )
            )
            return None

    def template(
        self, located: Located, loc: tuple[str, ...], source: str, sample: Mapping[str, Any]
    ) -> jinja2.Template | None:
        try:
            template = compile_template(source)
            check_template(source, sample)
            line, column = located.doc.line_of(located.loc + loc)
            template.origin = (located.doc.path, line, column, ".".join(loc))  # type: ignore[attr-defined]
            return template
        except TemplateProblem as exc:
            line, column = located.doc.line_of(located.loc + loc)
            scalar = located.doc.scalar(located.loc + loc)
            if scalar is not None:  # jinja counts lines within the template; a block starts below its key
                line = scalar.line + exc.line - 1
            self.problems.append(Problem(located.doc.path, line, ".".join(loc), "template", exc.message, column=column))
            return None

    def rule(self, pack: LoadedPack, info: PackInfo, spec: RuleSpec, located: Located) -> CompiledRule | None:
        vocab = self.vocabulary[spec.applies_to]
        params = self.params[pack.id]
        used: set[str] = set()
        line, _ = located.doc.line_of(located.loc)
        try:
            scope = None
            if spec.scope is not None:
                scope = self.expression(located, "scope", spec.scope, self.context(spec.applies_to, params, used))
            condition = self.expression(
                located, "condition", spec.condition, self.context(spec.applies_to, params, used)
            )
        except NoTarget as missing:
            self.used[pack.id] |= used | {missing.param}
            return self._skipped(
                pack,
                info,
                spec,
                f"{located.doc.path}:{line}",
                params,
                self.reading.no_target_reason(missing.param, pack.spec.params.get(missing.param)),
            )
        self.used[pack.id] |= used
        if condition is None or (spec.scope is not None and scope is None):
            return None
        for name in sorted(used):  # a fall below a baseline is only a fall after the baseline's year
            baseline = pack.spec.params[name]
            if baseline.year is not None and self.as_of.year < baseline.year:
                return self._skipped(
                    pack,
                    info,
                    spec,
                    f"{located.doc.path}:{line}",
                    params,
                    f"督导基准日（{self.as_of.year} 年）早于基期（{baseline.year} 年，{name}），不判断较基期下降",
                )
        lowering = Lowering(f"@{spec.id}#")
        try:
            verdicts = verdict_formulas(scope, condition, lowering)
            for formula in (verdicts.fail, verdicts.passes, verdicts.outside):
                disjuncts(formula)  # the engine registers one rule per conjunction: keep them few
        except NormalFormError as exc:
            self.problems.append(located.problem(("condition",), "expr_normal_form", exc.message))
            return None
        observed = [f.info for f in fields_of(condition)]
        before = len(self.problems)
        for index, path in enumerate(spec.observe):
            extra = vocab.fields.get(path)
            if extra is None:
                self.problems.append(located.problem(("observe", index), "expr_name", f"{vocab.label}没有字段“{path}”"))
            elif extra not in observed:
                observed.append(extra)
        sample = self.sample(pack.id, spec.applies_to, sorted(used))
        templates = [
            self.template(located, ("message",), spec.message, sample),
            self.template(located, ("rectification", "action"), spec.rectification.action, sample),
            self.template(located, ("rectification", "responsible"), spec.rectification.responsible, sample),
        ]
        if any(t is None for t in templates) or len(self.problems) > before:
            return None
        message, action, responsible = templates
        reads = fields_of(condition, include_presence=True) + (fields_of(scope, include_presence=True) if scope else [])
        valued = {f.path: f.info for cond in (scope, condition) if cond is not None for f in fields_of(cond)}
        present_only = {f.path: f.info for f in reads if f.path not in valued}
        names = (
            template_paths(spec.message)
            | template_paths(spec.rectification.action)
            | template_paths(spec.rectification.responsible)
        )
        thresholds = {name: (params[name], pack.spec.params[name]) for name in sorted(used)}
        indicators = {ind.spec.id: ind for ind in self.indicators}
        for read in fields_of(condition):  # a threshold inside an indicator's formula is the rule's too
            indicator = indicators.get(read.info.indicator or "")
            if indicator is not None:
                for name, entry in indicator.params.items():
                    thresholds.setdefault(name, entry)
        return CompiledRule(
            spec=spec,
            pack=info,
            where=f"{located.doc.path}:{line}",
            scope=scope,
            condition=condition,
            verdicts=verdicts,
            observed=tuple(observed),
            params={name: value for name, (value, _) in thresholds.items()},
            param_specs={name: spec for name, (_, spec) in thresholds.items()},
            pack_params=params,
            requires=self.requires(spec.applies_to, [f.info for f in reads]),
            message=message,
            action=action,
            responsible=responsible,
            atoms=tuple(lowering.atoms.values()),
            reads=tuple(valued.values()),
            presence=tuple(present_only.values()),
            template_paths=names,
        )

    def _skipped(
        self, pack: LoadedPack, info: PackInfo, spec: RuleSpec, where: str, params: Mapping[str, object], reason: str
    ) -> CompiledRule:
        never = Const(False, "bool")
        return CompiledRule(
            spec=spec,
            pack=info,
            where=where,
            scope=None,
            condition=never,
            verdicts=Verdicts(FALSE, FALSE, FALSE),
            observed=(),
            params={},
            param_specs={},
            pack_params=params,
            requires=(),
            message=None,
            action=None,
            responsible=None,
            skip=reason,
        )

    def requires(self, entity: str, reads: Sequence[FieldInfo]) -> tuple[str, ...]:
        """Record kinds whose files the rule (or indicator) cannot do without."""
        record = self.vocabulary[entity].record
        kinds: set[str] = {record.name} if record is not None else set()
        indicators = {ind.spec.id: ind for ind in self.indicators}
        for read in reads:
            kinds.update(read.requires)
            indicator = indicators.get(read.indicator or "")
            if indicator is not None:
                kinds.update(indicator.requires)
        return tuple(k for k in RECORD_KINDS if k in kinds)

    def indicator(
        self, pack: LoadedPack, info: PackInfo, spec: IndicatorSpec, located: Located
    ) -> CompiledIndicator | None:
        params = self.params[pack.id]
        used: set[str] = set()
        kind = spec.kind
        at = Located(located.doc, located.loc + (kind,))
        before = len(self.problems)
        parts: dict[str, Any] = {}
        reads: list[FieldInfo] = []

        def cond(entity: str, key: str, text: str | None) -> Any:
            if text is None:
                return None
            result = self.expression(at, key, text, self.context(entity, params, used))
            if result is not None:
                reads.extend(f.info for f in fields_of(result, include_presence=True))
            return result

        def number_field(entity: str, key: str, path: str | None) -> FieldInfo | None:
            if path is None:
                return None
            found = self.vocabulary[entity].fields.get(path)
            if found is None or found.type != "number":
                what = "没有字段" if found is None else "的数值字段中没有"
                self.problems.append(at.problem((key,), "expr_name", f"{self.vocabulary[entity].label}{what}“{path}”"))
                return None
            reads.append(found)
            return found

        if spec.share is not None or spec.count is not None:
            body = spec.share or spec.count
            if spec.entity not in ("school", "township", "county", "city"):
                self.problems.append(
                    located.problem(
                        ("entity",), "indicator_level", "汇总指标的对象应为 school、township、county 或 city"
                    )
                )
            parts["where"] = cond(body.of, "where", body.where)  # type: ignore[union-attr]
            if spec.share is not None:
                parts["numerator"] = cond(body.of, "numerator", spec.share.numerator)  # type: ignore[union-attr]
                parts["weight"] = number_field(body.of, "weight", spec.share.weight)  # type: ignore[union-attr]
            else:
                parts["weight"] = number_field(body.of, "sum", spec.count.sum)  # type: ignore[union-attr]
                parts["population"] = cond(body.of, "population", spec.count.population)  # type: ignore[union-attr]
            of_record = self.vocabulary[body.of].record  # type: ignore[union-attr]
            if of_record is not None:
                reads.append(FieldInfo("", "", "text", True, "record", requires=(of_record.name,)))
        elif spec.peers is not None:
            parts["where"] = cond(spec.entity, "where", spec.peers.where)
            parts["key"] = self.vocabulary[spec.entity].fields.get(spec.peers.key)
            if parts["key"] is None:
                self.problems.append(
                    at.problem(("key",), "expr_name", f"{self.vocabulary[spec.entity].label}没有字段“{spec.peers.key}”")
                )
            else:
                reads.append(parts["key"])
        elif spec.formula is not None:
            try:
                parts["formula"] = self.expression(
                    located, "formula", spec.formula, self.context(spec.entity, params, used), formula=True
                )
            except NoTarget as missing:
                self.problems.append(
                    located.problem(
                        ("formula",), "param", f"指标公式使用的参数 {missing.param} 在 {self.reading.year} 年无值"
                    )
                )
            if parts.get("formula") is not None:
                reads.extend(f.info for f in fields_of(parts["formula"]))
        elif spec.cv is not None:
            parts["where"] = cond(spec.cv.of, "where", spec.cv.where)
            parts["value"] = number_field(spec.cv.of, "value", spec.cv.value)
            parts["weight"] = number_field(spec.cv.of, "weight", spec.cv.weight)
        requires = self.requires(spec.entity, reads)
        if spec.entered is not None:
            entered = self.expression(
                located, "entered", spec.entered, self.context(spec.entity, params, used), formula=True
            )
            if entered is not None:
                parts["entered"] = entered
                # either source will do: only a file both would need can be missing for the indicator to fail
                requires = tuple(
                    k for k in self.requires(spec.entity, [f.info for f in fields_of(entered)]) if k in requires
                )
        self.used[pack.id] |= used
        if len(self.problems) > before:
            return None
        used_params = {name: (params[name], pack.spec.params[name]) for name in sorted(used)}
        return CompiledIndicator(spec, info, requires=requires, params=used_params, **parts)


def sample_context(
    vocab: EntityVocabulary, params: Mapping[str, object], as_of: dt.date, used: Sequence[str], target_year: int
) -> dict[str, Any]:
    """A template context with a value for every field, so template typos are caught at compile time."""
    samples: dict[str, object] = {"number": 1, "text": "示例", "bool": True, "date": "2025-01-01", "enum": "示例"}
    values = {info.path: samples[info.type] for info in vocab.fields.values()}
    observed = [{"field": path, "label": path, "value": 1, "text": "1"} for path in values]
    context = template_context(
        values, params_context(params), as_of, observed=observed, threshold=[], target_year=target_year
    )
    context["threshold"] = sample_thresholds(used)
    return context


def sample_thresholds(used: Sequence[str]) -> list[dict[str, Any]]:
    """The sample context's `threshold`: one of value 1 for each param the rule reads."""
    return [{"param": name, "label": name, "value": as_num(1), "unit": ""} for name in used]


_BOOKS: OrderedDict[str, RuleBook] = OrderedDict()  # compiled books of this process, by `_book_key`
_BOOKS_KEPT = 16
_BOOKS_LOCK = threading.Lock()


def _book_key(
    packs: Sequence[LoadedPack],
    params: Mapping[str, Mapping[str, object]],
    as_of: dt.date,
    reading: Reading,
    extra_columns: Mapping[str, Mapping[str, tuple[bool, int]]] | None,
    check_unused: bool,
) -> str:
    """Everything a compiled book depends on: the packs' bytes (their digests) and the names their
    files are shown by (rules and template origins cite them), the params, date, reading and extra
    columns. `repr` keeps types apart (1 and Fraction(1) give different keys), so equal keys
    compile to equal books."""
    parts = (
        [(p.id, p.sha256, str(p.located.doc.path)) for p in packs],
        repr(params),
        as_of.isoformat(),
        repr(reading),
        repr(extra_columns),
        check_unused,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def params_at_fault(
    packs: Sequence[LoadedPack],
    overrides: Mapping[str, object],
    reading: Reading,
    *,
    as_of: dt.date,
    extra_columns: Mapping[str, Mapping[str, tuple[bool, int]]] | None = None,
) -> list[tuple[str, str]]:
    """When the packs do not compile with `overrides` (audit.yaml's params), which of them are the
    cause, and why: (name, reason) for each override the packs refuse taken alone, while they
    compile with their own values. Empty when the packs fail with their own values too: then the
    pack is at fault, and its problems are located in its files. Called on that failure only."""

    def refusal(given: Mapping[str, object]) -> Problem | None:
        params, bad = effective_params(packs, given, reading)
        if bad:
            return None  # a bad override is reported by effective_params itself
        try:
            compile_rulebook(packs, as_of=as_of, params=params, reading=reading, extra_columns=extra_columns)
        except RulePackError as exc:
            return exc.problems[0] if exc.problems else Problem("", 0, "", "rule", str(exc))
        return None

    if refusal({}) is not None:
        return []
    blamed = []
    for name in overrides:
        problem = refusal({name: overrides[name]})
        if problem is not None:
            blamed.append(
                (name, f"规则包按此取值无法使用：{problem.message}（{problem.file}:{problem.line} 用到此参数）")
            )
    return blamed


def compile_rulebook(
    packs: Sequence[LoadedPack],
    *,
    as_of: dt.date,
    params: Mapping[str, Mapping[str, object]],
    target_year: int = FINAL,
    reading: Reading | None = None,
    extra_columns: Mapping[str, Mapping[str, tuple[bool, int]]] | None = None,
    check_unused: bool = False,
) -> RuleBook:
    """Compile packs for one audit; raises `RulePackError` with every problem found. `params` are
    those `effective_params` gave for `reading` (default: `target_year` as an explicit milestone).

    Compiling is pure, so a process keeps the books it compiled (the last few) and gives the same
    book again for the same packs and arguments: tests and the web server compile a pack set once.
    A book is immutable in use (frozen rules, read-only templates); nothing of an audit is kept in it."""
    reading = reading or Reading(target_year, True)
    key = _book_key(packs, params, as_of, reading, extra_columns, check_unused)
    with _BOOKS_LOCK:
        book = _BOOKS.get(key)
        if book is not None:
            _BOOKS.move_to_end(key)
            return book
    book = _compile_rulebook(packs, as_of, params, reading, extra_columns, check_unused)
    with _BOOKS_LOCK:
        _BOOKS[key] = book
        while len(_BOOKS) > _BOOKS_KEPT:
            _BOOKS.popitem(last=False)
    return book


def _compile_rulebook(
    packs: Sequence[LoadedPack],
    as_of: dt.date,
    params: Mapping[str, Mapping[str, object]],
    reading: Reading,
    extra_columns: Mapping[str, Mapping[str, tuple[bool, int]]] | None,
    check_unused: bool,
) -> RuleBook:
    target_year = reading.milestone
    indicator_specs = {spec.id: spec for pack in packs for spec, _ in pack.indicators}
    vocabulary = build_vocabulary(indicator_specs.values(), extra_columns)
    compiler = _Compiler(packs, params, as_of, reading, vocabulary)
    infos = {pack.id: PackInfo(pack.id, pack.spec.version, pack.spec.title, pack.sha256) for pack in packs}
    seen_indicators: set[str] = set()
    for pack in packs:
        for spec, located in pack.indicators:
            if spec.id in seen_indicators:
                continue
            seen_indicators.add(spec.id)
            indicator = compiler.indicator(pack, infos[pack.id], spec, located)
            if indicator is not None:
                compiler.indicators.append(indicator)
    rules: list[CompiledRule] = []
    for pack in packs:
        for rule_spec, located in pack.rules:
            compiled = compiler.rule(pack, infos[pack.id], rule_spec, located)
            if compiled is not None:
                rules.append(compiled)
    if check_unused:
        for pack in packs:
            for name in sorted(set(pack.spec.params) - compiler.used[pack.id]):
                compiler.problems.append(
                    pack.located.problem(("params", name), "unused_param", f"参数“{name}”未被任何规则或指标使用")
                )
    if compiler.problems:
        raise RulePackError(compiler.problems)
    fingerprint = hashlib.sha256(
        json.dumps(
            {
                "packs": [infos[p.id].as_dict() for p in packs],
                "params": params,
                "as_of": as_of.isoformat(),
                "target_year": target_year,
                "reading": [reading.year, reading.explicit],
            },
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        ).encode()
    ).hexdigest()
    return RuleBook(
        rules=tuple(rules),
        indicators=tuple(compiler.indicators),
        packs=tuple(infos[p.id] for p in packs),
        params=params,
        vocabulary=vocabulary,
        as_of=as_of,
        target_year=target_year,
        reading=reading,
        fingerprint=fingerprint,
        families={family: title for pack in packs for family, title in pack.spec.families.items()},
    )
