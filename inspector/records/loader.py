"""Loading an audit folder: every input row is either loaded or reported, never dropped.

The loader finds one table per record kind, maps its headers (canonical English or Chinese)
onto the kind's columns and validates column by column, as pandera's polars backend does: each
distinct spelling in a column is parsed once (`values`), the result joined back onto the rows,
and every cell that fails becomes a located problem (`file:row: column: reason`). Then what
spans rows: unique ids and references to other kinds. Problems are collected over all files and
returned together; a row with any problem is rejected whole, so rows read = loaded + rejected.

Loaded tables are polars frames with typed columns: numbers as integers at their column's
precision (see `schema.Column.scale`), booleans, dates, text; plus `__src` (the index of the
source file in `Dataset.sources`) and `__row` (its spreadsheet row number).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import Problem
from ..limits import DEFAULT_LIMITS, Limits
from . import values
from .config import AUDIT_FILE, AuditConfig
from .readers import ROW, SMALL_TABLE, ReadError, Table, read_csv, read_xlsx_sheets, sha256_file
from .regions import Divisions
from .schema import RECORD_KINDS, Column, RecordKind, kind_for_source

SRC = "__src"
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
MAX_EXTRA_PLACES = 6
EXTRA_DIGITS = 18  # digits of a numeric extra column, decimals included: any such integer fits in Int64


@dataclass(frozen=True, slots=True, order=True)
class RowRef:
    """Where a record came from: the file (or `book.xlsx[sheet]`) and its spreadsheet row."""

    file: str
    row: int

    def __str__(self) -> str:
        return f"{self.file}:{self.row}"


@dataclass(frozen=True)
class ExtraColumn:
    """A column outside the data contract, kept under its header; numeric when every value is a
    decimal number (then stored as integers at `places` decimals, like the contract's numbers)."""

    header: str
    numeric: bool
    places: int = 0


@dataclass(frozen=True)
class InputFile:
    """What was read from one table, for the audit's provenance."""

    kind: str
    source: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    headers: Mapping[str, str]
    extra_columns: tuple[str, ...]
    encoding: str

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "file": self.source,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "extra_columns": list(self.extra_columns),
        }


@dataclass(frozen=True)
class Row:
    """One loaded row as Python values (numbers exact: 45, 9/2), for reading a few rows at a time."""

    kind: str
    values: dict[str, Any]
    extra: dict[str, Any]
    ref: RowRef


@dataclass
class Dataset:
    """An audit folder's loaded tables, their provenance and every rejected row."""

    folder: Path
    config: AuditConfig
    tables: dict[str, pl.DataFrame]
    sources: tuple[str, ...]
    inputs: list[InputFile]
    problems: list[Problem]
    missing_kinds: tuple[str, ...]
    ignored_files: tuple[str, ...] = ()
    config_sha256: str = ""
    extra_columns: dict[str, dict[str, ExtraColumn]] = field(default_factory=dict)
    # what the report says about the data without rejecting it (a county name not among the region's)
    warnings: tuple[str, ...] = ()

    def table(self, kind: str) -> pl.DataFrame:
        return self.tables[kind]

    def ref(self, src: int, row: int) -> RowRef:
        return RowRef(self.sources[src], row)

    def rows(self, kind: str) -> list[Row]:
        """The loaded rows of `kind`, in file order, as `Row`s (slow on large tables: for tests,
        examples and single records)."""
        record = RECORD_KINDS[kind]
        extras = self.extra_columns.get(kind, {})
        result = []
        for row in self.tables[kind].iter_rows(named=True):
            values: dict[str, Any] = {}
            extra: dict[str, Any] = {}
            for name, value in row.items():
                if name.startswith("__") or value is None:
                    continue
                column = record.by_name.get(name)
                if column is not None:
                    values[name] = _exact(value, column.scale) if column.type in ("int", "decimal", "rate") else value
                elif name in extras:
                    extra[name] = _exact(value, 10 ** extras[name].places) if extras[name].numeric else value
            result.append(Row(kind, values, extra, RowRef(self.sources[row[SRC]], row[ROW])))
        return result


@dataclass
class _Source:
    kind: RecordKind
    table: Table
    sha256: str


def _exact(units: int, scale: int) -> int | Fraction:
    value = Fraction(units, scale)
    return value.numerator if value.denominator == 1 else value


_UNSUPPORTED = {
    ".xls": "不支持旧版 Excel（.xls）文件：请另存为 .xlsx 或 UTF-8 CSV",
    ".et": "不支持 WPS 表格（.et）文件：请另存为 .xlsx 或 UTF-8 CSV",
}


def find_sources(folder: Path, limits: Limits) -> tuple[dict[str, list[_Source]], list[Problem], list[str]]:
    """Tables per record kind found in `folder` (each read within `limits`), read-problems, and
    files that hold no kind."""
    found: dict[str, list[_Source]] = {}
    problems: list[Problem] = []
    ignored: list[str] = []
    # a CSV file's sha256 is taken in a thread while polars parses it: both let go of the GIL
    with ThreadPoolExecutor(1, thread_name_prefix="inspector-sha256") as hashing:
        for path in sorted(folder.iterdir()):
            _find_source(path, limits, hashing, found, problems, ignored)
    return found, problems, ignored


