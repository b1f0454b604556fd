"""The indicator layer: aggregates computed before rules run, column-wise, each with its trace.

Absence, duplicates, shares, ratios and coefficients of variation are not left to the Rete
engine (its `none()` is order-dependent and has crashed on Python 3.12): they are computed here
with polars group-bys into exact values on entity frames, so rules only ever test positive
facts. Filters are decided once per distinct combination of the values they read
(`facts.truth_column`). Every value keeps its trace: the rows counted (and, for a share, those
in its numerator), what kept it from being computed, and for a coefficient of variation each
school's value and weight — as row references per entity, never a Python object per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import polars as pl

from ..numbers import Exact, Interval, Surd, Value, bounded, decode, encode, sqrt
from ..records.values import text_key
from ..rules.compiler import CompiledIndicator
from ..rules.reference import evaluate as evaluate_formula
from ..rules.typed import Expr, fields_of
from ..rules.vocabulary import FieldInfo
from .facts import exact_value, truth_column, values_column
from .tables import COUNTY, ID, KEYS, REF, SCHOOL, TOWNSHIP, EntityTables

GROUP_LEVELS = ("school", "township", "county", "city")


@dataclass(frozen=True)
class Trace:
    """What an indicator's values rest on: `frame` has `__id` and `rows` (row references), and
    may have `numerator_rows`, `missing` (what kept a value from being computed) and
    `contributions` (a CV's schools: id, name, value, weight). `role` names the rows' part."""

    indicator: str
    role: str
    frame: pl.DataFrame
    # a formula's inputs that are indicators: (indicator id, relation it is read through: "" or "school");
    # their rows are part of this value's evidence, gathered for the entities that need them
    inputs: tuple[tuple[str, str], ...] = ()
    # a share's or count's amounts per group by what is known of its members (see `_aggregate`),
    # which partitions sum to make the city's value
    parts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _group_key(level: str, region: str) -> pl.Expr:
    if level == "school":
        return pl.col(SCHOOL)
    if level == "township":
        return pl.when(pl.col(TOWNSHIP).is_not_null()).then(pl.col(COUNTY) + "/" + pl.col(TOWNSHIP))
    if level == "county":
        return pl.col(COUNTY)
    if level == "city":
        return pl.lit(region)
    raise ValueError(f"cannot aggregate at level {level!r}")


def _absent_labels(frame: pl.DataFrame, infos: Iterable[FieldInfo]) -> pl.Expr:
    """For each row, the labels of the fields among `infos` it has no value for, joined by 、."""
    parts = [
        pl.when(pl.col(info.path).is_null()).then(pl.lit(info.label)) for info in infos if info.path in frame.columns
    ]
    if not parts:
        return pl.lit("所需数据")
    joined = pl.concat_str(parts, separator="、", ignore_nulls=True)
    return pl.when(joined == "").then(pl.lit("所需数据")).otherwise(joined)


def _member_frame(
    indicator: CompiledIndicator, tables: EntityTables, of: str, amount: FieldInfo | None
) -> pl.DataFrame:
    """The `of` entities with their group, filter verdict (`__where`: true, false, or null when a
    blank decides it), numerator verdict (`__num`), amount, and a 'missing' message for each
    blank that leaves the entity's part open."""
    infos = {
        f.path: f.info
        for cond in (indicator.where, indicator.numerator)
        if cond is not None
        for f in fields_of(cond, include_presence=True)
    }
    if amount is not None:
        infos[amount.path] = amount
    row_path = tables.row_path(of)
    frame = tables.frame(of, [*infos, *([row_path] if row_path not in (None, REF) else [])])
    frame = frame.with_columns(
        _group_key(indicator.spec.entity, tables.region).alias("__group"),
        (pl.col(row_path) if row_path is not None else pl.lit(None, dtype=pl.Int64)).alias("__row_ref"),
    )
    frame = frame.filter(pl.col("__group").is_not_null())
    frame = frame.with_columns(truth_column(frame, indicator.where, "__where"))
    if indicator.numerator is not None:
        frame = frame.with_columns(truth_column(frame, indicator.numerator, "__num"))
    else:
        frame = frame.with_columns(pl.lit(True).alias("__num"))
    frame = frame.filter(pl.col("__where").is_null() | pl.col("__where"))
    where_fields = [f.info for f in fields_of(indicator.where)] if indicator.where is not None else []
    num_fields = [f.info for f in fields_of(indicator.numerator)] if indicator.numerator is not None else []
    missing: Any = pl.when(pl.col("__where").is_null()).then(pl.col(ID) + " 缺少" + _absent_labels(frame, where_fields))
    if indicator.numerator is not None:
        missing = missing.when(pl.col("__num").is_null()).then(pl.col(ID) + " 缺少" + _absent_labels(frame, num_fields))
    if amount is not None:
        missing = missing.when(pl.col(amount.path).is_null()).then(pl.col(ID) + f" 缺少{amount.label}")
    return frame.with_columns(missing.alias("__missing"))


_PARTS = ("certain_num", "certain_den", "open_num", "maybe_both", "maybe_den", "maybe_any")


def _aggregate(
    indicator: CompiledIndicator, tables: EntityTables, of: str, amount: FieldInfo | None
) -> dict[str, dict[str, Any]]:
    """Per group, the amounts of its members by what is known of them, exactly, and their rows:

    `certain_num` in numerator and denominator; `certain_den` in the denominator only; `open_num`
    in the denominator, the numerator unknown; `maybe_both` (a filter unknown, the numerator
    true), `maybe_den` (filter unknown, numerator false), `maybe_any` (both unknown). A member
    whose amount is blank leaves the group `unbounded`."""
    frame = _member_frame(indicator, tables, of, amount)
    where, num = pl.col("__where"), pl.col("__num")
    part = (
        pl.when(where & num)
        .then(pl.lit("certain_num"))
        .when(where & ~num)
        .then(pl.lit("certain_den"))
        .when(where)
        .then(pl.lit("open_num"))
        .when(num)
        .then(pl.lit("maybe_both"))
        .when(~num)
        .then(pl.lit("maybe_den"))
        .otherwise(pl.lit("maybe_any"))
    )
    value = pl.col(amount.path) if amount is not None else pl.lit(1, dtype=pl.Int64)
    frame = frame.with_columns(part.alias("__part"), value.alias("__amount"))
    scaled = amount is None or amount.form == "scaled"
    sums = frame.group_by("__group", "__part").agg(
        (pl.col("__amount").sum() if scaled else pl.col("__amount")).alias("__sum"),
        pl.col("__amount").null_count().alias("__blank"),
    )
    rows = frame.group_by("__group").agg(
        pl.col("__row_ref").filter(pl.col("__where").fill_null(False)).drop_nulls().sort().alias("rows"),
        pl.col("__row_ref").filter(pl.col("__part") == "certain_num").drop_nulls().sort().alias("numerator_rows"),
        pl.col("__row_ref").filter(pl.col("__missing").is_not_null()).drop_nulls().sort().alias("open_rows"),
        pl.col("__missing").drop_nulls().alias("missing"),
    )
    scale = Fraction(amount.scale) if amount is not None and scaled else Fraction(1)
    groups: dict[str, dict[str, Any]] = {}
    for group, part_name, total, blank in sums.iter_rows():
        entry = groups.setdefault(group, {name: Fraction(0) for name in _PARTS} | {"unbounded": False})
        if scaled:
            entry[part_name] += Fraction(total or 0) / scale
        else:
            entry[part_name] += sum((Fraction(decode(v)) for v in total if v is not None), Fraction(0))  # type: ignore[arg-type]
        entry["unbounded"] = entry["unbounded"] or bool(blank)
    for row in rows.iter_rows(named=True):
        groups.setdefault(row["__group"], {name: Fraction(0) for name in _PARTS} | {"unbounded": False}).update(
            rows=row["rows"], numerator_rows=row["numerator_rows"], open_rows=row["open_rows"], missing=row["missing"]
        )
    return groups


def _exact_text(value: Fraction | None) -> str | None:
    return None if value is None else encode(value.numerator if value.denominator == 1 else value)


def _trace_frame(ids: list[str], groups: Mapping[str, Mapping[str, Any]], share: bool) -> pl.DataFrame:
    data: dict[str, list[Any]] = {ID: ids, "rows": [], "missing": [], "open_rows": []}
    if share:
        data["numerator_rows"] = []
    for group in ids:
        entry = groups.get(group, {})
        data["rows"].append(entry.get("rows") or [])
        data["missing"].append(entry.get("missing") or [])
        data["open_rows"].append(entry.get("open_rows") or [])
        if share:
            data["numerator_rows"].append(entry.get("numerator_rows") or [])
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        ID: pl.String,
        "rows": pl.List(pl.Int64),
        "missing": pl.List(pl.String),
        "open_rows": pl.List(pl.Int64),
    }
    if share:
        schema["numerator_rows"] = pl.List(pl.Int64)
    return pl.DataFrame(data, schema=schema)


