"""findings.json as the history store takes it in: checked before it is accepted, and the rows it
stands for.

`parse_document` refuses a document the store could not use or that was doctored: not JSON, not an
object, fields missing or of the wrong type, an unknown severity, a date that is no date, a
finding whose id is not the stable id of its rule and entity, ids given twice. Every problem is
collected and reported at its place in the document (`findings[3]（F-…）.severity`), exit 2.

`derived_rows` is the one definition of what an audit's rows in `findings`, `resolutions`,
`indicator_values` and `audit_files` hold: an import inserts them and `inspector verify`
recomputes them from the stored document, column by column.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..findings.build import finding_id
from ..findings.model import FindingsFileError, decode_json, is_iso_date, validate_document
from ..rules.spec import SEVERITY_LABELS, SEVERITY_ORDER
from .integrity import FileHash, audit_id_of, canonical, document_files

CHANGES = ("new", "persisting", "regressed")
VERDICTS = ("pass", "fail", "gap")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class DocumentError(FindingsFileError):
    """A findings.json the store will not accept; every problem located (exit 2)."""

    headline = "不是可导入的 findings.json"


@dataclass
class _Checker:
    problems: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def mapping(self, value: Any, where: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.add(where, f"应为对象（{{…}}），实为{_kind(value)}")
        return None

    def items(self, parent: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> list[Any]:
        value = parent.get(key)
        if value is None and not required and key not in parent:
            return []
        if isinstance(value, list):
            return value
        self.add(_join(where, key), f"应为列表（[…]），实为{_kind(value)}" if key in parent else "缺少此项")
        return []

    def text(self, parent: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str | None:
        value = parent.get(key)
        if isinstance(value, str) and (value or optional):
            return value
        if value is None and optional:
            return None
        if key not in parent:
            self.add(_join(where, key), "缺少此项")
        else:
            self.add(_join(where, key), f"应为{'文字' if optional else '非空文字'}，实为{_kind(value)}")
        return None

    def day(self, parent: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> None:
        value = self.text(parent, key, where, optional=optional)
        if value is not None and not is_iso_date(value):  # as the findings.json model reads it
            self.add(_join(where, key), f"“{value}”不是日期（应写作 YYYY-MM-DD）")

    def digest(self, parent: Mapping[str, Any], key: str, where: str) -> None:
        value = self.text(parent, key, where)
        if value is not None and not HEX64.match(value):
            self.add(_join(where, key), f"“{value[:20]}”不是 sha256（64 位十六进制数）")

    def choice(
        self,
        parent: Mapping[str, Any],
        key: str,
        where: str,
        allowed: Mapping[str, str] | Iterable[str],
        *,
        optional: bool = False,
    ) -> None:
        value = parent.get(key)
        if value is None and optional:
            return
        names = dict(allowed) if isinstance(allowed, Mapping) else {a: "" for a in allowed}
        if not isinstance(value, str) or value not in names:
            shown = "、".join(f"{k}（{v}）" if v else k for k, v in names.items())
            what = (
                "缺少此项"
                if key not in parent
                else f"未知的值“{value}”"
                if isinstance(value, str)
                else f"应为文字，实为{_kind(value)}"
            )
            self.add(_join(where, key), f"{what}；可用：{shown}")


def parse_document(data: bytes, file: str = "findings.json") -> dict[str, Any]:
    """The document in `data`, refused with `DocumentError` unless the store can take it as is: read
    through the findings.json model (`findings.model`, the one every reader shares), after the
    store's own checks of identity and integrity (stable ids, no duplicates, digests, dates)."""
    try:
        document: dict[str, Any] = decode_json(data, file)
    except FindingsFileError as exc:
        raise DocumentError(file, list(exc.problems)) from None
    problems = document_problems(document)
    if problems:
        raise DocumentError(file, problems)
    try:
        validate_document(document, file)
    except FindingsFileError as exc:
        raise DocumentError(file, list(exc.problems)) from None
    return document


def document_problems(document: Any) -> list[str]:
    """Every reason the store would refuse `document` (empty when it takes it)."""
    check = _Checker()
    if check.mapping(document, "") is None:
        return check.problems
    audit = check.mapping(document.get("audit"), "audit") if "audit" in document else None
    if "audit" not in document:
        check.add("audit", "缺少此项")
    if audit is not None:
        _audit(check, audit)
    waivers = document.get("waivers")
    if waivers and check.mapping(waivers, "waivers") is not None:
        check.text(waivers, "file", "waivers")
        check.digest(waivers, "sha256", "waivers")
    reinspection = document.get("reinspection")
    if reinspection is not None:
        check.mapping(reinspection, "reinspection")
    _findings(check, document)
    _resolutions(check, document)
    _indicators(check, document)
    if not check.problems:
        stated = (
            (document.get("reinspection") or {}).get("audit_id")
            if isinstance(document.get("reinspection"), dict)
            else None
        )
        computed = audit_id_of(document)
        if stated is not None and stated != computed:
            check.add(
                "reinspection.audit_id", f"记录的审核编号 {stated} 与其内容推算的 {computed} 不符：文件可能被修改"
            )
    return check.problems


