"""Loading an audit folder: every input row is either loaded or reported, never dropped.

The loader finds one table per record kind, maps its headers (canonical English or Chinese)
onto the kind's columns, validates each row with a pydantic adapter built from the data
contract, then checks what spans rows: unique ids and references to other kinds. Problems are
collected over all files and returned together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from typing_extensions import NotRequired, TypedDict

from annotated_types import Ge, Le
from pydantic import BeforeValidator, TypeAdapter, ValidationError

from ..errors import Problem
from ..validation_messages import message_for
from . import values
from .config import AUDIT_FILE, AuditConfig
from .readers import ReadError, Table, read_csv, read_xlsx_sheets, sha256_file
from .schema import RECORD_KINDS, Column, RecordKind, kind_for_source


@dataclass(frozen=True, slots=True)
class RowRef:
    """Where a record came from: the file (or `book.xlsx[sheet]`) and its spreadsheet row."""

    file: str
    row: int

    def __str__(self) -> str:
        return f"{self.file}:{self.row}"


@dataclass(slots=True)
class Record:
    """One loaded input row: typed values by canonical column name, extra columns as text."""

    kind: str
    values: dict[str, Any]
    extra: dict[str, str]
    ref: RowRef


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


@dataclass
class Dataset:
    """An audit folder's loaded records, their provenance and every rejected row."""

    folder: Path
    config: AuditConfig
    records: dict[str, list[Record]]
    inputs: list[InputFile]
    problems: list[Problem]
    missing_kinds: tuple[str, ...]
    ignored_files: tuple[str, ...] = ()
    config_sha256: str = ""
    extra_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def by_key(self, kind: str) -> dict[str, Record]:
        key = RECORD_KINDS[kind].key.name
        return {r.values[key]: r for r in self.records.get(kind, [])}


@dataclass
class _Source:
    kind: RecordKind
    table: Table
    sha256: str


_PARSERS: dict[str, Any] = {
    # blank cells never reach validation (they are absent), so text needs no length check
    "text": Annotated[str, BeforeValidator(values.parse_text)],
    "int": Annotated[int, BeforeValidator(values.parse_int)],
    "float": Annotated[float, BeforeValidator(values.parse_float)],
    "rate": Annotated[float, BeforeValidator(values.parse_rate)],
    "bool": Annotated[bool, BeforeValidator(values.parse_bool)],
    "date": Annotated[Any, BeforeValidator(values.parse_date)],
    "grade": Annotated[str, BeforeValidator(values.parse_grade)],
}


def _column_type(column: Column) -> Any:
    if column.type == "enum":
        assert column.enum is not None
        base: Any = Annotated[str, BeforeValidator(values.enum_parser(column.enum))]
    else:
        base = _PARSERS[column.type]
    if column.minimum is not None:
        base = Annotated[base, Ge(column.minimum)]
    if column.maximum is not None:
        base = Annotated[base, Le(column.maximum)]
    return base if column.required else NotRequired[base]


_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


def _adapter(kind: RecordKind) -> TypeAdapter[Any]:
    if kind.name not in _ADAPTERS:
        row_type = TypedDict(  # type: ignore[misc]
            f"{kind.name.title()}Row", {c.name: _column_type(c) for c in kind.columns}
        )
        _ADAPTERS[kind.name] = TypeAdapter(row_type)
    return _ADAPTERS[kind.name]


def find_sources(folder: Path) -> tuple[dict[str, list[_Source]], list[Problem], list[str]]:
    """Tables per record kind found in `folder`, read-problems, and files that hold no kind."""
    found: dict[str, list[_Source]] = {}
    problems: list[Problem] = []
    ignored: list[str] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith((".", "~$")) or path.name == AUDIT_FILE:
            continue
        suffix = path.suffix.lower()
        kind = kind_for_source(path.stem)
        if suffix in _UNSUPPORTED and kind is not None:
            problems.append(Problem(path.name, 0, "", "unsupported_format", _UNSUPPORTED[suffix]))
        elif suffix == ".csv" and kind is not None:
            try:
                table = read_csv(path, path.name)
            except ReadError as exc:
                problems.append(exc.problem)
                continue
            found.setdefault(kind.name, []).append(_Source(kind, table, sha256_file(path)))
        elif suffix == ".xlsx":
            if not _add_workbook(path, kind, found, problems):
                ignored.append(path.name)
        elif suffix in (".csv", *_UNSUPPORTED):
            ignored.append(path.name)
    return found, problems, ignored


_UNSUPPORTED = {
    ".xls": "不支持旧版 Excel（.xls）文件：请另存为 .xlsx 或 UTF-8 CSV",
    ".et": "不支持 WPS 表格（.et）文件：请另存为 .xlsx 或 UTF-8 CSV",
}


def _add_workbook(path: Path, kind: RecordKind | None, found: dict[str, list[_Source]], problems: list[Problem]) -> bool:
    """Add a workbook's sheets by the kind they hold; False when none holds a kind."""
    try:
        sheets = read_xlsx_sheets(path, path.name)
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


