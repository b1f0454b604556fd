"""findings.json as a typed, versioned model: what the audit writes and every reader reads.

Format `inspector.findings/2` keeps every field of version 1 with its name and meaning
(`rule_id`, `entity_id`, `county`, `severity`, `indicators[].verdict`, `data_gaps`, …) and adds:
`level` on findings, indicator results and data gaps (`school`, `county` or `city`: the level
a rule's target applies to; a city-level finding's `county` is still the region, for scripts
that group by it), `exact` beside a number that is not a whole number (its exact value:
`4/27`, `1/2*sqrt(3/5)`), `evidence_count` where a finding's evidence was cut to its first rows
(the full list is in `evidence.csv`), `not_applicable` per rule, `reading` on a finding or an
indicator result whose target was read as progress between milestones, and `audit.warnings`.
Readers accept version 1 documents too (`level` is derived from `entity_type`).

Optional fields added within version 2 (absent in documents written before them; readers must do
without): `audit.issuer` (audit.yaml's issuer, when given), `audit.divisions` (the region's
divisions when audit.yaml declares them; a built-in region's are not repeated) and `counties`
(every county of the region and of the data, with how many loaded rows of each record kind are
its own: what a county without findings needs for its edition). A new optional field does not
change the format name; a field whose meaning changes, or a required one, would.

Models forbid unknown keys, so a misspelt or doctored field is a located error, not a value
read silently. Sections written by a re-inspection (`reinspection`, `resolved`, `unverified`,
`trends`) belong to `inspector.history` and are carried as plain data here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import UsageError
from ..records.issuer import Issuer
from ..records.regions import DivisionSpec
from ..rules.spec import LEVEL_OF_ENTITY, Level
from ..validation_messages import message_for

FORMAT = "inspector.findings/2"
FORMATS = ("inspector.findings/1", FORMAT)
Severity = Literal["critical", "major", "minor"]
Verdict = Literal["fail", "pass", "gap"]


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def is_iso_date(value: str) -> bool:
    """Whether `value` is a date as findings.json writes it, YYYY-MM-DD (`date.fromisoformat`
    alone also takes 20260630 and week dates)."""
    if not _ISO_DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _iso_date(value: str) -> str:
    if not is_iso_date(value):
        raise ValueError(f"应为 YYYY-MM-DD 格式的日期：“{value[:40]}”")
    return value


# a date as findings.json writes it (ISO text, kept as written): the reports read it as a date
IsoDate = Annotated[str, AfterValidator(_iso_date)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Observed(_Model):
    field: str
    label: str
    value: Any = None
    text: str
    exact: str | None = None


class Threshold(_Model):
    param: str
    label: str
    value: Any = None
    unit: str = ""
    exact: str | None = None


class Evidence(_Model):
    file: str
    row: int
    role: str
    values: dict[str, Any] | None = None


class Rectification(_Model):
    action: str
    responsible: str
    deadline: IsoDate


class WaiverEntry(_Model):
    rule: str
    entity: str
    reason: str
    authority: str
    document_no: str | None = None
    expires: IsoDate


class ProgressReading(_Model):
    """A target read as progress between milestones (see `inspector.rules.targets`): the value
    expected in `year` on the line from the baseline to the milestone's target, exact."""

    param: str
    year: int
    milestone: int
    baseline_year: int
    baseline: str
    target: str
    expected: str
    text: str


def _with_level(data: Any) -> Any:
    if isinstance(data, dict) and "level" not in data and data.get("entity_type") in LEVEL_OF_ENTITY:
        return {**data, "level": LEVEL_OF_ENTITY[data["entity_type"]]}
    return data


