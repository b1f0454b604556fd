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

import hashlib
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import UsageError
from ..records.config import Issuer
from ..records.regions import DivisionSpec
from ..validation_messages import message_for

FORMAT = "inspector.findings/2"
FORMATS = ("inspector.findings/1", FORMAT)
Level = Literal["school", "county", "city"]
Severity = Literal["critical", "major", "minor"]
Verdict = Literal["fail", "pass", "gap"]
LEVEL_OF_ENTITY: dict[str, Level] = {
    "class": "school", "teacher": "school", "school": "school", "school_stage": "school",
    "township": "county", "county": "county", "county_metric": "county", "city": "city",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    deadline: str


class WaiverEntry(_Model):
    rule: str
    entity: str
    reason: str
    authority: str
    document_no: str | None = None
    expires: str


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
    as_of: str
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
    expires: str
    line: int
    status: Literal["applied", "expired", "unused"]
    status_label: str
    finding_id: str | None = None


class WaiverSection(_Model):
    file: str
    sha256: str
    as_of: str
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


def parse_document(data: bytes, source: str) -> FindingsDocument:
    """A findings.json from its bytes; a `UsageError` naming the first problems otherwise."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{source} 不是有效的 findings.json（无法解析 JSON：{exc}）") from None
    if not isinstance(raw, dict):
        raise UsageError(f"{source} 不是 inspector 的 findings.json（应为一个 JSON 对象）")
    if raw.get("format") not in FORMATS:
        raise UsageError(f"{source} 不是 inspector 的 findings.json（格式“{raw.get('format')}”不受支持；支持 {'、'.join(FORMATS)}）")
    try:
        return FindingsDocument.model_validate(raw)
    except ValidationError as exc:
        details = []
        for error in exc.errors()[:10]:
            where = ".".join(str(part) for part in error["loc"])
            details.append(f"  {where}: {message_for(error)}")
        more = f"\n  …… 共 {exc.error_count()} 处" if exc.error_count() > 10 else ""
        raise UsageError(f"{source} 不是有效的 findings.json：\n" + "\n".join(details) + more) from None


def load_document(out_dir: Path) -> tuple[FindingsDocument, str]:
    """An audit's findings.json (from its output folder, or the file itself) and the sha256 of its bytes."""
    path = out_dir / "findings.json" if out_dir.is_dir() else out_dir
    if not path.is_file():
        raise UsageError(f"{out_dir} 中没有 findings.json：请先运行 inspector audit，并指向其输出文件夹")
    data = path.read_bytes()
    return parse_document(data, str(path)), hashlib.sha256(data).hexdigest()
