"""`audit.yaml`: what is audited, as of when, against which rule packs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from ..errors import DataError, Problem
from ..limits import AS_OF_EARLIEST, AS_OF_LATEST, DATA_YAML_ALIASES, Limits
from ..text import no_control_characters
from ..validation_messages import message_for
from ..yamlsrc import YamlDoc, YamlSyntax, load_yaml
from .issuer import Issuer
from .params import ParamValue
from .regions import Divisions, DivisionSpec, region_divisions
from .values import date_field

AUDIT_FILE = "audit.yaml"


class AuditConfig(BaseModel):
    """The audit folder's `audit.yaml`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    as_of: Annotated[dt.date, BeforeValidator(date_field)]
    region: str = Field(min_length=1)
    packs: tuple[str, ...] = Field(default=("core",), min_length=1)
    params: dict[str, ParamValue] = Field(default_factory=dict)
    target_year: int | None = None
    description: str | None = None
    # size limits on the folder's files, within their hard maxima (inspector.limits)
    limits: Limits = Field(default_factory=Limits)
    # the region's divisions, when not built in (see inspector.records.regions)
    divisions: tuple[DivisionSpec, ...] = ()
    # who issues the notices and reports (default: {region}教育督导)
    issuer: Issuer | None = None

    @field_validator("name", "region", "description")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return no_control_characters(value)

    @field_validator("as_of")
    @classmethod
    def _plausible_date(cls, value: dt.date) -> dt.date:
        if not AS_OF_EARLIEST <= value <= AS_OF_LATEST:
            raise ValueError(f"督导基准日 {value} 不在允许范围内（{AS_OF_EARLIEST} 至 {AS_OF_LATEST}）")
        return value

    @field_validator("target_year")
    @classmethod
    def _plausible_year(cls, value: int | None) -> int | None:
        # the plan's targets are for 2022 and 2025; any other year in range is accepted, and the
        # rules whose targets it lacks are reported as not evaluated (规划未设定该年目标值)
        if value is not None and not AS_OF_EARLIEST.year <= value <= AS_OF_LATEST.year:
            raise ValueError(
                f"目标年份 {value} 不在允许范围内（{AS_OF_EARLIEST.year}–{AS_OF_LATEST.year}；规划的目标年份为 2022 和 2025）"
            )
        return value

    @property
    def region_divisions(self) -> Divisions | None:
        return region_divisions(self.region, self.divisions)


def load_config(folder: Path) -> AuditConfig:
    """Read and validate `audit.yaml`; every problem is reported at its line."""
    return load_config_doc(folder)[0]


def load_config_doc(folder: Path) -> tuple[AuditConfig, YamlDoc]:
    """The config and its document, so later checks (param overrides) can cite lines too."""
    path = folder / AUDIT_FILE
    if not folder.is_dir():
        raise DataError([Problem(str(folder), 0, "", "missing_folder", "审计文件夹不存在")])
    if not path.is_file():
        raise DataError([Problem(AUDIT_FILE, 0, "", "missing_file", f"审计文件夹 {folder} 中缺少 {AUDIT_FILE}")])
    try:
        # read under the default limits: its own `limits:` block governs the other files
        doc = load_yaml(path, AUDIT_FILE, aliases=DATA_YAML_ALIASES)
    except YamlSyntax as exc:
        raise DataError([exc.problem]) from None
    if not isinstance(doc.data, dict):
        raise DataError([doc.problem((), "type", "应为映射（name、as_of、region、packs …）", field="")])
    try:
        return AuditConfig.model_validate(doc.data), doc
    except ValidationError as exc:
        raise DataError(doc.problem(e["loc"], e["type"], message_for(e)) for e in exc.errors()) from None