def share_bounds(parts: Mapping[str, Fraction]) -> tuple[Value | None, Value, Value]:
    """(share, numerator, denominator) of a group's parts, each a value or the interval of what
    the blanks could make it; the share None where it is undefined (no certain member) or
    unbounded. The share is highest with every open member counted in the numerator, and lowest
    with every open member counted in the denominator only."""
    certain_num, certain_den = parts["certain_num"], parts["certain_num"] + parts["certain_den"]
    open_num, maybe_both, maybe_den, maybe_any = (
        parts[k] for k in ("open_num", "maybe_both", "maybe_den", "maybe_any")
    )
    numerator = bounded(_int(certain_num), _int(certain_num + open_num + maybe_both + maybe_any))
    denominator = bounded(
        _int(certain_den + open_num), _int(certain_den + open_num + maybe_both + maybe_den + maybe_any)
    )
    if parts.get("unbounded"):
        return None, numerator, denominator
    low_den = certain_den + open_num + maybe_den + maybe_any
    high_den = certain_den + open_num + maybe_both + maybe_any
    if not (certain_den + open_num) or not low_den or not high_den:
        return None, numerator, denominator
    low = certain_num / low_den
    high = (certain_num + open_num + maybe_both + maybe_any) / high_den
    return bounded(_int(low), _int(high)), numerator, denominator