def _find_source(
    path: Path,
    limits: Limits,
    hashing: ThreadPoolExecutor,
    found: dict[str, list[_Source]],
    problems: list[Problem],
    ignored: list[str],
) -> None:
    """`path`'s tables into `found`, or its problem, or its name into `ignored` (`find_sources`)."""
    if path.name.startswith((".", "~$")) or path.name == AUDIT_FILE:
        return
    if not path.is_file():
        odd = _not_a_file(path)
        if odd is not None:
            problems.append(odd)
        return
    suffix = path.suffix.lower()
    unreadable = _name_problem(path.name) if suffix in (".csv", ".xlsx", *_UNSUPPORTED) else None
    if unreadable is not None:  # a data file's name; a PDF beside the data may be named as it likes
        problems.append(unreadable)
        return
    kind = kind_for_source(path.stem)
    if suffix in _UNSUPPORTED and kind is not None:
        problems.append(Problem(path.name, 0, "", "unsupported_format", _UNSUPPORTED[suffix]))
    elif suffix == ".csv" and kind is not None:
        digest = hashing.submit(sha256_file, path)
        try:
            table = read_csv(path, path.name, limits)
        except ReadError as exc:
            problems.append(exc.problem)
            return
        found.setdefault(kind.name, []).append(_Source(kind, table, digest.result()))
    elif suffix == ".xlsx":
        if not _add_workbook(path, kind, found, problems, limits):
            ignored.append(path.name)
    elif suffix in (".csv", *_UNSUPPORTED):
        ignored.append(path.name)


def _not_a_file(path: Path) -> Problem | None:
    """A data file's name on something that is not a readable file (a dangling link, a folder, a
    device or a pipe): a problem, not the table's absence. Other names are left alone."""
    suffix = path.suffix.lower()
    # a workbook of any name is read (its sheets name their kinds), a CSV file only by its kind's name
    if suffix != ".xlsx" and (suffix != ".csv" or kind_for_source(path.stem) is None):
        return None
    if path.is_symlink() and not path.exists():
        why = "是无法解析的链接（指向的文件不存在，或链接成环）"
    elif path.is_dir():
        why = "是一个文件夹"
    else:
        why = "不是普通文件（是设备或管道）"
    return Problem(path.name, 0, "", "unreadable_file", f"无法作为数据文件读取：{why}")


def _name_problem(name: str) -> Problem | None:
    """A file name that is not UTF-8 (a zip made on Chinese Windows, unpacked here, names its files
    in GBK): refused, since it can be neither read by its kind nor written into any output."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
        shown = raw.decode("utf-8", "backslashreplace")
        try:
            guess = f"（按 GBK 读作“{raw.decode('gbk')}”）"
        except UnicodeDecodeError:
            guess = ""
        return Problem(
            shown,
            0,
            "",
            "file_name",
            f"文件名不是 UTF-8 编码{guess}，常见于在中文 Windows 上压缩、在此解压的文件：请把文件改名后再审核",
        )
    return None


def _add_workbook(
    path: Path, kind: RecordKind | None, found: dict[str, list[_Source]], problems: list[Problem], limits: Limits
) -> bool:
    """Add a workbook's sheets by the kind they hold; False when none holds a kind."""
    try:
        sheets = read_xlsx_sheets(path, path.name, limits)
    except ReadError as exc:
        problems.append(exc.problem)
        return True
    digest = sha256_file(path)
    used = False
    for title, sheet in sheets.items():
        if kind is not None and len(sheets) == 1:
            sheet_kind: RecordKind | None = kind  # one workbook per kind: the sheet's name does not matter
        else:
            sheet_kind = kind_for_source(title) or (kind if title.lower() in ("sheet1", "sheet") else None)
        if sheet_kind is None:
            continue
        used = True
        if isinstance(sheet, Problem):
            problems.append(sheet)
        else:
            found.setdefault(sheet_kind.name, []).append(_Source(sheet_kind, sheet, digest))
    return used


# -- one table ------------------------------------------------------------------------------


def _map_headers(kind: RecordKind, table: Table) -> tuple[dict[int, Column], dict[int, str], list[Problem]]:
    """Column index → column, index → extra header; problems for duplicate or missing columns."""
    lookup: dict[str, Column] = {}
    for column in kind.columns:
        lookup[column.name.lower()] = column
        lookup[values.normalize_text(column.label)] = column
        for alias in column.aliases:
            lookup[values.normalize_text(alias)] = column
    mapped: dict[int, Column] = {}
    extras: dict[int, str] = {}
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, header in enumerate(table.header):
        if not header:
            continue  # an unnamed column: harmless while empty, its cells are reported where they hold data
        key = values.normalize_text(header)
        named = lookup.get(key) or lookup.get(header.lower()) or _with_unit(key, lookup)
        if named is None and (header == "*" or (header.startswith("^") and header.endswith("$"))):
            # polars reads such a column name as "every column" or a pattern, not as a name
            problems.append(
                Problem(table.source, 1, header, "header_unusable", "列名不能是“*”或以 ^ 开头、以 $ 结尾：请改名")
            )
            continue  # its cells are reported as cells without a header
        if named is None and header.startswith("__"):
            # the loader's own columns (`__row`, `__src`, …) are named so: an extra column of that
            # name would take their place
            problems.append(
                Problem(
                    table.source, 1, header, "header_unusable", "列名不能以两个下划线“__”开头（供程序内部使用）：请改名"
                )
            )
            continue
        name = named.name if named else header
        if name in seen:
            problems.append(
                Problem(table.source, 1, header, "header_duplicate", f"列重复：与第 {seen[name] + 1} 列表示同一字段")
            )
            continue
        seen[name] = index
        if named is None:
            extras[index] = header
        else:
            mapped[index] = named
    present = {c.name for c in mapped.values()}
    for column in kind.columns:
        if column.required and column.name not in present:
            problems.append(
                Problem(
                    table.source,
                    1,
                    column.label,
                    "column_missing",
                    # {rows} is filled in once every part of the table is read
                    f"缺少必填列“{column.label}”（{column.name}），本表 {{rows}} 行均未载入",
                )
            )
    return mapped, extras, problems


