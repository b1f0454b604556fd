"""Entity frames joined once for many rules, and groups counted without a query: the same as the slow way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget import examples
from inspector.audit import extra_fields
from inspector.engine import evaluate as evaluate_module
from inspector.engine.facts import Projection, combos_of, distinct, numbered
from inspector.engine.indicators import compute_indicators
from inspector.engine.tables import SMALL_FRAME, EntityTables, group_counts
from inspector.records.config import load_config
from inspector.records.loader import load_dataset
from inspector.rules.compiler import compile_rulebook, effective_params
from inspector.rules.packs import load_packs
from inspector.rules.targets import Reading
from inspector.rules.vocabulary import FieldInfo

ROOT = Path(__file__).resolve().parents[1]
CASES = [ROOT / "rules" / "core" / "cases" / "boundaries", ROOT / "cases" / "liuzhou-2025"]


@pytest.mark.parametrize("folder", CASES, ids=lambda p: p.name)
def test_frames_are_each_rules_own_frame(folder: Path) -> None:
    """Every rule's frame cut from its kind's one joined frame equals the frame joined for it alone."""
    config = load_config(folder)
    dataset = load_dataset(folder, config)
    packs = load_packs(config.packs)
    reading = Reading.of(config.as_of, config.target_year)
    params, _ = effective_params(packs, config.params, reading)
    book = compile_rulebook(
        packs, as_of=config.as_of, params=params, reading=reading, extra_columns=extra_fields(dataset)
    )
    tables = EntityTables(dataset, book.vocabulary, region=config.region, audit_year=config.as_of.year)
    compute_indicators(book.indicators, tables)
    by_kind: dict[str, list[list[str]]] = {}
    for rule in book.rules:
        by_kind.setdefault(rule.spec.applies_to, []).append(Projection(rule.reads, rule.presence).paths)
    assert len(by_kind) > 1
    for kind, path_lists in by_kind.items():
        for paths, frame in zip(path_lists, tables.frames(kind, path_lists), strict=True):
            assert frame.equals(tables.frame(kind, paths)), (kind, paths)
            assert frame.columns == tables.frame(kind, paths).columns


KEYS = st.sampled_from(["a", "b", "甲", None])


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.tuples(KEYS, KEYS), max_size=20), st.integers(1, 2 * SMALL_FRAME // 10))
def test_group_counts_are_group_by_lengths(drawn: list[tuple[str | None, str | None]], times: int) -> None:
    """Counted in Python (a small frame) or by polars (a larger one), the groups and their sizes are group_by's."""
    rows = drawn * times
    frame = pl.DataFrame(
        {"x": [x for x, _ in rows], "y": [y for _, y in rows]}, schema={"x": pl.String, "y": pl.String}
    )
    expected = sorted(frame.group_by("x", "y").len().iter_rows(), key=repr)
    assert sorted(group_counts(frame, "x", "y"), key=repr) == expected
    assert sorted(group_counts(frame, "x"), key=repr) == sorted(frame.group_by("x").len().iter_rows(), key=repr)


SIZES = st.one_of(st.none(), st.integers(-2, 2))
DAYS = st.one_of(st.none(), st.dates(dt.date(2024, 1, 1), dt.date(2024, 1, 3)))


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.tuples(KEYS, SIZES, DAYS), max_size=20), st.integers(1, 2 * SMALL_FRAME // 10))
def test_numbered_is_distinct_and_combos_of(
    drawn: list[tuple[str | None, int | None, dt.date | None]], times: int
) -> None:
    """Numbered in Python (a small frame) or by polars (a larger one): the same combinations, in
    order of first appearance, and the same number for each row; a field read for its presence
    only is projected onto a boolean."""
    rows = drawn * times
    frame = pl.DataFrame(
        {"t": [r[0] for r in rows], "n": [r[1] for r in rows], "d": [r[2] for r in rows]},
        schema={"t": pl.String, "n": pl.Int64, "d": pl.Date},
    )
    infos = {
        "t": FieldInfo("t", "t", "text", False, "record"),
        "n": FieldInfo("n", "n", "number", False, "record"),
        "d": FieldInfo("d", "d", "date", False, "record"),
    }
    for projection in (
        Projection((infos["t"], infos["n"], infos["d"]), ()),
        Projection((infos["n"],), (infos["t"],)),
        Projection((), ()),
    ):
        combos, index = numbered(frame, projection)
        expected = distinct(frame, projection)
        assert combos.equals(expected)
        assert combos.schema == expected.schema
        assert index.equals(combos_of(frame, projection, expected), check_names=True, check_dtypes=True)


VERDICTS = st.sampled_from(["fail", "pass", "gap", None])


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.tuples(KEYS, st.integers(0, 3)), max_size=30), st.lists(VERDICTS, min_size=4, max_size=4))
def test_verdicts_picked_in_python_are_polars(entities: list[tuple[str | None, int]], combos: list[str | None]) -> None:
    """Each entity in scope with its combination's verdict: the same frame picked in Python or by polars."""
    frame = pl.DataFrame(
        {"__id": [f"e{i}" for i in range(len(entities))], "__county": [county for county, _ in entities]},
        schema={"__id": pl.String, "__county": pl.String},
    )
    index = pl.Series("__combo", [combo for _, combo in entities], dtype=pl.UInt32)
    verdicts = pl.Series("verdict", combos, dtype=pl.String)
    small = evaluate_module._verdicts(frame, verdicts, index)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(evaluate_module, "SMALL_FRAME", -1)
        large = evaluate_module._verdicts(frame, verdicts, index)
    assert small.equals(large)
    assert small.schema == large.schema == {"__id": pl.String, "verdict": pl.String, "__county": pl.String}


@settings(max_examples=examples(100), deadline=None)
@given(
    st.lists(st.tuples(st.text(alphabet="aZ9甲é-/ ", max_size=4), VERDICTS), max_size=12, unique_by=lambda r: r[0]),
    st.integers(1, 3),
)
def test_verdicts_sorted_in_python_are_polars_sorted(rows: list[tuple[str, str | None]], parts: int) -> None:
    """A rule's verdicts from its partitions, sorted by id in Python, are polars' concatenation sorted by id."""
    from inspector.partitions import _by_id

    schema = {"__id": pl.String, "verdict": pl.String, "__county": pl.String}
    frame = pl.DataFrame(
        {"__id": [r[0] for r in rows], "verdict": [r[1] for r in rows], "__county": ["甲"] * len(rows)}, schema=schema
    )
    frames = [frame[i::parts] for i in range(parts)]
    assert _by_id(frames).equals(pl.concat(frames).sort("__id"))
    assert _by_id(frames).schema == schema
