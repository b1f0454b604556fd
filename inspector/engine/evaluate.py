"""Evaluating a rule book on the Rete engine, one fact per distinct combination of what a rule reads.

Each inspection rule becomes three engine rules (fails, passes, not evaluated) so that every
entity in scope is accounted for; an entity out of scope is not applicable. For each rule, its
entities are projected onto the fields the rule reads (`facts.Projection`) and deduplicated;
the engine judges each distinct combination once, on exact integers, and the verdict is mapped
back onto every entity of that combination. Facts are asserted in small sessions, so no session
comes near the engine's hash limits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from ..rules.compiler import CompiledRule, RuleBook
from .durable_adapter import DurableEvaluator, EngineRule
from .facts import Projection, combo_values, engine_fact, exact_fact, numbered
from .tables import COUNTY, ID, SMALL_FRAME, EntityTables, group_counts

MAX_SESSION_FACTS = 5000
ENGINE_RULES = ("fail", "pass", "outside")
Progress = Callable[[int, int], None]


@dataclass
class RuleOutcome:
    """What one rule found: each entity in scope with its verdict, and how many were out of scope."""

    rule: CompiledRule
    # each entity in scope: __id, verdict (fail | pass | gap) and its __county
    verdicts: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={ID: pl.String, "verdict": pl.String, COUNTY: pl.String})
    )
    entities: int = 0
    facts: int = 0
    skipped_reason: str = ""

    @property
    def evaluated(self) -> bool:
        return not self.skipped_reason

    @cached_property
    def _counts(self) -> dict[str, int]:
        """Entities per verdict, counted in the frame: a summary needs no id sets (330,000 classes
        of a province made a dict and a set of ids per rule only to be counted)."""
        return {verdict: n for verdict, n in group_counts(self.verdicts, "verdict")}

    def count(self, verdict: str) -> int:
        """How many entities in scope have `verdict` (fail, pass or gap)."""
        return self._counts.get(verdict, 0)

    def release(self) -> None:
        """Keep the counts per verdict, let go of each entity's verdict."""
        self._counts  # noqa: B018 - computed and cached while the verdicts are here
        self.verdicts = self.verdicts.clear()

    def _ids(self, verdict: str) -> frozenset[str]:
        """The ids of one verdict: an audit reads only the failed and the gaps, so a large frame is
        filtered (a province's 330,000 classes made a Python dict of every verdict to find them);
        a small one is read in Python, as a query costs more than its rows."""
        if self.verdicts.height <= SMALL_FRAME:
            return frozenset(i for i, v in self._verdict_map.items() if v == verdict)
        if not self.count(verdict):
            return frozenset()
        return frozenset(self.verdicts.filter(pl.col("verdict") == verdict)[ID].to_list())

    @cached_property
    def failed(self) -> frozenset[str]:
        return self._ids("fail")

    @cached_property
    def passed(self) -> frozenset[str]:
        return self._ids("pass")

    @cached_property
    def gaps(self) -> frozenset[str]:
        return self._ids("gap")

    @cached_property
    def _verdict_map(self) -> dict[str, str]:
        return dict(zip(self.verdicts[ID].to_list(), self.verdicts["verdict"].to_list()))

    def verdict_of(self, entity_id: str) -> str | None:
        """fail, pass or gap; None when the entity was out of the rule's scope (or absent)."""
        return self._verdict_map.get(entity_id)

    @property
    def checked(self) -> int:
        return self.verdicts.height

    @property
    def not_applicable(self) -> int:
        return self.entities - self.verdicts.height if self.evaluated else 0


def engine_rules(rules: Sequence[CompiledRule]) -> list[EngineRule]:
    """Three engine rules per inspection rule (fails, passes, out of scope), each matching only
    that rule's facts (kind `r<i>`)."""
    result: list[EngineRule] = []
    for index, rule in enumerate(rules):
        formulas = {"fail": rule.verdicts.fail, "pass": rule.verdicts.passes, "outside": rule.verdicts.outside}
        result.extend(EngineRule(f"{index}|{name}", f"r{index}", formulas[name]) for name in ENGINE_RULES)
    return result


def decide(matched: set[str]) -> str | None:
    """A fact's verdict from the engine rules it matched: fail, pass, None (out of scope), or gap
    (none of them: a value the verdict needs is missing)."""
    if "fail" in matched:
        return "fail"
    if "pass" in matched:
        return "pass"
    return None if "outside" in matched else "gap"


@dataclass
class _Prepared:
    rule: CompiledRule
    frame: pl.DataFrame
    projection: Projection
    combos: pl.DataFrame
    index: pl.Series  # each row's number in `combos`


def _prepare(rules: Sequence[CompiledRule], tables: EntityTables) -> list[_Prepared]:
    """Each rule's entities, their distinct combinations and each entity's combination; the
    entity frames of one kind are joined once for all its rules (`EntityTables.frames`)."""
    projections = [Projection(rule.reads, rule.presence) for rule in rules]
    by_kind: dict[str, list[int]] = {}
    for number, rule in enumerate(rules):
        by_kind.setdefault(rule.spec.applies_to, []).append(number)
    frames: dict[int, pl.DataFrame] = {}
    for kind, numbers in by_kind.items():
        frames.update(zip(numbers, tables.frames(kind, [projections[n].paths for n in numbers])))
    prepared = []
    for number, (rule, projection) in enumerate(zip(rules, projections)):
        frame = frames[number]
        prepared.append(_Prepared(rule, frame, projection, *numbered(frame, projection)))
    return prepared