_UNIT_SUFFIX = re.compile(r"(.+?)\s*\(\s*([^()]+?)\s*\)")


def _with_unit(key: str, lookup: Mapping[str, Column]) -> Column | None:
    """The column a header names with its unit in brackets (`班额（人）`, as `inspector template`
    writes it); only the column's own unit is accepted, so `班额（个）` names no column."""
    match = _UNIT_SUFFIX.fullmatch(key)
    if match is None:
        return None
    column = lookup.get(match.group(1))
    if column is None or not column.unit or values.normalize_text(column.unit) != match.group(2):
        return None
    return column


def _parser(column: Column) -> Callable[[str], object]:
    low, high = column.bounds
    if column.type in ("int", "decimal"):
        return partial(values.parse_scaled, places=column.places, low=low, high=high, unit=column.unit)
    if column.type == "rate":
        assert low is not None and high is not None
        return partial(values.parse_rate, places=column.places, low=low, high=high)
    if column.type == "bool":
        return values.parse_bool
    if column.type == "date":
        return values.parse_date
    if column.type == "enum":
        assert column.enum is not None
        return values.enum_parser(column.enum)
    if column.type == "grade":
        return values.parse_grade
    raise AssertionError(column.type)


_DTYPES: dict[str, pl.DataType] = {
    "int": pl.Int64(),
    "decimal": pl.Int64(),
    "rate": pl.Int64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "enum": pl.String(),
    "grade": pl.String(),
}


def _parse_columns(frame: pl.DataFrame, columns: Mapping[str, Column]) -> dict[str, tuple[pl.Series, pl.DataFrame]]:
    """Each of `columns` (the frame's column name → the column it holds) typed, with (row index,
    code, message) of the cells that are not valid: each distinct spelling is parsed once. For a
    long frame the distinct spellings of every column are found in one polars query, and the
    values and errors mapped in another: the columns are worked on side by side (a column at a
    time, a province's teachers took 0.07 s where this takes 0.04)."""
    if frame.height <= SMALL_TABLE or not columns:
        return {name: _parse_few(frame[name], column, _parser(column)) for name, column in columns.items()}
    spellings = frame.select(pl.col(name).drop_nulls().unique().implode() for name in columns).row(0)
    mapped: list[pl.Expr] = []
    marked: dict[str, tuple[str, str]] = {}  # column → its code and message columns in the query
    for (name, column), texts in zip(columns.items(), spellings, strict=True):
        parse, dtype = _parser(column), _DTYPES[column.type]
        parsed: list[object] = []
        bad: dict[str, tuple[str, str]] = {}
        for text in texts:
            try:
                parsed.append(parse(text))
            except values.CellError as exc:
                parsed.append(None)
                bad[text] = (exc.code, exc.message)
        if not texts:  # every cell blank
            mapped.append(pl.col(name).cast(dtype))
            continue
        mapped.append(pl.col(name).replace_strict(texts, parsed, default=None, return_dtype=dtype))
        if bad:
            marked[name] = (f"{name}\x00code", f"{name}\x00message")
            for part, at in enumerate(marked[name]):
                mapped.append(
                    pl.col(name)
                    .replace_strict(
                        list(bad), [found[part] for found in bad.values()], default=None, return_dtype=pl.String
                    )
                    .alias(at)
                )
    result = frame.select(mapped)
    typed: dict[str, tuple[pl.Series, pl.DataFrame]] = {}
    for name, column in columns.items():
        if name not in marked:
            typed[name] = result[name].rename(column.name), _NO_ERRORS
            continue
        code, message = marked[name]
        errors = result.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("i"),
            pl.col(code).alias("code"),
            pl.col(message).alias("message"),
        ).filter(pl.col("code").is_not_null())
        typed[name] = result[name].rename(column.name), errors
    return typed


