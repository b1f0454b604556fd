"""Rule pack metadata as validated data: what a pack file may say, and nothing else.

Models are frozen and forbid unknown keys, so a misspelt key is a located error rather than a
silently ignored field. Expressions and templates stay text here; `compiler` gives them meaning.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, model_validator

Severity = Literal["critical", "major", "minor"]
SEVERITY_ORDER: dict[str, int] = {"critical": 0, "major": 1, "minor": 2}
SEVERITY_LABELS: dict[str, str] = {"critical": "严重", "major": "较重", "minor": "一般"}
EntityKind = Literal["class", "school", "teacher", "county"]
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$", max_length=80)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


def _param_value(value: object) -> object:
    """One readable error for a bad param value, instead of one per alternative type."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in value.items()
    ):
        return value
    raise ValueError("参数值应为数值、文本、是/否、文本列表或“键: 数值”映射")


ParamValue = Annotated[Any, PlainValidator(_param_value)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Basis(_Spec):
    """Where a requirement comes from, quoted, and how the rule reads it."""

    document: Text
    section: Text
    quote: Text
    reading: str | None = None
    confidence: Literal["V", "V2", "M"] | None = None
    note: str | None = None


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
    scope: str | None = None
    condition: Text
    severity: Severity
    binding: Literal["约束性", "预期性"] | None = None
    basis: Basis
    message: Text
    rectification: Rectification

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]


class ShareSpec(_Spec):
    """Share of `of` records matching `numerator` among those matching `where`."""

    of: Literal["class", "school", "teacher"]
    where: str | None = None
    numerator: Text


class PeersSpec(_Spec):
    """For each entity matching `where`: how many such entities share its `key` (itself included)."""

    where: str | None = None
    key: Text


class CountSpec(_Spec):
    of: Literal["class", "school", "teacher"]
    where: str | None = None


class IndicatorSpec(_Spec):
    """An aggregate computed once, before rules run, with its contributing rows."""

    id: Identifier
    title: Text
    entity: EntityKind
    share: ShareSpec | None = None
    peers: PeersSpec | None = None
    count: CountSpec | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> IndicatorSpec:
        kinds = [k for k in ("share", "peers", "count") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("指标须且只能声明 share、peers、count 之一")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("share", "peers", "count") if getattr(self, k) is not None)


class ParamSpec(_Spec):
    value: ParamValue
    title: Text
    unit: str | None = None


class PackSpec(_Spec):
    """`pack.yaml`: the pack's identity and its thresholds."""

    id: RuleId
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    title: Text
    description: str | None = None
    params: dict[Identifier, ParamSpec] = Field(default_factory=dict)


class PackFile(_Spec):
    """Any other YAML file of a pack: rules and indicators."""

    rules: list[RuleSpec] = Field(default_factory=list)
    indicators: list[IndicatorSpec] = Field(default_factory=list)
