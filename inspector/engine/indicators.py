"""The indicator layer: aggregates computed before rules run, each with its contributing rows.

Absence, duplicates, shares, ratios and coefficients of variation are not left to the Rete
engine (its `none()` is order-dependent and has crashed on Python 3.12): they are computed
here into plain numbers on entity facts, so rules only ever test positive facts. A measure
keeps its numerator, denominator and the rows behind them, so a finding can show its
arithmetic; one that cannot be computed says which inputs were missing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator

from ..records.loader import RowRef
from ..records.values import text_key
from ..rules.compiler import CompiledIndicator
from ..rules.reference import evaluate as evaluate_formula
from ..rules.reference import truth
from ..rules.typed import fields_of
from ..rules.vocabulary import FieldInfo
from .entities import Entity, EntityStore, Measure, Metric

GROUP_LEVELS = ("school", "township", "county", "city")


def group_of(level: str, entity: Entity, store: EntityStore) -> str | None:
    """The entity of `level` an entity belongs to: a teacher's school, a school's county."""
    if level == "school":
        return entity.school_id
    if level == "township":
        return f"{entity.county}/{entity.township}" if entity.township else None
    if level == "county":
        return entity.county
    if level == "city":
        return store.region
    raise ValueError(f"cannot aggregate at level {level!r}")


def groups(level: str, store: EntityStore) -> list[str]:
    if level == "school":
        return store.school_ids()
    if level == "township":
        return [f"{c}/{t}" for c, t in store.townships]
    if level == "county":
        return list(store.counties)
    if level == "city":
        return [store.region]
    raise ValueError(f"cannot aggregate at level {level!r}")


def _holds(cond: object, entity: Entity) -> bool:
    return cond is None or truth(cond, entity.values) is True  # type: ignore[arg-type]


def _decides(cond: object, entity: Entity) -> bool | None:
    """True or False, or None when a value the condition needs is missing."""
    return True if cond is None else truth(cond, entity.values)  # type: ignore[arg-type]


def _unknown(entity: Entity, cond: object) -> str:
    """What an aggregate could not tell about one entity, for the data gap."""
    absent = [f.info.label for f in fields_of(cond) if f.path not in entity.values]  # type: ignore[arg-type]
    return f"{entity.id} 缺少{'、'.join(absent) or '所需数据'}"


def _own_row(entity: Entity) -> RowRef | None:
    """The row standing for an entity in evidence: its own, its school's, or its statistics'."""
    row = entity.rows.get("") or entity.rows.get("school") or entity.rows.get("stats")
    return row.ref if row is not None else None


def _amount(entity: Entity, field: str | None) -> float | None:
    """1 per entity, or the value of `field` (None when that value is missing)."""
    if field is None:
        return 1
    value = entity.values.get(field)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _members(
    indicator: CompiledIndicator, store: EntityStore, of: str, field: str | None, missing: dict[str, list[str]],
) -> Iterator[tuple[str, Entity, float]]:
    """(area, entity, amount) for each entity of kind `of` that passes the indicator's filter; the
    amount is 1, or the entity's value of `field`. An entity whose filter or amount cannot be
    decided is listed in `missing` under its area instead."""
    level = indicator.spec.entity
    for entity in store.iter_kind(of):
        group = group_of(level, entity, store)
        if group is None:
            continue
        member = _decides(indicator.where, entity)
        if member is None:
            missing[group].append(_unknown(entity, indicator.where))
            continue
        if not member:
            continue
        amount = _amount(entity, field)
        if amount is None:
            missing[group].append(f"{entity.id} 缺少{indicator.weight.label if indicator.weight else field}")
            continue
        yield group, entity, amount


def _share(indicator: CompiledIndicator, store: EntityStore) -> None:
    spec = indicator.spec.share
    assert spec is not None
    level = indicator.spec.entity
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    rows: dict[str, list[RowRef]] = defaultdict(list)
    numerator_rows: dict[str, list[RowRef]] = defaultdict(list)
    missing: dict[str, list[str]] = defaultdict(list)
    for group, entity, amount in _members(indicator, store, spec.of, spec.weight, missing):
        counted = _decides(indicator.numerator, entity)
        if counted is None:
            missing[group].append(_unknown(entity, indicator.numerator))
            continue
        ref = _own_row(entity)
        totals[group][1] += amount
        if ref is not None:
            rows[group].append(ref)
        if counted:
            totals[group][0] += amount
            if ref is not None:
                numerator_rows[group].append(ref)
    for group in groups(level, store):
        num, den = totals.get(group, (0, 0))
        if spec.weight is None:
            num, den = int(num), int(den)
        gap = tuple(missing.get(group, ()))
        store.measures[(level, group)][indicator.spec.id] = Measure(
            value=num / den if den and not gap else None,
            parts={"numerator": num, "denominator": den},
            rows=tuple(rows.get(group, ())),
            numerator_rows=tuple(numerator_rows.get(group, ())),
            row_role="denominator",
            missing=gap,
        )


def _count(indicator: CompiledIndicator, store: EntityStore) -> None:
    spec = indicator.spec.count
    assert spec is not None
    level = indicator.spec.entity
    totals: dict[str, float] = defaultdict(float)
    rows: dict[str, list[RowRef]] = defaultdict(list)
    missing: dict[str, list[str]] = defaultdict(list)
    for group, entity, amount in _members(indicator, store, spec.of, spec.sum, missing):
        totals[group] += amount
        ref = _own_row(entity)
        if ref is not None:
            rows[group].append(ref)
    for group in groups(level, store):
        total = totals.get(group, 0)
        gap = tuple(missing.get(group, ()))
        store.measures[(level, group)][indicator.spec.id] = Measure(
            None if gap else (int(total) if spec.sum is None else total), rows=tuple(rows.get(group, ())), missing=gap
        )


def _peers(indicator: CompiledIndicator, store: EntityStore) -> None:
    assert indicator.key is not None
    kind = indicator.spec.entity
    members_by_key: dict[str, list[Entity]] = defaultdict(list)
    for entity in store.iter_kind(kind):
        value = entity.values.get(indicator.key.path)
        if value is None or not _holds(indicator.where, entity):
            continue
        members_by_key[text_key(str(value))].append(entity)
    for members in members_by_key.values():
        rows = tuple(ref for m in members if (ref := _own_row(m)) is not None)
        for member in members:
            store.measures[member.key][indicator.spec.id] = Measure(len(members), rows=rows, row_role="peer")


def _input_rows(entity: Entity, inputs: list[FieldInfo], store: EntityStore) -> tuple[RowRef, ...]:
    """The rows a formula's inputs come from: records read, and the rows behind indicators read."""
    rows: dict[RowRef, None] = {}
    for info in inputs:
        if info.indicator:
            owner = entity.measures if not info.relation else store.measures.get(
                ("school", entity.school_id or ""), {}) if info.relation == "school" else {}
            measure = owner.get(info.indicator)
            rows.update(dict.fromkeys(measure.rows if measure is not None else ()))
        elif info.origin == "record":
            record = entity.rows.get(info.relation)
            if record is not None:
                rows[record.ref] = None
    return tuple(rows)