def _parse_few(raw: pl.Series, column: Column, parse: Callable[[str], object]) -> tuple[pl.Series, pl.DataFrame]:
    """`_parse_columns` for a short column: the same typed values and errors, without a query. A
    column without a value, or without an error, makes no frame of errors (most of a small audit's
    columns: building them was three quarters of its parsing)."""
    if raw.null_count() == raw.len():
        return _constant(column.name, None, _DTYPES[column.type], raw.len()), _NO_ERRORS
    seen: dict[str, tuple[object, str | None, str | None]] = {}
    parsed: list[object] = []
    rows: list[int] = []
    codes: list[str] = []
    messages: list[str] = []
    for i, text in enumerate(raw.to_list()):
        if text is None:
            parsed.append(None)
            continue
        if text not in seen:
            try:
                seen[text] = (parse(text), None, None)
            except values.CellError as exc:
                seen[text] = (None, exc.code, exc.message)
        value, code, message = seen[text]
        parsed.append(value)
        if code is not None:
            rows.append(i)
            codes.append(code)
            messages.append(message or "")
    typed = pl.Series(column.name, parsed, dtype=_DTYPES[column.type])
    if not rows:
        return typed, _NO_ERRORS
    errors = pl.DataFrame(
        {"i": rows, "code": codes, "message": messages},
        schema={"i": pl.UInt32, "code": pl.String, "message": pl.String},
    )
    return typed, errors


def _nfkc(raw: pl.Series) -> pl.Series:
    """NFKC and without zero-width characters (`values.normalize_text`), only where a value has
    non-ASCII characters (normalising every id costs seconds)."""
    if _any_match(raw, r"[^\x00-\x7f]"):
        return raw.str.normalize("NFKC").str.replace_all(f"[{values.INVISIBLE}]", "").str.strip_chars()
    return raw


_ID_CONTROL = r"[\x00-\x1f\x7f]"
_FOLDED = r"[\t\r\n]+"
_PLAIN_ID_BREAK = r"[^\x20-\x7e]"  # what is not printable ASCII: an id with it may need NFKC or be refused


def _any_match(raw: pl.Series, pattern: str) -> bool:
    """Whether a value of `raw` holds a match of `pattern` (a character class); a short column's
    values are searched in Python, where two polars queries would cost more than its cells."""
    if raw.len() > SMALL_TABLE:
        return bool(raw.str.contains(pattern).any())
    found = re.compile(pattern).search
    return any(found(text) for text in raw.to_list() if text is not None)


def _plain_columns(frame: pl.DataFrame, columns: Mapping[str, bool]) -> set[str]:
    """Of `columns` (the frame's text columns → whether each holds ids), those with nothing to
    change or refuse (`_text_column`): for a long frame, found in one polars query, the columns
    side by side."""
    patterns = {name: _PLAIN_ID_BREAK if is_id else _ID_CONTROL for name, is_id in columns.items()}
    if frame.height <= SMALL_TABLE or not columns:
        return {name for name, pattern in patterns.items() if not _any_match(frame[name], pattern)}
    found = frame.select(pl.col(name).str.contains(pattern).any() for name, pattern in patterns.items()).row(0)
    return {name for name, breaks in zip(patterns, found, strict=True) if not breaks}


def _text_column(raw: pl.Series, column: Column, is_id: bool, plain: bool) -> tuple[pl.Series, pl.DataFrame]:
    """Text: ids NFKC-normalised and free of control characters and line breaks; other text with
    line breaks and tabs folded to spaces, other control characters refused. A column with nothing
    to change or refuse (the usual one: ids of printable ASCII, text without control characters)
    is `plain` (`_plain_columns`)."""
    if plain:
        return raw.rename(column.name), _NO_ERRORS
    if is_id:
        text = _nfkc(raw)
    else:
        text = raw.str.replace_all(_FOLDED, " ") if _any_match(raw, _FOLDED) else raw
    pattern = _ID_CONTROL if is_id else _CONTROL
    if not _any_match(text, pattern):
        return text.rename(column.name), _NO_ERRORS
    bad = text.str.contains(pattern).fill_null(False)
    message = "代码中含有换行或控制字符" if is_id else "文本中含有控制字符"
    errors = (
        pl.DataFrame({"i": pl.arange(0, raw.len(), eager=True, dtype=pl.UInt32), "bad": bad})
        .filter(pl.col("bad"))
        .select("i", pl.lit("control_char").alias("code"), pl.lit(message).alias("message"))
    )
    return text.rename(column.name), errors


def _constant(name: str, value: object, dtype: pl.DataType, height: int) -> pl.Series:
    """`value` repeated `height` times: one value repeated in place, not a query (`pl.repeat`
    took a twentieth of a small audit, run for every absent optional column)."""
    return pl.Series(name, [value], dtype=dtype).new_from_index(0, height)


_NO_ERRORS = pl.DataFrame(schema={"i": pl.UInt32, "code": pl.String, "message": pl.String})


class _KindLoad:
    """Rows of one kind as validated, before cross-row checks."""

    def __init__(self) -> None:
        self.frames: list[pl.DataFrame] = []
        self.rejected: dict[str, set[int]] = {}
        self.read: dict[str, int] = {}
        # (key, __src, __row) of rejected rows, so that references to them are explained
        self.raw_keys: list[pl.DataFrame] = []

    def frame(self, kind: RecordKind, extras: Iterable[str]) -> pl.DataFrame:
        schema = {c.name: (_DTYPES[c.type] if c.type != "text" else pl.String()) for c in kind.columns}
        schema.update({name: pl.String() for name in extras})
        schema.update({SRC: pl.Int32(), ROW: pl.Int64()})
        if not self.frames:
            return pl.DataFrame(schema=schema)
        return pl.concat([f.select(list(schema)) for f in self._aligned(schema)], how="vertical")

    def _aligned(self, schema: Mapping[str, pl.DataType]) -> Iterable[pl.DataFrame]:
        for frame in self.frames:
            missing = [
                pl.lit(None, dtype=dtype).alias(name) for name, dtype in schema.items() if name not in frame.columns
            ]
            yield frame.with_columns(missing) if missing else frame


