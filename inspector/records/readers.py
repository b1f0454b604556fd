"""Reading tables out of CSV files and Excel workbooks, as text, keeping spreadsheet row numbers.

A table is every cell as stripped text (blank cells are null) in columns `c0`, `c1`, … plus
`__row`, the row number a spreadsheet shows (the header is row 1). Wholly blank rows are
dropped but never renumber the others. The row under the header may be an example row (every
filled cell starting with `示例：`, as `inspector template` writes it): it is skipped like the
header, never read as data; a `示例：` cell anywhere else rejects its row. Files are checked against
the audit folder's size and shape limits (`inspector.limits.Limits`, passed by the loader) before
they are parsed; a workbook's zip, its parts and its shared-string references are
checked before the Rust reader (python-calamine) reads the cells, which, unlike a reader in
read-only mode, does not trust a sheet's stated dimension.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import html
import io
import math
import re
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import repeat
from pathlib import Path
from typing import IO, Any, NoReturn

import polars as pl

from ..errors import Problem
from ..limits import LIMITS, Limits
from ..numbers import NumberError, float_text

ROW = "__row"

# Parts larger than this are checked for their compression ratio (`Limits.xlsx_ratio`): small
# parts of a real workbook (styles, an empty sheet) compress far better than a table does.
RATIO_CHECKED_FROM = 1 << 20
# the mark of a template's example cell (`示例：45`); NFKC makes the full-width colon `:`
EXAMPLE_MARK = "示例："
_EXAMPLE_CELL = r"^示例\s*[:：]"


@dataclass(frozen=True)
class Table:
    """One table of text cells: `source` names it as users see it (`data.xlsx[classes]`)."""

    source: str
    header: tuple[str, ...]
    frame: pl.DataFrame  # c0…cN (String, null when blank) and __row (Int64); data rows only
    encoding: str = ""
    problems: tuple[Problem, ...] = field(default=())  # rows already rejected while reading
    # a large CSV file is read in parts: `frame` holds the first part's data rows, `rest` reads the
    # others (tables with this header), one at a time, when the loader asks for them
    rest: Callable[[], Iterator[Table]] | None = field(default=None, compare=False)

    def parts(self) -> Iterator[Table]:
        """This table part by part: itself, then the parts `rest` reads (may raise ReadError)."""
        yield self
        if self.rest is not None:
            yield from self.rest()


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


def hint(key: str) -> str:
    """Where a data-table limit is set, and how far it can be raised (for a refusal's message)."""
    return f"（可在 audit.yaml 的 limits.{key} 中调整，最大 {LIMITS[key].maximum:,}）"


def _check_size(path: Path, source: str, limits: Limits) -> int:
    size = path.stat().st_size
    if size > limits.file_bytes:
        raise ReadError(
            Problem(
                source,
                0,
                "",
                "file_too_large",
                f"文件过大（{size} 字节，上限 {limits.file_bytes} 字节）{hint('file_bytes')}",
            )
        )
    return size


# -- CSV ----------------------------------------------------------------------------------------


def _encodings(raw: bytes) -> tuple[str, ...]:
    """The encodings the file can be in, the likeliest first: UTF-8 (BOM or not), UTF-16, GB18030."""
    if raw.startswith(codecs.BOM_UTF8):
        return ("utf-8-sig",)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ("utf-16",)
    if (order := _utf16_without_bom(raw)) is not None:
        return (order,)
    return ("utf-8", "gb18030")


def _encoding(raw: bytes, source: str, encodings: Sequence[str]) -> str:
    """The first of `encodings` the file decodes in (checked)."""
    for encoding in encodings:
        if _decodes(raw, encoding):
            return encoding
    raise ReadError(Problem(source, 1, "", "encoding", "无法识别文件编码：请另存为 UTF-8 CSV"))


def _decodes(raw: bytes, encoding: str, chunk: int = 1 << 24) -> bool:
    """Whether `raw` is text in `encoding`, checked a chunk at a time (no whole-file str)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(raw)
    try:
        for start in range(0, len(raw), chunk):
            decoder.decode(view[start : start + chunk], final=start + chunk >= len(raw))
        if not raw:
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(raw: bytes) -> str | None:
    """`utf-16-le` or `utf-16-be` for UTF-16 text without a byte-order mark, else None.

    UTF-8 and GB18030 text never holds a zero byte; in UTF-16 every ASCII character (each comma
    and line break of a CSV) has one, in the same half of its two bytes (a character such as 一,
    U+4E00, puts one in the other half). A table of Chinese text holds few ASCII characters, so all
    zero bytes are counted, not a share of the first ones."""
    if len(raw) < 4 or len(raw) % 2:
        return None
    even, odd = raw[0::2].count(0), raw[1::2].count(0)
    # every line break of UTF-16 text has its zero byte: a UTF-8 file of many lines with a stray NUL
    # or two is not UTF-16 (it is refused as binary later)
    enough = max(2, raw.count(b"\n"))
    if odd > 4 * even and odd >= enough:
        return "utf-16-le"
    if even > 4 * odd and even >= enough:
        return "utf-16-be"
    return None


def read_csv(path: Path, source: str, limits: Limits) -> Table:
    """Read a CSV file: UTF-8 (BOM or not), UTF-16, or GB18030 as Excel on Chinese Windows saves it,
    within `limits` (the audit folder's: `file_bytes`, `rows`, `columns`, `cell_chars`). A UTF-8
    file larger than `PART_BYTES` is read in parts (`Table.rest`)."""
    if _check_size(path, source, limits) > PART_BYTES:
        table = _read_in_parts(path, source, limits)
        if table is not None:
            return table
    raw = path.read_bytes()
    encodings = _encodings(raw)
    if encodings[0] in _UTF8:
        # read as bytes: a national teachers.csv (about 1 GB) decoded to one str and encoded back
        # for polars took seven times its size at once. Not decoded to check it either: polars
        # reads only valid UTF-8, so a file it reads is UTF-8 (the check was 0.12 s a province)
        if b"\x00" in raw:
            _refuse_binary(source)
        data, delimiter = _prepared(raw, None, source, limits)
        frame = _fast_csv(data, delimiter, limits)
        if frame is not None:
            return _table(source, frame, encodings[0], limits)
    encoding = _encoding(raw, source, encodings)
    if encoding in _UTF8:  # so `encodings[0]` was: polars refused it above, the exact reader says where
        return _table(source, _exact_csv(data.decode(encoding), delimiter, source, limits), encoding, limits)
    text = raw.decode(encoding)
    del raw
    if "\x00" in text:
        _refuse_binary(source)
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # as `_prepared` does the bytes
    data, delimiter = _prepared(text.encode("utf-8"), text, source, limits)
    frame = _fast_csv(data, delimiter, limits)
    if frame is None:
        frame = _exact_csv(text, delimiter, source, limits)
    return _table(source, frame, encoding, limits)


def _prepared(data: bytes, text: str | None, source: str, limits: Limits) -> tuple[bytes, str]:
    """The file's UTF-8 bytes ready for polars, and its delimiter; refused when it has too many
    lines. `text` is the same file decoded, where it was (its head shows the delimiter)."""
    if b"\n" not in data and b"\r" in data:
        # lines ended by a lone CR (Excel for Mac's "CSV (Macintosh)"): polars reads them as one line
        data = data.replace(b"\r", b"\n")
    # counted before parsing, blank lines too: ten million blank lines (10 MB) made a frame of
    # 1.4 GB before they were dropped
    if data.count(b"\n", 0, len(data) - 1) >= limits.rows:
        raise ReadError(_too_many_rows(source, limits, "，含空行"))
    head = text[:4096] if text is not None else data[:16384].decode("utf-8", errors="ignore")[:4096]
    return data, _delimiter(head.removeprefix("\ufeff"))


_UTF8 = ("utf-8", "utf-8-sig")
_DELIMITERS = ",\t;"


def _delimiter(head: str) -> str:
    """The delimiter the sniffer finds in the file's head, "," where it finds none. It only ever
    picks one of `_DELIMITERS`, so a head holding neither a tab nor a semicolon is "," without
    running it (pure Python, it was a millisecond a file)."""
    if "\t" not in head and ";" not in head:
        return ","
    try:
        dialect: Any = csv.Sniffer().sniff(head, delimiters=_DELIMITERS)
    except csv.Error:
        return ","
    return str(dialect.delimiter)


def _refuse_binary(source: str) -> NoReturn:
    raise ReadError(Problem(source, 1, "", "binary", "文件含有空字符（NUL），不是文本 CSV：请另存为 UTF-8 CSV"))


# a CSV file larger than this is read, shaped and typed a part of about this size at a time: read
# whole, a national teachers.csv (16.7M rows, 0.8 GB) held its bytes, its text cells and their
# stripped copies at once, some 5 GB
PART_BYTES = 64 << 20
# each quote of a file read in parts is looked at in Python to find where records end: a file of
# more quotes than this is read whole
QUOTES_FOR_PARTS = 1 << 22


def _read_in_parts(path: Path, source: str, limits: Limits) -> Table | None:
    """A large UTF-8 CSV file as its first part, the rest read by `Table.rest`; None for any other
    file (another encoding, a NUL, lines ended by CR alone), which the whole-file reader reads or
    refuses as it does a small one. The file is scanned once first, in blocks: its encoding, its
    line count against `limits.rows`, and whether it quotes at all."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    breaks, quotes, lone_crs, last = 0, 0, 0, b""
    with path.open("rb") as f:
        while block := f.read(PART_BYTES):
            if b"\x00" in block:
                return None
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                return None
            breaks += block.count(b"\n")
            quotes += block.count(b'"')
            # polars ends a line at a CR alone too: such a file's lines are found by the whole reader
            lone_crs += block.count(b"\r") - block.count(b"\r\n") - (last == b"\r" and block[:1] == b"\n")
            last = block[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    if breaks == 0 or lone_crs or quotes > QUOTES_FOR_PARTS:
        return None
    if breaks - (last == b"\n") >= limits.rows:
        raise ReadError(_too_many_rows(source, limits, "，含空行"))
    with path.open("rb") as f:
        opening = f.read(16384)
    encoding = "utf-8-sig" if opening.startswith(codecs.BOM_UTF8) else "utf-8"
    delimiter = _delimiter(opening.decode("utf-8", errors="ignore")[:4096].removeprefix("\ufeff"))
    parts = _record_parts(path, delimiter, 0)
    head = next(parts)
    parts.close()
    first = _parse_part(head, delimiter, source, limits, 1, 1)
    table = _table(source, first, encoding, limits)
    # whether a data row is still to come, which may be the template's example
    waiting = (
        first.height < 2
        or not first.slice(1)
        .select(
            pl.any_horizontal(pl.col(c).str.strip_chars().str.len_bytes() > 0 for c in first.columns if c != ROW).any()
        )
        .item()
    )
    width, start = first.width - 1, len(head)
    next_row, next_line = 1 + first.height, 1 + head.count(b"\n")
    del head, first

    def rest() -> Iterator[Table]:
        row, line = next_row, next_line
        first = waiting
        for data in _record_parts(path, delimiter, start):
            frame = _parse_part(data, delimiter, source, limits, row, line, width)
            row, line = row + frame.height, line + data.count(b"\n")
            del data
            part, filled = _part(source, table.header, frame, width, encoding, limits, first)
            first = first and not filled
            yield part

    return replace(table, rest=rest)


def _record_parts(path: Path, delimiter: str, start: int) -> Generator[bytes, None, None]:
    """The file from byte `start` (a record's first) in parts of about `PART_BYTES`, each cut after
    a line break that ends a record (`_record_end`)."""
    with path.open("rb") as f:
        f.seek(start)
        pending = b""
        while True:
            block = f.read(PART_BYTES)
            buffer = pending + block if pending else block
            if not block:
                if buffer:
                    yield buffer
                return
            end = _record_end(buffer, delimiter.encode())
            if end < 0:
                pending = buffer  # one record longer than a part: read on
                continue
            yield buffer[: end + 1]
            pending = buffer[end + 1 :]


def _record_end(buffer: bytes, delimiter: bytes) -> int:
    """The last line break of `buffer` (which starts at a record's start) outside a quoted cell, -1
    if none, as polars reads quotes: a cell is quoted when it starts with a quote (after the
    delimiter or a line break); within it every quote toggles quoting (`""` is two toggles), and
    it ends at the first delimiter or line break met unquoted. A quote elsewhere is a character
    like any other, so quotes cannot simply be counted."""
    end = buffer.rfind(b"\n")
    if end < 0 or b'"' not in buffer:
        return end
    openers = (delimiter[0], ord("\n"))
    safe, outside = -1, 0  # the last line break known to end a record; where the last quoted cell ended
    at = buffer.find(b'"')
    while at >= 0:
        if at > 0 and buffer[at - 1] not in openers:
            at = buffer.find(b'"', at + 1)  # a quote inside an unquoted cell
            continue
        found = buffer.rfind(b"\n", outside, at)
        safe = found if found >= 0 else safe
        cell_end = _quoted_cell_end(buffer, at, delimiter)
        if cell_end < 0:
            return safe  # the cell may go on past this buffer
        outside = cell_end
        at = buffer.find(b'"', outside)
    found = buffer.rfind(b"\n", outside)
    return found if found >= 0 else safe


def _quoted_cell_end(buffer: bytes, opening: int, delimiter: bytes) -> int:
    """Where the quoted cell opened at `opening` ends (its delimiter or line break), -1 if not in
    `buffer`. Each stretch between two quotes is searched once: looking for the line break from
    each closing quote to the end made a hostile line of quoted cells cost quotes × its length."""
    closing = buffer.find(b'"', opening + 1)
    while closing >= 0:
        reopened = buffer.find(b'"', closing + 1)
        limit = reopened if reopened >= 0 else len(buffer)
        ends = [
            e for e in (buffer.find(delimiter, closing + 1, limit), buffer.find(b"\n", closing + 1, limit)) if e >= 0
        ]
        if ends:
            return min(ends)
        if reopened < 0:
            return -1
        closing = buffer.find(b'"', reopened + 1)
    return -1


def _parse_part(
    data: bytes, delimiter: str, source: str, limits: Limits, first_row: int, first_line: int, width: int | None = None
) -> pl.DataFrame:
    """A part's records, numbered from `first_row`, as wide as the header's `width` at least; read by
    the exact reader where polars cannot read them (a row wider than the header among them, as
    when the whole file is read). Only the file's first part may start with a byte-order mark."""
    later = first_row > 1
    if later and data.startswith(codecs.BOM_UTF8):
        # polars skips a mark at the start of what it reads; inside the file it is a character
        frame = _fast_csv(b"\n" + data, delimiter, limits, first_row - 1, width)
        if frame is not None:
            return frame.slice(1)
    else:
        frame = _fast_csv(data, delimiter, limits, first_row, width)
    if frame is None:
        text = data.decode("utf-8" if later else "utf-8-sig")
        frame = _exact_csv(text, delimiter, source, limits, first_row, first_line)
    return frame


def _part(
    source: str, header: tuple[str, ...], frame: pl.DataFrame, width: int, encoding: str, limits: Limits, first: bool
) -> tuple[Table, bool]:
    """A part after the first, shaped as the first: at least `width` cell columns, cells stripped,
    blank rows dropped, example cells reported; its first row may be the template's example when
    it is the file's `first` data row. And whether it held a row that is not blank."""
    have = frame.width - 1
    if have < width:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(f"c{i}") for i in range(have, width))
    cells = [c for c in frame.columns if c != ROW]
    frame, marked = _shape(source, frame, cells, limits, headed=False)
    data, problems = _without_example(source, header, cells, frame, marked, under_header=first)
    return Table(source, header, data, encoding, problems), frame.height > 0


def _fast_csv(
    data: bytes, delimiter: str, limits: Limits, first_row: int = 1, width: int | None = None
) -> pl.DataFrame | None:
    """The file (UTF-8 bytes, a BOM allowed) parsed by polars when it is regular (every row at most
    as wide as the first, or as `width` for a part after the header's, quotes well formed), its
    records numbered from `first_row`; None where only the exact reader can say what is wrong, and
    where."""
    try:
        frame = pl.read_csv(
            data,  # polars skips a UTF-8 BOM itself; removing it here would copy the file
            has_header=False,
            infer_schema=False,
            separator=delimiter,
            quote_char='"' if b'"' in data else None,
            raise_if_empty=False,
            **_widths(width),
        )
    except Exception:  # polars raises several error types for irregular files; the exact reader explains
        return None
    if frame.width > limits.columns:
        return None  # the exact reader says at which line
    return frame.rename({name: f"c{i}" for i, name in enumerate(frame.columns)}).with_row_index(ROW, offset=first_row)


def _widths(width: int | None) -> dict[str, Any]:
    """polars' options reading a part as `width` columns at least (rows shorter are padded)."""
    if width is None:
        return {}
    return {"schema": {f"c{i}": pl.String for i in range(width)}, "missing_columns": "insert"}


def _exact_csv(
    text: str, delimiter: str, source: str, limits: Limits, first_row: int = 1, first_line: int = 1
) -> pl.DataFrame:
    """`text` read record by record, numbered from `first_row` (its first line is the file's
    `first_line`): what `_fast_csv` cannot read, located."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    lines = first_line - 1
    rows: list[list[str]] = []
    try:
        for row in reader:
            if len(row) > limits.columns:
                raise ReadError(_too_many_columns(source, lines + reader.line_num, len(row), limits))
            rows.append(row)
    except csv.Error as exc:
        reason = (
            "引号不成对或位置不对"
            if "quote" in str(exc) or "end of data" in str(exc) or "expected" in str(exc)
            else str(exc)
        )
        raise ReadError(
            Problem(
                source,
                lines + reader.line_num,
                "",
                "csv",
                f"CSV 格式错误（从第 {first_row + len(rows)} 条记录起）：{reason}",
            )
        ) from None
    width = max((len(r) for r in rows), default=0)
    columns = {f"c{i}": [r[i] if i < len(r) and r[i] != "" else None for r in rows] for i in range(width)}
    frame = pl.DataFrame(columns, schema={name: pl.String for name in columns})
    return frame.with_row_index(ROW, offset=first_row)


def _too_many_rows(source: str, limits: Limits, counted: str = "") -> Problem:
    return Problem(
        source, limits.rows + 1, "", "too_many_rows", f"行数过多（超过 {limits.rows:,} 行{counted}）{hint('rows')}"
    )


def _too_many_columns(source: str, line: int, width: int, limits: Limits) -> Problem:
    return Problem(
        source, line, "", "too_many_columns", f"列数过多（{width} 列，上限 {limits.columns}）{hint('columns')}"
    )


# -- xlsx ---------------------------------------------------------------------------------------

# XML allows either quote around an attribute's value and spaces around its "=": every pattern
# that reads attributes takes both (a sheet listed as name='x' was not checked at all, and a cell
# at r='XFD1048576' was not counted: a reader then tried to allocate 512 GiB)
_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet(?=[\s/>])[^>]*>")
_RELATIONSHIP_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship(?=[\s/>])[^>]*>")
_ATTRIBUTE = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_SHARED_ITEM = re.compile(rb"<(?:\w+:)?si[\s>/]")


def _attributes(tag: bytes) -> dict[bytes, bytes]:
    """A start tag's attributes by name (prefix kept), values with XML's five entities resolved."""
    return {name: _unescape(double or single) for name, double, single in _ATTRIBUTE.findall(tag)}


def _unescape(value: bytes) -> bytes:
    """Entities and character references resolved (&amp; &#x73ED; …), as a reader resolves them."""
    if b"&" not in value:
        return value
    return html.unescape(value.decode("utf-8", "replace")).encode("utf-8")


def _relationship_id(attributes: Mapping[bytes, bytes]) -> bytes | None:
    """A sheet's relationship id: its attribute whose local name is `id` (`r:id`, whatever the
    prefix); None when there is none, or more than one."""
    ids = [value for name, value in attributes.items() if name.rpartition(b":")[2] == b"id"]
    return ids[0] if len(ids) == 1 else None


def _broken(display: str, reason: str) -> ReadError:
    return ReadError(Problem(display, 1, "", "xlsx", f"无法读取 Excel 文件：{reason}"))


_ROW_START = re.compile(rb"<(?:\w+:)?row(?=[\s>/])")
_CELL_START = re.compile(rb"<(?:\w+:)?c(?=[\s>/])")
# a row's or a cell's reference (r="12", r='AB12', r = "7"): an attribute named r (the same text
# inside a cell can only raise the estimate, never lower it); one past Excel's grid (XFD1048576) or
# written with a character reference (r="&#88;FD1") is refused, not guessed
_REF = re.compile(rb"""(?<![\w:.-])r\s*=\s*["']([^"'<>]*)["']""")
# as writers write a reference: found three times faster; a chunk with any other spelling of an r or
# t attribute (another quote, spaces, a line break before it), or an r="…" of another shape, is read
# by the patterns above instead
_REF_PLAIN = re.compile(rb' r="([A-Za-z]{0,3})([0-9]{1,7})"')
_REF_PLAIN_OTHER = re.compile(rb' r="(?![A-Za-z]{0,3}[0-9]{1,7}")([^"<>]*)"')  # the values it does not take
_ODD_SPELLINGS = (b"r='", b"t='", b"r =", b"t =", b"r= ", b"t= ", b"\tr=", b"\nr=", b"\rr=", b"=\n", b"=\t", b"=\r")
_REF_PARTS = re.compile(rb"([A-Za-z]{0,3})([0-9]{0,7})")
_REF_LIKE = re.compile(rb"[A-Za-z]*[0-9]*")
_ERROR_CELL = re.compile(rb"""<(?:\w+:)?c\s[^>]*?\bt\s*=\s*["']e["'][^>]*>""")
_CELL_REF = re.compile(rb"([A-Za-z]{1,3})([0-9]{1,7})")
# a formula cell whose result was never saved (a workbook written by a program, not opened in Excel
# since): its formula, then no <v> or an empty one (group 2), then the cell's end. Possessive
# quantifiers: with plain ones, white space between the parts was tried split every way (a cell
# with 160,000 spaces took 33 s). A repeat holding a lookahead is an atomic group instead: Python
# 3.11.2 (Debian 12's) fails `(?:[^>/]|/(?!>))*+/>` on "/>", and read such a cell as blank
_UNCALCULATED_CELL = re.compile(
    rb"<(?:\w+:)?c(\s[^>]*+)?>\s*+<(?:\w+:)?f\b(?>(?:[^>/]|/(?!>))*)(?:/>|>[^<]*+</(?:\w+:)?f>)\s*+"
    rb"(<(?:\w+:)?v\b(?>(?:[^>/]|/(?!>))*)/>\s*+|<(?:\w+:)?v\b[^>]*+>\s*+</(?:\w+:)?v>\s*+)?</(?:\w+:)?c>"
)
# where an empty saved result is a value: a formula giving "" (text) is a blank cell
_TEXT_TYPES = (b"str", b"s", b"inlineStr")
_SHARED_INDEX = re.compile(rb"""t\s*=\s*["']s["'][^>]*>\s*<(?:\w+:)?v>([^<]*)</""")
_SHARED_INDEX_PLAIN = re.compile(rb't="s"[^>]*>\s*<(?:\w+:)?v>([^<]*)</')
_SHEET_CHUNK = 8 << 20
_LONGEST_ROW = 64 << 20  # 500 columns of 32,767 characters would be 64 MiB of UTF-8 at most


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _cell_count(row: bytes) -> int:
    return len(_CELL_START.findall(row))


def _most_cells(rows: list[bytes]) -> int:
    """At least the most cells in one of `rows` (unprefixed XML), counted in C: the largest number of
    each spelling of a cell's start tag, added (a row holds one spelling where Excel wrote it)."""
    return sum(max(map(bytes.count, rows, repeat(tag, len(rows))), default=0) for tag in (b"<c ", b"<c>", b"<c/>"))


def _references(whole: bytes, odd: bool, part: str, display: str) -> set[tuple[bytes, bytes]]:
    """Every distinct (letters, digits) of a row's or a cell's reference in `whole`; `odd` when the
    chunk spells an attribute otherwise than ` r="…"`. A reference past XFD1048576's shape, or
    written with a character reference, is refused; other text (r="…" in a cell's text) is none."""
    found: set[tuple[bytes, bytes]] = set() if odd else set(_REF_PLAIN.findall(whole))
    for reference in set(_REF.findall(whole) if odd else _REF_PLAIN_OTHER.findall(whole)):
        parts = _REF_PARTS.fullmatch(reference)
        if parts is not None:
            found.add((parts.group(1), parts.group(2)))
        elif b"&" in reference or _REF_LIKE.fullmatch(reference):
            shown = reference[:20].decode("utf-8", "replace")
            raise _broken(display, f"{part} 中有无法核对的单元格位置（“{shown}”：超出 Excel 的范围或以字符引用写出）")
    return found


# (row, column, problem code), 1-based: a cell a reader hands over as blank that is not blank
OddCell = tuple[int, int, str]


def _check_sheet(stream: IO[bytes], part: str, display: str, strings: int, limits: Limits) -> list[OddCell]:
    """Read a sheet part as a stream, whole rows at a time, before any reader holds it: refuse it
    when the rows × columns a reader would build up to its farthest cell (by position or by the
    cells' `r` references; a sheet's <dimension> is not trusted) pass `limits`, or when a cell
    points outside the shared-string table. Returns each cell a reader would hand over as blank
    though it is not: one holding an Excel error value (#DIV/0!, #N/A, …) and a formula whose
    result was never saved."""
    rows = widest = last_row = last_column = 0
    errors: list[OddCell] = []
    carry = b""
    while True:
        chunk = stream.read(_SHEET_CHUNK)
        data = carry + chunk
        cut = len(data)
        if chunk:  # whole rows only: keep what follows the last row's start for the next chunk
            plain, prefixed_at = data.rfind(b"<row"), data.rfind(b":row")
            cut = data.rfind(b"<", 0, prefixed_at) if prefixed_at > plain else plain
            if cut <= 0:
                if len(data) > _LONGEST_ROW:
                    raise _broken(display, f"{part} 中有一行超过 {_LONGEST_ROW >> 20} MiB")
                carry = data
                continue
        whole, carry = data[:cut], data[cut:]
        prefixed = b":row" in whole or b":c" in whole
        pieces = _ROW_START.split(whole)[1:] if prefixed else whole.split(b"<row")[1:]
        rows += len(pieces)
        widest = max(widest, max(map(_cell_count, pieces), default=0) if prefixed else _most_cells(pieces))
        odd = any(spelling in whole for spelling in _ODD_SPELLINGS)
        for letters, number in _references(whole, odd, part, display):
            if number:
                last_row = max(last_row, int(number))
            if letters:
                last_column = max(last_column, _column_number(letters))
        for tag in _ERROR_CELL.findall(whole) if b'"e"' in whole or b"'e'" in whole else ():
            match = _CELL_REF.fullmatch(_attributes(tag).get(b"r", b""))
            if match is None:  # an error value whose place a reader decides: refused, not guessed
                raise _broken(display, f"{part} 中有未标明位置的 Excel 错误值单元格")
            errors.append((int(match.group(2)), _column_number(match.group(1)), "xlsx_error_value"))
        for found in _UNCALCULATED_CELL.finditer(whole) if b"<f" in whole or b":f" in whole else ():
            attributes = _attributes(b"<c" + (found.group(1) or b"") + b">")
            kind = attributes.get(b"t")
            if kind == b"e" or (kind in _TEXT_TYPES and found.group(2) is not None):
                continue
            match = _CELL_REF.fullmatch(attributes.get(b"r", b""))
            if match is None:  # as for an error value: its place is not guessed
                raise _broken(display, f"{part} 中有未标明位置、没有计算结果的公式单元格")
            errors.append((int(match.group(2)), _column_number(match.group(1)), "xlsx_formula_without_value"))
        for index in set((_SHARED_INDEX if odd else _SHARED_INDEX_PLAIN).findall(whole)):
            index = index.strip()
            if not index.isdigit() or int(index) >= strings:
                raise _broken(
                    display, f"{part} 中有单元格引用了不存在的共享字符串（{index.decode('utf-8', 'replace')!s}）"
                )
        height, width = max(rows, last_row), max(widest, last_column)
        if height > limits.rows:
            raise ReadError(_too_many_rows(display, limits))
        if width > limits.columns:
            raise ReadError(_too_many_columns(display, 1, width, limits))
        if height * width > limits.xlsx_cells:
            raise _broken(
                display,
                f"{part} 的单元格过多（{height:,} 行 × {width:,} 列，上限 {limits.xlsx_cells:,} 个）{hint('xlsx_cells')}",
            )
        if not chunk:
            break
    return errors


def _check_workbook(path: Path, display: str, limits: Limits) -> dict[str, tuple[str, list[OddCell]]]:
    """Refuse a workbook whose zip is a bomb, whose listed sheets are missing, whose sheets would
    unfold into more rows, columns or cells than `limits` allow, or whose cells point outside the
    shared-string table (a reader would silently take another string). Returns each sheet's part
    and the cells a reader would hand over as blank though they are not (`_check_sheet`), by the
    sheet's name."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _broken(display, f"不是有效的 xlsx（zip）文件（{exc}）") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.xlsx_parts:
            raise _broken(display, f"包含的部件过多（{len(infos)} 个，上限 {limits.xlsx_parts:,}）{hint('xlsx_parts')}")
        total = 0
        for info in infos:
            total += info.file_size
            if (
                info.compress_size
                and info.file_size / max(info.compress_size, 1) > limits.xlsx_ratio
                and info.file_size > RATIO_CHECKED_FROM
            ):
                raise _broken(
                    display,
                    f"部件 {info.filename} 的压缩比异常（超过 {limits.xlsx_ratio} 倍，疑似压缩炸弹）{hint('xlsx_ratio')}",
                )
        if total > limits.xlsx_unzipped_bytes:
            raise _broken(
                display,
                f"解压后过大（{total} 字节，上限 {limits.xlsx_unzipped_bytes} 字节）{hint('xlsx_unzipped_bytes')}",
            )
        names = {info.filename for info in infos}
        try:
            workbook = archive.read("xl/workbook.xml")
            rels = archive.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
        except KeyError:
            raise _broken(display, "缺少 xl/workbook.xml") from None
        targets = {}
        for tag in _RELATIONSHIP_TAG.findall(rels):
            attributes = _attributes(tag)
            if b"Id" in attributes and b"Target" in attributes:
                targets[attributes[b"Id"]] = attributes[b"Target"]
        parts = []
        for tag in _SHEET_TAG.findall(workbook):
            attributes = _attributes(tag)
            name, rid = attributes.get(b"name", b""), _relationship_id(attributes)
            if rid is None:  # every listed sheet is checked, or the workbook is not read
                raise _broken(display, f"工作表“{name.decode('utf-8', 'replace')}”没有唯一的关系编号，无法核对")
            target = targets.get(rid)
            if target is None:
                raise _broken(display, f"工作表“{name.decode('utf-8', 'replace')}”在工作簿关系中找不到")
            part = target.decode("utf-8", "replace").lstrip("/")
            part = part if part.startswith("xl/") else f"xl/{part}"
            if part not in names:
                raise _broken(display, f"工作表“{name.decode('utf-8', 'replace')}”的部件 {part} 不存在（文件不完整）")
            parts.append((name.decode("utf-8", "replace"), part))
        shared = archive.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in names else b""
        count = len(_SHARED_ITEM.findall(shared))
        if count > limits.xlsx_shared_strings:
            raise _broken(
                display,
                f"共享字符串过多（{count} 个，上限 {limits.xlsx_shared_strings:,}）{hint('xlsx_shared_strings')}",
            )
        checked: dict[str, tuple[str, list[OddCell]]] = {}
        for title, part in parts:
            with archive.open(part) as stream:
                checked[title] = (part, _check_sheet(stream, part, display, count, limits))
        # every other part is measured too: which part a reader takes for a sheet (ids, escaped or
        # duplicated attributes, letter case, another workbook path) can never let one through unmeasured
        listed = {part for _, part in parts}
        for info in infos:
            if info.filename not in listed and not info.is_dir() and _holds_sheet_data(archive, info):
                with archive.open(info) as stream:
                    _check_sheet(stream, info.filename, display, count, limits)
        return checked


def _holds_sheet_data(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether a part holds `sheetData` (where a reader finds cells), searched a chunk at a time in C."""
    tail = b""
    with archive.open(info) as stream:
        while chunk := stream.read(_SHEET_CHUNK):
            if b"sheetData" in tail + chunk[:16] or b"sheetData" in chunk:
                return True
            tail = chunk[-16:]
    return False


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def read_xlsx_sheets(path: Path, display: str, limits: Limits) -> dict[str, Table | Problem]:
    """Read every sheet of a workbook: its table, or the problem that kept it from being read;
    within `limits` (the audit folder's: `file_bytes`, `xlsx_*`, `rows`, `columns`, `cell_chars`)."""
    import python_calamine  # deferred: only audits with workbooks pay its import time

    _check_size(path, display, limits)
    checked = _check_workbook(path, display, limits)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        names = list(workbook.sheet_names)
    except Exception as exc:  # calamine raises its own error types for broken files
        raise _broken(display, str(exc)) from None
    tables: dict[str, Table | Problem] = {}
    for title in names:
        source = f"{display}[{title}]"
        part, odd_cells = checked.get(title, ("", []))
        try:
            rows = workbook.get_sheet_by_name(title).to_python(skip_empty_area=False)
        except Exception as exc:
            misread = _misread_cell(path, part, source)
            if misread is None:
                raise _broken(display, f"工作表“{title}”有无法读取的内容（{exc}）") from None
            tables[title] = misread
            continue
        try:
            if len(rows) > limits.rows:  # blank rows too, as in a CSV file
                raise ReadError(_too_many_rows(source, limits))
            width = max((len(r) for r in rows), default=0)
            if width > limits.columns:
                raise ReadError(_too_many_columns(source, 1, width, limits))
            columns = {f"c{i}": [_cell_text(r[i]) if i < len(r) else None for r in rows] for i in range(width)}
            frame = pl.DataFrame(columns, schema={name: pl.String for name in columns}).with_row_index(ROW, offset=1)
            tables[title] = _with_odd_cells(_table(source, frame, "xlsx", limits), odd_cells)
        except NumberError as exc:
            tables[title] = _misread_cell(path, part, source) or Problem(source, 0, "", exc.code, exc.message)
        except ReadError as exc:
            tables[title] = exc.problem
    return tables


# a cell with its stored value: `<c r="B2" t="n"><f>…</f><v>12</v></c>`
_VALUE_CELL = re.compile(
    rb"<(?:\w+:)?c(\s[^>]*+)?>\s*+(?:<(?:\w+:)?f\b(?>(?:[^>/]|/(?!>))*)/>\s*+|<(?:\w+:)?f\b[^>]*+>[^<]*+</(?:\w+:)?f>\s*+)?"
    rb"<(?:\w+:)?v>([^<]*+)</(?:\w+:)?v>"
)


def _misread_cell(path: Path, part: str, source: str) -> Problem | None:
    """Where a sheet the reader refused (or read as a number that is not finite) has its first cell
    whose stored value is not of its type: a number cell holding `abc` or NaN, a boolean holding 2.
    Read only after the reader failed, so it costs nothing otherwise."""
    if not part:
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            data = archive.read(part)
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    for match in _VALUE_CELL.finditer(data):
        attributes = _attributes(b"<c" + (match.group(1) or b"") + b">")
        kind, value = attributes.get(b"t", b"n"), match.group(2).strip()
        if kind == b"n":
            try:
                wrong = not math.isfinite(float(value))
            except ValueError:
                wrong = True
            what = "数值"
        elif kind == b"b":
            wrong, what = value not in (b"0", b"1"), "是/否（0 或 1）"
        else:
            continue
        if wrong:
            ref = _CELL_REF.fullmatch(attributes.get(b"r", b""))
            row, column = (int(ref.group(2)), f"第 {_column_number(ref.group(1))} 列") if ref else (0, "")
            shown = value.decode("utf-8", "replace")[:40]
            return Problem(
                source, row, column, "xlsx_value", f"单元格标为{what}，存的却是“{shown}”：请重新输入该单元格"
            )
    return None


_ODD_CELL_MESSAGES = {
    "xlsx_error_value": "单元格是 Excel 的错误值（如 #DIV/0!、#N/A、#VALUE!）：请改为正确的值，或删去公式后留空",
    "xlsx_formula_without_value": (
        "单元格是公式，但文件中没有保存它的计算结果（多见于由程序生成、未在 Excel 中打开过的文件）："
        "请在 Excel 中打开并保存后再提交，或直接填入数值"
    ),
}


def _with_odd_cells(table: Table, cells: Iterable[OddCell]) -> Table:
    """`table` with a problem for each data cell a reader gave as blank though it is not (an Excel
    error value, a formula without its result), which would pass for a missing value (or an
    optional one left empty)."""
    cells = sorted({cell for cell in cells if cell[0] > 1})  # below the header
    if not cells:
        return table
    rows = set(table.frame[ROW].to_list())
    taken = {problem.line for problem in table.problems}  # rows already refused (an example row)
    found = [
        Problem(
            table.source,
            row,
            (table.header[column - 1] if column <= len(table.header) else "") or f"第 {column} 列",
            code,
            _ODD_CELL_MESSAGES[code],
        )
        for row, column, code in cells
        if row not in taken
    ]
    # a row of nothing but such cells reads as blank and was dropped as such: it is a row, refused
    dropped = sorted({problem.line for problem in found} - rows)
    frame = table.frame
    if dropped:
        added = pl.DataFrame({ROW: dropped}, schema={ROW: frame.schema[ROW]})
        frame = pl.concat([frame, added], how="diagonal").sort(ROW)
    return replace(table, frame=frame, problems=table.problems + tuple(found)) if found else table


# -- shaping ------------------------------------------------------------------------------------


def _table(source: str, frame: pl.DataFrame, encoding: str, limits: Limits) -> Table:
    """Header from the first row (which must be row 1), blank cells and rows dropped to null."""
    cells = [c for c in frame.columns if c != ROW]
    frame, marked = _shape(source, frame, cells, limits, headed=True)
    if frame.height == 0:
        raise ReadError(Problem(source, 1, "", "empty", "文件为空：缺少表头"))
    first = frame.row(0, named=True)
    if first[ROW] != 1:
        raise ReadError(Problem(source, first[ROW], "", "header", "表头应在第 1 行"))
    header = [first[c] or "" for c in cells]
    while header and not header[-1]:
        header.pop()
    data, problems = _without_example(source, tuple(header), cells, frame.slice(1), marked, under_header=True)
    return Table(source, tuple(header), data, encoding, problems)


def _shape(
    source: str, frame: pl.DataFrame, cells: Sequence[str], limits: Limits, headed: bool
) -> tuple[pl.DataFrame, bool]:
    """Cells stripped (blank ones null) and blank rows dropped, every cell within `limits.cell_chars`;
    and whether a data row (after the first row when it is the header, `headed`) holds a cell
    starting with 示例."""
    skip = int(headed)
    if cells and frame.height <= SMALL_TABLE:
        frame, measured = _shape_few(frame, cells, skip)
    elif cells:
        blank = pl.all_horizontal(pl.col(c).is_null() for c in cells)
        frame = (
            frame.lazy()
            .with_columns(pl.col(c).str.strip_chars().replace("", None) for c in cells)
            .filter(~blank)
            .collect()
        )
        # each column's longest cell, and whether a data row may be a template's example (one query)
        measured = frame.select(
            *(pl.col(c).str.len_chars().max() for c in cells),
            pl.any_horizontal(pl.col(c).slice(skip).str.starts_with("示例").any() for c in cells).alias("__marked"),
        ).row(0)
    else:
        measured = (False,)
    longest_of, marked = measured[:-1], bool(measured[-1])
    too_long = [
        name for name, longest in zip(cells, longest_of) if isinstance(longest, int) and longest > limits.cell_chars
    ]
    if too_long:  # the first row holding one, whichever its column (as a file read in parts finds it)
        row = frame.filter(pl.any_horizontal(pl.col(c).str.len_chars() > limits.cell_chars for c in too_long))[ROW][0]
        raise ReadError(
            Problem(
                source,
                int(row),
                "",
                "cell_too_long",
                f"单元格过长（超过 {limits.cell_chars} 个字符）{hint('cell_chars')}",
            )
        )
    return frame, marked


# up to this many rows a table is shaped here, and a column parsed in loader.py, cell by cell in
# Python: polars queries cost ~1 ms each on a short table (a one-school audit ran some 200 joins)
SMALL_TABLE = 256
# what polars' `str.strip_chars()` strips: Unicode White_Space (Rust's `char::is_whitespace`), which
# is Python's `str.isspace` without the four information separators U+001C–U+001F
_WHITE_SPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\x1c\x1d\x1e\x1f")


def _shape_few(frame: pl.DataFrame, cells: Sequence[str], skip: int) -> tuple[pl.DataFrame, tuple[object, ...]]:
    """`_table`'s two queries for a short table, in Python: cells stripped (blank ones null), blank
    rows dropped; and each column's longest cell and whether a row after the first `skip` starts
    with 示例."""
    columns = [[None if v is None else (v.strip(_WHITE_SPACE) or None) for v in frame[c].to_list()] for c in cells]
    keep = [i for i in range(frame.height) if any(column[i] is not None for column in columns)]
    rows = frame[ROW].to_list()
    kept = [[column[i] for i in keep] for column in columns]
    shaped = pl.DataFrame(
        [
            pl.Series(ROW, [rows[i] for i in keep], dtype=frame.schema[ROW]),
            *(pl.Series(c, column, dtype=pl.String) for c, column in zip(cells, kept)),
        ]
    )
    longest = [max((len(v) for v in column if v is not None), default=None) for column in kept]
    marked = any(v is not None and v.startswith("示例") for column in kept for v in column[skip:])
    return shaped, (*longest, marked)


def _without_example(
    source: str,
    header: tuple[str, ...],
    cells: Sequence[str],
    data: pl.DataFrame,
    marked_somewhere: bool,
    under_header: bool,
) -> tuple[pl.DataFrame, tuple[Problem, ...]]:
    """The data rows without the template's example row (the first row under the header, when
    every filled cell of it is marked `示例：`; `under_header` says whether `data` starts there),
    and a problem for each marked cell left elsewhere: an example half overwritten, or copied down,
    is never read as data. `marked_somewhere` says whether any cell of `data` starts with `示例`
    (the caller found it with the table's other checks)."""
    if data.height == 0 or not cells or not marked_somewhere:
        return data, ()  # the common case, decided by a prefix test alone (`marked_somewhere`)
    marked = data.select(pl.col(c).str.contains(_EXAMPLE_CELL).fill_null(False) for c in cells)
    first = data.row(0, named=True)
    filled = [c for c in cells if first[c] is not None]
    if under_header and filled and all(marked[c][0] for c in filled):
        data, marked = data.slice(1), marked.slice(1)
    problems: list[Problem] = []
    for index, name in enumerate(cells):
        rows = data.filter(marked[name])[ROW].to_list()
        label = header[index] if index < len(header) and header[index] else f"第 {index + 1} 列"
        problems.extend(
            Problem(
                source,
                int(row),
                label,
                "example_cell",
                "仍是模板中的示例内容（以“示例：”开头）：请填写实际数据，或删除该行",
            )
            for row in rows
        )
    # the mark is dropped, so the cell is reported once, as an example, not again as a bad value
    unmarked = data.with_columns(
        pl.col(c).str.replace(_EXAMPLE_CELL, "").str.strip_chars().replace("", None) for c in cells
    )
    return unmarked, tuple(sorted(problems))
