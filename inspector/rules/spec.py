"""Rule pack metadata as validated data: what a pack file may say, and nothing else.

Models are frozen and forbid unknown keys, so a misspelt key is a located error rather than a
silently ignored field. Expressions and templates stay text here; `compiler` gives them meaning.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from ..records.params import ParamValue, finite_number
from ..text import no_control_characters, one_line

Severity = Literal["critical", "major", "minor"]
SEVERITY_ORDER: dict[str, int] = {"critical": 0, "major": 1, "minor": 2}
SEVERITY_LABELS: dict[str, str] = {"critical": "严重", "major": "较重", "minor": "一般"}
BINDING_SEVERITY: dict[str, str] = {"约束性": "major", "预期性": "minor"}
EntityKind = Literal["class", "school", "school_stage", "teacher", "township", "county", "county_metric", "city"]
AggregatedEntity = Literal["class", "school", "school_stage", "teacher", "township", "county"]
Level = Literal["school", "county", "city"]
# the level an entity's verdict speaks for: a school's own classes, teachers and stages are the
# school's; a township's and a county's figures the county's; the city's the city's
LEVEL_OF_ENTITY: dict[str, Level] = {
    "class": "school",
    "teacher": "school",
    "school": "school",
    "school_stage": "school",
    "township": "county",
    "county": "county",
    "county_metric": "county",
    "city": "city",
}
LEVEL_LABELS: dict[str, str] = {"school": "学校层面", "county": "区县层面", "city": "全市层面"}
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$", max_length=80)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True), AfterValidator(no_control_characters)]


# ParamValue lives with audit.yaml's reader, the lowest layer that reads params (records → rules)


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Basis(_Spec):
    """Where a requirement comes from, quoted, and how the rule reads it."""

    document: Text
    section: Text
    quote: Text
    reading: str | None = None
    # V / V2 / M as standards.md marks the figure; 督导惯例 for a rule with no written source (the note
    # says whose practice it is)
    confidence: Literal["V", "V2", "M", "督导惯例"] | None = None
    note: str | None = None

    @field_validator("document", "section", "quote", "reading", "note")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        checked = no_control_characters(value)
        return one_line(checked) if checked is not None else None


class Rectification(_Spec):
    action: Text
    responsible: Text
    deadline_days: int = Field(gt=0, le=3650)


class RuleSpec(_Spec):
    """One rule as written in a pack file."""

    id: RuleId
    version: int = Field(ge=1)
    title: Text
    applies_to: EntityKind
    # the level the rule's target applies to (学校、区县、全市): a target the plan sets for a region is
    # judged on the region's aggregate, never entity by entity below it, so a declared level must be
    # the level of `applies_to`; left out, it is that level
    level: Level | None = None
    scope: str | None = None
    condition: Text
    severity: Severity
    binding: Literal["约束性", "预期性"] | None = None
    basis: Basis
    message: Text
    rectification: Rectification
    observe: list[str] = Field(default_factory=list)

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def target_level(self) -> Level:
        return self.level or LEVEL_OF_ENTITY[self.applies_to]

    @model_validator(mode="after")
    def _level_is_the_entity_level(self) -> RuleSpec:
        own = LEVEL_OF_ENTITY[self.applies_to]
        if self.level is not None and self.level != own:
            raise ValueError(
                f"level 为 {self.level}（{LEVEL_LABELS[self.level]}）的目标应按该层面的总量判断，"
                f"而 applies_to {self.applies_to} 是{LEVEL_LABELS[own]}的对象：请改 applies_to 或 level"
            )
        return self

    @model_validator(mode="after")
    def _severity_follows_binding(self) -> RuleSpec:
        expected = BINDING_SEVERITY.get(self.binding or "")
        if expected is not None and self.severity != expected:
            raise ValueError(f"{self.binding}指标的严重程度应为 {expected}（约束性 → major，预期性 → minor）")
        return self


class ShareSpec(_Spec):
    """Share of `of` entities matching `numerator` among those matching `where`, counted or,
    with `weight`, summed (e.g. pupils rather than kindergartens)."""

    of: AggregatedEntity
    where: str | None = None
    numerator: Text
    weight: str | None = None


class PeersSpec(_Spec):
    """For each entity matching `where`: how many such entities share its `key` (itself included)."""

    where: str | None = None
    key: Text


class CountSpec(_Spec):
    """How many `of` entities match `where` (or, with `sum`, the total of one of their fields).

    With `absent`, a count over no rows is a data gap, not 0: a group with no `of` entity matching
    `population` (every `of` entity when it is left out) has no value, and its trace says
    "数据中没有<absent>" (a county without kindergartens has no count of demonstration kindergartens)."""

    of: AggregatedEntity
    where: str | None = None
    sum: str | None = None
    population: str | None = None
    absent: Text | None = None

    @model_validator(mode="after")
    def _population_needs_absent(self) -> CountSpec:
        if self.population is not None and self.absent is None:
            raise ValueError("声明 population 时须同时用 absent 写明缺少的是什么（如“幼儿园”）")
        return self


class CvSpec(_Spec):
    """Enrolment-weighted coefficient of variation of `value` across a county's schools (or
    school stages), one `county_metric` entity per county and stage."""

    of: Literal["school", "school_stage"]
    value: Text
    weight: Text
    where: str | None = None


INDICATOR_KINDS = ("share", "count", "peers", "formula", "cv")


class IndicatorSpec(_Spec):
    """An aggregate computed once, before rules run, with its contributing rows."""

    id: Identifier
    title: Text
    entity: EntityKind
    share: ShareSpec | None = None
    peers: PeersSpec | None = None
    count: CountSpec | None = None
    formula: str | None = None
    cv: CvSpec | None = None
    # a published figure (`stats.public_kg_share`) used instead of the computed value where it is entered
    entered: str | None = None
    percent: bool = False
    decimals: int | None = Field(default=None, ge=0, le=6)  # places it is shown with (of the percentage)

    @model_validator(mode="after")
    def _one_kind(self) -> IndicatorSpec:
        kinds = [k for k in INDICATOR_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("指标须且只能声明 share、count、peers、formula、cv 之一")
        if (self.cv is not None) != (self.entity == "county_metric"):
            raise ValueError("cv 指标的对象是 county_metric，且 county_metric 只能由 cv 指标产生")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in INDICATOR_KINDS if getattr(self, k) is not None)


class ParamSpec(_Spec):
    """A threshold: one `value`, or `by_year` targets of which `target_year` picks one.

    `minimum` and `maximum` (inclusive) bound every number the param may take (each value of a
    mapping too): the pack's own values and any override in audit.yaml. A count is `minimum: 0`,
    a share or rate `minimum: 0, maximum: 1`.
    """

    value: ParamValue = None
    by_year: dict[int, ParamValue] | None = None
    title: Text
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    # a `value` measured in a given year (a baseline: 表一's 十三五 column is 2020)
    year: int | None = Field(default=None, ge=1980, le=2100)
    # for `by_year` targets: the param holding the baseline they are read from as progress
    # between milestones (see inspector.rules.targets)
    baseline: Identifier | None = None

    @model_validator(mode="after")
    def _value_or_years(self) -> ParamSpec:
        if (self.value is None) == (self.by_year is None):
            raise ValueError("参数须且只能给出 value 或 by_year 之一")
        for bound in (self.minimum, self.maximum):
            if bound is not None and (reason := finite_number(bound)):
                raise ValueError(reason)
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum（{self.minimum:g}）不能大于 maximum（{self.maximum:g}）")
        values = [self.value] if self.by_year is None else list(self.by_year.values())
        for value in values:
            if reason := self.out_of_range(value):
                raise ValueError(reason)
        if self.baseline is not None and self.by_year is None:
            raise ValueError("baseline 只用于按年份设定的目标（by_year）")
        if self.year is not None and self.by_year is not None:
            raise ValueError("year 只用于单一取值（value）的参数，如基期值")
        return self

    def out_of_range(self, value: object) -> str:
        """Why `value` lies outside [minimum, maximum] ("" when it does not, or is no number)."""
        items = value.items() if isinstance(value, dict) else [("", value)]
        for key, item in items:
            if not isinstance(item, (int, float)) or isinstance(item, bool):
                continue
            where = f"“{key}”的" if key else ""
            if self.minimum is not None and item < self.minimum:
                return f"{where}取值 {item:g} 小于允许的最小值 {self.minimum:g}"
            if self.maximum is not None and item > self.maximum:
                return f"{where}取值 {item:g} 大于允许的最大值 {self.maximum:g}"
        return ""

    def for_year(self, year: int) -> object:
        """The value in force for a target year; `NO_TARGET` where the plan sets none."""
        if self.by_year is None:
            return self.value
        return self.by_year.get(year, NO_TARGET)


class _NoTarget:
    def __repr__(self) -> str:
        return "NO_TARGET"


NO_TARGET = _NoTarget()


class PackSpec(_Spec):
    """`pack.yaml`: the pack's identity and its thresholds."""

    id: RuleId
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    title: Text
    description: str | None = None
    families: dict[str, Text] = Field(default_factory=dict)
    params: dict[Identifier, ParamSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _baselines(self) -> PackSpec:
        for name, spec in self.params.items():
            if spec.baseline is None:
                continue
            base = self.params.get(spec.baseline)
            if base is None:
                raise ValueError(f"参数 {name} 的 baseline“{spec.baseline}”不是本包的参数")
            if base.year is None or not isinstance(base.value, (int, float)) or isinstance(base.value, bool):
                raise ValueError(f"参数 {name} 的基期 {spec.baseline} 应为带 year 的单一数值（value）")
            if spec.by_year and base.year >= min(spec.by_year):
                raise ValueError(f"参数 {name} 的基期年份 {base.year} 应早于其最早的目标年份 {min(spec.by_year)}")
        return self


class PackFile(_Spec):
    """Any other YAML file of a pack: rules and indicators."""

    rules: list[RuleSpec] = Field(default_factory=list)
    indicators: list[IndicatorSpec] = Field(default_factory=list)
