"""Entities as columns: one polars frame per entity kind, built from the loaded tables.

`EntityTables.frame(kind, paths)` gives one row per entity of `kind` with its keys (`__id`,
`__county`, `__township`, `__school`, `__ref`) and one column per requested field path, joining
what the paths read through: a class's `school.type`, a school's `facilities.teaching_area`, a
county's `stats.gdp` (its statistics of the audit year) and `prev.gdp` (the year before), and
the indicators computed so far. A path `<relation>.__ref` gives the row a related value was read
from, for evidence.

Values keep their exact form: numbers of records and counts as integers at their precision
(`FieldInfo.scale`), fractions and roots as their canonical text (`numbers.encode`), dates as
dates. `__ref` packs a row's source file and row number into one integer (`ref_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import polars as pl

from ..numbers import encode
from ..records.loader import SRC, Dataset, RowRef
from ..records.readers import ROW
from ..records.values import KINDERGARTEN_GRADES
from ..rules.vocabulary import ENTITY_KINDS, EntityVocabulary, FieldInfo

ID, COUNTY, TOWNSHIP, SCHOOL, REF = "__id", "__county", "__township", "__school", "__ref"
KEYS = (ID, COUNTY, TOWNSHIP, SCHOOL, REF)
# Apportioning a one-through school's shared resources (teachers, rooms, equipment) between its
# stages weighs a junior pupil 11/10 of a primary pupil (standards.md §4, V2).
JUNIOR_WEIGHT = Fraction(11, 10)
_SINGLE_STAGE = {"primary": "primary", "junior": "junior"}


def ref_expr() -> pl.Expr:
    """A row's source file and row number as one integer."""
    return (pl.col(SRC).cast(pl.Int64) * (1 << 32) + pl.col(ROW)).alias(REF)


def unpack_ref(packed: int) -> tuple[int, int]:
    """A packed row reference (`ref_expr`) as (index of its source file, row number)."""
    return packed >> 32, packed & 0xFFFFFFFF


def ref_of(packed: int, sources: Sequence[str]) -> RowRef:
    source, row = unpack_ref(packed)
    return RowRef(sources[source], row)


def _stage_of_grade() -> pl.Expr:
    number = pl.col("grade").cast(pl.Int64, strict=False)
    return (
        pl.when(pl.col("grade").is_in(list(KINDERGARTEN_GRADES)))
        .then(pl.lit("kindergarten"))
        .when(number <= 6)
        .then(pl.lit("primary"))
        .when(number <= 9)
        .then(pl.lit("junior"))
        .otherwise(pl.lit("senior"))
    )


