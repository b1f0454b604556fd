"""How an audit reads the plan's year targets: at a milestone, or as progress towards the next one.

表一 sets targets for two milestones (2022, 2025) and prints the 十三五 end (2020) as its
baseline column; a `by_year` param holds the milestones and may name the param holding its
baseline (`baseline: public_kg_share_baseline`, a `value` with its `year`).

* `audit.yaml` names `target_year`: every param is read at that milestone, as a baseline or
  early-warning comparison (a year the plan leaves empty skips the rules that need it).
* Otherwise the audit's own year decides. In a milestone year the milestone is due and is read
  directly. Between milestones a target is read as progress: on the straight line from the
  baseline to the next milestone, the year's expected value
  `baseline + (target − baseline) × (year − baseline year) / (milestone − baseline year)`,
  exact; a finding on it says the progress lags (进度滞后) and is never more than `minor` — the
  binding severity belongs to a milestone that is due. A target without a baseline cannot be
  read as progress: its rules are skipped that year, saying why. After the last milestone the
  last one stands; before the first year of the plan the first milestone is an early warning.
  Both are said in the report (`warnings`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Self

from ..numbers import exact
from .spec import NO_TARGET, ParamSpec

PLAN_FIRST_YEAR, PLAN_LAST_YEAR = 2021, 2025  # 十四五: 2021–2025
MID_TERM, FINAL = 2022, 2025  # the milestones of 表一


@dataclass(frozen=True)
class Progress:
    """A target read as progress: `expected` in `year` on the line from `baseline` (in
    `baseline_year`) to `target` (in `milestone`)."""

    param: str
    year: int
    milestone: int
    baseline_year: int
    baseline: Fraction
    target: Fraction
    expected: Fraction


class Progressed(Fraction):
    """A param's value read as progress: the expected value, a `Fraction` everywhere it is used,
    carrying how it was derived (kept when pickled for a worker)."""

    progress: Progress

    def __new__(cls, progress: Progress) -> Self:
        self = super().__new__(cls, progress.expected)
        self.progress = progress
        return self

    def __reduce__(self) -> tuple[type[Progressed], tuple[Progress]]:
        return (Progressed, (self.progress,))


@dataclass(frozen=True)
class Reading:
    """The year an audit measures and whether audit.yaml fixed the milestone (`explicit`)."""

    year: int
    explicit: bool

    @classmethod
    def of(cls, as_of: dt.date, target_year: int | None) -> Reading:
        if target_year is not None:
            return cls(target_year, True)
        return cls(as_of.year, False)

    @property
    def milestone(self) -> int:
        """The milestone the audit is measured against where one value stands for all: the named
        one, else 2022 up to the mid-term and 2025 after it."""
        if self.explicit:
            return self.year
        return MID_TERM if self.year <= MID_TERM else FINAL

    def target(
        self, name: str, spec: ParamSpec, baseline: ParamSpec | None
    ) -> tuple[object, int | None, Progress | None]:
        """The value a param takes for this audit, the milestone it belongs to (None for a
        single-valued param or no target) and, for a progress reading, how it was derived."""
        if spec.by_year is None:
            return spec.value, None, None
        years = spec.by_year
        if self.explicit:
            return (years[self.year], self.year, None) if self.year in years else (NO_TARGET, None, None)
        if self.year in years:
            return years[self.year], self.year, None
        later = sorted(year for year in years if year > self.year)
        if not later:  # after the plan period: the last milestone stands
            last = max(years)
            return years[last], last, None
        milestone = later[0]
        target = years[milestone]
        if self.year < PLAN_FIRST_YEAR:  # before the plan: the first milestone, as an early warning
            return target, milestone, None
        if (
            baseline is None
            or baseline.value is None
            or baseline.year is None
            or baseline.year >= self.year
            or not _number(target)
            or not _number(baseline.value)
        ):
            return NO_TARGET, None, None
        start, end = exact(baseline.value), exact(target)
        expected = start + (end - start) * Fraction(self.year - baseline.year, milestone - baseline.year)
        progress = Progress(name, self.year, milestone, baseline.year, Fraction(start), Fraction(end), expected)
        return Progressed(progress), milestone, progress

    def no_target_reason(self, name: str, spec: ParamSpec | None) -> str:
        """Why a param has no value this year (the reason a rule is skipped)."""
        if spec is None or spec.by_year is None or self.explicit or self.year in spec.by_year:
            return f"规划未设定 {self.year} 年的目标值（{name}）"
        later = [year for year in spec.by_year if year > self.year]
        return (
            f"规划未设定 {self.year} 年的目标值，也未给出“十三五”末基期值，无法按进度对照 {min(later)} 年目标（{name}）"
        )

    def warnings(self) -> list[str]:
        """What the comparison means when the audit's year lies outside the plan period."""
        if self.explicit:
            return []
        if self.year > PLAN_LAST_YEAR:
            return [
                (
                    f"督导基准日在规划期（{PLAN_FIRST_YEAR}—{PLAN_LAST_YEAR} 年）之后：各项指标对照规划 {FINAL} 年目标，"
                    "检查的是规划期末目标是否保持。"
                )
            ]
        if self.year < PLAN_FIRST_YEAR:
            return [
                (
                    f"督导基准日在规划期（{PLAN_FIRST_YEAR}—{PLAN_LAST_YEAR} 年）之前：各项指标对照规划 {MID_TERM} 年目标，"
                    "仅作预警，不表示目标已到期。"
                )
            ]
        return []


def _number(value: object) -> bool:
    return isinstance(value, (int, float, Fraction)) and not isinstance(value, bool)


def baseline_of(name: str, params: Mapping[str, ParamSpec]) -> ParamSpec | None:
    """The param holding `name`'s baseline, if it names one."""
    spec = params.get(name)
    return params.get(spec.baseline) if spec is not None and spec.baseline else None