def count_bounds(parts: Mapping[str, Fraction]) -> Value | None:
    """A count (or sum) of a group's members: the certain ones, up to all that may be members; None
    when a blank amount leaves it open, or when the group has none of the rows it counts over
    (`unpopulated`: a data gap, not 0)."""
    if parts.get("unbounded") or parts.get("unpopulated"):
        return None
    certain = sum((parts[k] for k in ("certain_num", "certain_den", "open_num")), Fraction(0))
    possible = sum((parts[k] for k in ("maybe_both", "maybe_den", "maybe_any")), Fraction(0))
    return bounded(_int(certain), _int(certain + possible))


def _int(value: Fraction) -> int | Fraction:
    return value.numerator if value.denominator == 1 else value


def _level_ids(tables: EntityTables, level: str) -> list[str]:
    return tables.base(level)[ID].to_list()


def _share(indicator: CompiledIndicator, tables: EntityTables) -> Trace:
    spec = indicator.spec.share
    assert spec is not None
    level = indicator.spec.entity
    groups = _aggregate(indicator, tables, spec.of, indicator.weight)
    ids = _level_ids(tables, level)
    empty = {name: Fraction(0) for name in _PARTS}
    values, numerators, denominators = [], [], []
    for group in ids:
        value, numerator, denominator = share_bounds(groups.get(group, empty))
        values.append(None if value is None else encode(value))
        numerators.append(encode(numerator))
        denominators.append(encode(denominator))
    sid = spec_id = indicator.spec.id
    tables.add_indicator(
        level,
        pl.DataFrame(
            {
                ID: ids,
                sid: pl.Series(values, dtype=pl.String),
                f"{spec_id}.numerator": pl.Series(numerators, dtype=pl.String),
                f"{spec_id}.denominator": pl.Series(denominators, dtype=pl.String),
            },
            schema={ID: pl.String, sid: pl.String, f"{sid}.numerator": pl.String, f"{sid}.denominator": pl.String},
        ),
    )
    return Trace(sid, "denominator", _trace_frame(ids, groups, share=True), parts=groups)