class EntityTables:
    """Entity frames of one audit (or one partition of it), and the indicators computed on them."""

    def __init__(
        self, dataset: Dataset, vocabulary: Mapping[str, EntityVocabulary], *, region: str, audit_year: int
    ) -> None:
        self.dataset = dataset
        self.vocabulary = vocabulary
        self.region = region
        self.audit_year = audit_year
        self.indicators: dict[str, pl.DataFrame] = {}  # per entity kind: __id + indicator field columns
        self.traces: dict[str, Any] = {}  # per indicator id: its `indicators.Trace`
        self._bases: dict[str, pl.DataFrame] = {}
        self._relations: dict[tuple[str, str, str], pl.DataFrame] = {}
        self.metrics: pl.DataFrame | None = None  # county_metric rows, from the CV indicators

    # -- bases ----------------------------------------------------------------------------------

    def base(self, kind: str) -> pl.DataFrame:
        if kind not in self._bases:
            self._bases[kind] = getattr(self, f"_base_{kind}")()
        return self._bases[kind]

    def _table(self, name: str) -> pl.DataFrame:
        return self.dataset.tables[name]

    def _schools(self) -> pl.DataFrame:
        return self._table("schools")

    def _row_trace(self, field: str, role: str, frame: pl.DataFrame) -> None:
        """The input rows a derived field rests on (`frame`: `__id`, `rows`), cited as a finding's
        evidence when a rule reads the field (a school's classes behind `class_pupils`). A field of
        two kinds (a county's and the city's `unused_stats_rows`) keeps the rows of both."""
        from .indicators import Trace  # indicators build on this module

        frame = frame.select(pl.col(ID), pl.col("rows").cast(pl.List(pl.Int64)))
        known = self.traces.get(field)
        if known is not None:
            frame = pl.concat([known.frame.join(frame, on=ID, how="anti"), frame])
        self.traces[field] = Trace(field, role, frame)

    def _base_school(self) -> pl.DataFrame:
        classes = (
            self._table("classes")
            .group_by("school_id")
            .agg(pl.col("size").sum().alias("__class_pupils"), pl.len().cast(pl.Int64).alias("class_count"))
        )
        class_rows = (
            self._table("classes").with_columns(ref_expr()).group_by("school_id").agg(pl.col(REF).sort().alias("rows"))
        )
        self._row_trace("class_pupils", "counted", class_rows.select(pl.col("school_id").alias(ID), "rows"))
        schools = self._schools().join(classes, on="school_id", how="left", maintain_order="left")
        return schools.with_columns(
            pl.col("school_id").alias(ID),
            pl.col("county").alias(COUNTY),
            pl.col("township").alias(TOWNSHIP),
            pl.col("school_id").alias(SCHOOL),
            ref_expr(),
            pl.col("enrolment").alias("__given_enrolment"),
            # the row's figure when given (per-pupil rules on the school read it), else its classes' sum;
            # the two side by side for the data-quality rules that compare them
            pl.col("enrolment").alias("reported_enrolment"),
            pl.col("__class_pupils").fill_null(0).alias("class_pupils"),
            pl.coalesce("enrolment", "__class_pupils", pl.lit(0, dtype=pl.Int64)).alias("enrolment"),
            pl.col("class_count").fill_null(0),
        )

    def _member(self, table: pl.DataFrame, id_column: str) -> pl.DataFrame:
        schools = self._schools().select(
            "school_id", pl.col("county").alias(COUNTY), pl.col("township").alias(TOWNSHIP)
        )
        joined = table.join(schools, on="school_id", how="left", maintain_order="left")
        return joined.with_columns(pl.col(id_column).alias(ID), pl.col("school_id").alias(SCHOOL), ref_expr())

    def _base_class(self) -> pl.DataFrame:
        frame = self._member(self._table("classes"), "class_id")
        kindergarten = pl.col("grade").is_in(list(KINDERGARTEN_GRADES))
        return frame.with_columns(
            _stage_of_grade().alias("stage"),
            pl.when(kindergarten).then(None).otherwise(pl.col("grade").cast(pl.Int64, strict=False)).alias("grade_no"),
            pl.when(kindergarten).then(pl.col("grade")).otherwise(pl.col("grade") + "年级").alias("grade_name"),
        )

    def _base_teacher(self) -> pl.DataFrame:
        return self._member(self._table("teachers"), "teacher_id")

    def _base_school_stage(self) -> pl.DataFrame:
        schools = self.base("school")
        classes = (
            self._table("classes")
            .with_columns(_stage_of_grade().alias("stage"))
            .filter(pl.col("stage").is_in(["primary", "junior"]))
        )
        by_stage = classes.group_by("school_id", "stage").agg(
            pl.col("size").sum().alias("enrolment"), pl.len().cast(pl.Int64).alias("class_count")
        )
        # a primary or junior school with an enrolment on its row and no class listed: one stage
        listed = by_stage.select("school_id").unique()
        single = (
            schools.filter(
                pl.col("type").is_in(list(_SINGLE_STAGE))
                & pl.col("__given_enrolment").is_not_null()
                & (pl.col("__given_enrolment") > 0)
            )
            .join(listed, on="school_id", how="anti")
            .select(
                "school_id",
                pl.col("type").alias("stage"),
                pl.col("__given_enrolment").alias("enrolment"),
                pl.lit(0, dtype=pl.Int64).alias("class_count"),
            )
        )
        stages = pl.concat([by_stage, single], how="vertical_relaxed").sort("school_id", "stage")
        rows = stages.rows(named=True)
        weights: dict[str, Fraction] = {}
        for row in rows:
            weight = row["enrolment"] * (JUNIOR_WEIGHT if row["stage"] == "junior" else 1)
            weights[row["school_id"]] = weights.get(row["school_id"], Fraction(0)) + weight
        shares = []
        for row in rows:
            weight = row["enrolment"] * (JUNIOR_WEIGHT if row["stage"] == "junior" else 1)
            total = weights[row["school_id"]]
            shares.append(encode(Fraction(weight) / total if total else Fraction(1)))
        stages = stages.with_columns(pl.Series("share", shares, dtype=pl.String))
        keys = schools.select("school_id", COUNTY, TOWNSHIP, pl.col(REF).alias("__school_ref"))
        stages = stages.join(keys, on="school_id", how="left", maintain_order="left")
        return stages.with_columns(
            (pl.col("school_id") + "/" + pl.col("stage")).alias(ID),
            pl.col(COUNTY).alias("county"),
            pl.col("school_id").alias(SCHOOL),
            pl.lit(None, dtype=pl.Int64).alias(REF),
        )

    def _base_township(self) -> pl.DataFrame:
        townships = self._schools().select("county", "township").unique().sort("county", "township")
        return townships.with_columns(
            (pl.col("county") + "/" + pl.col("township")).alias(ID),
            pl.col("county").alias(COUNTY),
            pl.col("township").alias(TOWNSHIP),
            pl.lit(None, dtype=pl.String).alias(SCHOOL),
            pl.lit(None, dtype=pl.Int64).alias(REF),
        ).with_columns(pl.col(ID).alias("name"))

    def _base_county(self) -> pl.DataFrame:
        counties = self._schools().select(pl.col("county").alias("name")).unique().sort("name")
        counties = counties.with_columns(
            pl.col("name").alias(ID),
            pl.col("name").alias(COUNTY),
            pl.lit(None, dtype=pl.String).alias(TOWNSHIP),
            pl.lit(None, dtype=pl.String).alias(SCHOOL),
            pl.lit(None, dtype=pl.Int64).alias(REF),
        )
        return self._with_unused_stats(counties, "county_stats", pl.col("county"))

    def _base_city(self) -> pl.DataFrame:
        city = pl.DataFrame(
            {
                ID: [self.region],
                COUNTY: [self.region],
                TOWNSHIP: [None],
                SCHOOL: [None],
                REF: [None],
                "name": [self.region],
            },
            schema={
                ID: pl.String,
                COUNTY: pl.String,
                TOWNSHIP: pl.String,
                SCHOOL: pl.String,
                REF: pl.Int64,
                "name": pl.String,
            },
        )
        return self._with_unused_stats(city, "city_stats", pl.lit(self.region))

    def _with_unused_stats(self, areas: pl.DataFrame, table: str, key: pl.Expr) -> pl.DataFrame:
        """`unused_stats_rows` and `unused_stats_years` (each year with its file and rows): the
        statistics rows of an area for years the audit reads neither as this year's (`stats`) nor as
        last year's (`prev`), reported rather than silently ignored."""
        used = [self.audit_year, self.audit_year - 1]
        rows = self.dataset.tables.get(table)
        empty = areas.with_columns(
            pl.lit(0, dtype=pl.Int64).alias("unused_stats_rows"),
            pl.lit(None, dtype=pl.String).alias("unused_stats_years"),
        )
        if rows is None or rows.is_empty():
            return empty
        unused = rows.filter(pl.col("year").is_not_null() & ~pl.col("year").is_in(used)).with_columns(
            key.alias("__key"), ref_expr()
        )
        if unused.is_empty():
            return empty
        self._row_trace(
            "unused_stats_rows",
            "unused",
            unused.group_by("__key").agg(pl.col(REF).sort().alias("rows")).select(pl.col("__key").alias(ID), "rows"),
        )
        sources = self.dataset.sources
        texts: dict[str, tuple[int, str]] = {}
        for area, group in unused.sort("year", SRC, ROW).group_by("__key", maintain_order=True):
            parts = []
            for (year, src), rows_of in group.group_by("year", SRC, maintain_order=True):
                numbers = "、".join(str(n) for n in rows_of[ROW].to_list())
                parts.append(f"{year} 年（{sources[src]} 第 {numbers} 行）")
            texts[str(area[0])] = (group.height, "；".join(parts))
        found = pl.DataFrame(
            {
                ID: list(texts),
                "unused_stats_rows": [n for n, _ in texts.values()],
                "unused_stats_years": [t for _, t in texts.values()],
            },
            schema={ID: pl.String, "unused_stats_rows": pl.Int64, "unused_stats_years": pl.String},
        )
        return areas.join(found, on=ID, how="left", maintain_order="left").with_columns(
            pl.col("unused_stats_rows").fill_null(0)
        )

    def _base_county_metric(self) -> pl.DataFrame:
        if self.metrics is None:
            return pl.DataFrame(
                schema={
                    ID: pl.String,
                    COUNTY: pl.String,
                    TOWNSHIP: pl.String,
                    SCHOOL: pl.String,
                    REF: pl.Int64,
                    "county": pl.String,
                    "stage": pl.String,
                    "metric": pl.String,
                    "metric_title": pl.String,
                    "cv": pl.String,
                    "mean": pl.String,
                    "schools": pl.Int64,
                }
            )
        return self.metrics

    def _stats(self, table: str, year: int) -> pl.DataFrame:
        return self._table(table).filter(pl.col("year") == year).with_columns(ref_expr())

    # -- frames ---------------------------------------------------------------------------------

    def ids(self, kind: str) -> pl.Series:
        return self.base(kind)[ID]

    def exists(self, kind: str, entity_id: str) -> bool:
        """Whether the audit has an entity of `kind` with this id (in scope of a rule or not)."""
        return bool(self.base(kind)[ID].is_in([entity_id]).any())

    @staticmethod
    def row_path(kind: str) -> str | None:
        """The path of the row that stands for an entity of `kind` in evidence: its own record's,
        a school stage's school row, an area's statistics row; none for a township."""
        return {
            "school_stage": "school.__ref",
            "county": "stats.__ref",
            "city": "stats.__ref",
            "township": None,
            "county_metric": None,
        }.get(kind, REF)

    def frame(self, kind: str, paths: Iterable[str] = ()) -> pl.DataFrame:
        """One row per entity of `kind`: its keys and the requested field paths, in base order."""
        wanted = list(dict.fromkeys(paths))
        vocab = self.vocabulary[kind]
        base = self.base(kind)
        own: list[str] = []
        indicator_paths: list[str] = []
        related: dict[str, list[str]] = {}
        for path in wanted:
            head, dot, rest = path.partition(".")
            if dot and head in vocab.relations and not self._is_own(vocab, path):
                related.setdefault(head, []).append(rest)
            elif self._is_indicator(vocab, path):
                indicator_paths.append(path)
            else:
                own.append(path)
        # columns are taken and added as Series (a frame of them), not by queries: only joins are
        columns = dict.fromkeys([*KEYS, *_join_keys(kind), *(c for c in own if c in base.columns)])
        result = _picked(base, columns)
        result = _with_nulls(result, ((c, vocab.fields.get(c)) for c in own if c not in result.columns))
        if indicator_paths:
            table = self.indicators.get(kind)
            computed = [p for p in indicator_paths if table is not None and p in table.columns]
            if computed:
                assert table is not None
                result = result.join(_picked(table, [ID, *computed]), on=ID, how="left", maintain_order="left")
            result = _with_nulls(result, ((p, vocab.fields.get(p)) for p in indicator_paths if p not in result.columns))
        for head, fields in related.items():
            result = self._join_relation(kind, vocab, result, head, fields)
        return _picked(result, dict.fromkeys([*KEYS, *wanted]))

    def frames(self, kind: str, path_lists: Sequence[Iterable[str]]) -> list[pl.DataFrame]:
        """`frame(kind, paths)` for each of `path_lists`, their joins made once: each is a selection
        of one frame of every path the lists read. A relation's key is unique in its table (the
        loader rejects duplicates), so no join repeats a row and every frame keeps the base's rows
        in its order; were one repeated, each frame is joined on its own, as before."""
        wanted = [list(dict.fromkeys(paths)) for paths in path_lists]
        if len(wanted) < 2:
            return [self.frame(kind, paths) for paths in wanted]
        whole = self.frame(kind, [path for paths in wanted for path in paths])
        if whole.height != self.base(kind).height:
            return [self.frame(kind, paths) for paths in wanted]
        # the columns taken as they are: a frame of them, not a query
        return [pl.DataFrame([whole.get_column(c) for c in dict.fromkeys([*KEYS, *paths])]) for paths in wanted]

    @staticmethod
    def _is_own(vocab: EntityVocabulary, path: str) -> bool:
        info = vocab.fields.get(path)
        return info is not None and not info.relation

    @staticmethod
    def _is_indicator(vocab: EntityVocabulary, path: str) -> bool:
        info = vocab.fields.get(path)
        return info is not None and info.indicator is not None and not info.relation

    def _join_relation(
        self, kind: str, vocab: EntityVocabulary, frame: pl.DataFrame, head: str, rest: list[str]
    ) -> pl.DataFrame:
        relation = vocab.relations[head]
        if relation.entity is not None:
            sub = self.frame(relation.entity, [p for p in rest if p != "__ref"])
            sub = pl.DataFrame(
                [
                    sub.get_column(ID).alias("__key"),
                    sub.get_column(REF).alias(f"{head}.__ref"),
                    *(sub.get_column(p).alias(f"{head}.{p}") for p in dict.fromkeys(rest) if p != "__ref"),
                ]
            )
            left = "school_id"
        else:
            assert relation.record is not None
            table = self._relation_table(kind, head, relation.record.name)
            key = relation.record.unique_groups[0][0] if kind not in ("county", "city") else "__key"
            columns = [p for p in dict.fromkeys(rest) if p != "__ref"]
            sub = pl.DataFrame(
                [
                    table.get_column(key).alias("__key"),
                    table.get_column(REF).alias(f"{head}.__ref"),
                    *(
                        table.get_column(p).alias(f"{head}.{p}")
                        if p in table.columns
                        else _nulls(f"{head}.{p}", vocab.fields.get(f"{head}.{p}"), table.height)
                        for p in columns
                    ),
                ]
            )
            left = ID
        return frame.join(sub, left_on=left, right_on="__key", how="left", maintain_order="left")

    def _relation_table(self, kind: str, head: str, record: str) -> pl.DataFrame:
        """The rows a relation reads, with their row references: made once per audit, as the loaded
        tables do not change (every rule reading `stats.gdp` joins the same frame)."""
        cached = self._relations.get((kind, head, record))
        if cached is not None:
            return cached
        if kind in ("county", "city"):
            year = self.audit_year if head == "stats" else self.audit_year - 1
            table = self._stats(record, year)
            key = pl.col("county") if kind == "county" else pl.lit(self.region)
            table = table.with_columns(key.alias("__key"))
        else:
            table = self._table(record).with_columns(ref_expr())
        self._relations[(kind, head, record)] = table
        return table

    # -- indicators -----------------------------------------------------------------------------

    def add_indicator(self, kind: str, columns: pl.DataFrame) -> None:
        """Store computed indicator fields (a frame of `__id` and field columns) for `kind`."""
        current = self.indicators.get(kind)
        if current is None:
            self.indicators[kind] = columns
        else:
            current = current.drop([c for c in columns.columns if c != ID and c in current.columns])
            self.indicators[kind] = current.join(columns, on=ID, how="full", coalesce=True, maintain_order="left")


