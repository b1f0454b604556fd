"""Reading tables out of CSV files and Excel workbooks, keeping spreadsheet row numbers."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem

Cell = object


@dataclass(frozen=True)
class Table:
    """One table of raw cells: `source` names it as users see it (`data.xlsx[classes]`)."""

    source: str
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Cell, ...]], ...]
    encoding: str = ""


class ReadError(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_csv(path: Path, source: str) -> Table:
    """Read a CSV file: UTF-8 (BOM or not); GB18030, as Excel on Chinese Windows saves it, is accepted too."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly any byte string
        raise ReadError(Problem(source, 1, "", "encoding", "无法识别文件编码：请另存为 UTF-8 CSV"))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        lines = list(reader)
    except csv.Error as exc:
        raise ReadError(Problem(source, reader.line_num, "", "csv", f"CSV 格式错误：{exc}")) from None
    return _table(source, ((number, tuple(row)) for number, row in enumerate(lines, start=1)), encoding)


def read_xlsx_sheets(path: Path, display: str) -> dict[str, Table | Problem]:
    """Read every sheet of a workbook: its table, or the problem that kept it from being read."""
    import openpyxl  # deferred: only audits with workbooks pay its import time

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReadError(Problem(display, 1, "", "xlsx", f"无法读取 Excel 文件：{exc}")) from None
    try:
        tables: dict[str, Table | Problem] = {}
        for sheet in workbook.worksheets:
            source = f"{display}[{sheet.title}]"
            rows = (
                (number, tuple(row))
                for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)
            )
            try:
                tables[sheet.title] = _table(source, rows, "xlsx")
            except ReadError as exc:
                tables[sheet.title] = exc.problem
        return tables
    finally:
        workbook.close()


def _table(source: str, rows: Iterator[tuple[int, tuple[Cell, ...]]], encoding: str) -> Table:
    header: tuple[str, ...] | None = None
    body: list[tuple[int, tuple[Cell, ...]]] = []
    for number, cells in rows:
        if not any(c is not None and (c.__class__ is not str or (c and not c.isspace())) for c in cells):
            continue
        if header is None:
            if number != 1:
                raise ReadError(Problem(source, number, "", "header", "表头应在第 1 行"))
            header = tuple("" if c is None else str(c).strip() for c in cells)
            continue
        body.append((number, cells))
    if header is None:
        raise ReadError(Problem(source, 1, "", "empty", "文件为空：缺少表头"))
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    return Table(source, header[:width], tuple(body), encoding)
