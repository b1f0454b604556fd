"""`inspector check`: a filled workbook or audit folder, validated by the audit's own loader.

Nothing is audited: the data is loaded exactly as `inspector audit` would load it (the same
readers with the same size limits, the same parsers and cross-row checks), and every problem is
reported at once as `file:row: column: reason`. A workbook can also be marked: a copy in which
every bad cell is filled red and carries a comment with the reason, behind a first sheet
(校验结果) listing every problem with a link to its cell. The input is only ever read.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError, Problem, RulePackError, UsageError
from ..records.config import AUDIT_FILE, AuditConfig, load_config_doc
from ..records.loader import InputFile, load_dataset
from ..rules.compiler import compile_rulebook, effective_params, params_at_fault
from ..rules.packs import DEFAULT_RULES_DIR, load_packs
from ..rules.targets import Reading
from ..yamlsrc import YamlDoc

__all__ = ["MAX_MARKED_BYTES", "RESULT_SHEET", "CheckReport", "check_path", "mark_workbook", "sheet_of"]

RESULT_SHEET = "校验结果"
# a marked copy is made with openpyxl, which holds the whole workbook in memory: beyond this many
# bytes of uncompressed workbook the errors are listed but no copy is made
MAX_MARKED_BYTES = 64 << 20
DATA_SUFFIXES = (".xlsx", ".csv")
_FILL = "FFC7CE"
_FONT = "9C0006"


@dataclass
class CheckReport:
    """What `check_path` found: every problem, the tables read, and files that hold no table."""

    target: Path
    problems: list[Problem]
    inputs: list[InputFile]
    ignored: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


@contextmanager
def _folder_of(path: Path) -> Iterator[Path]:
    """A folder holding only `path` under its own name (a link to it where the system allows)."""
    with tempfile.TemporaryDirectory(prefix="inspector-check-") as temp:
        link = Path(temp) / path.name
        try:
            os.symlink(path.resolve(), link)
        except OSError:
            shutil.copyfile(path, link)
        yield Path(temp)


def _against_packs(config: AuditConfig, doc: YamlDoc, rules_dir: Path) -> list[Problem]:
    """What `run_audit` would refuse in audit.yaml once its packs are read (located in audit.yaml)."""
    try:
        loaded = load_packs(config.packs, rules_dir)
    except (RulePackError, DataError) as exc:
        return list(exc.problems)
    reading = Reading.of(config.as_of, config.target_year)
    params, bad = effective_params(loaded, config.params, reading)
    if config.params and not bad:  # without overrides the packs' own values are the audit's to judge
        try:
            compile_rulebook(loaded, as_of=config.as_of, params=params, reading=reading)
        except RulePackError:
            # audit.yaml's values only: a pack that fails on its own values (or only without the
            # data's extra columns, which a check does not read against the rules) is the audit's to report
            bad = params_at_fault(loaded, config.params, reading, as_of=config.as_of)
    return [doc.problem(("params", name), "param", reason) for name, reason in bad]


def _placeholder_config() -> AuditConfig:
    return AuditConfig(name="数据校验", as_of=dt.date.today(), region="（未指定）")


def check_path(path: Path, rules_dir: Path = DEFAULT_RULES_DIR) -> CheckReport:
    """Load a folder (with its audit.yaml, if it has one) or one workbook or CSV file, and collect
    every problem; `UsageError` if the path is neither. A folder's audit.yaml is also read against
    its packs (in `rules_dir`), as an audit reads it: unknown packs, params it cannot take."""
    if path.is_dir():
        notes: list[str] = []
        problems: list[Problem] = []
        if (path / AUDIT_FILE).is_file():
            try:
                config, doc = load_config_doc(path)
            except DataError as exc:
                problems.extend(exc.problems)
                config = _placeholder_config()
            else:
                problems.extend(_against_packs(config, doc, rules_dir))
        else:
            notes.append(f"文件夹中没有 {AUDIT_FILE}：只校验数据表（审核前需补上 {AUDIT_FILE}）。")
            config = _placeholder_config()
        dataset = load_dataset(path, config)
        return CheckReport(path, sorted(problems + dataset.problems), dataset.inputs, dataset.ignored_files, notes)
    if not path.exists():
        raise UsageError(f"{path} 不存在：应为督导数据文件夹，或一个 .xlsx / .csv 数据文件")
    if path.suffix.lower() not in DATA_SUFFIXES:
        raise UsageError(f"{path} 不是 .xlsx 或 .csv 文件，也不是文件夹：无法校验")
    with _folder_of(path) as folder:
        dataset = load_dataset(folder, _placeholder_config())
    report = CheckReport(path, list(dataset.problems), dataset.inputs, dataset.ignored_files)
    if dataset.ignored_files:
        named = "工作表" if path.suffix.lower() == ".xlsx" else "文件"
        report.notes.append(
            f"{path.name} 中没有可识别的数据表：{named}应以数据类别命名（学校、班级、教师、安全、办学条件、区县统计、全市统计，"
            "或 schools、classes 等）。"
        )
    return report


def sheet_of(problem: Problem, workbook: str) -> str | None:
    """The sheet of `workbook` a problem is in (`book.xlsx[班级]` → 班级), or None."""
    prefix = f"{workbook}["
    if problem.file.startswith(prefix) and problem.file.endswith("]"):
        return problem.file[len(prefix) : -1]
    return None


def _unzipped_size(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def markable(path: Path, problems: Sequence[Problem]) -> str | None:
    """Why no marked copy of the workbook can be made (it could not be read, or is too large), or None."""
    if any(p.file == path.name for p in problems):
        return "工作簿本身无法读取"
    try:
        size = _unzipped_size(path)
    except (OSError, zipfile.BadZipFile):
        return "工作簿本身无法读取"
    if size > MAX_MARKED_BYTES:
        return f"工作簿解压后 {size} 字节，超过标注副本的上限 {MAX_MARKED_BYTES} 字节"
    return None


def mark_workbook(path: Path, problems: Sequence[Problem]) -> bytes:
    """A copy of the workbook at `path` with every problem's cell filled red and commented, and a
    first sheet listing every problem; the file at `path` is only read."""
    import openpyxl  # deferred: only `inspector check` needs it
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname

    book = openpyxl.load_workbook(path, rich_text=False)
    fill = PatternFill(fill_type="solid", fgColor=_FILL)
    reasons: dict[tuple[str, int, int], list[str]] = {}
    listed: list[tuple[Problem, str | None, str | None]] = []
    headers: dict[str, dict[str, int]] = {}
    for problem in problems:
        title = sheet_of(problem, path.name)
        if title is None or title not in book.sheetnames:
            listed.append((problem, None, None))
            continue
        sheet = book[title]
        if title not in headers:
            headers[title] = {str(c.value).strip(): c.column for c in sheet[1] if c.value is not None}
        column = _column(problem.field, headers[title])
        row = max(problem.line, 1)
        text = problem.message if column is not None or not problem.field else f"{problem.field}：{problem.message}"
        reasons.setdefault((title, row, column or 1), []).append(text)
        listed.append((problem, title, f"{get_column_letter(column or 1)}{row}"))
    for (title, row, column), texts in reasons.items():
        cell = book[title].cell(row=row, column=column)
        cell.fill = fill
        previous = cell.comment.text if cell.comment is not None else ""
        body = "\n".join(f"✗ {t}" for t in texts) + (f"\n————\n{previous}" if previous else "")
        comment = Comment(body, "inspector check")
        comment.width, comment.height = 320, min(60 + 18 * body.count("\n"), 400)
        cell.comment = comment
    results = book.create_sheet(RESULT_SHEET, 0)
    results.append(["文件/工作表", "行", "列", "原因", "单元格"])
    for cell in results[1]:
        cell.font = Font(bold=True)
    for problem, title, ref in listed:
        results.append([problem.file, problem.line or None, problem.field, problem.message, ref])
        if title is not None and ref is not None:
            link = results.cell(row=results.max_row, column=5)
            link.hyperlink = f"#{quote_sheetname(title)}!{ref}"
            link.font = Font(color="0563C1", underline="single")
        else:
            results.cell(row=results.max_row, column=4).font = Font(color=_FONT)
    for letter, width in zip("ABCDE", (26, 6, 16, 80, 9)):
        results.column_dimensions[letter].width = width
    for row in results.iter_rows(min_row=2, min_col=4, max_col=4):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    results.freeze_panes = "A2"
    results.page_setup.orientation = "landscape"
    results.page_setup.fitToWidth, results.page_setup.fitToHeight = 1, 0
    results.sheet_properties.pageSetUpPr.fitToPage = True
    book.active = 0
    book.properties.lastModifiedBy = "inspector check"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _column(field: str, headers: dict[str, int]) -> int | None:
    """The column a problem's field names: its header as written, or `第 N 列`."""
    if field in headers:
        return headers[field]
    if field.startswith("第 ") and field.endswith(" 列") and field[2:-2].strip().isdigit():
        return int(field[2:-2])
    return None
