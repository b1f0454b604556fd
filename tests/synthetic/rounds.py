"""Three rounds of inspection derived from `cases/liuzhou-2025`, so a re-inspection's result is
known by construction.

* `cases/liuzhou-2024` (as_of 2024-12-01): the year before. Every teacher was hired a year
  earlier (so the new-hire share reads the same people), and specific rows differ: some 2025
  violations did not exist yet, some 2024 violations are fixed by 2025, a school closed before
  2025, and 鹿寨县's new PE/art share was below 15 %.
* `cases/liuzhou-2025`: unchanged, plus `waivers.yaml` (one valid waiver, one expired, one
  matching no finding).
* `cases/liuzhou-2025-recheck` (as_of 2026-04-01): the 2025 case re-inspected some months
  later: some violations fixed, some new, one fixed in 2025 that comes back, the same waivers.

The 2024 round audits the core pack only (the other four packs were first run in 2025), from the
tables the core pack reads. The recheck re-runs all five packs, as the 2025 audit did: it carries the
2025 facilities and statistics too, the statistics relabelled a year on (the engine reads the audit
year's row and the year before; in April 2026 the latest figures are 2025's), so that the other packs'
2025 findings are all still there to be re-inspected (`persisting`, none resolved or unverified).

Tables are read from the source folder as written (xlsx or csv) and written as UTF-8 CSV with
the source's headers; each change is listed below (`ROUND_2024`, `RECHECK`), and `PLANTED`
says how the re-inspections must classify the findings the changes touch.

    PYTHONPATH=tests python -m synthetic.rounds [--source cases/liuzhou-2025] [--cases cases]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import yaml

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "cases" / "liuzhou-2025"
KINDS = ("schools", "classes", "teachers", "safety")
PACK_KINDS = ("facilities", "county_stats", "city_stats")
# the names a kind's file may have in the source folder (the synthetic case writes 区县统计.csv)
STEMS = {"county_stats": ("county_stats", "区县统计")}
ALL_PACKS = ["core", "plan", "quality-balance", "preschool", "safety"]
# canonical column → Chinese header (the source files use either)
HEADERS = {
    "school_id": "学校代码",
    "name": "学校名称",
    "county": "区县",
    "township": "乡镇",
    "type": "办学类型",
    "ownership": "办学性质",
    "license_no": "办园许可证号",
    "license_valid_until": "许可证有效期至",
    "class_id": "班级代码",
    "grade": "年级",
    "size": "班额",
    "teacher_id": "教师编号",
    "subject": "任教学科",
    "hire_year": "入职年份",
    "full_time": "是否专任教师",
    "closed_management": "封闭化管理",
    "full_time_guards": "专职保安人数",
    "one_key_alarm": "一键报警联网",
    "video_linked_police": "视频监控联网",
    "escort_post": "护学岗",
    "year": "年份",
}

Table = tuple[list[str], list[list[str]]]


@dataclass(frozen=True)
class SetCell:
    """Set `column` of the row whose key (first column) is `key`."""

    kind: str
    key: str
    column: str
    value: str


@dataclass(frozen=True)
class AddRow:
    """Add a row (by canonical column); missing columns are left empty."""

    kind: str
    values: dict[str, str]


@dataclass
class Round:
    folder: str
    audit: dict[str, object]
    changes: list[SetCell | AddRow]
    transform: Callable[[dict[str, Table]], None] | None = None
    readme: str = ""
    waivers: list[dict[str, object]] = field(default_factory=list)
    kinds: tuple[str, ...] = KINDS


# -- the waivers (cases/liuzhou-2025/waivers.yaml, copied into the recheck) -------------------------

WAIVERS: list[dict[str, object]] = [
    {
        "rule": "kindergarten.unlicensed",
        "entity": "4502060038",
        "reason": "新园舍已建成，办园许可证正在审批中，审批期间暂缓整改",
        "authority": "柳州市教育局",
        "document_no": "柳教督函〔2025〕18号",
        "expires": "2026-06-30",
    },
    {
        "rule": "class-size.large",
        "entity": "4502220001-050",
        "reason": "新校区建成前临时大班额",
        "authority": "柳城县教育局",
        "document_no": "柳城教发〔2025〕7号",
        "expires": "2025-09-30",
    },
    {
        "rule": "class-size.super-large",
        "entity": "4502040015-012",
        "reason": "教室改造期间临时合班",
        "authority": "柳南区教育局",
        "document_no": "柳南教发〔2025〕21号",
        "expires": "2026-12-31",
    },
]


def _shift_hire_years(tables: dict[str, Table]) -> None:
    """A year earlier, every teacher was hired a year earlier: the 2024 new hires are the same people."""
    header, rows = tables["teachers"]
    index = _column(header, "hire_year")
    for row in rows:
        if row[index].strip():
            row[index] = str(int(row[index]) - 1)


def _statistics_a_year_on(tables: dict[str, Table]) -> None:
    """The recheck reads the latest statistics (2025's) as its audit year's: every year one on."""
    for kind in ("county_stats", "city_stats"):
        header, rows = tables[kind]
        index = _column(header, "year")
        for row in rows:
            row[index] = str(int(row[index]) + 1)


ROUND_2024 = Round(
    folder="liuzhou-2024",
    audit={
        "name": "柳州市2024年教育督导检查（合成数据，案例规模）",
        "as_of": "2024-12-01",
        "region": "柳州市",
        "packs": ["core"],
    },
    transform=_shift_hire_years,
    changes=[
        # 2025 violations that did not exist yet (→ `new` in 2025)
        SetCell("classes", "4502030014-016", "size", "52"),  # class-size.super-large in 2025 (76)
        SetCell("safety", "4502030005", "full_time_guards", "1"),  # safety.guards in 2025 (0)
        # 2024 violations fixed by 2025 (→ `resolved` in 2025)
        SetCell("classes", "4502020004-013", "size", "58"),  # class-size.large
        SetCell("safety", "4502030026", "escort_post", "否"),  # safety.escort-post
        SetCell(
            "safety", "4502030039", "one_key_alarm", "否"
        ),  # safety.alarm-linked: fixed in 2025, back in the recheck
        SetCell("teachers", "T0005384", "subject", "语文"),  # 鹿寨县: 4 of 40 new teachers PE/art (10 %)
        SetCell("teachers", "T0005511", "subject", "语文"),
        # a school closed before 2025 (→ `unverified` in 2025: the entity is gone)
        AddRow(
            "schools",
            {
                "school_id": "4502230099",
                "name": "鹿寨县平山镇大村小学",
                "county": "鹿寨县",
                "township": "平山镇",
                "type": "小学",
                "ownership": "公办",
            },
        ),
        AddRow(
            "safety",
            {
                "school_id": "4502230099",
                "closed_management": "是",
                "full_time_guards": "1",
                "one_key_alarm": "是",
                "video_linked_police": "是",
                "escort_post": "否",
            },
        ),
    ],
    readme="""# liuzhou-2024: the year before `liuzhou-2025` (synthetic)

Derived from `cases/liuzhou-2025` by `PYTHONPATH=tests python -m synthetic.rounds` (do not edit by hand).
`as_of: 2024-12-01`. Every teacher's `hire_year` is one year earlier (the 2024 new hires are the
2025 file's), and these rows differ from 2025:

| row | 2024 | 2025 | so in 2025 |
|---|---|---|---|
| class 4502030014-016 | 52 | 76 | `class-size.super-large` is new |
| safety 4502030005 guards | 1 | 0 | `safety.guards` is new |
| licence of 4502020002, valid until 2025-11-30 | valid | expired | `kindergarten.license-expired` is new |
| class 4502020004-013 | 58 | 45 | `class-size.large` resolved |
| safety 4502030026 护学岗 | 否 | 是 | `safety.escort-post` resolved |
| safety 4502030039 一键报警 | 否 | 是 | `safety.alarm-linked` resolved (and back in the recheck) |
| 鹿寨县 new PE/art teachers | 4 of 40 (T0005384, T0005511 teach 语文) | 6 of 40 | `teachers.new-pe-art-share` resolved |
| school 4502230099 鹿寨县平山镇大村小学 | exists, no 护学岗 | closed | `safety.escort-post` unverified |

Every other 2025 finding already existed in 2024 (`persisting`).
""",
)

RECHECK = Round(
    folder="liuzhou-2025-recheck",
    audit={
        "name": "柳州市2025年教育督导复查（2026年4月，合成数据，案例规模）",
        "as_of": "2026-04-01",
        "region": "柳州市",
        "packs": ALL_PACKS,
        "params": {"demo_kg_min": 38, "professors_min": 50},
    },
    waivers=WAIVERS,
    kinds=KINDS + PACK_KINDS,
    transform=_statistics_a_year_on,
    changes=[
        # fixed since 2025 (→ `resolved`)
        SetCell("classes", "4502050038-003", "size", "51"),  # class-size.large (57): 6 pupils to -001
        SetCell("classes", "4502050038-001", "size", "45"),  # (39): the school keeps its pupils
        SetCell("safety", "4502060014", "video_linked_police", "是"),  # safety.video-linked
        SetCell("safety", "4502060005", "full_time_guards", "1"),  # safety.guards (0); 2 wanted by GB/T 29315
        SetCell("schools", "4502030012", "license_no", "柳鱼教幼证字（2026）第003号"),  # kindergarten.unlicensed
        SetCell("schools", "4502030012", "license_valid_until", "2029-03-31"),
        AddRow(
            "safety",
            {
                "school_id": "4502020010",
                "closed_management": "是",
                "full_time_guards": "2",
                "one_key_alarm": "是",
                "video_linked_police": "是",
                "escort_post": "是",
            },
        ),  # safety.record-missing
        # back again (→ `regressed`: fixed in 2025)
        SetCell("safety", "4502030039", "one_key_alarm", "否"),  # safety.alarm-linked
        # new since 2025 (→ `new`)
        SetCell("classes", "4502020001-005", "size", "66"),  # class-size.super-large
    ],
    readme="""# liuzhou-2025-recheck: a re-inspection (复查) of `liuzhou-2025` four months later (synthetic)

Derived from `cases/liuzhou-2025` by `PYTHONPATH=tests python -m synthetic.rounds` (do not edit by hand).
`as_of: 2026-04-01`; `waivers.yaml` is the 2025 one; all five packs. These rows differ from 2025:

| row | 2025 | recheck | so in the recheck |
|---|---|---|---|
| class 4502050038-003 | 57 | 51 (6 pupils to class -001, 39 → 45) | `class-size.large` resolved |
| safety 4502060014 视频监控联网 | 否 | 是 | `safety.video-linked` resolved |
| safety 4502060005 guards | 0 | 1 | `safety.guards` resolved (`safety.guards-by-enrolment` persists: 2 wanted) |
| school 4502030012 licence | none | 柳鱼教幼证字（2026）第003号, valid until 2029-03-31 | `kindergarten.unlicensed` resolved |
| safety row of 4502020010 | none | every item in place | `safety.record-missing` resolved |
| safety 4502030039 一键报警 | 是 | 否 | `safety.alarm-linked` regressed (fixed in 2025) |
| class 4502020001-005 | 43 | 66 | `class-size.super-large` is new |

Licences valid until a day from 2025-12-01 to 2026-03-31 have expired since (`new`). Nobody is
hired in 2026 by April, so no county is in the new-hire share's scope: 融安县's and 融水苗族自治县's
2025 findings are `unverified`, never resolved (as is the school closed before 2025). Every other
2025 finding persists.

The recheck runs all five packs, as the 2025 audit did, on the 2025 facilities and statistics;
`county_stats.csv` and `city_stats.csv` are 2025's with every year one on (the latest figures, read as
the audit year's). Class 4502050038-003 gave its pupils to another class of the school (its pupil
numbers, and so its 优质均衡 figures, stay). A year on, teachers hired in 2021 come into the
5-year training check and those hired in 2020 into the rotation check: new findings can appear there,
none of 2025's goes away.
""",
)

# How the re-inspections must classify the findings the changes touch: (rule, entity) per class.
PLANTED: dict[str, dict[str, list[tuple[str, str]]]] = {
    "liuzhou-2025": {
        "new": [
            ("class-size.super-large", "4502030014-016"),
            ("safety.guards", "4502030005"),
            ("kindergarten.license-expired", "4502020002"),
        ],
        "resolved": [
            ("class-size.large", "4502020004-013"),
            ("safety.escort-post", "4502030026"),
            ("safety.alarm-linked", "4502030039"),
            ("teachers.new-pe-art-share", "鹿寨县"),
        ],
        "unverified": [("safety.escort-post", "4502230099")],
        "persisting": [
            ("class-size.large", "4502040015-013"),
            ("kindergarten.unlicensed", "4502060038"),
            ("class-size.large", "4502220001-050"),
            ("teachers.new-pe-art-share", "融安县"),
        ],
        "waived": [("kindergarten.unlicensed", "4502060038")],
        "expired_waiver": [("class-size.large", "4502220001-050")],
    },
    "liuzhou-2025-recheck": {
        "new": [("class-size.super-large", "4502020001-005")],
        "resolved": [
            ("class-size.large", "4502050038-003"),
            ("safety.video-linked", "4502060014"),
            ("safety.guards", "4502060005"),
            ("kindergarten.unlicensed", "4502030012"),
            ("safety.record-missing", "4502020010"),
        ],
        "regressed": [("safety.alarm-linked", "4502030039")],
        "unverified": [
            ("teachers.new-pe-art-share", "融安县"),
            ("teachers.new-pe-art-share", "融水苗族自治县"),
            ("safety.escort-post", "4502230099"),
        ],
        "persisting": [("class-size.large", "4502040015-013"), ("class-size.super-large", "4502030014-016")],
        "waived": [("kindergarten.unlicensed", "4502060038")],
        "expired_waiver": [("class-size.large", "4502220001-050")],
    },
}


# -- reading and writing tables ------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_table(folder: Path, kind: str) -> Table:
    stem = next(
        (s for s in STEMS.get(kind, (kind,)) if (folder / f"{s}.csv").is_file() or (folder / f"{s}.xlsx").is_file()),
        kind,
    )
    csv_path, xlsx_path = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
    if csv_path.is_file():
        with csv_path.open(encoding="utf-8-sig", newline="") as handle:
            header, *rows = list(csv.reader(handle))
        return header, rows
    workbook = openpyxl.load_workbook(xlsx_path, read_only=True)
    try:
        values = [[_cell(v) for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    header, *rows = values
    return header, [row + [""] * (len(header) - len(row)) for row in rows]


def _column(header: Sequence[str], name: str) -> int:
    for candidate in (name, HEADERS.get(name, name)):
        if candidate in header:
            return header.index(candidate)
    raise KeyError(f"no column {name} in {header}")


def apply(tables: dict[str, Table], changes: Sequence[SetCell | AddRow]) -> None:
    for change in changes:
        header, rows = tables[change.kind]
        if isinstance(change, SetCell):
            matches = [row for row in rows if row[0] == change.key]
            if len(matches) != 1:
                raise KeyError(f"{change.kind}: {len(matches)} rows with key {change.key}")
            matches[0][_column(header, change.column)] = change.value
        else:
            row = [""] * len(header)
            for name, value in change.values.items():
                row[_column(header, name)] = value
            if any(r[0] == row[0] for r in rows):
                raise KeyError(f"{change.kind}: key {row[0]} exists")
            rows.append(row)


def csv_bytes(table: Table) -> bytes:
    header, rows = table
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def yaml_text(data: object) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200)


def waivers_yaml(waivers: Sequence[dict[str, object]]) -> str:
    header = "# 暂缓/豁免整改的批准清单（合成数据）：规则、对象、理由、批准机关、批准文号、有效期至。\n"
    return header + yaml_text({"waivers": list(waivers)})


def build(round_: Round, source: Path = SOURCE) -> dict[str, bytes]:
    """Every file of a derived round's folder, by name."""
    tables = {kind: read_table(source, kind) for kind in round_.kinds}
    if round_.transform is not None:
        round_.transform(tables)
    apply(tables, round_.changes)
    files = {f"{kind}.csv": csv_bytes(tables[kind]) for kind in round_.kinds}
    files["audit.yaml"] = yaml_text(round_.audit).encode("utf-8")
    files["README.md"] = round_.readme.encode("utf-8")
    if round_.waivers:
        files["waivers.yaml"] = waivers_yaml(round_.waivers).encode("utf-8")
    return files


def outputs(source: Path = SOURCE) -> dict[str, bytes]:
    """Every file the script writes, by path relative to the cases folder."""
    files = {f"{source.name}/waivers.yaml": waivers_yaml(WAIVERS).encode("utf-8")}
    for round_ in (ROUND_2024, RECHECK):
        files.update({f"{round_.folder}/{name}": data for name, data in build(round_, source).items()})
    return files


def write(cases: Path, source: Path = SOURCE) -> list[Path]:
    written = []
    for name, data in outputs(source).items():
        path = cases / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Derive cases/liuzhou-2024 and cases/liuzhou-2025-recheck from liuzhou-2025."
    )
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--cases", type=Path, default=ROOT / "cases")
    args = parser.parse_args(argv)
    for path in write(args.cases, args.source):
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
