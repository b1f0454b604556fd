"""The indicator layer: aggregates computed before rules run, each with its contributing rows.

Absence, duplicates and shares are not left to the Rete engine (its `none()` is
order-dependent and has crashed on Python 3.12): they are computed here into plain numbers on
entity facts, so rules only ever test positive facts. A measure keeps its numerator,
denominator and the rows behind them, so a finding can show its arithmetic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..records.loader import RowRef
from ..records.values import text_key
from ..rules.compiler import CompiledIndicator
from ..rules.reference import truth
from .entities import Entity, EntityStore, Measure


def _group_of(level: str, entity: Entity) -> str | None:
    """The entity of `level` an entity belongs to: a school's county, a teacher's school."""
    if level == "county":
        return entity.county
    if level == "school":
        return entity.school_id
    return None


def _holds(cond: object, entity: Entity) -> bool:
    return cond is None or truth(cond, entity.values) is True  # type: ignore[arg-type]


def _share(indicator: CompiledIndicator, store: EntityStore) -> None:
    assert indicator.spec.share is not None
    level = indicator.spec.entity
    denominators: dict[str, list[RowRef]] = defaultdict(list)
    numerators: dict[str, list[RowRef]] = defaultdict(list)
    for entity in store.iter_kind(indicator.spec.share.of):
        group = _group_of(level, entity)
        if group is None or not _holds(indicator.where, entity):
            continue
        denominators[group].append(entity.rows[""].ref)
        if _holds(indicator.numerator, entity):
            numerators[group].append(entity.rows[""].ref)
    for group in _groups(level, store):
        den, num = denominators.get(group, []), numerators.get(group, [])
        store.measures[(level, group)][indicator.spec.id] = Measure(
            value=len(num) / len(den) if den else None,
            numerator=len(num),
            denominator=len(den),
            rows=tuple(den),
            numerator_rows=tuple(num),
            row_role="denominator",
        )


def _count(indicator: CompiledIndicator, store: EntityStore) -> None:
    assert indicator.spec.count is not None
    level = indicator.spec.entity
    rows: dict[str, list[RowRef]] = defaultdict(list)
    for entity in store.iter_kind(indicator.spec.count.of):
        group = _group_of(level, entity)
        if group is not None and _holds(indicator.where, entity):
            rows[group].append(entity.rows[""].ref)
    for group in _groups(level, store):
        found = rows.get(group, [])
        store.measures[(level, group)][indicator.spec.id] = Measure(len(found), rows=tuple(found))


def _peers(indicator: CompiledIndicator, store: EntityStore) -> None:
    assert indicator.key is not None
    kind = indicator.spec.entity
    groups: dict[str, list[Entity]] = defaultdict(list)
    for entity in store.iter_kind(kind):
        value = entity.values.get(indicator.key.path)
        if value is None or not _holds(indicator.where, entity):
            continue
        groups[text_key(str(value))].append(entity)
    for members in groups.values():
        rows = tuple(m.rows[""].ref for m in members)
        for member in members:
            store.measures[member.key][indicator.spec.id] = Measure(len(members), rows=rows, row_role="peer")


def _groups(level: str, store: EntityStore) -> Iterable[str]:
    if level == "county":
        return store.counties
    if level == "school":
        return store.school_ids()
    raise ValueError(f"indicators cannot be grouped at level {level!r}")


_COMPUTE = {"share": _share, "count": _count, "peers": _peers}


def compute_indicators(indicators: Iterable[CompiledIndicator], store: EntityStore) -> None:
    """Compute every indicator into `store.measures`, in declaration order."""
    for indicator in indicators:
        _COMPUTE[indicator.spec.kind](indicator, store)
