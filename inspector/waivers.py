"""Waivers (暂缓/豁免): approved exemptions of a finding, read from `waivers.yaml` in the audit folder.

    waivers:
      - rule: kindergarten.unlicensed
        entity: "4502060038"            # the entity id the rule fires on (class, school, county …)
        reason: 新园舍已建成，办园许可证正在审批中
        authority: 柳州市教育局
        document_no: 柳教督函〔2025〕18号
        expires: 2026-06-30

A waiver whose `expires` is on or after the audit's `as_of` waives its finding: the finding
stays in the output, marked as waived with its waiver. An expired waiver waives nothing and is
itself reported; a waiver matching no finding is reported as unused. A waiver without reason,
authority, document number or expiry, or naming a rule the audit does not run, is rejected with
a located error. waivers.yaml is read within the folder's limits (audit.yaml `limits:`) and may
not use YAML aliases.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from .errors import DataError, Problem
from .findings import Finding
from .limits import DATA_YAML_ALIASES, DEFAULT_LIMITS, Limits
from .records.readers import sha256_file
from .records.values import date_field, normalize_text
from .text import no_control_characters
from .validation_messages import message_for
from .yamlsrc import YamlDoc, YamlSyntax, load_yaml

WAIVERS_FILE = "waivers.yaml"
STATUS_LABELS = {"applied": "已豁免", "expired": "已过期", "unused": "未匹配问题"}


def _text(value: object) -> object:
    """Ids written unquoted in YAML (`entity: 4502060038`) are read as numbers: take them as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    BeforeValidator(_text),
    AfterValidator(no_control_characters),
]


class Waiver(BaseModel):
    """One approved waiver, as written in `waivers.yaml`."""

    # validate_default: a missing document_no is checked (and refused) like a written one
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    rule: Text
    entity: Text
    reason: Text
    authority: Text
    document_no: Annotated[str | None, BeforeValidator(_text)] = None
    expires: Annotated[dt.date, BeforeValidator(date_field)]

    @field_validator("document_no")
    @classmethod
    def _document_required(cls, value: str | None) -> str:
        # the approval's document number is what an inspector checks a waiver against
        if value is None or not value.strip():
            raise ValueError("缺少批准文号（document_no）：豁免须注明批准文件的文号")
        no_control_characters(value)
        return value.strip()

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "entity": self.entity,
            "reason": self.reason,
            "authority": self.authority,
            "document_no": self.document_no,
            "expires": self.expires.isoformat(),
        }


class WaiverFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    waivers: list[Waiver] = Field(default_factory=list)


@dataclass(frozen=True)
class WaiverEntry:
    """A waiver and where it was written (`waivers.yaml` line)."""

    waiver: Waiver
    line: int


@dataclass(frozen=True)
class Waivers:
    """The waivers of one audit folder, validated."""

    file: str
    sha256: str
    entries: tuple[WaiverEntry, ...]


@dataclass(frozen=True)
class WaiverStatus:
    entry: WaiverEntry
    status: str  # applied | expired | unused
    finding_id: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.entry.waiver.as_dict(),
            "line": self.entry.line,
            "status": self.status,
            "status_label": STATUS_LABELS[self.status],
            "finding_id": self.finding_id,
        }


@dataclass(frozen=True)
class WaiverReport:
    """How an audit's waivers applied: per finding id the waiver that waives it (or expired)."""

    file: str
    sha256: str
    as_of: dt.date
    statuses: tuple[WaiverStatus, ...]
    applied: dict[str, Waiver] = field(default_factory=dict)
    expired: dict[str, Waiver] = field(default_factory=dict)

    def finding_fields(self, finding_id: str) -> dict[str, Any]:
        """Keys added to a finding in findings.json: `waived`, `waiver` and/or `expired_waiver`."""
        fields: dict[str, Any] = {}
        if finding_id in self.applied:
            fields["waived"] = True
            fields["waiver"] = self.applied[finding_id].as_dict()
        elif finding_id in self.expired:
            fields["waived"] = False
            fields["expired_waiver"] = self.expired[finding_id].as_dict()
        return fields

    def as_dict(self) -> dict[str, Any]:
        counts = {status: 0 for status in STATUS_LABELS}
        for item in self.statuses:
            counts[item.status] += 1
        return {
            "file": self.file,
            "sha256": self.sha256,
            "as_of": self.as_of.isoformat(),
            "counts": counts,
            "entries": [item.as_dict() for item in self.statuses],
        }