def _populated(indicator: CompiledIndicator, tables: EntityTables, of: str) -> set[str]:
    """The groups with at least one `of` entity in the count's population (or that may be: a blank
    that decides membership counts as a member, so the count is bounded rather than a gap)."""
    population = indicator.population
    paths = [f.info.path for f in fields_of(population, include_presence=True)] if population is not None else []
    frame = tables.frame(of, paths).with_columns(_group_key(indicator.spec.entity, tables.region).alias("__group"))
    frame = frame.filter(pl.col("__group").is_not_null())
    frame = frame.with_columns(truth_column(frame, population, "__in"))
    return set(frame.filter(pl.col("__in").is_null() | pl.col("__in"))["__group"].unique().to_list())


def _count(indicator: CompiledIndicator, tables: EntityTables) -> Trace:
    spec = indicator.spec.count
    assert spec is not None
    level = indicator.spec.entity
    groups = _aggregate(indicator, tables, spec.of, indicator.weight)
    ids = _level_ids(tables, level)
    empty = {name: Fraction(0) for name in _PARTS}
    # a count over no rows is a data gap saying what is missing, not a 0 that rests on nothing
    populated = _populated(indicator, tables, spec.of) if spec.absent is not None else None
    totals: list[str | None] = []
    for group in ids:
        if populated is not None and group not in populated:
            groups[group] = {**empty, "unbounded": False, "unpopulated": True, "missing": [f"数据中没有{spec.absent}"]}
            totals.append(None)
            continue
        total = count_bounds(groups.get(group, empty))
        totals.append(None if total is None else encode(total))
    tables.add_indicator(
        level,
        pl.DataFrame(
            {ID: ids, indicator.spec.id: pl.Series(totals, dtype=pl.String)},
            schema={ID: pl.String, indicator.spec.id: pl.String},
        ),
    )
    return Trace(indicator.spec.id, "counted", _trace_frame(ids, groups, share=False), parts=groups)


def _peers(indicator: CompiledIndicator, tables: EntityTables) -> Trace:
    assert indicator.key is not None
    kind = indicator.spec.entity
    infos = [f.info for f in fields_of(indicator.where, include_presence=True)] if indicator.where is not None else []
    row_path = tables.row_path(kind)
    frame = tables.frame(
        kind, [indicator.key.path, *(i.path for i in infos), *([row_path] if row_path not in (None, REF) else [])]
    )
    frame = frame.with_columns(
        truth_column(frame, indicator.where, "__where"),
        (pl.col(row_path) if row_path else pl.lit(None, dtype=pl.Int64)).alias("__row_ref"),
    )
    members = frame.filter(pl.col("__where").fill_null(False) & pl.col(indicator.key.path).is_not_null())
    keys = members[indicator.key.path].cast(pl.String)
    distinct_keys = keys.unique()
    normalised = pl.DataFrame(
        {"__k": distinct_keys, "__key": [text_key(k) for k in distinct_keys.to_list()]},
        schema={"__k": pl.String, "__key": pl.String},
    )
    members = members.with_columns(keys.alias("__k")).join(normalised, on="__k", how="left", maintain_order="left")
    groups = members.group_by("__key").agg(
        pl.len().cast(pl.Int64).alias("__n"), pl.col("__row_ref").drop_nulls().sort().alias("rows")
    )
    members = members.join(groups, on="__key", how="left", maintain_order="left")
    tables.add_indicator(kind, members.select(ID, pl.col("__n").alias(indicator.spec.id)))
    return Trace(indicator.spec.id, "peer", members.select(ID, "rows"))