def _map_headers(kind: RecordKind, table: Table) -> tuple[dict[int, Column], dict[int, str], list[Problem]]:
    """Column index → column, index → extra header; problems for duplicate or missing columns."""
    lookup: dict[str, Column] = {}
    for column in kind.columns:
        lookup[column.name.lower()] = column
        lookup[values.normalize_text(column.label)] = column
    mapped: dict[int, Column] = {}
    extras: dict[int, str] = {}
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, header in enumerate(table.header):
        if not header:
            continue  # an unnamed column: harmless while empty, its cells are reported where they hold data
        column = lookup.get(values.normalize_text(header)) or lookup.get(header.lower())
        name = column.name if column else header
        if name in seen:
            problems.append(
                Problem(table.source, 1, header, "header_duplicate", f"列重复：与第 {seen[name] + 1} 列表示同一字段")
            )
            continue
        seen[name] = index
        if column is None:
            extras[index] = header
        else:
            mapped[index] = column
    present = {c.name for c in mapped.values()}
    for column in kind.columns:
        if column.required and column.name not in present:
            problems.append(
                Problem(
                    table.source,
                    1,
                    column.label,
                    "column_missing",
                    f"缺少必填列“{column.label}”（{column.name}），本表 {len(table.rows)} 行均未载入",
                )
            )
    return mapped, extras, problems


def _header_label(table: Table, mapped: Mapping[int, Column], name: str) -> str:
    for index, column in mapped.items():
        if column.name == name:
            return table.header[index]
    return name