def summary_lines(report: WaiverReport) -> list[str]:
    """What the command line prints: the counts, then each expired or unused waiver at its line."""
    counts = report.as_dict()["counts"]
    lines = [f"  豁免：已豁免 {counts['applied']} 项，已过期 {counts['expired']} 项，未匹配问题 {counts['unused']} 项"]
    for item in report.statuses:
        if item.status == "applied":
            continue
        waiver = item.entry.waiver
        what = "已过期，不予豁免" if item.status == "expired" else "未匹配任何问题"
        lines.append(
            f"    {report.file}:{item.entry.line}: {waiver.rule} {waiver.entity}：{what}（有效期至 {waiver.expires}）"
        )
    return lines


def load_waivers(folder: Path, rule_ids: Iterable[str], limits: Limits | None = None) -> Waivers | None:
    """Read and validate `waivers.yaml` (None when the folder has none); raises `DataError`
    listing every problem at its line. It is read within `limits` (by default those of the
    folder's audit.yaml) and may not use YAML aliases."""
    path = folder / WAIVERS_FILE
    if not path.is_file():
        return None
    if limits is None:
        limits = _folder_limits(folder)
    try:
        doc = load_yaml(path, WAIVERS_FILE, limits=limits, aliases=DATA_YAML_ALIASES, configurable=True)
    except YamlSyntax as exc:
        raise DataError([exc.problem]) from None
    return parse_waivers(doc, sha256_file(path), rule_ids)


def _folder_limits(folder: Path) -> Limits:
    """The `limits:` of the folder's audit.yaml (already validated by the time waivers are read)."""
    from .records.config import load_config

    try:
        return load_config(folder).limits
    except DataError:
        return DEFAULT_LIMITS


def parse_waivers(doc: YamlDoc, sha256: str, rule_ids: Iterable[str]) -> Waivers:
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        raise DataError(
            [
                doc.problem(
                    (),
                    "type",
                    "应为映射：waivers: [ {rule, entity, reason, authority, document_no, expires} … ]",
                    field="",
                )
            ]
        )
    try:
        parsed = WaiverFile.model_validate(doc.data)
    except ValidationError as exc:
        raise DataError(doc.problem(e["loc"], e["type"], message_for(e)) for e in exc.errors()) from None
    known = sorted(set(rule_ids))
    hints: dict[str, list[str]] = {}  # one suggestion per misspelt rule, however many waivers name it
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    entries: list[WaiverEntry] = []
    for index, waiver in enumerate(parsed.waivers):
        line, _ = doc.line_of(("waivers", index))
        if waiver.rule not in known:
            if waiver.rule not in hints:
                hints[waiver.rule] = difflib.get_close_matches(waiver.rule, known, n=1)
            hint = hints[waiver.rule]
            suggestion = f"，是否指“{hint[0]}”？" if hint else ""
            problems.append(
                doc.problem(
                    ("waivers", index, "rule"), "unknown_rule", f"本次审核的规则包中没有规则“{waiver.rule}”{suggestion}"
                )
            )
        key = (waiver.rule, waiver.entity)
        if key in seen:
            problems.append(
                doc.problem(
                    ("waivers", index, "entity"),
                    "duplicate_waiver",
                    f"规则 {waiver.rule} 对“{waiver.entity}”的豁免重复（首次见第 {seen[key]} 行）",
                )
            )
        seen.setdefault(key, line)
        entries.append(WaiverEntry(waiver, line))
    if problems:
        raise DataError(problems)
    return Waivers(doc.path, sha256, tuple(entries))


def apply_waivers(waivers: Waivers, findings: Sequence[Finding], as_of: dt.date) -> WaiverReport:
    """Match waivers to findings by (rule, entity): valid ones waive, expired ones are reported."""
    by_key = {(f.rule_id, f.entity_id): f.id for f in findings}
    statuses: list[WaiverStatus] = []
    applied: dict[str, Waiver] = {}
    expired: dict[str, Waiver] = {}
    for entry in waivers.entries:
        waiver = entry.waiver
        # as written (a county's name is text, kept as written), or as the data's ids are read (Ｃ１ is C1)
        finding_id = by_key.get((waiver.rule, waiver.entity)) or by_key.get(
            (waiver.rule, normalize_text(waiver.entity))
        )
        if waiver.expires < as_of:
            status = "expired"
            if finding_id is not None:
                expired[finding_id] = waiver
        elif finding_id is None:
            status = "unused"
        else:
            status = "applied"
            applied[finding_id] = waiver
        statuses.append(WaiverStatus(entry, status, finding_id))
    return WaiverReport(waivers.file, waivers.sha256, as_of, tuple(statuses), applied, expired)