class Finding(_Model):
    id: str
    rule_id: str
    rule_version: int
    rule_title: str
    pack: str
    pack_version: str
    family: str
    severity: Severity
    binding: str | None = None
    level: Level
    entity_type: str
    entity_id: str
    school_id: str | None = None
    school_name: str | None = None
    county: str
    township: str | None = None
    message: str
    observed: list[Observed]
    threshold: list[Threshold]
    scope: str | None = None
    condition: str
    basis: dict[str, Any]
    evidence: list[Evidence]
    evidence_count: dict[str, int] | None = None
    rectification: Rectification
    reading: ProgressReading | None = None
    # added by waivers and re-inspection
    waived: bool | None = None
    waiver: WaiverEntry | None = None
    expired_waiver: WaiverEntry | None = None
    change: str | None = None
    change_label: str | None = None

    _level = model_validator(mode="before")(staticmethod(_with_level))


class IndicatorResult(_Model):
    rule_id: str
    rule_title: str
    severity: Severity
    binding: str | None = None
    level: Level
    entity_type: str
    entity_id: str
    county: str
    verdict: Verdict
    finding_id: str | None = None
    observed: list[Observed]
    threshold: list[Threshold]
    reading: ProgressReading | None = None

    _level = model_validator(mode="before")(staticmethod(_with_level))


class DataGap(_Model):
    rule_id: str
    level: Level
    entity_type: str
    entity_id: str
    school_id: str | None = None
    county: str
    missing: list[str]
    evidence: list[Evidence]

    _level = model_validator(mode="before")(staticmethod(_with_level))


class RuleParam(_Model):
    param: str
    label: str
    unit: str = ""
    value: Any = None


class CountyTally(_Model):
    checked: int
    passed: int
    failed: int
    not_evaluated: int


class RuleSummary(_Model):
    id: str
    version: int
    title: str
    pack: str
    family: str
    severity: Severity
    binding: str | None = None
    level: Level | None = None
    applies_to: str
    applies_to_label: str
    defined_at: str
    scope: str | None = None
    condition: str
    params: list[RuleParam]
    basis: dict[str, Any]
    status: Literal["evaluated", "not_evaluated"]
    reason: str | None = None
    checked: int
    passed: int
    failed: int
    not_evaluated: int
    not_applicable: int | None = None
    by_county: dict[str, CountyTally]


class Summary(_Model):
    total: int
    by_severity: dict[str, int]
    by_rule: dict[str, int]
    by_family: dict[str, int]
    by_county: dict[str, int]


class InputInfo(_Model):
    kind: str
    file: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    extra_columns: list[str] = Field(default_factory=list)


class PackRef(_Model):
    id: str
    version: str
    title: str
    sha256: str


class FileRef(_Model):
    file: str
    sha256: str


class RowCounts(_Model):
    read: int
    loaded: int
    rejected: int


class AuditInfo(_Model):
    name: str
    as_of: IsoDate
    region: str
    description: str | None = None
    config: FileRef
    packs: list[PackRef]
    params: dict[str, dict[str, Any]]
    target_year: int | None = None
    inputs: list[InputInfo]
    rows: RowCounts
    missing_kinds: list[str]
    ignored_files: list[str]
    keep_going: bool = False
    tool: dict[str, str]
    families: dict[str, str]
    issuer: Issuer | None = None  # audit.yaml's `issuer` (office, document_prefix, contact, address), when given
    divisions: list[DivisionSpec] | None = None  # audit.yaml's `divisions`, when declared
    warnings: list[str] = Field(default_factory=list)


class CountyData(_Model):
    """A county of the audit: a division of the region, or a name the data uses, and how many loaded
    rows of each county-level record kind are its own (0 for a division the data does not mention)."""

    name: str
    division: bool
    rows: dict[str, int]


class RejectedRow(_Model):
    file: str
    row: int
    column: str
    code: str
    message: str


class WaiverStatusEntry(_Model):
    rule: str
    entity: str
    reason: str
    authority: str
    document_no: str | None = None
    expires: IsoDate
    line: int
    status: Literal["applied", "expired", "unused"]
    status_label: str
    finding_id: str | None = None


class WaiverSection(_Model):
    file: str
    sha256: str
    as_of: IsoDate
    counts: dict[str, int]
    entries: list[WaiverStatusEntry]


