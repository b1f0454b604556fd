"""The rectification ledger's lifecycle (`rules/lifecycle.yaml`) as a state machine on the Rete engine.

The lifecycle is data: states with Chinese titles, transitions with `from`/`to`, a trigger
(manual: requested by a person; automatic: applied by every command that touches the item) and
a `when` condition written in the rule expression language. Conditions are compiled with the
rule compiler's own pieces (`syntax.parse` → `typed.check` → `normal`) over a vocabulary that
describes a ledger item (`ITEM_FIELDS`), and each transition becomes one engine rule:
`state in from and defined(when) and when`. Which transitions an item may take is what
durable_rules matches on the item's fact, evaluated through `DurableEvaluator` (this module
never imports durable_rules).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..engine.durable_adapter import DurableEvaluator, EngineRule
from ..errors import Problem, RulePackError
from ..rules import syntax
from ..rules.normal import Formula, NormalFormError, Test, all_of, any_of, defined, normalize
from ..rules.spec import SEVERITY_LABELS, ParamSpec, Text
from ..rules.typed import Cond, Const, Context, ExprError, check, date_value
from ..rules.vocabulary import EntityVocabulary, FieldInfo
from ..validation_messages import message_for
from ..yamlsrc import YamlDoc, YamlSyntax, decode_yaml, read_yaml_bytes
from .location import DEFAULT_LIFECYCLE

KIND = "item"
NO_DATE = dt.date(1, 1, 1)  # `waived_until` when no valid waiver: before any `today`
REINSPECTION = MappingProxyType({"none": "未复查", "passes": "通过", "fails": "仍存在", "unverified": "无法核实"})


# -- the lifecycle file ------------------------------------------------------------------------


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StateSpec(_Spec):
    id: str = Field(pattern=r"^[a-z][a-z_]*$")
    title: Text
    final: bool = False


class LevelSpec(_Spec):
    id: str = Field(pattern=r"^[a-z][a-z_]*$")
    title: Text
    holder: str | None = None  # who holds the item at this level, `{county}` filled in


class EffectSpec(_Spec):
    escalate: bool = False
    reset_level: bool = False  # back to the first level (a new round of rectification)
    deadline: Literal["finding"] | None = None
    deadline_days: str | None = None  # a param name


class TransitionSpec(_Spec):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: Text
    trigger: Literal["manual", "automatic"]
    from_: list[str] = Field(alias="from", min_length=1)
    to: str
    when: str | None = None
    requires: str | None = None  # the condition in words, shown when a request is refused
    effect: EffectSpec = Field(default_factory=EffectSpec)


class ActionSpec(_Spec):
    """Something recorded on an item without changing its state (an assignment, evidence, a comment)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: Text


class LifecycleSpec(_Spec):
    id: str
    version: int = Field(ge=1)
    title: Text
    basis: dict[str, str] | None = None
    initial: str
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    levels: list[LevelSpec] = Field(min_length=1)
    states: list[StateSpec] = Field(min_length=2)
    transitions: list[TransitionSpec] = Field(min_length=1)
    actions: list[ActionSpec] = Field(default_factory=list)


# -- the item a condition reads ----------------------------------------------------------------


def _field(path: str, label: str, type_: str, present: bool = True, **kw: Any) -> FieldInfo:
    return FieldInfo(path, label, type_, present, "derived", **kw)  # type: ignore[arg-type]


def item_vocabulary(states: Mapping[str, str]) -> EntityVocabulary:
    """The fields of a ledger item's fact, as conditions in lifecycle.yaml name them."""
    fields = [
        _field("state", "状态", "enum", enum=MappingProxyType(dict(states))),
        _field("level", "督办层级", "number", integer=True),
        _field("deadline", "整改期限", "date"),
        _field("today", "当日", "date"),
        _field("since", "进入当前状态的日期", "date"),
        _field("reinspection", "最近一次复查结果", "enum", enum=REINSPECTION),
        _field("reinspection_as_of", "最近一次复查的基准日", "date", False),
        _field("waived_until", "有效豁免的截止日期", "date"),
        _field("severity", "严重程度", "enum", enum=MappingProxyType(dict(SEVERITY_LABELS))),
        _field("rule_id", "规则", "text"),
        _field("entity_type", "对象类型", "text"),
        _field("county", "区县", "text"),
    ]
    return EntityVocabulary(KIND, "台账事项", None, MappingProxyType({f.path: f for f in fields}), MappingProxyType({}))


