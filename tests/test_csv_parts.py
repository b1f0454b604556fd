"""A large CSV file is read in parts (`readers.PART_BYTES`) and reads exactly as if read whole.

The parts are cut after a line break that ends a record, so a quoted cell holding line breaks
is never split; row numbers, problems and refusals are those of the whole-file reader. The part
size is made tiny here so that small files are cut in many places.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget import examples
from inspector.errors import Problem
from inspector.limits import Limits
from inspector.records import readers
from inspector.records.config import load_config
from inspector.records.loader import Dataset, load_dataset
from inspector.records.readers import ROW, ReadError, read_csv

ROOT = Path(__file__).resolve().parent.parent
LIMITS = Limits(cell_chars=12, rows=200)


def _read(path: Path, part_bytes: int) -> tuple[tuple[str, ...], list[dict[str, object]], list[Problem]] | Problem:
    """Header, every data row (its row number and filled cells) and problems; or the refusal."""
    saved = readers.PART_BYTES
    readers.PART_BYTES = part_bytes
    try:
        table = read_csv(path, "t.csv", LIMITS)
        rows: list[dict[str, object]] = []
        problems: list[Problem] = []
        for part in table.parts():
            problems.extend(part.problems)
            rows.extend({k: v for k, v in row.items() if v is not None} for row in part.frame.iter_rows(named=True))
    except ReadError as exc:
        return exc.problem
    finally:
        readers.PART_BYTES = saved
    return table.header, rows, sorted(problems)


_CELL = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "a",
            "甲乙",
            "示例：1",
            '"q"',
            '"a\nb"',
            '"x""y"',
            '"',
            "1,2",
            "很长很长很长很长很长很长很长",
            "\ufeffx",
        ]
    ),
    st.text(alphabet=st.sampled_from(list('ab, "\n\r甲')), max_size=6),
)


@settings(max_examples=examples(400), deadline=None)
@given(
    header=st.lists(st.sampled_from(["a", "b", "c", "示例：x"]), min_size=1, max_size=3),
    rows=st.lists(st.lists(_CELL, max_size=4), max_size=12),
    part_bytes=st.integers(1, 40),
    bom=st.booleans(),
)
def test_a_file_read_in_parts_reads_as_the_whole_file(
    tmp_path_factory: pytest.TempPathFactory, header: list[str], rows: list[list[str]], part_bytes: int, bom: bool
) -> None:
    """Any file (ragged rows, quotes, line breaks inside and outside them, example cells, blank
    lines, cells too long): the same header, rows, row numbers and problems, or the same refusal.
    Where they differ, the file has faults either way. A file refused whole is refused in parts,
    but a file with several faults may be refused for another (a cell too long in an early part
    before a broken quote further on; the whole reader, once polars fails anywhere, reads every
    row strictly and stops at the first quote polars would have read leniently). And a file polars
    cannot read whole (a row wider than its header, by polars' count of its cells) is read strictly
    only in the parts polars cannot read, so a stray quote elsewhere does not refuse the file."""
    text = "\n".join(",".join(row) for row in [header, *rows]) + "\n"
    path = tmp_path_factory.mktemp("parts") / "t.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    whole = _read(path, 1 << 40)
    parts = _read(path, part_bytes)
    if isinstance(whole, Problem) and isinstance(parts, Problem) and parts != whole:
        assert whole.code == "csv" and parts.code in ("csv", "cell_too_long")
    elif isinstance(whole, Problem) and whole.code == "csv" and not isinstance(parts, Problem):
        assert readers._fast_csv(path.read_bytes(), ",", LIMITS) is None  # polars could not read it whole
    else:
        assert parts == whole


def _parts(path: Path, part_bytes: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[pl.DataFrame]:
    monkeypatch.setattr(readers, "PART_BYTES", part_bytes)
    return (part.frame for part in read_csv(path, "t.csv", LIMITS).parts())


def test_a_quoted_line_break_is_never_where_a_part_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts end only after whole records: a cell holding 30 line breaks stays one cell."""
    path = tmp_path / "t.csv"
    cell = '"' + "\n" * 30 + '"'
    path.write_text(f"a,b\n1,{cell}\n2,x\n", encoding="utf-8")
    frames = list(_parts(path, 4, monkeypatch))
    assert len(frames) > 1
    rows = pl.concat(frames, how="diagonal")
    assert rows[ROW].to_list() == [2, 3]
    assert rows["c0"].to_list() == ["1", "2"]


def test_a_broken_quote_in_a_later_part_is_located_in_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact reader, run on the part, names the file's line and record, not the part's."""
    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "1,x\n" * 10 + '2,"y"z\n3,w\n', encoding="utf-8")
    whole = _read(path, 1 << 40)
    assert isinstance(whole, Problem) and whole.line == 12 and "第 12 条记录" in whole.message
    monkeypatch.setattr(readers, "PART_BYTES", 9)
    with pytest.raises(ReadError) as refused:
        list(read_csv(path, "t.csv", LIMITS).parts())
    assert refused.value.problem == whole


def test_a_byte_order_mark_inside_the_file_stays_a_character(tmp_path: Path) -> None:
    """polars skips a mark at the start of what it reads: a line that starts with one (two exports
    joined) keeps it whether or not a part starts there."""
    path = tmp_path / "t.csv"
    path.write_bytes("a,b\n1,2\n\ufeffx,3\n".encode())
    whole = _read(path, 1 << 40)
    assert not isinstance(whole, Problem) and whole[1][1]["c0"] == "\ufeffx"
    for size in (1, 8, 9):
        assert _read(path, size) == whole


def test_a_line_of_many_quoted_cells_is_cut_in_one_pass() -> None:
    """Where a part ends is found looking at each stretch between quotes once: 20,000 quoted cells
    before 4 MB more of their line were 20,000 searches to the line's end (minutes; hours for a
    million cells in a 70 MB file) before."""
    buffer = b"a,b\n" + b'"x",' * 20_000 + b"a" * (4 << 20) + b"\n" + b"1,2"
    start = time.process_time()
    assert readers._record_end(buffer, b",") == len(buffer) - 4
    assert time.process_time() - start < 2


def test_too_many_lines_are_refused_before_any_part_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n" + "1\n" * 200, encoding="utf-8")
    monkeypatch.setattr(readers, "PART_BYTES", 16)
    with pytest.raises(ReadError) as refused:
        read_csv(path, "t.csv", LIMITS)
    assert refused.value.problem.code == "too_many_rows"


@pytest.mark.parametrize("content", [b"a,b\r1,2\r", "a,b\n1,2\n".encode("gb18030") + "甲,乙\n".encode("gb18030")])
def test_a_file_only_the_whole_reader_can_read_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    """Lines ended by CR alone, or GB18030 text: read whole, as a small file is."""
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    monkeypatch.setattr(readers, "PART_BYTES", 4)
    table = read_csv(path, "t.csv", LIMITS)
    assert table.rest is None
    assert table.frame.height == content.count(b"\n") + content.count(b"\r") - 1


def _same(a: Dataset, b: Dataset) -> None:
    assert a.problems == b.problems
    assert a.inputs == b.inputs
    assert a.warnings == b.warnings and a.missing_kinds == b.missing_kinds
    assert set(a.tables) == set(b.tables)
    for kind, table in a.tables.items():
        assert table.equals(b.tables[kind]), kind


@pytest.mark.parametrize("case", ["rules/core/cases/data-quality", "rules/core/cases/boundaries"])
def test_a_case_loads_the_same_in_parts(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every table, problem and input record of a case, its files cut into parts of 200 bytes."""
    folder = ROOT / case
    whole = load_dataset(folder, load_config(folder))
    monkeypatch.setattr(readers, "PART_BYTES", 200)
    _same(load_dataset(folder, load_config(folder)), whole)


def test_a_table_refused_in_a_later_part_is_refused_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell too long in the last part: the file is refused with that one problem and none of
    its rows is loaded, as when the file is read whole."""
    folder = tmp_path / "case"
    shutil.copytree(ROOT / "rules/core/cases/boundaries", folder)
    classes = folder / "classes.csv"
    classes.write_text(classes.read_text(encoding="utf-8") + "C-long,P1,3," + "4" * 40_000 + "\n", encoding="utf-8")
    whole = load_dataset(folder, load_config(folder))
    refused = [p for p in whole.problems if p.code == "cell_too_long"]
    assert len(refused) == 1 and refused[0].file == "classes.csv"
    assert "classes" in whole.missing_kinds
    monkeypatch.setattr(readers, "PART_BYTES", 64)
    _same(load_dataset(folder, load_config(folder)), whole)
