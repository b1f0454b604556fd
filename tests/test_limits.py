"""The limits: one module holds them, README shows them as they are, audit.yaml can only lower or
raise them within their hard maxima, and the readers apply the folder's values."""

from __future__ import annotations

import functools
import io
import math
import random
import re
import zipfile
from pathlib import Path

import pytest
from pydantic import ValidationError

from inspector.cli import main
from inspector.errors import DataError
from inspector.limits import DEFAULT_LIMITS, LIMITS, Limits, limits_table
from inspector.records.config import load_config
from inspector.records.loader import Dataset, load_dataset

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_shows_the_limits_table_of_the_code() -> None:
    """README's Limits section holds exactly the table generated from inspector/limits.py."""
    assert limits_table() in README.read_text(encoding="utf-8")


def test_every_default_lies_within_its_maximum() -> None:
    for name, spec in LIMITS.items():
        assert 1 <= spec.default <= spec.maximum, name
        assert getattr(DEFAULT_LIMITS, name) == spec.default


@pytest.mark.parametrize("name", list(LIMITS))
def test_no_limit_can_be_raised_past_its_maximum_or_below_one(name: str) -> None:
    assert getattr(Limits(**{name: LIMITS[name].maximum}), name) == LIMITS[name].maximum
    for bad in (LIMITS[name].maximum + 1, 0, -1):
        with pytest.raises(ValidationError):
            Limits(**{name: bad})


def test_readme_states_the_fixed_limits_of_the_rule_language() -> None:
    from inspector.limits import EXPRESSION_CHARS, EXPRESSION_DEPTH, TEMPLATE_OUTPUT_CHARS, TEMPLATE_SEQUENCE

    text = README.read_text(encoding="utf-8")
    for value in (EXPRESSION_CHARS, EXPRESSION_DEPTH, TEMPLATE_OUTPUT_CHARS, TEMPLATE_SEQUENCE):
        assert f"| {value:,} |" in text, value


# -- the data-table limits of audit.yaml, as the loader applies them ----------------------------

AUDIT_YAML = "name: 测试督导\nas_of: 2025-12-01\nregion: 柳州市\n"
SCHOOLS = "学校代码,学校名称,区县,乡镇,办学类型,办学性质\nS1,文惠小学,城中区,城中街道,小学,公办\n"
SCHOOL_ROWS = [line.split(",") for line in SCHOOLS.splitlines()]


def _load(folder: Path, limits: dict[str, int]) -> Dataset:
    """Load `folder` the way `inspector audit` does: audit.yaml (with `limits`) first, then the
    tables; the problem "no schools table" that follows a refused schools table is left out."""
    block = "".join(f"  {key}: {value}\n" for key, value in limits.items())
    (folder / "audit.yaml").write_text(AUDIT_YAML + ("limits:\n" + block if block else ""), encoding="utf-8")
    dataset = load_dataset(folder, load_config(folder))
    dataset.problems = [p for p in dataset.problems if p.code != "missing_file"]
    return dataset


def _csv_folder(tmp_path: Path, text: str = SCHOOLS) -> Path:
    folder = tmp_path / "audit"
    folder.mkdir()
    (folder / "schools.csv").write_text(text, encoding="utf-8")
    return folder


_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _xlsx_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "audit"
    folder.mkdir()
    (folder / "schools.xlsx").write_bytes(_schools_xlsx())
    return folder


@functools.cache
def _schools_xlsx() -> bytes:
    """schools.xlsx with one school, its text in a shared-string table as Excel writes it, and a
    part of 1.5 MiB that compresses about sixfold (only parts over 1 MiB are checked for their
    ratio): random 0s and 1s, one bit of each byte."""
    strings = sorted({cell for row in SCHOOL_ROWS for cell in row})
    cells = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{"ABCDEF"[c]}{r}" t="s"><v>{strings.index(v)}</v></c>' for c, v in enumerate(row))
        + "</row>"
        for r, row in enumerate(SCHOOL_ROWS, 1)
    )
    rng = random.Random(12)
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{_PACKAGE}"><Relationship Id="rId1" '
        f'Type="{_OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook {_NS} xmlns:r="{_OFFICE}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_PACKAGE}">'
        f'<Relationship Id="rId1" Type="{_OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_OFFICE}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/sharedStrings.xml": f"<sst {_NS}>" + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>",
        "xl/worksheets/sheet1.xml": f"<worksheet {_NS}><sheetData>{cells}</sheetData></worksheet>",
        "docProps/padding.bin": rng.randbytes(3 << 19).translate(bytes(b"01"[i & 1] for i in range(256))),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _needed(folder: Path, key: str) -> int:
    """The smallest value of limit `key` the folder's one table passes."""
    if key == "file_bytes":
        return max(p.stat().st_size for p in folder.iterdir() if p.name != "audit.yaml")
    if key in ("rows", "columns", "cell_chars"):
        rows = SCHOOL_ROWS
        return {"rows": len(rows), "columns": len(rows[0]), "cell_chars": max(len(c) for r in rows for c in r)}[key]
    with zipfile.ZipFile(folder / "schools.xlsx") as archive:
        infos = archive.infolist()
        return {
            "xlsx_parts": lambda: len(infos),
            "xlsx_unzipped_bytes": lambda: sum(i.file_size for i in infos),
            "xlsx_ratio": lambda: max(math.ceil(i.file_size / i.compress_size) for i in infos if i.file_size > 1 << 20),
            "xlsx_shared_strings": lambda: archive.read("xl/sharedStrings.xml").count(b"<si>"),
        }[key]()