def _problems(source: str, rows: pl.Series, errors: pl.DataFrame, label: str, into: list[Problem]) -> set[int]:
    if errors.height == 0:
        return set()
    numbers = rows.gather(errors["i"]).to_list()
    into.extend(
        Problem(source, int(r), label, code, message)
        for r, code, message in zip(numbers, errors["code"].to_list(), errors["message"].to_list())
    )
    return {int(r) for r in numbers}


def _load_table(
    source: _Source, src: int, problems: list[Problem], into: _KindLoad
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Validate one table into `into`, part by part for a file read in parts (`Table.rest`: a
    ReadError from a later part is raised here, the caller drops the table's rows)."""
    kind, table = source.kind, source.table
    into.read[table.source] = 0
    rejected = into.rejected.setdefault(table.source, set())
    mapped, extras, header_problems = _map_headers(kind, table)
    headers = {c.name: table.header[i] for i, c in mapped.items()}
    unusable = any(p.code in ("column_missing", "header_duplicate") for p in header_problems)
    for part in table.parts():
        into.read[table.source] += part.frame.height
        rejected.update(int(p.line) for p in part.problems)
        problems.extend(part.problems)
        _load_part(kind, part, src, mapped, extras, headers, unusable, problems, into)
    problems.extend(
        replace(p, message=p.message.replace("{rows}", str(into.read[table.source])))
        if p.code == "column_missing"
        else p
        for p in header_problems
    )
    return headers, tuple(extras.values())


def _load_part(
    kind: RecordKind,
    table: Table,
    src: int,
    mapped: Mapping[int, Column],
    extras: Mapping[int, str],
    headers: Mapping[str, str],
    unusable: bool,
    problems: list[Problem],
    into: _KindLoad,
) -> None:
    frame = table.frame
    rejected = into.rejected[table.source]
    if unusable:
        rejected.update(frame[ROW].to_list())
    else:
        into.frames.append(_typed_part(kind, table, src, mapped, extras, headers, problems, rejected))
    key_index = next((i for i, c in mapped.items() if c.unique), None)
    if key_index is not None and rejected:
        # the ids of rejected rows, so that rows referring to them say why they fail too
        keys = pl.DataFrame(
            {
                "key": _nfkc(frame[f"c{key_index}"]),
                SRC: _constant(SRC, src, pl.Int32(), frame.height),
                ROW: frame[ROW].cast(pl.Int64),
            }
        )
        into.raw_keys.append(keys.filter(pl.col(ROW).is_in(sorted(rejected))))


def _typed_part(
    kind: RecordKind,
    table: Table,
    src: int,
    mapped: Mapping[int, Column],
    extras: Mapping[int, str],
    headers: Mapping[str, str],
    problems: list[Problem],
    rejected: set[int],
) -> pl.DataFrame:
    """The part's rows typed, those with a problem left out (and added to `rejected`)."""
    frame = table.frame
    rows = frame[ROW]
    # cells under no header (beyond the header's width or under an empty header cell)
    stray = [c for c in frame.columns if c != ROW and int(c[1:]) not in mapped and int(c[1:]) not in extras]
    if stray:
        first = pl.coalesce(pl.when(pl.col(c).is_not_null()).then(pl.lit(int(c[1:]) + 1)) for c in stray)
        marked = frame.select(ROW, first.alias("column")).filter(pl.col("column").is_not_null())
        for row, column in marked.iter_rows():
            problems.append(
                Problem(table.source, int(row), f"第 {column} 列", "cell_without_header", "该列有数据但没有表头")
            )
            rejected.add(int(row))
    typed: dict[str, pl.Series] = {}
    id_columns = {c.name for c in kind.columns if c.unique or c.references}
    # cells the reader gave as blank that already have their problem (an Excel error value, a
    # formula without its result): not "missing" as well
    flagged: dict[str, list[int]] = {}
    for problem in table.problems:
        flagged.setdefault(problem.field, []).append(int(problem.line))
    parsed = _parse_columns(frame, {f"c{index}": column for index, column in mapped.items() if column.type != "text"})
    plain = _plain_columns(
        frame, {f"c{index}": column.name in id_columns for index, column in mapped.items() if column.type == "text"}
    )
    for index, column in mapped.items():
        raw = frame[f"c{index}"]
        label = headers[column.name]
        if column.type == "text":
            series, errors = _text_column(raw, column, column.name in id_columns, f"c{index}" in plain)
        else:
            series, errors = parsed.pop(f"c{index}")
        rejected |= _problems(table.source, rows, errors, label, problems)
        if column.required:  # noqa: SIM102
            if raw.null_count():
                blank = raw.is_null()
                if label in flagged:
                    blank = blank & ~rows.is_in(flagged[label])
                missing = pl.DataFrame({"i": pl.arange(0, raw.len(), eager=True, dtype=pl.UInt32), "null": blank})
                missing = missing.filter(pl.col("null")).select(
                    "i", pl.lit("missing").alias("code"), pl.lit("缺少必填项").alias("message")
                )
                rejected |= _problems(table.source, rows, missing, label, problems)
        typed[column.name] = series
    for column in kind.columns:
        if column.name not in typed:
            typed[column.name] = _constant(column.name, None, _DTYPES.get(column.type, pl.String()), frame.height)
        if column.default is not None:
            typed[column.name] = typed[column.name].fill_null(column.default)
    for index, header in extras.items():
        typed[header] = frame[f"c{index}"].str.replace_all(_FOLDED, " ").rename(header)
    typed[SRC] = _constant(SRC, src, pl.Int32(), frame.height)
    typed[ROW] = rows
    loaded = pl.DataFrame(typed)
    if rejected:
        loaded = loaded.filter(~pl.col(ROW).is_in(sorted(rejected)))
    return loaded


def _load_or_refuse(
    source: _Source, src: int, problems: list[Problem], into: _KindLoad
) -> tuple[dict[str, str], tuple[str, ...]] | None:
    """`_load_table`, or None when a part of the table read late is refused (a cell too long, a
    broken quote): the whole table is then refused, as a file refused at once is, and what its
    earlier parts added is taken back. The table's text is released either way."""
    marks = len(problems), len(into.frames), len(into.raw_keys)
    try:
        return _load_table(source, src, problems, into)
    except ReadError as exc:
        del problems[marks[0] :], into.frames[marks[1] :], into.raw_keys[marks[2] :]
        into.read.pop(source.table.source, None)
        into.rejected.pop(source.table.source, None)
        problems.append(exc.problem)
        return None
    finally:
        source.table = replace(source.table, frame=source.table.frame.clear(), rest=None)


# -- across rows ------------------------------------------------------------------------------


def _label(headers: Mapping[str, Mapping[str, str]], source: str, column: Column) -> str:
    """The column's header as this record's file wrote it."""
    return headers.get(source, {}).get(column.name, column.label)


def _check_unique(
    kind: RecordKind,
    frame: pl.DataFrame,
    load: _KindLoad,
    sources: tuple[str, ...],
    headers: Mapping[str, Mapping[str, str]],
    problems: list[Problem],
) -> pl.DataFrame:
    for group in kind.unique_groups:
        columns = [kind.by_name[name] for name in group]
        key = pl.col(group[0]) if len(group) == 1 else pl.struct(list(group))
        # distinct hashes are distinct keys: on 16.7M ids counting hashes took 2 s and 0.2 GB where
        # marking the duplicated ids took 15 s and 1.1 GB; only keys whose hashes meet are compared
        if frame.select(key.hash(_HASH_SEED).n_unique()).item() == frame.height:
            continue
        marked = frame.with_columns(
            pl.struct(list(group)).is_first_distinct().alias("__first"),
            pl.col(SRC).first().over(list(group)).alias("__first_src"),
            pl.col(ROW).first().over(list(group)).alias("__first_row"),
        )
        duplicates = marked.filter(~pl.col("__first"))
        names = "、".join(c.label for c in columns)
        for row in duplicates.iter_rows(named=True):
            source = sources[row[SRC]]
            origin_source = sources[row["__first_src"]]
            where = (
                f"第 {row['__first_row']} 行" if origin_source == source else f"{origin_source}:{row['__first_row']}"
            )
            shown = "、".join(_shown(row[name]) for name in group)
            problems.append(
                Problem(
                    source,
                    row[ROW],
                    _label(headers, source, columns[0]),
                    "duplicate",
                    f"{names}“{shown}”重复（首次出现在{where}）",
                )
            )
            load.rejected[source].add(row[ROW])
        frame = marked.filter(pl.col("__first")).drop("__first", "__first_src", "__first_row")
    return frame


_HASH_SEED = 20251201


def _shown(value: object) -> str:
    return "" if value is None else str(value)


def _check_references(
    kind: RecordKind,
    frame: pl.DataFrame,
    load: _KindLoad,
    loaded: Mapping[str, pl.DataFrame],
    rejected_keys: Mapping[str, pl.LazyFrame],
    sources: tuple[str, ...],
    headers: Mapping[str, Mapping[str, str]],
    problems: list[Problem],
) -> pl.DataFrame:
    for column in (c for c in kind.columns if c.references):
        target_name, _, target_column = column.references.partition(".")  # type: ignore[union-attr]
        target = RECORD_KINDS[target_name]
        known = loaded.get(target_name)
        if known is None and target_column:
            continue  # a county's statistics need no school list when there is none (published figures alone)
        key = target_column or target.key.name
        known_values = (
            known.select(pl.col(key).alias(column.name)).unique()
            if known is not None
            else pl.DataFrame(schema={column.name: pl.String})
        )
        orphans = frame.join(known_values, on=column.name, how="anti")
        if orphans.height == 0:
            continue
        lazy = rejected_keys.get(target_name) if not target_column else None
        dropped = lazy.collect() if lazy is not None else None
        if dropped is not None and dropped.height:
            orphans = orphans.join(
                dropped.rename({"key": column.name, SRC: "__t_src", ROW: "__t_row"}), on=column.name, how="left"
            )
        for row in orphans.iter_rows(named=True):
            value = row[column.name]
            source = sources[row[SRC]]
            if row.get("__t_row") is not None:
                reason = f"{column.label}“{value}”对应的{target.label}记录有误、未载入（{sources[row['__t_src']]}:{row['__t_row']}）"
            elif target_column:
                reason = f"{column.label}“{value}”不在{target.label}名单的{target.by_name[target_column].label}中"
            else:
                reason = f"{column.label}“{value}”不在{target.label}名单中"
            problems.append(Problem(source, row[ROW], _label(headers, source, column), "unknown_reference", reason))
            load.rejected[source].add(row[ROW])
        if any(c.unique for c in kind.columns):
            load.raw_keys.append(orphans.select(pl.col(kind.key.name).alias("key"), SRC, pl.col(ROW).cast(pl.Int64)))
        frame = frame.join(known_values, on=column.name, how="semi", maintain_order="left")
    return frame


def _rejected_keys(load: _KindLoad, frame: pl.DataFrame, kind: RecordKind) -> pl.LazyFrame:
    """Ids found only on rejected rows, so that rows referencing them say why they fail too: a
    query run only where a reference is not found (clean data never needs it)."""
    if not load.raw_keys or not any(c.unique for c in kind.columns):
        return pl.LazyFrame(schema={"key": pl.String, SRC: pl.Int32, ROW: pl.Int64})
    keys = pl.concat([k.lazy() for k in load.raw_keys]).filter(pl.col("key").is_not_null()).sort(SRC, ROW)
    loaded = frame.lazy().select(pl.col(kind.key.name).alias("key"))
    return keys.join(loaded, on="key", how="anti").unique(subset="key", keep="first", maintain_order=True)


def _numeric_extras(frame: pl.DataFrame, extras: Iterable[str]) -> tuple[pl.DataFrame, dict[str, ExtraColumn]]:
    """Extra columns whose every value is a plain decimal of ASCII digits become integers at their
    widest decimals, when every value fits in 64 bits so; any other column stays text (a digit of
    another script, ٥٦, was read as empty, and 9300000000000000 at three places wrapped round)."""
    info: dict[str, ExtraColumn] = {}
    updates = []
    for header in extras:
        column = frame[header].drop_nulls()
        if column.len() == 0 or not column.str.contains(r"^[+-]?[0-9]+(\.[0-9]+)?$").all():
            info[header] = ExtraColumn(header, False)
            continue
        widest = column.str.extract(r"\.([0-9]+)$").str.len_chars().max()
        places = int(widest) if isinstance(widest, int) else 0
        longest = column.str.extract(r"^[+-]?([0-9]+)").str.len_chars().max()
        if places > MAX_EXTRA_PLACES or (int(longest) if isinstance(longest, int) else 0) + places > EXTRA_DIGITS:
            info[header] = ExtraColumn(header, False)
            continue
        whole = pl.col(header).str.extract(r"^([+-]?[0-9]+)").cast(pl.Int64, strict=False)
        fraction = pl.col(header).str.extract(r"\.([0-9]+)$").fill_null("").str.pad_end(places, "0")
        digits = fraction.cast(pl.Int64, strict=False).fill_null(0) if places else pl.lit(0)
        sign = pl.when(pl.col(header).str.starts_with("-")).then(-1).otherwise(1)
        updates.append((whole * 10**places + sign * digits).alias(header))
        info[header] = ExtraColumn(header, True, places)
    return (frame.with_columns(updates) if updates else frame), info


def load_dataset(folder: Path, config: AuditConfig, config_sha256: str = "") -> Dataset:
    """Load every record kind of an audit folder, its tables read within `config.limits`;
    problems are collected, never raised."""
    found, problems, ignored = find_sources(folder, config.limits)
    for name, kind_sources in found.items():
        if len(kind_sources) > 1:
            names = "、".join(s.table.source for s in kind_sources)
            for source in kind_sources:
                problems.append(
                    Problem(
                        source.table.source,
                        1,
                        "",
                        "ambiguous_source",
                        f"{RECORD_KINDS[name].label}数据出现在多处：{names}；请只保留一处",
                    )
                )
    order = sorted(found, key=lambda n: (RECORD_KINDS[n].name != "schools", list(RECORD_KINDS).index(n)))
    sources: list[str] = []
    loads: dict[str, _KindLoad] = {}
    headers_by_source: dict[str, dict[str, str]] = {}
    extras_by_source: dict[str, tuple[str, ...]] = {}
    tables: dict[str, pl.DataFrame] = {}
    rejected_keys: dict[str, pl.LazyFrame] = {}
    extra_columns: dict[str, dict[str, ExtraColumn]] = {}
    inputs: list[InputFile] = []
    warnings: list[str] = []
    for name in order:
        kind = RECORD_KINDS[name]
        load = loads[name] = _KindLoad()
        for source in list(found[name]):
            sources.append(source.table.source)
            loaded_table = _load_or_refuse(source, len(sources) - 1, problems, load)
            if loaded_table is None:
                found[name].remove(source)
                sources.pop()  # no row of it is kept: the next file takes its index, as if never found
                continue
            headers_by_source[source.table.source], extras_by_source[source.table.source] = loaded_table
        if not found[name]:
            del found[name]  # every file of the kind refused while read: the kind is missing
            continue
        extra_names = sorted({e for s in found[name] for e in extras_by_source[s.table.source]})
        frame = load.frame(kind, extra_names)
        frame = _canonical_counties(kind, frame, config.region_divisions, tuple(sources), headers_by_source, warnings)
        frame = _check_unique(kind, frame, load, tuple(sources), headers_by_source, problems)
        frame = _check_references(kind, frame, load, tables, rejected_keys, tuple(sources), headers_by_source, problems)
        frame, extra_columns[name] = _numeric_extras(frame, extra_names)
        tables[name] = frame
        rejected_keys[name] = _rejected_keys(load, frame, kind)
        for source in found[name]:
            table = source.table
            rejected = len(load.rejected.get(table.source, ()))
            inputs.append(
                InputFile(
                    kind=name,
                    source=table.source,
                    sha256=source.sha256,
                    rows_read=load.read[table.source],
                    rows_loaded=load.read[table.source] - rejected,
                    rows_rejected=rejected,
                    headers=headers_by_source[table.source],
                    extra_columns=extras_by_source[table.source],
                    encoding=table.encoding,
                )
            )
    missing = tuple(n for n in RECORD_KINDS if n not in found)
    statistics = {"city_stats", "county_stats"}
    # an audit of published figures alone: statistics and no school-level table at all
    statistics_only = not statistics <= set(missing) and set(RECORD_KINDS) - statistics <= set(missing)
    for name in missing:
        kind = RECORD_KINDS[name]
        tables[name] = _KindLoad().frame(kind, ())
        extra_columns[name] = {}
        if kind.required_file and not statistics_only:
            problems.append(
                Problem(
                    name,
                    0,
                    "",
                    "missing_file",
                    f"缺少{kind.label}数据：应有 {name}.csv、{name}.xlsx 或名为 {name} 的工作表"
                    "（只用公开统计数据督导时，应有全市统计 city_stats 或区县统计 county_stats）",
                )
            )
    return Dataset(
        folder=folder,
        config=config,
        tables=tables,
        sources=tuple(sources),
        inputs=sorted(inputs, key=lambda i: (list(RECORD_KINDS).index(i.kind), i.source)),
        problems=sorted(problems),
        missing_kinds=missing,
        ignored_files=tuple(ignored),
        config_sha256=config_sha256,
        extra_columns=extra_columns,
        warnings=tuple(warnings),
    )


def _canonical_counties(
    kind: RecordKind,
    frame: pl.DataFrame,
    divisions: Divisions | None,
    sources: tuple[str, ...],
    headers: Mapping[str, Mapping[str, str]],
    warnings: list[str],
) -> pl.DataFrame:
    """County names read against the region's divisions: a short or former name (融水县, 柳江县)
    becomes the division's full name, so every table counts it under one name; a name that is none
    of them is kept as written and reported once, at its first row, with the division it most
    likely means."""
    if divisions is None or "county" not in frame.columns or frame.is_empty():
        return frame
    column = kind.by_name["county"]
    firsts = frame.filter(pl.col("county").is_not_null()).group_by("county", maintain_order=True).first()
    renamed: dict[str, str] = {}
    for row in firsts.iter_rows(named=True):
        name = row["county"]
        full = divisions.canonical(name)
        source = sources[row[SRC]]
        where = f"{source}:{row[ROW]}: {headers.get(source, {}).get('county', column.label)}"
        if full is None:
            guess = divisions.suggestion(name)
            hint = f"（是否为 {guess}？）" if guess else ""
            warnings.append(f"{where}: “{name}”不在{divisions.region}的区县名单中{hint}，按原样作为一个区县统计")
        elif full != name:
            renamed[name] = full
            warnings.append(f"{where}: “{name}”按 {full} 统计")
    if not renamed:
        return frame
    return frame.with_columns(pl.col("county").replace(renamed))


def load_table(
    path: Path, loaded: Mapping[str, pl.DataFrame], src: int, limits: Limits = DEFAULT_LIMITS
) -> tuple[str, pl.DataFrame, list[Problem], int]:
    """One table of one record kind (a CSV or an xlsx named after its kind, alone in its folder),
    validated as `load_dataset` validates a folder's tables, its references checked against the
    tables `loaded` (an audit's): for a school's corrected rows (自查). Rows are numbered as in
    the file and tagged with source index `src`; the file is read within `limits` (the audit's).
    Returns (kind, loaded rows, problems, rows read)."""
    found, problems, _ignored = find_sources(path.parent, limits)
    if not found:
        if not problems:
            problems.append(
                Problem(
                    path.name,
                    0,
                    "",
                    "unknown_kind",
                    "无法从文件名判断数据类型：文件名应为 classes.csv、班级.csv、teachers.xlsx 等",
                )
            )
        return "", pl.DataFrame(), problems, 0
    name, sources = next(iter(found.items()))
    kind = RECORD_KINDS[name]
    load = _KindLoad()
    source = sources[0]
    loaded_table = _load_or_refuse(source, src, problems, load)
    if loaded_table is None:
        return "", pl.DataFrame(), problems, 0
    headers, extras = loaded_table
    names = tuple("" for _ in range(src)) + (source.table.source,)
    frame = load.frame(kind, extras)
    frame = _check_unique(kind, frame, load, names, {source.table.source: headers}, problems)
    frame = _check_references(kind, frame, load, loaded, {}, names, {source.table.source: headers}, problems)
    frame, _ = _numeric_extras(frame, extras)
    return name, frame, sorted(problems), load.read.get(source.table.source, 0)
