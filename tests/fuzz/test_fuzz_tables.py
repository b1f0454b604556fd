"""Fuzzing the data loader with CSV cells and XLSX parts: whatever a table holds, every row is
loaded or rejected (rows in = loaded + rejected), every problem names its file and says what is
wrong in Chinese, and nothing escapes as an exception."""

from __future__ import annotations

import atexit
import datetime as dt
import shutil
import tempfile
from pathlib import Path

from fuzzing import BOUNDARIES, FUZZ, ODD_SCALARS, SCRATCH, assert_located, classes_workbook, texts
from hypothesis import event, given
from hypothesis import strategies as st

from inspector.records.config import AuditConfig
from inspector.records.loader import Dataset, load_dataset

CONFIG = AuditConfig(name="模糊测试", as_of=dt.date(2025, 12, 1), region="柳州市")
SCHOOLS = (BOUNDARIES / "schools.csv").read_text(encoding="utf-8")
HEADER = ["班级代码", "学校代码", "年级", "班额"]

# cells a spreadsheet of schools really holds, and the red team's: exponents, non-finite numbers,
# percentages, thousands separators, full-width digits, control characters, quotes, the template's
# example mark, numbers beyond int64
ODD_CELLS = [
    "45",
    "45.0",
    "４５",
    "1,234",
    "1e16",
    "1e-5",
    "4.5e1",
    "1e308",
    "-1e308",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "150%",
    "95%",
    "0.95",
    "-0",
    "+3",
    "0x1F",
    "三年级",
    "初一",
    "小班",
    "示例：45",
    "P1",
    "P2",
    "p1",
    "Ｐ1",
    " P1 ",
    "\x07",
    "\x1b[31m",
    '"',
    '""',
    "'",
    "=1+1",
    "@SUM(A1)",
    "\t",
    "\u3000",
    "\ufeff",
    "\u2028",
    "9" * 40,
    "-" + "9" * 25,
    "1.000000000000000001",
    *ODD_SCALARS,
]
cells = st.sampled_from(ODD_CELLS) | texts
rows = st.lists(st.lists(cells, min_size=0, max_size=6), max_size=8)


def _folder(name: str) -> Path:
    """A folder of this worker's holding the schools table, made once: an example writes its
    classes table over the last one's (a folder and the schools file per example cost a third of
    an example's time)."""
    folder = _FOLDERS.get(name)
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-", dir=SCRATCH))
        atexit.register(shutil.rmtree, folder, True)
        (folder / "schools.csv").write_text(SCHOOLS, encoding="utf-8")
        _FOLDERS[name] = folder
    assert sorted(p.name for p in folder.iterdir()) in (["schools.csv"], ["classes." + name, "schools.csv"])
    return folder


_FOLDERS: dict[str, Path] = {}


def _check(folder: Path) -> Dataset:
    dataset = load_dataset(folder, CONFIG)
    for table in dataset.inputs:
        assert table.rows_read == table.rows_loaded + table.rows_rejected, table
    if dataset.problems:
        assert_located(dataset.problems)
    event(f"{len(dataset.problems) > 0 and 'problems' or 'clean'}")
    return dataset


def _csv_cell(cell: str, delimiter: str) -> str:
    if any(c in cell for c in (delimiter, '"', "\n", "\r")) and cell not in ('"', '""'):
        return '"' + cell.replace('"', '""') + '"'
    return cell  # a lone quote is left bare on purpose: the reader must locate it


@FUZZ
@given(
    body=rows,
    header=st.sampled_from(
        [HEADER, ["class_id", "school_id", "grade", "size"], HEADER[:3], [*HEADER, "班主任"], HEADER + [""]]
    ),
    delimiter=st.sampled_from([",", "\t", ";"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_a_csv_table_is_loaded_or_rejected_row_by_row(
    body: list[list[str]], header: list[str], delimiter: str, encoding: str, newline: str
) -> None:
    text = newline.join(delimiter.join(_csv_cell(c, delimiter) for c in row) for row in [header, *body]) + newline
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    folder = _folder("csv")
    (folder / "classes.csv").write_bytes(data)
    _check(folder)


TYPES = ["s", "n", "b", "str", "inlineStr", "e", "d", "zz", None]


@st.composite
def cell_xml(draw: st.DrawFn) -> str:
    """Cell B2 as XML: any type attribute with any value, sometimes broken."""
    kind = draw(st.sampled_from(TYPES))
    value = draw(st.sampled_from(["-1", "0", "3", "999999", "abc", "1e308", "nan", "", "1", "45.5", "true"]) | texts)
    value = value.replace("&", "&amp;").replace("<", "&lt;")
    attribute = f' t="{kind}"' if kind else ""
    inner = f"<is><t>{value}</t></is>" if kind == "inlineStr" else f"<v>{value}</v>"
    xml = f'<c r="B2"{attribute}>{inner}</c>'
    return draw(st.sampled_from([xml, xml, xml, xml[: draw(st.integers(0, len(xml)))]]))


@FUZZ
@given(
    body=st.lists(
        st.lists(st.sampled_from(["C1", "C2", "P1", "P2", "3", "45"]) | st.integers(-5, 400), min_size=4, max_size=4),
        min_size=1,
        max_size=5,
    ),
    cell=st.none() | cell_xml(),
    dimension=st.sampled_from(["A1:D1", "A1:D1000", "A1", "Z9:A1", "", "A1:XFD1048576"]),
    sheet=st.none()
    | st.just("")
    | st.sampled_from(["<worksheet/>", "<worksheet", "not xml", "<worksheet><sheetData><row>"]),
)
def test_an_xlsx_table_is_loaded_or_rejected_row_by_row(
    body: list[list[str | int]], cell: str | None, dimension: str, sheet: str | None
) -> None:
    folder = _folder("xlsx")
    classes_workbook(folder / "classes.xlsx", [list(HEADER), *body], dimension=dimension, sheet=sheet, cell=cell)
    dataset = _check(folder)
    if cell is None and sheet is None:
        # a well-formed workbook, whatever range its dimension states, has every row read; a
        # dimension that is no range at all (`ref=""`) is refused as a broken file, never
        # read as an empty table
        tables = [t for t in dataset.inputs if t.source.startswith("classes.xlsx")]
        if dimension:
            assert [t.rows_read for t in tables] == [len(body)], dataset.problems
        else:
            assert not tables and any(p.file == "classes.xlsx" for p in dataset.problems)
