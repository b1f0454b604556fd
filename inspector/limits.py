"""Every size limit in one place: its default, and the hard maximum no `audit.yaml` can raise it past.

Inputs are refused, with a located error, as soon as they exceed a limit, so that no input can
make the tool run for minutes or exhaust memory before it says what is wrong. The audit folder's
`audit.yaml` may change the limits on the folder's own files in a `limits:` block (see `Limits`),
within `LIMITS[name].maximum`:

    limits:
      yaml_bytes: 4194304      # waivers.yaml up to 4 MiB
      rows: 3000000

`audit.yaml` itself, rule packs and `rules/lifecycle.yaml` are always read under the defaults
(the file that declares the limits cannot be bound by them; the shipped packs are far below).
The loader passes the folder's limits to the data-table readers (`file_bytes` … `cell_chars`);
a folder read without an audit.yaml (`inspector check` of a lone workbook) gets the defaults.

The limits on the rule language (expression length and nesting, template output) are constants:
they bound what a rule author can write, not what an audit folder holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

__all__ = [
    "AS_OF_EARLIEST",
    "AS_OF_LATEST",
    "DATA_YAML_ALIASES",
    "DEFAULT_LIMITS",
    "EXPRESSION_CHARS",
    "EXPRESSION_DEPTH",
    "LIMITS",
    "PURE_PYTHON_YAML_CAPS",
    "RULE_YAML_ALIASES",
    "TEMPLATE_OUTPUT_CHARS",
    "TEMPLATE_SEQUENCE",
    "LimitSpec",
    "Limits",
    "limits_table",
]

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


@dataclass(frozen=True)
class LimitSpec:
    """One configurable limit: its default, the hard maximum, and what it bounds (in Chinese)."""

    default: int
    maximum: int
    title: str
    unit: str


LIMITS: dict[str, LimitSpec] = {
    # YAML files of the audit folder (waivers.yaml); the same defaults bind every other YAML file
    "yaml_bytes": LimitSpec(2 * MIB, 8 * MIB, "YAML 文件大小", "字节"),
    "yaml_nodes": LimitSpec(100_000, 250_000, "YAML 文件中值的个数，别名按展开计", "个"),
    "yaml_depth": LimitSpec(32, 64, "YAML 嵌套层数", "层"),
    # data tables (CSV, XLSX), passed by the loader to every reader (inspector.records.readers);
    # the defaults are the values the readers enforced before they were configurable, so that no
    # table loaded then is refused now
    "file_bytes": LimitSpec(1 * GIB, 2 * GIB, "一个数据文件（CSV、XLSX）的大小", "字节"),
    "xlsx_unzipped_bytes": LimitSpec(2 * GIB, 4 * GIB, "XLSX 工作簿各部件解压后的总大小", "字节"),
    "xlsx_ratio": LimitSpec(200, 1_000, "XLSX 部件（大于 1 MiB 者）解压后与压缩后大小之比", "倍"),
    "xlsx_parts": LimitSpec(10_000, 65_535, "XLSX 工作簿的部件个数（工作表、样式等）", "个"),
    "xlsx_shared_strings": LimitSpec(10_000_000, 20_000_000, "XLSX 共享字符串个数", "个"),
    # a sheet is read whole, as rows × columns up to its farthest cell (about 130 bytes a cell held
    # in memory): a 3 MB workbook of 40 million short cells took 3.4 GB, and two cells at A1 and
    # XFD1048576 asked for 17 billion. Excel's own largest sheet is 1,048,576 × 16,384.
    "xlsx_cells": LimitSpec(5_000_000, 50_000_000, "XLSX 一个工作表的单元格数（行数 × 列数，算到最远的单元格）", "个"),
    "rows": LimitSpec(2_000_000, 20_000_000, "一个数据表的行数，CSV 含空行", "行"),
    "columns": LimitSpec(500, 16_384, "一个数据表的列数", "列"),
    "cell_chars": LimitSpec(32_767, 1_000_000, "一个单元格的字符数", "字符"),
}


def _within(name: str) -> Callable[[int], int]:
    spec = LIMITS[name]

    def check(value: int) -> int:
        if value < 1:
            raise ValueError(f"取值 {value:,} 过小：应至少为 1")
        if value > spec.maximum:
            raise ValueError(f"取值 {value:,} 超过硬上限 {spec.maximum:,}（{spec.title}，单位：{spec.unit}）")
        return value

    return check


def _limit(name: str) -> AfterValidator:
    return AfterValidator(_within(name))


class Limits(BaseModel):
    """The input limits of one audit: the `limits:` block of `audit.yaml`, every key optional and
    each within [1, its hard maximum]; `DEFAULT_LIMITS` where there is no audit.yaml (yet).

    Built once per audit folder (`AuditConfig.limits`) and passed to every reader: the YAML reader
    (`yaml_*`, waivers.yaml) and the data-table readers (`file_bytes` … `cell_chars`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    yaml_bytes: Annotated[int, _limit("yaml_bytes")] = LIMITS["yaml_bytes"].default
    yaml_nodes: Annotated[int, _limit("yaml_nodes")] = LIMITS["yaml_nodes"].default
    yaml_depth: Annotated[int, _limit("yaml_depth")] = LIMITS["yaml_depth"].default
    file_bytes: Annotated[int, _limit("file_bytes")] = LIMITS["file_bytes"].default
    xlsx_unzipped_bytes: Annotated[int, _limit("xlsx_unzipped_bytes")] = LIMITS["xlsx_unzipped_bytes"].default
    xlsx_ratio: Annotated[int, _limit("xlsx_ratio")] = LIMITS["xlsx_ratio"].default
    xlsx_parts: Annotated[int, _limit("xlsx_parts")] = LIMITS["xlsx_parts"].default
    xlsx_shared_strings: Annotated[int, _limit("xlsx_shared_strings")] = LIMITS["xlsx_shared_strings"].default
    xlsx_cells: Annotated[int, _limit("xlsx_cells")] = LIMITS["xlsx_cells"].default
    rows: Annotated[int, _limit("rows")] = LIMITS["rows"].default
    columns: Annotated[int, _limit("columns")] = LIMITS["columns"].default
    cell_chars: Annotated[int, _limit("cell_chars")] = LIMITS["cell_chars"].default


DEFAULT_LIMITS = Limits()

# Without libyaml PyYAML parses about six times slower: YAML limits are capped at these values
# then, whatever audit.yaml says, so that reading stays within seconds.
PURE_PYTHON_YAML_CAPS: dict[str, int] = {"yaml_bytes": 2 * MIB, "yaml_nodes": 100_000}

# YAML aliases (`*name`): refused in the audit folder's data files (audit.yaml, waivers.yaml),
# where nothing needs them and each could stand for a whole subtree; a few allowed in rule files
# (a case's expected.yaml shares one list among rules). Expanded, they count against yaml_nodes.
DATA_YAML_ALIASES = 0
RULE_YAML_ALIASES = 100

# the rule language: characters of one expression, and how deeply it may nest (parentheses,
# `not`, unary minus, and chains of operators, whose trees are as deep as the chain is long)
EXPRESSION_CHARS = 4_000
EXPRESSION_DEPTH = 40

# message and rectification templates: characters of one rendered text, and the length of any
# string or list a template builds by repetition (`'a' * n`) or `range(n)`
TEMPLATE_OUTPUT_CHARS = 20_000
TEMPLATE_SEQUENCE = 10_000

# the dates an audit may be taken at (`as_of`, `--today`) and the years it may be measured against
# (`target_year`): outside them a date is a typing slip, and deadlines computed from it would
# leave the calendar (9999-12-31 + 90 days) or the range spreadsheets and ZIP files can hold
AS_OF_EARLIEST = dt.date(1980, 1, 1)
AS_OF_LATEST = dt.date(2100, 12, 31)


def _amount(value: int, unit: str) -> str:
    if unit == "字节":
        for name, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
            if value >= size and value % size == 0:
                return f"{value:,} ({value // size} {name})"
    return f"{value:,}"


def limits_table() -> str:
    """The configurable limits as the Markdown table README.md shows (a test keeps them equal)."""
    rows = ["| key | bounds | default | hard maximum |", "|---|---|---:|---:|"]
    for name, spec in LIMITS.items():
        rows.append(
            f"| `{name}` | {spec.title}（{spec.unit}） | {_amount(spec.default, spec.unit)} | {_amount(spec.maximum, spec.unit)} |"
        )
    return "\n".join(rows)