class _KindLoad:
    """Rows of one kind as validated, before cross-row checks."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.rejected: dict[str, set[int]] = {}
        self.read: dict[str, int] = {}


def _load_table(source: _Source, problems: list[Problem], into: _KindLoad) -> tuple[dict[str, str], tuple[str, ...]]:
    kind, table = source.kind, source.table
    into.read[table.source] = len(table.rows)
    rejected = into.rejected.setdefault(table.source, set())
    mapped, extras, header_problems = _map_headers(kind, table)
    problems.extend(header_problems)
    headers = {c.name: table.header[i] for i, c in mapped.items()}
    if any(p.code in ("column_missing", "header_duplicate") for p in header_problems):
        rejected.update(number for number, _ in table.rows)
        return headers, tuple(extras.values())
    adapter = _adapter(kind)
    id_columns = {c.name for c in kind.columns if c.unique or c.references}
    width = len(table.header)
    # per column index: (canonical name or None, is an id, extra header or None); an unnamed
    # column has neither, and a cell under it is reported like one beyond the header
    plan = [
        (mapped[i].name, mapped[i].name in id_columns, None) if i in mapped else (None, False, extras.get(i))
        for i in range(width)
    ]
    named = [name is not None or extra is not None for name, _, extra in plan]
    defaults = [(c.name, c.default) for c in kind.columns if c.default is not None]
    for number, cells in table.rows:
        raw: dict[str, Any] = {}
        extra: dict[str, str] = {}
        for index, cell in enumerate(cells):
            if cell is None or (cell.__class__ is str and (not cell or cell.isspace())):
                continue
            if index >= width or not named[index]:
                problems.append(
                    Problem(table.source, number, f"第 {index + 1} 列", "cell_without_header", "该列有数据但没有表头")
                )
                rejected.add(number)
                break
            name, is_id, extra_name = plan[index]
            if name is not None:
                raw[name] = values.normalize_text(values.parse_text(cell)) if is_id else cell
            elif extra_name is not None:
                extra[extra_name] = values.parse_text(cell)
        else:
            try:
                parsed = adapter.validate_python(raw)
            except ValidationError as exc:
                for error in exc.errors():
                    name = str(error["loc"][0]) if error["loc"] else ""
                    label = headers.get(name) or (kind.by_name[name].label if name in kind.by_name else name)
                    problems.append(Problem(table.source, number, label, error["type"], message_for(error)))
                rejected.add(number)
                continue
            for name, default in defaults:
                if name not in parsed:
                    parsed[name] = default
            into.records.append(Record(kind.name, parsed, extra, RowRef(table.source, number)))
    return headers, tuple(extras.values())


def _label(headers: Mapping[str, Mapping[str, str]], record: Record, column: Column) -> str:
    """The column's header as this record's file wrote it."""
    return headers.get(record.ref.file, {}).get(column.name, column.label)


def _check_unique(
    kind: RecordKind, load: _KindLoad, headers: Mapping[str, Mapping[str, str]], problems: list[Problem]
) -> None:
    for group in kind.unique_groups:
        columns = [kind.by_name[name] for name in group]
        first: dict[tuple[object, ...], RowRef] = {}
        kept: list[Record] = []
        for record in load.records:
            value = tuple(record.values.get(name) for name in group)
            if value not in first:
                first[value] = record.ref
                kept.append(record)
                continue
            origin = first[value]
            where = f"第 {origin.row} 行" if origin.file == record.ref.file else str(origin)
            names = "、".join(c.label for c in columns)
            shown = "、".join(str(v) for v in value)
            problems.append(
                Problem(record.ref.file, record.ref.row, _label(headers, record, columns[0]), "duplicate",
                        f"{names}“{shown}”重复（首次出现在{where}）")
            )
            load.rejected[record.ref.file].add(record.ref.row)
        load.records = kept


def _check_references(
    kind: RecordKind,
    load: _KindLoad,
    targets: Mapping[str, list[Record]],
    rejected_keys: Mapping[str, Mapping[str, RowRef]],
    headers: Mapping[str, Mapping[str, str]],
    problems: list[Problem],
) -> None:
    for column in (c for c in kind.columns if c.references):
        target_name, _, target_column = column.references.partition(".")  # type: ignore[union-attr]
        target = RECORD_KINDS[target_name]
        known = {r.values.get(target_column or target.key.name) for r in targets.get(target_name, [])}
        dropped = rejected_keys.get(target_name, {}) if not target_column else {}
        kept: list[Record] = []
        for record in load.records:
            value = record.values[column.name]
            if value in known:
                kept.append(record)
                continue
            if value in dropped:
                reason = f"{column.label}“{value}”对应的{target.label}记录有误、未载入（{dropped[value]}）"
            elif target_column:
                reason = f"{column.label}“{value}”不在{target.label}名单的{target.by_name[target_column].label}中"
            else:
                reason = f"{column.label}“{value}”不在{target.label}名单中"
            problems.append(Problem(record.ref.file, record.ref.row, _label(headers, record, column), "unknown_reference", reason))
            load.rejected[record.ref.file].add(record.ref.row)
        load.records = kept


def _rejected_keys(kind: RecordKind, sources: Iterable[_Source], load: _KindLoad) -> dict[str, RowRef]:
    """Ids found on rejected rows, so that rows referencing them say why they fail too."""
    if not any(c.unique for c in kind.columns):
        return {}
    loaded = {r.values[kind.key.name] for r in load.records}
    keys: dict[str, RowRef] = {}
    for source in sources:
        mapped, _, _ = _map_headers(kind, source.table)
        index = next((i for i, c in mapped.items() if c.unique), None)
        if index is None:
            continue
        rejected = load.rejected.get(source.table.source, set())
        for number, cells in source.table.rows:
            if number in rejected and index < len(cells) and cells[index] is not None:
                key = values.normalize_text(cells[index])
                if key and key not in loaded:
                    keys.setdefault(key, RowRef(source.table.source, number))
    return keys


def load_dataset(folder: Path, config: AuditConfig, config_sha256: str = "") -> Dataset:
    """Load every record kind of an audit folder; problems are collected, never raised."""
    sources, problems, ignored = find_sources(folder)
    loads: dict[str, _KindLoad] = {}
    inputs: list[InputFile] = []
    headers_by_source: dict[str, dict[str, str]] = {}
    extras_by_source: dict[str, tuple[str, ...]] = {}
    for name, kind_sources in sources.items():
        if len(kind_sources) > 1:
            names = "、".join(s.table.source for s in kind_sources)
            for source in kind_sources:
                problems.append(
                    Problem(source.table.source, 1, "", "ambiguous_source", f"{RECORD_KINDS[name].label}数据出现在多处：{names}；请只保留一处")
                )
    order = sorted(sources, key=lambda n: (RECORD_KINDS[n].name != "schools", list(RECORD_KINDS).index(n)))
    targets: dict[str, list[Record]] = {}
    rejected_keys: dict[str, dict[str, RowRef]] = {}
    for name in order:
        kind = RECORD_KINDS[name]
        load = loads[name] = _KindLoad()
        for source in sources[name]:
            headers, extras = _load_table(source, problems, load)
            headers_by_source[source.table.source] = headers
            extras_by_source[source.table.source] = extras
        _check_unique(kind, load, headers_by_source, problems)
        _check_references(kind, load, targets, rejected_keys, headers_by_source, problems)
        targets[name] = load.records
        rejected_keys[name] = _rejected_keys(kind, sources[name], load)
        for source in sources[name]:
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
    missing = tuple(n for n in RECORD_KINDS if n not in sources)
    for name in missing:
        if RECORD_KINDS[name].required_file:
            problems.append(
                Problem(name, 0, "", "missing_file", f"缺少{RECORD_KINDS[name].label}数据：应有 {name}.csv、{name}.xlsx 或名为 {name} 的工作表")
            )
    return Dataset(
        folder=folder,
        config=config,
        records={n: loads[n].records if n in loads else [] for n in RECORD_KINDS},
        inputs=sorted(inputs, key=lambda i: (list(RECORD_KINDS).index(i.kind), i.source)),
        problems=sorted(problems),
        missing_kinds=missing,
        ignored_files=tuple(ignored),
        config_sha256=config_sha256,
        extra_columns={n: tuple(sorted({c for s in sources.get(n, []) for c in extras_by_source[s.table.source]})) for n in RECORD_KINDS},
    )
