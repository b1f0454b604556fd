"""Test helpers for rule authors: build a small audit folder in code, run it, read verdicts.

    builder = AuditBuilder(as_of=date(2025, 12, 1))
    school = builder.school(type="primary")
    cls = builder.klass(school, grade="3", size=56)
    result = builder.run(tmp_path)
    assert result.verdict("class-size.large", cls) == "fail"

Rows are written as CSV with Chinese headers, exactly as an inspector would hand them over,
so the whole pipeline (loader, compiler, indicators, engine) runs as in production.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from .audit import AuditResult, run_audit
from .records.schema import RECORD_KINDS

__all__ = ["COMPLIANT_SAFETY", "AuditBuilder", "AuditRun", "Verdict"]

Verdict = Literal["fail", "pass", "gap"]
COMPLIANT_SAFETY: Mapping[str, object] = {
    "closed_management": True,
    "full_time_guards": 2,
    "one_key_alarm": True,
    "video_linked_police": True,
    "escort_post": True,
}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass
class AuditRun:
    """An audit's result with convenient access to per-entity verdicts."""

    result: AuditResult

    def verdict(self, rule_id: str, entity_id: str) -> Verdict | None:
        """`fail`, `pass`, `gap` (not evaluated), or None when the rule does not apply."""
        return self.result.outcomes[rule_id].verdict_of(entity_id)  # type: ignore[return-value]

    def failing(self, rule_id: str) -> set[str]:
        return set(self.result.outcomes[rule_id].failed)

    def passing(self, rule_id: str) -> set[str]:
        return set(self.result.outcomes[rule_id].passed)

    def findings(self, rule_id: str | None = None) -> list[Any]:
        return [f for f in self.result.findings if rule_id is None or f.rule_id == rule_id]


@dataclass
class AuditBuilder:
    """Accumulates records of every kind and writes them as an audit folder."""

    as_of: dt.date = dt.date(2025, 12, 1)
    packs: Sequence[str] = ("core",)
    name: str = "测试督导"
    params: dict[str, object] = field(default_factory=dict)
    rows: dict[str, list[dict[str, object]]] = field(default_factory=lambda: {k: [] for k in RECORD_KINDS})
    omit: set[str] = field(default_factory=set)
    _ids: Iterable[int] = field(default_factory=lambda: itertools.count(1))

    def _next(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}"  # type: ignore[call-overload]

    def school(
        self,
        school_id: str | None = None,
        *,
        type: str = "primary",
        county: str = "城中区",
        township: str = "城中街道",
        name: str | None = None,
        ownership: str = "public",
        license_no: str | None = None,
        license_valid_until: dt.date | str | None = None,
        safety: Mapping[str, object] | None = COMPLIANT_SAFETY,
        enrolment: int | None = None,
    ) -> str:
        """Add a school (with a compliant safety row unless `safety=None`); returns its id."""
        school_id = school_id or self._next("S")
        self.rows["schools"].append(
            {
                "school_id": school_id,
                "name": name or f"测试学校{school_id}",
                "county": county,
                "township": township,
                "type": type,
                "ownership": ownership,
                "license_no": license_no,
                "license_valid_until": license_valid_until,
                "enrolment": enrolment,
            }
        )
        if safety is not None:
            self.rows["safety"].append({"school_id": school_id, **safety})
        return school_id

    def klass(self, school_id: str, grade: str | int, size: int, class_id: str | None = None) -> str:
        class_id = class_id or self._next("C")
        self.rows["classes"].append({"class_id": class_id, "school_id": school_id, "grade": grade, "size": size})
        return class_id

    def teacher(
        self,
        school_id: str,
        *,
        subject: str = "语文",
        hire_year: int = 2015,
        full_time: bool | None = True,
        has_certificate: bool | None = True,
        degree: str | None = "本科",
        teacher_id: str | None = None,
    ) -> str:
        teacher_id = teacher_id or self._next("T")
        self.rows["teachers"].append(
            {
                "teacher_id": teacher_id,
                "school_id": school_id,
                "subject": subject,
                "hire_year": hire_year,
                "full_time": full_time,
                "has_certificate": has_certificate,
                "degree": degree,
            }
        )
        return teacher_id

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        config: dict[str, object] = {
            "name": self.name,
            "as_of": self.as_of,
            "region": "柳州市",
            "packs": list(self.packs),
        }
        if self.params:
            config["params"] = self.params
        (folder / "audit.yaml").write_text(
            yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        for kind_name, kind in RECORD_KINDS.items():
            if kind_name in self.omit:
                continue
            with (folder / f"{kind_name}.csv").open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow([c.label for c in kind.columns])
                for row in self.rows[kind_name]:
                    writer.writerow([_cell(row.get(c.name)) for c in kind.columns])
        return folder

    def run(self, folder: Path, **options: Any) -> AuditRun:
        return AuditRun(run_audit(self.write(folder), **options))