DATA_KEYS = ["file_bytes", "rows", "columns", "cell_chars", "xlsx_parts", "xlsx_unzipped_bytes", "xlsx_ratio"]
DATA_KEYS += ["xlsx_shared_strings"]


@pytest.mark.parametrize(
    ("key", "fmt"),
    [(key, fmt) for key in DATA_KEYS for fmt in ("csv", "xlsx") if fmt == "xlsx" or not key.startswith("xlsx_")],
)
def test_a_table_at_its_limit_loads_and_one_over_is_refused_naming_the_key(tmp_path: Path, key: str, fmt: str) -> None:
    """Each data-table limit of audit.yaml reaches the readers (a workbook's own limits, workbooks
    only): a table that loads under the defaults and under a limit set to exactly what it needs is
    refused, located and in Chinese, with the limit one lower; the message says which key of
    audit.yaml raises it."""
    folder = _xlsx_folder(tmp_path) if fmt == "xlsx" else _csv_folder(tmp_path)
    needed = _needed(folder, key)
    assert 2 <= needed < getattr(DEFAULT_LIMITS, key), needed
    for limits in ({}, {key: needed}):
        dataset = _load(folder, limits)
        assert dataset.problems == [] and len(dataset.rows("schools")) == 1, (limits, dataset.problems)
    problems = _load(folder, {key: needed - 1}).problems
    assert len(problems) == 1 and problems[0].file.startswith(f"schools.{fmt}"), problems
    assert f"limits.{key}" in problems[0].message and re.search("[\u4e00-\u9fff]", problems[0].message)


def test_raised_limits_let_a_wider_table_with_longer_cells_in(tmp_path: Path) -> None:
    """Raising a limit in audit.yaml admits what the default refuses: 600 columns (default 500), a
    cell of 40,000 characters (default 32,767)."""
    extra = [f"备注{i}" for i in range(600 - len(SCHOOL_ROWS[0]))]
    header = ",".join(SCHOOL_ROWS[0] + extra)
    row = ",".join(SCHOOL_ROWS[1] + ["x" * 40_000] + [""] * (len(extra) - 1))
    folder = _csv_folder(tmp_path, f"{header}\n{row}\n")
    refused = _load(folder, {}).problems
    assert [p.code for p in refused] == ["too_many_columns"] and "上限 500" in refused[0].message
    refused = _load(folder, {"columns": 600}).problems
    assert [(p.code, p.line) for p in refused] == [("cell_too_long", 2)]
    dataset = _load(folder, {"columns": 600, "cell_chars": 40_000})
    assert dataset.problems == [] and len(dataset.rows("schools")) == 1
    assert len(dataset.extra_columns["schools"]) == len(extra)


@pytest.mark.parametrize("name", list(LIMITS))
def test_a_limit_above_its_hard_maximum_is_a_located_error_in_audit_yaml(tmp_path: Path, name: str) -> None:
    """audit.yaml cannot raise a limit past its hard maximum: the error names the key, the value
    and the maximum, at the key's line and column."""
    folder = _csv_folder(tmp_path)
    value = LIMITS[name].maximum + 1
    (folder / "audit.yaml").write_text(AUDIT_YAML + f"limits:\n  {name}: {value}\n", encoding="utf-8")
    with pytest.raises(DataError) as raised:
        load_config(folder)
    (problem,) = raised.value.problems
    assert str(problem).startswith(
        f"audit.yaml:5:3: limits.{name}: 取值 {value:,} 超过硬上限 {LIMITS[name].maximum:,}（"
    ), str(problem)


def test_the_cli_refuses_a_limit_above_its_maximum_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _csv_folder(tmp_path)
    (folder / "audit.yaml").write_text(AUDIT_YAML + "limits:\n  columns: 99999\n", encoding="utf-8")
    code = main(["audit", str(folder), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "audit.yaml:5:3: limits.columns: 取值 99,999 超过硬上限 16,384" in err, err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_the_readers_hold_no_limits_of_their_own() -> None:
    """Every data-table limit comes from the `Limits` passed in: no module constant to diverge."""
    from inspector.records import readers

    assert not [name for name in vars(readers) if name.startswith("MAX_")]