class FindingsDocument(_Model):
    format: Literal["inspector.findings/1", "inspector.findings/2"]
    audit: AuditInfo
    rejected_rows: list[RejectedRow] = Field(default_factory=list)
    summary: Summary
    rules: list[RuleSummary]
    findings: list[Finding]
    indicators: list[IndicatorResult] = Field(default_factory=list)
    data_gaps: list[DataGap] = Field(default_factory=list)
    waivers: WaiverSection | None = None
    counties: list[CountyData] | None = None
    # written by `inspector reinspect` (inspector.history)
    reinspection: dict[str, Any] | None = None
    resolved: list[dict[str, Any]] | None = None
    unverified: list[dict[str, Any]] | None = None
    trends: list[dict[str, Any]] | None = None

    def data(self) -> dict[str, Any]:
        """The document as plain JSON data (for templates and code that reads dicts)."""
        return self.model_dump(mode="json", exclude_none=False)


class FindingsFileError(UsageError):
    """A findings.json that cannot be read as one: not UTF-8, not JSON, another program's, a newer
    format, or fields missing or of the wrong type. Every problem is located at its place in the
    document (`findings[3]（F-…）.severity`); exit 2 like every input the user can fix."""

    headline = "不是有效的 findings.json"

    def __init__(self, file: str, problems: Sequence[str]) -> None:
        self.file = file
        self.problems = tuple(problems)
        lines = [f"{file} {self.headline}（共 {len(self.problems)} 处问题）："]
        lines.extend(f"  {file}: {p}" for p in self.problems[:SHOWN])
        if len(self.problems) > SHOWN:
            lines.append(f"  …… 其余 {len(self.problems) - SHOWN} 处未列出")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.file, self.problems))


SHOWN = 30  # problems listed; the count says how many there are
_FORMAT = re.compile(r"inspector\.findings/(\d+)")


# orjson reads an integer past 64 bits as a float, silently another number: a document with a
# number of 19 digits or more is read by the standard parser, exactly. A number follows `:`, `[` or
# `,` (white space and a minus between): those map to ":", digits to "0", and a plain search in C,
# a 16 MiB chunk at a time, finds ":" and 19 "0"s (0.035 s on a province's 19 MB, where a regular
# expression took 0.25 s). Digits inside a text rarely follow such a character (the `exact` forms
# of quality-balance, `sqrt(25665…`, do not); where they do, the document is only read twice.
_NUMBER_START = b":[, \t\r\n-"
_MAPPED = bytes.maketrans(b"0123456789" + _NUMBER_START, b"0" * 10 + b":" * len(_NUMBER_START))
_LONG_NUMBER = b":" + b"0" * 19
_CHUNK = 16 << 20


def _has_long_number(data: bytes) -> bool:
    view = memoryview(data)
    for start in range(0, len(data), _CHUNK):
        # each chunk overlaps the next by the pattern's length less one, so no number is cut unseen
        if _LONG_NUMBER in bytes(view[start : start + _CHUNK + len(_LONG_NUMBER) - 1]).translate(_MAPPED):
            return True
    return False


class _TooDeep(ValueError):
    """Nested deeper than the standard parser goes (1,000 levels, orjson's 1,024)."""


def loads_exact(data: bytes | str) -> Any:
    """A JSON text's value, integers exact however long; ValueError when it is not JSON (orjson's
    JSONDecodeError, with its line and column) or nests too deep for an exact reading."""
    value = orjson.loads(data)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if not _has_long_number(raw):
        return value
    del value  # not both trees at once
    # the standard parser reads integers exactly (one past about 309 digits, which it would refuse,
    # orjson has refused above as infinite)
    try:
        return json.loads(raw)
    except RecursionError:
        raise _TooDeep("nested too deeply") from None