def _expression_values(
    expr: Expr, tables: EntityTables, kind: str, name: str
) -> tuple[pl.DataFrame, list[FieldInfo], list[str]]:
    """Each entity of `kind` with the exact value of `expr` (encoded) in column `name`, the fields it
    read and the row-reference columns of the records they came from."""
    inputs = [f.info for f in fields_of(expr)]
    refs = sorted({f"{info.relation}.__ref" for info in inputs if info.relation and info.origin == "record"})
    frame = tables.frame(kind, [*(i.path for i in inputs), *refs])

    def compute(fact: Mapping[str, object]) -> str | None:
        value = evaluate_formula(expr, fact)
        return None if value is None else encode(value)  # type: ignore[arg-type]

    return frame.with_columns(values_column(frame, inputs, compute, name, pl.String)), inputs, refs


def _formula(indicator: CompiledIndicator, tables: EntityTables) -> Trace:
    assert indicator.formula is not None
    kind = indicator.spec.entity
    frame, inputs, refs = _expression_values(indicator.formula, tables, kind, "__value")
    missing = (
        pl.when(pl.col("__value").is_null())
        .then(pl.concat_list(_absent_labels(frame, inputs)))
        .otherwise(pl.lit([], dtype=pl.List(pl.String)))
    )
    own_refs = [pl.col(REF)] if any(not info.relation and info.origin == "record" for info in inputs) else []
    row_columns = [*own_refs, *(pl.col(r) for r in refs)]
    rows = (
        pl.concat_list(row_columns).list.drop_nulls().list.unique().list.sort()
        if row_columns
        else pl.lit([], dtype=pl.List(pl.Int64))
    )
    trace = frame.select(ID, rows.alias("rows"), missing.alias("missing"))
    tables.add_indicator(kind, frame.select(ID, pl.col("__value").alias(indicator.spec.id)))
    sources = tuple(
        dict.fromkeys(
            (info.indicator, info.relation) for info in inputs if info.indicator and info.relation in ("", "school")
        )
    )
    return Trace(indicator.spec.id, "input", trace, sources)


def weighted_cv(pairs: list[tuple[Fraction, Fraction]]) -> tuple[Exact, Fraction] | None:
    """(coefficient of variation, weighted mean) of (value, weight) pairs, exactly, as standards.md
    §4 defines it: X̄ = Σ PᵢXᵢ / P, S = √(Σ (Pᵢ/P)(Xᵢ − X̄)²), CV = S / X̄. None when the weights or
    the mean are 0."""
    total = sum((weight for _, weight in pairs), Fraction(0))
    if not total:
        return None
    mean = sum((value * weight for value, weight in pairs), Fraction(0)) / total
    if not mean:
        return None
    variance = sum((weight / total * (value - mean) ** 2 for value, weight in pairs), Fraction(0))
    root = sqrt(variance)
    cv = root / mean if isinstance(root, (int, Fraction)) else Surd(root.coefficient / mean, root.radicand)
    return cv, mean


