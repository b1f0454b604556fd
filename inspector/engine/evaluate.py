"""Evaluating a rule book on an audit's entities with the Rete engine, school by school.

Each inspection rule becomes three engine rules (fails, passes, not evaluated) so that every
entity in scope is accounted for. Facts are asserted per school (a school, its classes, its
teachers), and per chunk of counties, so no session comes near the engine's hash limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from ..rules.compiler import CompiledRule, RuleBook
from .durable_adapter import DurableEvaluator, EngineRule
from .entities import Entity, EntityStore

MAX_SESSION_FACTS = 5000
VERDICTS = ("fail", "pass", "gap")


@dataclass
class RuleOutcome:
    """What one rule found: entity ids that fail and that could not be evaluated, and a pass count."""

    rule: CompiledRule
    failed: set[str] = field(default_factory=set)
    gaps: set[str] = field(default_factory=set)
    passed: set[str] = field(default_factory=set)
    skipped_reason: str = ""

    @property
    def evaluated(self) -> bool:
        return not self.skipped_reason

    @property
    def checked(self) -> int:
        return len(self.failed) + len(self.passed) + len(self.gaps)


Progress = Callable[[int, int], None]


def engine_rules(rules: Sequence[CompiledRule]) -> list[EngineRule]:
    result: list[EngineRule] = []
    for rule in rules:
        formulas = {"fail": rule.verdicts.fail, "pass": rule.verdicts.passes, "gap": rule.verdicts.gap}
        result.extend(EngineRule(f"{rule.id}|{verdict}", rule.spec.applies_to, formulas[verdict]) for verdict in VERDICTS)
    return result


def _partitions(store: EntityStore, kinds: set[str]) -> Iterator[tuple[str, list[Entity]]]:
    school_kinds = [k for k in ("school", "class", "teacher") if k in kinds]
    if school_kinds:
        for school_id in store.school_ids():
            entities = [e for kind in school_kinds for e in store.of_school(kind, school_id)]
            for start in range(0, len(entities), MAX_SESSION_FACTS):
                yield f"school:{school_id}:{start}", entities[start : start + MAX_SESSION_FACTS]
    if "county" in kinds:
        counties = list(store.iter_kind("county"))
        for start in range(0, len(counties), MAX_SESSION_FACTS):
            yield f"county:{start}", counties[start : start + MAX_SESSION_FACTS]


def evaluate(book: RuleBook, store: EntityStore, missing_kinds: Sequence[str] = (), *,
             label: str = "audit", progress: Progress | None = None) -> dict[str, RuleOutcome]:
    """Evaluate every rule on the engine; rules whose data files are absent are skipped, with why."""
    outcomes = {rule.id: RuleOutcome(rule) for rule in book.rules}
    runnable: list[CompiledRule] = []
    for rule in book.rules:
        absent = [kind for kind in rule.requires if kind in missing_kinds]
        if absent:
            outcomes[rule.id].skipped_reason = "缺少数据文件：" + "、".join(absent)
        else:
            runnable.append(rule)
    if not runnable:
        return outcomes
    kinds = {rule.spec.applies_to for rule in runnable}
    total = len(store.school_ids()) + 1
    with DurableEvaluator(engine_rules(runnable), label=label[:16] or "audit") as evaluator:
        paths = {kind: evaluator.fields(kind) for kind in kinds}
        for done, (partition, entities) in enumerate(_partitions(store, kinds), start=1):
            facts = [(e.kind, e.id, e.values.pick(paths[e.kind])) for e in entities]
            for name, fact_id in evaluator.evaluate(partition, facts):
                rule_id, verdict = name.rsplit("|", 1)
                entity_id = fact_id.split(":", 1)[1]
                outcome = outcomes[rule_id]
                {"fail": outcome.failed, "pass": outcome.passed, "gap": outcome.gaps}[verdict].add(entity_id)
            if progress is not None:
                progress(min(done, total), total)
    return outcomes