def _formula(indicator: CompiledIndicator, store: EntityStore) -> None:
    assert indicator.formula is not None
    inputs = [f.info for f in fields_of(indicator.formula)]
    for entity in store.iter_kind(indicator.spec.entity):
        value = evaluate_formula(indicator.formula, entity.values)
        missing = () if value is not None else tuple(f.label for f in inputs if f.path not in entity.values)
        store.measures[entity.key][indicator.spec.id] = Measure(
            value, rows=_input_rows(entity, inputs, store), row_role="input", missing=missing  # type: ignore[arg-type]
        )


def weighted_cv(pairs: list[tuple[float, float]]) -> tuple[float, float] | None:
    """(coefficient of variation, weighted mean) of (value, weight) pairs, as standards.md §4 defines it:
    X̄ = Σ PᵢXᵢ / P, S = √(Σ (Pᵢ/P)(Xᵢ − X̄)²), CV = S / X̄. None when the weights or the mean are 0."""
    total = sum(weight for _, weight in pairs)
    if not total:
        return None
    mean = sum(value * weight for value, weight in pairs) / total
    if not mean:
        return None
    spread = math.sqrt(sum(weight / total * (value - mean) ** 2 for value, weight in pairs))
    return spread / mean, mean


def _cv(indicator: CompiledIndicator, store: EntityStore) -> None:
    spec = indicator.spec.cv
    assert spec is not None and indicator.value is not None and indicator.weight is not None
    members: dict[tuple[str, str], list[Entity]] = defaultdict(list)
    for entity in store.iter_kind(spec.of):
        if _holds(indicator.where, entity):
            members[(entity.county, entity.values["stage"])].append(entity)
    for (county, stage), entities in sorted(members.items()):
        metric = Metric(county, stage, indicator.spec.id, indicator.spec.title)
        store.metrics[metric.id] = metric
        values: list[tuple[str, str, float, float]] = []
        rows: list[RowRef] = []
        missing: list[str] = []
        for entity in entities:
            value = _amount(entity, indicator.value.path)
            weight = _amount(entity, indicator.weight.path)
            name = entity.values.get("school.name", entity.id)
            if value is None or weight is None:
                absent = indicator.value.label if value is None else indicator.weight.label
                missing.append(f"{name}（{entity.school_id}）缺少{absent}")
                continue
            values.append((entity.school_id or entity.id, name, float(value), float(weight)))
            ref = _own_row(entity)
            if ref is not None:
                rows.append(ref)
        result = None if missing else weighted_cv([(v, w) for _, _, v, w in values])
        if result is None and not missing:
            missing.append("加权平均值或在校生总数为 0")
        parts: dict[str, float | int] = {"schools": len(entities)}
        if result is not None:
            parts["mean"] = result[1]
        store.measures[("county_metric", metric.id)][indicator.spec.id] = Measure(
            result[0] if result else None,
            parts=parts,
            rows=tuple(rows),
            row_role="contributing",
            missing=tuple(missing),
            values=tuple(values),
        )


_COMPUTE = {"share": _share, "count": _count, "peers": _peers, "formula": _formula, "cv": _cv}


def compute_indicators(indicators: Iterable[CompiledIndicator], store: EntityStore) -> None:
    """Compute every indicator into `store.measures`, in declaration order."""
    for indicator in indicators:
        _COMPUTE[indicator.spec.kind](indicator, store)