def _cv(indicator: CompiledIndicator, tables: EntityTables) -> Trace:
    spec = indicator.spec.cv
    assert spec is not None and indicator.value is not None and indicator.weight is not None
    infos = [f.info for f in fields_of(indicator.where, include_presence=True)] if indicator.where is not None else []
    value_info, weight_info = indicator.value, indicator.weight
    names = tables.vocabulary[spec.of].fields
    frame = tables.frame(
        spec.of,
        [
            value_info.path,
            weight_info.path,
            "stage",
            *(i.path for i in infos),
            *(["school.name", "school.__ref"] if "school.name" in names else ["name"]),
        ],
    )
    frame = frame.with_columns(truth_column(frame, indicator.where, "__where")).filter(
        pl.col("__where").fill_null(False)
    )
    name_column = "school.name" if "school.name" in frame.columns else "name"
    ref_column = "school.__ref" if "school.__ref" in frame.columns else REF
    rows: list[dict[str, object]] = []
    traces: list[dict[str, object]] = []
    for (county, stage), group in sorted(frame.group_by([COUNTY, "stage"]), key=lambda g: (str(g[0][0]), str(g[0][1]))):
        metric_id = f"{county}/{stage}/{indicator.spec.id}"
        pairs: list[tuple[Fraction, Fraction]] = []
        contributions: list[dict[str, object]] = []
        refs: list[int] = []
        missing: list[str] = []
        for row in group.sort(SCHOOL, ID).iter_rows(named=True):
            value = exact_value(value_info, row[value_info.path])
            weight = exact_value(weight_info, row[weight_info.path])
            name = row[name_column] or row[ID]
            if value is None or weight is None:
                absent = value_info.label if value is None else weight_info.label
                missing.append(f"{name}（{row[SCHOOL]}）缺少{absent}")
                continue
            if isinstance(value, Interval) or isinstance(weight, Interval):
                missing.append(f"{name}（{row[SCHOOL]}）的{value_info.label}因数据缺失只能确定在一个区间内")
                continue
            pairs.append((Fraction(value), Fraction(weight)))  # type: ignore[call-overload]  # exact numbers here
            contributions.append(
                {
                    "school_id": row[SCHOOL] or row[ID],
                    "name": name,
                    "value": encode(value),  # type: ignore[arg-type]  # exact numbers here
                    "weight": encode(weight),  # type: ignore[arg-type]
                }
            )
            if row[ref_column] is not None:
                refs.append(row[ref_column])
        result = None if missing else weighted_cv(pairs)
        if result is None and not missing:
            missing.append("加权平均值或在校生总数为 0")
        rows.append(
            {
                ID: metric_id,
                COUNTY: county,
                TOWNSHIP: None,
                SCHOOL: None,
                REF: None,
                "county": county,
                "stage": stage,
                "metric": indicator.spec.id,
                "metric_title": indicator.spec.title,
                "cv": encode(result[0]) if result else None,
                "mean": encode(result[1]) if result else None,
                "schools": group.height,
            }
        )
        traces.append({ID: metric_id, "rows": refs, "missing": missing, "contributions": contributions})
    schema = tables.base("county_metric").schema
    metrics = pl.DataFrame(rows, schema=schema)
    tables.metrics = metrics if tables.metrics is None else pl.concat([tables.metrics, metrics])
    tables._bases.pop("county_metric", None)
    contribution = pl.Struct({"school_id": pl.String, "name": pl.String, "value": pl.String, "weight": pl.String})
    trace = pl.DataFrame(
        traces,
        schema={
            ID: pl.String,
            "rows": pl.List(pl.Int64),
            "missing": pl.List(pl.String),
            "contributions": pl.List(contribution),
        },
    )
    return Trace(indicator.spec.id, "contributing", trace)