def _audit(check: _Checker, audit: dict[str, Any]) -> None:
    check.text(audit, "name", "audit")
    check.day(audit, "as_of", "audit")
    check.text(audit, "region", "audit", optional=True)
    year = audit.get("target_year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        check.add("audit.target_year", f"应为整数，实为{_kind(year)}")
    config = audit.get("config")
    if config is not None and check.mapping(config, "audit.config") is not None:
        check.text(config, "file", "audit.config")
        check.digest(config, "sha256", "audit.config")
    for index, item in enumerate(check.items(audit, "inputs", "audit")):
        where = f"audit.inputs[{index}]"
        if check.mapping(item, where) is not None:
            check.text(item, "file", where)
            check.digest(item, "sha256", where)
            rows = item.get("rows_loaded")
            if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool)):
                check.add(f"{where}.rows_loaded", f"应为整数，实为{_kind(rows)}")
    for index, pack in enumerate(check.items(audit, "packs", "audit")):
        where = f"audit.packs[{index}]"
        if check.mapping(pack, where) is not None:
            check.text(pack, "id", where)
            check.digest(pack, "sha256", where)
            version = pack.get("version")
            if version is not None and not isinstance(version, (int, str)):
                check.add(f"{where}.version", f"应为整数或文字，实为{_kind(version)}")
    if len({str(p.get("id")) for p in audit.get("packs") or [] if isinstance(p, dict)}) != len(
        audit.get("packs") or []
    ):
        check.add("audit.packs", "规则包重复")


def _identity(check: _Checker, entry: dict[str, Any], where: str, seen: set[str]) -> str | None:
    """The entry's id, checked against the stable id of its rule and entity."""
    stated = check.text(entry, "id", where)
    rule_id = check.text(entry, "rule_id", where)
    entity_type = check.text(entry, "entity_type", where)
    entity_id = check.text(entry, "entity_id", where)
    check.text(entry, "county", where)
    if stated is None or rule_id is None or entity_type is None or entity_id is None:
        return stated
    expected = finding_id(rule_id, entity_type, entity_id)
    if stated != expected:
        check.add(
            f"{where}.id",
            f"{stated} 不是规则 {rule_id} 对 {entity_type} {entity_id} 的问题编号（应为 {expected}）：文件可能被修改",
        )
    if stated in seen:
        check.add(f"{where}.id", f"问题编号 {stated} 重复")
    seen.add(stated)
    return stated


def _findings(check: _Checker, document: dict[str, Any]) -> None:
    seen: set[str] = set()
    for index, finding in enumerate(check.items(document, "findings", "", required=True)):
        where = f"findings[{index}]"
        if check.mapping(finding, where) is None:
            continue
        stated = _identity(check, finding, where, seen)
        where = f"findings[{index}]（{stated}）" if stated else where
        check.text(finding, "rule_title", where)
        check.text(finding, "message", where)
        check.choice(finding, "severity", where, {k: SEVERITY_LABELS[k] for k in SEVERITY_ORDER})
        check.text(finding, "school_id", where, optional=True)
        check.text(finding, "school_name", where, optional=True)
        check.choice(finding, "change", where, CHANGES, optional=True)
        rectification = check.mapping(finding.get("rectification"), f"{where}.rectification")
        if rectification is not None:
            check.text(rectification, "responsible", f"{where}.rectification")
            check.day(rectification, "deadline", f"{where}.rectification")
        waived = finding.get("waived")
        if waived is not None and not isinstance(waived, bool):
            check.add(f"{where}.waived", f"应为 true 或 false，实为{_kind(waived)}")
        if waived:
            waiver = check.mapping(finding.get("waiver"), f"{where}.waiver")
            if waiver is not None:
                check.day(waiver, "expires", f"{where}.waiver", optional=True)


def _resolutions(check: _Checker, document: dict[str, Any]) -> None:
    seen: set[str] = set()
    for key in ("resolved", "unverified"):
        for index, entry in enumerate(check.items(document, key, "")):
            where = f"{key}[{index}]"
            if check.mapping(entry, where) is not None:
                _identity(check, entry, where, seen)


def _indicators(check: _Checker, document: dict[str, Any]) -> None:
    seen: set[tuple[str, ...]] = set()
    for index, row in enumerate(check.items(document, "indicators", "")):
        where = f"indicators[{index}]"
        if check.mapping(row, where) is None:
            continue
        key = tuple(str(check.text(row, name, where)) for name in ("rule_id", "entity_type", "entity_id"))
        check.text(row, "county", where)
        check.choice(row, "verdict", where, VERDICTS)
        observed = row.get("observed")
        if observed is not None and not (isinstance(observed, list) and all(isinstance(o, dict) for o in observed)):
            check.add(f"{where}.observed", "应为对象的列表")
        if key in seen:
            check.add(where, f"指标 {'/'.join(key)} 重复")
        seen.add(key)