@dataclass(frozen=True)
class ItemFact:
    """What the lifecycle's conditions read about one ledger item."""

    finding_id: str
    state: str
    level: int
    deadline: dt.date
    today: dt.date
    since: dt.date
    reinspection: str
    reinspection_as_of: dt.date | None
    waived_until: dt.date
    severity: str
    rule_id: str
    entity_type: str
    county: str

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "state": self.state,
            "level": self.level,
            "deadline": date_value(self.deadline),
            "today": date_value(self.today),
            "since": date_value(self.since),
            "reinspection": self.reinspection,
            "waived_until": date_value(self.waived_until),
            "severity": self.severity,
            "rule_id": self.rule_id,
            "entity_type": self.entity_type,
            "county": self.county,
        }
        if self.reinspection_as_of is not None:
            values["reinspection_as_of"] = date_value(self.reinspection_as_of)
        return values


# -- compiled ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    spec: TransitionSpec
    condition: Cond | None
    formula: Formula
    where: str

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def manual(self) -> bool:
        return self.spec.trigger == "manual"


@dataclass(frozen=True)
class Lifecycle:
    spec: LifecycleSpec
    path: str
    transitions: tuple[Transition, ...]
    params: Mapping[str, Any]

    @cached_property
    def states(self) -> Mapping[str, StateSpec]:
        """The states by id (read for every item a page or a ledger run shows: built once)."""
        return MappingProxyType({state.id: state for state in self.spec.states})

    def title(self, state: str | None) -> str:
        if state is None:
            return "（无）"
        spec = self.states.get(state)
        return spec.title if spec else state

    def level_title(self, level: int) -> str:
        return self.spec.levels[min(level, len(self.spec.levels) - 1)].title

    def holder(self, level: int, county: str, responsible: str) -> str:
        """Who must act at this level: the finding's own responsible party at level 0."""
        spec = self.spec.levels[min(level, len(self.spec.levels) - 1)]
        if level == 0 or not spec.holder:
            return responsible
        return spec.holder.format(county=county)

    def state_id(self, text: str) -> str | None:
        """A state named by its id or its Chinese title."""
        wanted = text.strip()
        for state in self.spec.states:
            if wanted in (state.id, state.title):
                return state.id
        return None

    def state_names(self) -> str:
        return "、".join(f"{s.title}（{s.id}）" for s in self.spec.states)

    def manual_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if t.manual and state in t.spec.from_]

    @property
    def automatic(self) -> list[Transition]:
        return [t for t in self.transitions if not t.manual]

    def by_id(self, transition_id: str) -> Transition:
        return next(t for t in self.transitions if t.id == transition_id)

    @property
    def actions(self) -> dict[str, ActionSpec]:
        """The events recorded without a change of state, by id."""
        return {action.id: action for action in self.spec.actions}

    def transition_title(self, transition_id: str) -> str:
        """A recorded event's transition in words: "open" is the item's creation, not a transition."""
        if transition_id == "open":
            return "新建"
        action = self.actions.get(transition_id)
        return action.title if action is not None else self.by_id(transition_id).spec.title

    def engine(self) -> LifecycleEngine:
        return LifecycleEngine(self)


def load_lifecycle(path: Path = DEFAULT_LIFECYCLE) -> Lifecycle:
    """Read, validate and compile the lifecycle; every problem is reported at its line."""
    display = f"rules/{path.name}" if path == DEFAULT_LIFECYCLE else str(path)
    if not path.is_file():
        raise RulePackError([Problem(display, 0, "", "missing_file", "找不到整改台账生命周期文件")])
    try:
        return _compiled(display, read_yaml_bytes(path, display))
    except YamlSyntax as exc:
        raise RulePackError([exc.problem]) from None


@lru_cache(maxsize=8)
def _compiled(display: str, raw: bytes) -> Lifecycle:
    """The lifecycle of these bytes, compiled once per process: every ledger command and page
    reads the same file (a Lifecycle is never changed once built)."""
    return compile_lifecycle(decode_yaml(raw, display))