# up to this many rows, groups are counted in Python: a polars query costs more than the rows
SMALL_FRAME = 256


def group_counts(frame: pl.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    """(key values..., rows) for each distinct combination of `columns` in `frame`, in no given
    order: `frame.group_by(*columns).len()`, counted in Python for a small frame."""
    if frame.height > SMALL_FRAME:
        return list(frame.group_by(*columns).len().iter_rows())
    counted: dict[tuple[Any, ...], int] = {}
    for key in zip(*(frame[c].to_list() for c in columns)):
        counted[key] = counted.get(key, 0) + 1
    return [(*key, n) for key, n in counted.items()]


def group_counts_of(frames: Sequence[pl.LazyFrame], *columns: str) -> list[list[tuple[Any, ...]]]:
    """`group_counts` of each of `frames` by the same `columns`, in one polars call: the queries
    run side by side."""
    return [list(counted.iter_rows()) for counted in pl.collect_all([f.group_by(*columns).len() for f in frames])]


def _picked(frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """`frame.select(*columns)` of plain columns, without a query."""
    return pl.DataFrame([frame.get_column(c) for c in columns])


def _nulls(name: str, info: FieldInfo | None, height: int) -> pl.Series:
    """A column of nulls of the field's type."""
    return pl.Series(name, [None], dtype=_dtype(info)).new_from_index(0, height)


def _with_nulls(frame: pl.DataFrame, fields: Iterable[tuple[str, FieldInfo | None]]) -> pl.DataFrame:
    """`frame` with a null column of each field's type added (each name once), without a query."""
    added = {name: _nulls(name, info, frame.height) for name, info in fields}
    return pl.DataFrame([*frame.get_columns(), *added.values()]) if added else frame


def _join_keys(kind: str) -> tuple[str, ...]:
    return ("school_id",) if kind in ("class", "teacher", "school_stage") else ()


def _dtype(info: FieldInfo | None) -> pl.DataType:
    if info is None:
        return pl.String()
    if info.type == "number":
        return pl.Int64() if info.form == "scaled" else pl.String()
    if info.type == "bool":
        return pl.Boolean()
    if info.type == "date":
        return pl.Date()
    return pl.String()


def field_dtype(info: FieldInfo) -> pl.DataType:
    return _dtype(info)


def entity_kinds() -> tuple[str, ...]:
    return tuple(ENTITY_KINDS)