def decode_json(data: bytes, file: str) -> Any:
    """The JSON value in `data`; `FindingsFileError` located at the line and column otherwise.
    Integers are read exactly, however long (a hand-edited document may hold one past 64 bits)."""
    try:
        return loads_exact(data)
    except orjson.JSONDecodeError as exc:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise FindingsFileError(file, [f"不是 UTF-8 文本（第 {bad.start + 1} 个字节）"]) from None
        reason = exc.msg.split(":", 1)[0]
        raise FindingsFileError(file, [f"第 {exc.lineno} 行第 {exc.colno} 列：不是有效的 JSON（{reason}）"]) from None
    except _TooDeep:
        raise FindingsFileError(file, ["嵌套层数过多：不是 inspector 写出的 findings.json"]) from None


def _format_problem(raw: dict[str, Any]) -> str | None:
    """Why `raw` is not in a format this program reads (None when it is)."""
    stated = raw.get("format")
    if stated in FORMATS:
        return None
    match = _FORMAT.fullmatch(stated) if isinstance(stated, str) else None
    supported = "、".join(FORMATS)
    if match is not None and int(match.group(1)) > int(FORMAT.rsplit("/", 1)[1]):
        return (
            f"format: 格式“{stated}”由更新版本的 inspector 写出，本程序只能读取 {supported}：请升级 inspector 后再读取"
        )
    if "format" not in raw:
        return f"format: 缺少此项：不是 inspector 写出的 findings.json（应为 {supported} 之一）"
    return f"format: 格式“{stated}”不是 inspector 的 findings.json 格式（支持 {supported}）"


def _where(loc: Sequence[Any], raw: Any) -> str:
    """A pydantic error location as a path in the document, a finding's id beside its index."""
    text, node = "", raw
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str) and text.startswith("findings["):
                text += f"（{node['id']}）"
        else:
            text += f".{part}" if text else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return text


def validate_document(raw: Any, file: str) -> FindingsDocument:
    """`raw` (decoded JSON) as the typed document; `FindingsFileError` with every problem located."""
    if not isinstance(raw, dict):
        kind = "列表" if isinstance(raw, list) else "文字" if isinstance(raw, str) else type(raw).__name__
        raise FindingsFileError(file, [f"应为对象（{{…}}），实为{kind}：不是 inspector 的 findings.json"])
    wrong_format = _format_problem(raw)
    if wrong_format is not None:
        raise FindingsFileError(file, [wrong_format])
    try:
        return FindingsDocument.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_where(error['loc'], raw)}: {message_for(error)}" for error in exc.errors()]
        raise FindingsFileError(file, problems) from None


def parse_document(data: bytes, source: str) -> FindingsDocument:
    """A findings.json from its bytes; `FindingsFileError` naming every problem otherwise."""
    return validate_document(decode_json(data, source), source)


@dataclass(frozen=True)
class LoadedFindings:
    """A findings.json as read once by `load_findings`: the typed document, the same data as plain
    JSON exactly as written (for code that reads it as data: templates, the county cut), its bytes
    and their sha256 (quoted in every report)."""

    document: FindingsDocument
    data: dict[str, Any]
    source: bytes
    sha256: str
    path: Path


def findings_path(out_dir: Path) -> Path:
    """The findings.json of an output folder (or the file itself); `UsageError` when there is none."""
    path = out_dir / "findings.json" if out_dir.is_dir() else out_dir
    if not path.is_file():
        raise UsageError(f"{out_dir} 中没有 findings.json：请先运行 inspector audit，并指向其输出文件夹")
    return path


def read_findings(data: bytes, source: str, path: Path | None = None) -> LoadedFindings:
    """`data` parsed once: decoded, validated through the model, kept both typed and as data."""
    raw = decode_json(data, source)
    document = validate_document(raw, source)
    return LoadedFindings(document, raw, data, hashlib.sha256(data).hexdigest(), path or Path(source))


def load_findings(out_dir: Path) -> LoadedFindings:
    """The one loader of findings.json: every reader (explain, report, history, web) reads through it."""
    path = findings_path(out_dir)
    return read_findings(path.read_bytes(), str(path), path)


def load_document(out_dir: Path) -> tuple[FindingsDocument, str]:
    """An audit's findings.json (from its output folder, or the file itself) and the sha256 of its bytes."""
    loaded = load_findings(out_dir)
    return loaded.document, loaded.sha256