def apply_entered(indicator: CompiledIndicator, tables: EntityTables, computed: Trace) -> Trace:
    """A published figure entered for an entity replaces the computed value (a share's numerator and
    denominator become unknown); its evidence is the statistics row it was read from, and nothing
    is missing from it."""
    assert indicator.entered is not None
    kind, sid = indicator.spec.entity, indicator.spec.id
    frame, _, refs = _expression_values(indicator.entered, tables, kind, "__entered")
    entered = frame.filter(pl.col("__entered").is_not_null())
    if entered.is_empty():
        return computed
    ids = entered[ID].to_list()
    current = tables.indicators[kind]
    given = entered.select(ID, pl.col("__entered").alias(sid))
    parts = [c for c in current.columns if c.startswith(f"{sid}.")]
    replaced = (
        current.join(given, on=ID, how="left", suffix="__given")
        .with_columns(
            pl.coalesce(f"{sid}__given", sid).alias(sid),
            *(pl.when(pl.col(ID).is_in(ids)).then(None).otherwise(pl.col(c)).alias(c) for c in parts),
        )
        .drop(f"{sid}__given")
    )
    tables.indicators[kind] = replaced
    rows = pl.concat_list([pl.col(r) for r in refs]).list.drop_nulls() if refs else pl.lit([], dtype=pl.List(pl.Int64))
    given_rows = entered.select(ID, rows.alias("__given_rows"))
    # an entered entity's rows are the statistics row; it has no numerator rows, open rows or missing inputs
    replacement = {
        "rows": pl.col("__given_rows"),
        "numerator_rows": pl.lit([], dtype=pl.List(pl.Int64)),
        "open_rows": pl.lit([], dtype=pl.List(pl.Int64)),
        "missing": pl.lit([], dtype=pl.List(pl.String)),
    }
    is_given = pl.col("__given_rows").is_not_null()
    trace = (
        computed.frame.join(given_rows, on=ID, how="left")
        .with_columns(
            pl.when(is_given).then(value).otherwise(pl.col(column)).alias(column)
            for column, value in replacement.items()
            if column in computed.frame.columns
        )
        .drop("__given_rows")
    )
    return Trace(computed.indicator, computed.role, trace, computed.inputs, computed.parts)


_COMPUTE = {"share": _share, "count": _count, "peers": _peers, "formula": _formula, "cv": _cv}


Precomputed = Mapping[str, tuple[str, Trace, pl.DataFrame]]  # indicator id → (entity kind, trace, values)


def compute_indicators(
    indicators: Iterable[CompiledIndicator], tables: EntityTables, precomputed: Precomputed | None = None
) -> None:
    """Compute every indicator into `tables`, in declaration order, keeping each one's trace; an
    indicator in `precomputed` (computed over the whole audit) is taken from there."""
    for indicator in indicators:
        given = (precomputed or {}).get(indicator.spec.id)
        if given is not None:
            kind, trace, values = given
            ids = tables.base(kind).select(ID)
            tables.add_indicator(kind, values.join(ids, on=ID, how="semi"))
            tables.traces[indicator.spec.id] = Trace(
                trace.indicator, trace.role, trace.frame.join(ids, on=ID, how="semi")
            )
            continue
        trace = _COMPUTE[indicator.spec.kind](indicator, tables)
        if indicator.entered is not None:
            trace = apply_entered(indicator, tables, trace)
        tables.traces[indicator.spec.id] = trace


def compute_peers(
    indicators: Iterable[CompiledIndicator], tables: EntityTables
) -> dict[str, tuple[str, Trace, pl.DataFrame]]:
    """The indicators that compare entities across counties (`peers`: one licence held by
    kindergartens of two counties), computed on the whole audit before it is partitioned."""
    found: dict[str, tuple[str, Trace, pl.DataFrame]] = {}
    for indicator in indicators:
        if indicator.spec.kind == "peers":
            trace = _peers(indicator, tables)
            kind = indicator.spec.entity
            found[indicator.spec.id] = (kind, trace, tables.indicators[kind].select(ID, indicator.spec.id))
    return found


__all__ = [
    "GROUP_LEVELS",
    "KEYS",
    "Precomputed",
    "Trace",
    "apply_entered",
    "compute_indicators",
    "compute_peers",
    "weighted_cv",
]