def _verdicts(frame: pl.DataFrame, combo_verdicts: pl.Series, index: pl.Series) -> pl.DataFrame:
    """Each entity of `frame` in scope (its combination's verdict not null): id, verdict, county;
    a small frame's picked in Python rather than by a gather and a filter."""
    if frame.height > SMALL_FRAME:
        rows = pl.DataFrame([frame[ID], combo_verdicts.gather(index), frame[COUNTY]])
        return rows.filter(pl.col("verdict").is_not_null())
    verdicts = combo_verdicts.to_list()
    kept = [
        (entity, verdicts[combo], county)
        for entity, combo, county in zip(frame[ID].to_list(), index.to_list(), frame[COUNTY].to_list())
        if verdicts[combo] is not None
    ]
    return pl.DataFrame(
        {ID: [k[0] for k in kept], "verdict": [k[1] for k in kept], COUNTY: [k[2] for k in kept]},
        schema={ID: frame.schema[ID], "verdict": pl.String, COUNTY: frame.schema[COUNTY]},
    )


def skip_reason(rule: CompiledRule, missing_kinds: Sequence[str]) -> str:
    """Why a rule is not evaluated at all (no target for the year, a data file absent), or ""."""
    absent = [kind for kind in rule.requires if kind in missing_kinds]
    if rule.skip:
        return rule.skip
    if absent:
        return "缺少数据文件：" + "、".join(absent)
    return ""


Fact = tuple[str, str, dict[str, object]]  # (kind r<rule index>, fact number, fields)


def match_facts(
    engine: DurableEvaluator, label: str, facts: Sequence[Fact], progress: Progress | None = None
) -> dict[tuple[int, int], set[str]]:
    """The engine rules (fail, pass, outside) each fact matched, by (rule index, fact number): the
    facts asserted in sessions of at most MAX_SESSION_FACTS, far from the engine's hash limits."""
    matched: dict[tuple[int, int], set[str]] = {}
    total = (len(facts) + MAX_SESSION_FACTS - 1) // MAX_SESSION_FACTS
    for done, start in enumerate(range(0, len(facts), MAX_SESSION_FACTS), start=1):
        for name, fact_id in engine.evaluate(f"{label}-batch{done}", facts[start : start + MAX_SESSION_FACTS]):
            rule_index, engine_rule = name.split("|")
            _kind, number = fact_id.split(":", 1)
            matched.setdefault((int(rule_index), int(number)), set()).add(engine_rule)
        if progress is not None:
            progress(done, total)
    return matched


def evaluate(
    book: RuleBook,
    tables: EntityTables,
    missing_kinds: Sequence[str] = (),
    *,
    rules: Sequence[CompiledRule] | None = None,
    label: str = "audit",
    progress: Progress | None = None,
    evaluator: DurableEvaluator | None = None,
) -> dict[str, RuleOutcome]:
    """Evaluate `rules` (all of the book's by default) on the engine; rules whose data files are
    absent are skipped, with why.

    `evaluator`, when given, is a warm engine kept by the caller (on the thread that created it),
    registered with `engine_rules` of exactly the rules that are run here, in this order; by
    default a fresh one is made and freed."""
    chosen = book.rules if rules is None else rules
    outcomes = {rule.id: RuleOutcome(rule, skipped_reason=skip_reason(rule, missing_kinds)) for rule in chosen}
    runnable = [rule for rule in chosen if not outcomes[rule.id].skipped_reason]
    if not runnable:
        return outcomes
    prepared = _prepare(runnable, tables)
    facts: list[Fact] = []
    for index, item in enumerate(prepared):
        distinct_rows = combo_values(item.combos) if item.projection.paths else iter([()])
        for number, row in enumerate(distinct_rows):
            exact = exact_fact(item.projection, row)
            facts.append((f"r{index}", str(number), engine_fact(item.projection, row, exact, item.rule.atoms)))
    engine = (
        evaluator if evaluator is not None else DurableEvaluator(engine_rules(runnable), label=label[:16] or "audit")
    )
    try:
        matched = match_facts(engine, label, facts, progress)
    finally:
        if evaluator is None:
            engine.close()
    for index, item in enumerate(prepared):
        outcome = outcomes[item.rule.id]
        # combinations are numbered 0, 1, … in `combos`: each entity's verdict is its combination's
        combo_verdicts = pl.Series(
            "verdict",
            [decide(matched.get((index, c), set())) for c in item.combos["__combo"].to_list()],
            dtype=pl.String,
        )
        outcome.verdicts = _verdicts(item.frame, combo_verdicts, item.index)
        outcome.entities = item.frame.height
        outcome.facts = item.combos.height
    return outcomes