# -- what the reports beside it say about it ---------------------------------------------------

# Every report quotes the sha256 of the findings.json it was made from (report/html.py, excel.py,
# notices.py); a county edition quotes the city's.
_CLAIMS = (
    ("report.html", re.compile(r"findings\.json（格式[^）]*?sha256 <code>([0-9a-f]{64})</code>"), 64),
    # notices/<county>.html, and notices/<county>/<school>.html of the versions before
    ("notices/**/*.html", re.compile(r"依据 findings\.json（sha256 ([0-9a-f]{16})…）"), 16),
)
_XLSX_CLAIM = re.compile(r"findings\.json sha256 ([0-9a-f]{64})")


def report_claims(folder: Path, digest: str) -> list[str]:
    """The reports in an output folder (and its county editions) that quote another findings.json."""
    problems: list[str] = []
    for base in [folder, *sorted(p for p in (folder / "counties").glob("*") if p.is_dir())]:
        for pattern, claim, length in _CLAIMS:
            for path in sorted(base.glob(pattern)):
                # every quote: a county's notices file quotes it once per school
                text = path.read_text(encoding="utf-8", errors="replace")
                other = next((q for q in claim.findall(text) if q != digest[:length]), None)
                if other is not None:
                    problems.append(_claim(folder, path, other, digest))
        workbook = base / "rectification.xlsx"
        if workbook.is_file():
            quoted = _xlsx_claim(workbook)
            if quoted is not None and quoted != digest:
                problems.append(_claim(folder, workbook, quoted, digest))
    return problems


def _claim(folder: Path, path: Path, quoted: str, digest: str) -> str:
    return (
        f"{path.relative_to(folder).as_posix()}: 该报告依据的 findings.json 为 sha256 {quoted[:16]}…，"
        f"而此处的 findings.json 为 {digest[:16]}…：两者不是同一次审核的输出，或其一被修改"
    )


def _xlsx_claim(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as book:
            for name in reversed(book.namelist()):  # the notes sheet is the last
                if name.startswith("xl/") and name.endswith(".xml"):
                    found = _XLSX_CLAIM.search(book.read(name).decode("utf-8", errors="replace"))
                    if found:
                        return found.group(1)
    except (zipfile.BadZipFile, OSError):
        return "0" * 64  # not a workbook any more: it cannot be the one written with this findings.json
    return None


# -- the rows a document stands for ------------------------------------------------------------


@dataclass(frozen=True)
class DerivedRows:
    """An audit's rows as its findings.json determines them (import metadata aside)."""

    audit: dict[str, Any]
    files: list[FileHash]
    findings: list[dict[str, Any]]
    resolutions: list[dict[str, Any]]
    indicators: list[dict[str, Any]]


def derived_rows(document: Mapping[str, Any], audit_id: str) -> DerivedRows:
    audit = document["audit"]
    return DerivedRows(
        audit={
            "id": audit_id,
            "name": audit["name"],
            "region": audit.get("region"),
            "as_of": audit["as_of"],
            "target_year": audit.get("target_year"),
        },
        files=document_files(document),
        findings=[
            {
                "audit_id": audit_id,
                "finding_id": f["id"],
                "rule_id": f["rule_id"],
                "entity_type": f["entity_type"],
                "entity_id": f["entity_id"],
                "school_id": f.get("school_id"),
                "county": f["county"],
                "severity": f["severity"],
                "deadline": f["rectification"]["deadline"],
                "change": f.get("change"),
                "waiver_expires": (f.get("waiver") or {}).get("expires") if f.get("waived") else None,
                "data": canonical(f),
            }
            for f in document.get("findings", [])
        ],
        resolutions=[
            {
                "audit_id": audit_id,
                "finding_id": r["id"],
                "status": status,
                "rule_id": r["rule_id"],
                "entity_type": r["entity_type"],
                "entity_id": r["entity_id"],
                "county": r["county"],
                "data": canonical(r),
            }
            for status in ("resolved", "unverified")
            for r in document.get(status) or []
        ],
        indicators=[
            {
                "audit_id": audit_id,
                "rule_id": i["rule_id"],
                "entity_type": i["entity_type"],
                "entity_id": i["entity_id"],
                "county": i["county"],
                "verdict": i["verdict"],
                **dict(zip(("field", "value"), main_value(i))),
                "data": canonical(i),
            }
            for i in document.get("indicators") or []
        ],
    )


def main_value(indicator: Mapping[str, Any]) -> tuple[str | None, float | None]:
    """The first observed value of an indicator: what trends and the `value` column show."""
    observed = indicator.get("observed") or []
    if not observed:
        return None, None
    value = observed[0].get("value")
    return observed[0].get("field"), float(value) if isinstance(value, (int, float)) and not isinstance(
        value, bool
    ) else None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    if value is None:
        return "空值（null）"
    if isinstance(value, bool):
        return "布尔值"
    return {dict: "对象", list: "列表", str: "文字", int: "整数", float: "小数"}.get(type(value), type(value).__name__)