def compile_lifecycle(doc: YamlDoc) -> Lifecycle:
    if not isinstance(doc.data, dict):
        raise RulePackError([doc.problem((), "type", "文件内容应为映射（键: 值）", field="")])
    try:
        spec = LifecycleSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise RulePackError(doc.problem(_loc(e["loc"]), e["type"], message_for(e)) for e in exc.errors()) from None
    problems: list[Problem] = []
    states = {state.id: state.title for state in spec.states}
    transition_ids = {t.id for t in spec.transitions}
    for index, action in enumerate(spec.actions):
        if action.id in transition_ids or action.id == "open" or [a.id for a in spec.actions].index(action.id) != index:
            problems.append(
                doc.problem(
                    ("actions", index, "id"), "duplicate_action", f"记录项 id“{action.id}”与状态变更或其他记录项重复"
                )
            )
    if len(states) != len(spec.states):
        problems.append(doc.problem(("states",), "duplicate_state", "状态 id 重复"))
    if spec.initial not in states:
        problems.append(
            doc.problem(("initial",), "unknown_state", f"未定义的状态“{spec.initial}”；已定义：{'、'.join(states)}")
        )
    params = {name: p.for_year(2025) for name, p in spec.params.items()}
    vocabulary = item_vocabulary(states)
    transitions: list[Transition] = []
    seen: set[str] = set()
    for index, t in enumerate(spec.transitions):
        loc: tuple[Any, ...] = ("transitions", index)
        if t.id in seen:
            problems.append(doc.problem(loc + ("id",), "duplicate_transition", f"状态变更 id“{t.id}”重复"))
        seen.add(t.id)
        for position, state in enumerate(t.from_):
            if state not in states:
                problems.append(
                    doc.problem(
                        loc + ("from", position), "unknown_state", f"未定义的状态“{state}”；已定义：{'、'.join(states)}"
                    )
                )
        if t.to not in states:
            problems.append(
                doc.problem(loc + ("to",), "unknown_state", f"未定义的状态“{t.to}”；已定义：{'、'.join(states)}")
            )
        if t.effect.deadline_days is not None and not isinstance(params.get(t.effect.deadline_days), int):
            problems.append(
                doc.problem(
                    loc + ("effect", "deadline_days"),
                    "param",
                    f"deadline_days 应为整数参数名，params 中没有“{t.effect.deadline_days}”",
                )
            )
        condition = _condition(doc, loc, t.when, vocabulary, params, problems) if t.when else None
        from_states = any_of(*(Test("state", "==", Const(s, "enum")) for s in t.from_))
        try:
            when = all_of(defined(condition), normalize(condition)) if condition is not None else all_of()
        except NormalFormError as exc:
            problems.append(doc.problem(loc + ("when",), "expr_normal_form", exc.message))
            continue
        line, _ = doc.line_of(loc)
        transitions.append(Transition(t, condition, all_of(from_states, when), f"{doc.path}:{line}"))
    if problems:
        raise RulePackError(problems)
    return Lifecycle(spec, doc.path, tuple(transitions), MappingProxyType(params))


def _loc(loc: Sequence[Any]) -> tuple[Any, ...]:
    return tuple("from" if part == "from_" else part for part in loc)


def _condition(
    doc: YamlDoc,
    loc: tuple[Any, ...],
    text: str,
    vocabulary: EntityVocabulary,
    params: Mapping[str, Any],
    problems: list[Problem],
) -> Cond | None:
    scalar = doc.scalar(loc + ("when",))
    source = scalar.text if scalar is not None else text
    try:
        tree = syntax.parse(source)
        for name in _names(tree):
            if name.path in ("as_of", "audit_year", "target_year"):
                raise ExprError(
                    f"台账条件中没有 {name.path}（审核的基准日）：当日请用 today，复查审核的基准日请用 reinspection_as_of",
                    name.offset,
                    "name",
                )
        return check(tree, Context(vocabulary, params, NO_DATE))
    except (ExprError, syntax.ExprSyntaxError) as exc:
        if scalar is not None:
            line, column = scalar.locate(min(exc.offset, len(source)))
        else:
            line, column = doc.line_of(loc + ("when",))
        problems.append(
            Problem(doc.path, line, "when", f"expr_{exc.code}", exc.message, column=column, excerpt=doc.line_text(line))
        )
        return None


def _names(node: object) -> Iterator[syntax.Name]:
    if isinstance(node, syntax.Name):
        yield node
    if isinstance(node, syntax.Node):
        for value in node.__dict__.values():
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, syntax.Node):
                    yield from _names(child)


# -- evaluation --------------------------------------------------------------------------------

CHUNK = 1000


class LifecycleEngine:
    """The lifecycle's transitions as engine rules: which may each item take, given its fact."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        rules = [EngineRule(t.id, KIND, t.formula) for t in lifecycle.transitions]
        self._evaluator = DurableEvaluator(rules, label="ledger")
        self._round = 0

    def enabled(self, facts: Iterable[ItemFact]) -> dict[str, set[str]]:
        """Per finding id, the transitions whose `from` and `when` hold."""
        batch = list(facts)
        result: dict[str, set[str]] = {fact.finding_id: set() for fact in batch}
        for start in range(0, len(batch), CHUNK):
            self._round += 1
            chunk = [(KIND, fact.finding_id, fact.values()) for fact in batch[start : start + CHUNK]]
            for rule, fact_id in self._evaluator.evaluate(f"items:{self._round}", chunk):
                result[fact_id.split(":", 1)[1]].add(rule)
        return result

    def close(self) -> None:
        self._evaluator.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
