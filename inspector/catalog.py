"""`inspector rules`: listing, showing and linting the rule packs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import RulePackError, UsageError
from .rules.compiler import RuleBook, compile_rulebook, effective_params
from .rules.packs import available_packs, load_packs
from .rules.spec import SEVERITY_LABELS
from .rules.targets import FINAL
from .rules.vocabulary import ENTITY_LABELS
from .validation_messages import message_for


def _book(
    rules_dir: Path, packs: Sequence[str] | None = None, *, check_unused: bool = False, target_year: int = FINAL
) -> RuleBook:
    ids = list(packs or available_packs(rules_dir))
    if not ids:
        raise UsageError(f"{rules_dir} 中没有规则包（应为 <包名>/pack.yaml）")
    loaded = load_packs(ids, rules_dir)
    params, _ = effective_params(loaded, {}, target_year)
    return compile_rulebook(
        loaded, as_of=dt.date(target_year, 12, 31), params=params, target_year=target_year, check_unused=check_unused
    )


def list_rules(rules_dir: Path, packs: Sequence[str] | None = None) -> str:
    book = _book(rules_dir, packs)
    lines = ["规则 id\t名称\t规则包\t严重程度\t层级"]
    for rule in book.rules:
        spec = rule.spec
        lines.append(
            f"{spec.id}\t{spec.title}\t{rule.pack.id}\t{SEVERITY_LABELS[spec.severity]}\t{ENTITY_LABELS[spec.applies_to]}"
        )
    return "\n".join(lines)


def show_rule(rules_dir: Path, rule_id: str) -> str:
    book = _book(rules_dir)
    rule = next((r for r in book.rules if r.id == rule_id), None)
    if rule is None:
        raise UsageError(f"没有规则 {rule_id}；可用 inspector rules list 查看全部规则")
    spec = rule.spec
    basis = spec.basis
    lines = [
        f"{spec.id}（第 {spec.version} 版）{spec.title}",
        f"  规则包：{rule.pack.id} {rule.pack.version}；定义于 {rule.where}",
        f"  对象：{ENTITY_LABELS[spec.applies_to]}；严重程度：{SEVERITY_LABELS[spec.severity]}"
        + (f"；属性：{spec.binding}" if spec.binding else ""),
        f"  适用范围：{' '.join(spec.scope.split()) if spec.scope else '（全部）'}",
        f"  问题条件：{' '.join(spec.condition.split())}",
        f"  所需数据：{'、'.join(rule.requires)}",
        "  参数："
        + ("；".join(f"{n} = {v}（{rule.param_specs[n].title}）" for n, v in rule.params.items()) or "（无）"),
        f"  依据：{basis.document} {basis.section}",
        f"    原文：{basis.quote}",
    ]
    if basis.reading:
        lines.append(f"    解读：{basis.reading}")
    if basis.confidence:
        lines.append(f"    可信度：{basis.confidence}")
    if basis.note:
        lines.append(f"    说明：{basis.note}")
    lines += [
        f"  整改：{spec.rectification.action}",
        f"    责任主体：{spec.rectification.responsible}；期限：基准日后 {spec.rectification.deadline_days} 天",
    ]
    return "\n".join(lines)


def list_fields(rules_dir: Path, kind: str | None = None) -> str:
    """The fields rules may name, per entity kind: path, type, always present or not, label."""
    from .rules.vocabulary import ENTITY_KINDS

    book = _book(rules_dir)
    kinds = [kind] if kind else list(ENTITY_KINDS)
    lines: list[str] = []
    for name in kinds:
        if name not in book.vocabulary:
            raise UsageError(f"没有对象类型“{name}”；可用：{'、'.join(ENTITY_KINDS)}")
        vocab = book.vocabulary[name]
        lines.append(f"[{name}] {vocab.label}")
        for info in vocab.fields.values():
            flags = "必有" if info.always_present else "可空"
            enum = f" {{{', '.join(info.enum)}}}" if info.enum else ""
            lines.append(f"  {info.path}\t{info.type}{enum}\t{flags}\t{info.label}")
    return "\n".join(lines)


def lint(rules_dir: Path) -> str:
    """Every pack (schema, expressions, templates, params, duplicate ids) and the ledger's lifecycle."""
    from .history.lifecycle import load_lifecycle

    book = _book(rules_dir, check_unused=True)
    lifecycle = rules_dir / "lifecycle.yaml"
    states = ""
    if lifecycle.is_file():
        loaded = load_lifecycle(lifecycle)
        states = f"；整改台账生命周期 {len(loaded.states)} 个状态、{len(loaded.transitions)} 种变更"
    return (
        f"规则包检查通过：{len(book.packs)} 个规则包，{len(book.rules)} 条规则，{len(book.indicators)} 个指标{states}。"
    )


# -- coverage of the plan ----------------------------------------------------------------------

REQUIREMENTS_FILE = "REQUIREMENTS.yaml"


class Requirement(BaseModel):
    """One requirement of the plan in REQUIREMENTS.yaml: where it stands, its words, and the
    rules that check it (or why none can)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    location: str
    quote: str
    measure: str
    targets: dict[int | str, str]
    reading: str
    attribute: Literal["约束性", "预期性"] | None = None
    level: Literal["school", "class", "teacher", "county", "city"]
    status: Literal["checked", "not_checkable"]
    rules: list[str] | None = None
    data: str | None = None
    not_checkable: str | None = None
    also_county: bool | None = None


class Requirements(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    document: str
    requirements: list[Requirement]


def load_requirements(path: Path, shown: str) -> Requirements:
    """REQUIREMENTS.yaml against its schema: a misspelt key is a located error."""
    from .yamlsrc import YamlSyntax, load_yaml

    try:
        doc = load_yaml(path, shown)
    except YamlSyntax as exc:
        raise RulePackError([exc.problem]) from None
    try:
        return Requirements.model_validate(doc.data)
    except ValidationError as exc:
        raise RulePackError([doc.problem(e["loc"], e["type"], message_for(e)) for e in exc.errors()]) from None


def coverage(rules_dir: Path) -> tuple[str, bool]:
    """The requirement inventory as a table: checked, not checkable (with why) or missing."""
    path = rules_dir / REQUIREMENTS_FILE
    if not path.is_file():
        raise UsageError(f"找不到需求清单 {path}")
    entries = load_requirements(path, f"rules/{REQUIREMENTS_FILE}").requirements
    known = {rule.id for rule in _book(rules_dir).rules}
    rows: list[tuple[str, str, str, str]] = []
    counts = {"checked": 0, "not_checkable": 0, "missing": 0}
    for entry in entries:
        rules = list(entry.rules or [])
        unknown = [r for r in rules if r not in known]
        if rules and not unknown:
            status, detail = "checked", "、".join(rules)
        elif entry.not_checkable and not rules:
            status, detail = "not_checkable", entry.not_checkable
        else:
            status = "missing"
            detail = f"规则不存在：{'、'.join(unknown)}" if unknown else "尚无规则"
        counts[status] += 1
        rows.append((entry.id, STATUS_LABELS[status], entry.measure, detail))
    width = max((len(r[0]) for r in rows), default=4)
    lines = [f"{'编号':<{width}}  状态      指标  →  规则或理由"]
    lines += [f"{i:<{width}}  {s:<8}  {m}  →  {d}" for i, s, m, d in rows]
    lines.append(
        f"共 {len(rows)} 项：已检查 {counts['checked']}，无法以数据检查 {counts['not_checkable']}，缺少规则 {counts['missing']}"
    )
    return "\n".join(lines), counts["missing"] == 0


STATUS_LABELS = {"checked": "已检查", "not_checkable": "不可检查", "missing": "缺少规则"}


# -- a pack's own cases ------------------------------------------------------------------------


def pack_cases(rules_dir: Path, pack: str) -> list[Path]:
    folder = rules_dir / pack / "cases"
    return sorted(p for p in folder.iterdir() if (p / "audit.yaml").is_file()) if folder.is_dir() else []


class Expectation(BaseModel):
    """One rule's expected verdicts in a case: the exact sets named (a set left out is not
    compared), or that the rule is skipped."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fail: list[str | int] | None = None
    pass_: list[str | int] | None = Field(default=None, alias="pass")
    not_evaluated: list[str | int] | None = None
    skipped: bool | None = None

    def sets(self) -> dict[str, set[str]]:
        named = {"fail": self.fail, "pass": self.pass_, "not_evaluated": self.not_evaluated}
        return {key: {str(v) for v in ids} for key, ids in named.items() if ids is not None}


class ExpectedCase(BaseModel):
    """A case's expected.yaml: a misspelt key is a located error, never a rule silently untested."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: dict[str, Expectation]


def load_expected(path: Path, shown: str) -> ExpectedCase:
    from .yamlsrc import YamlSyntax, load_yaml

    try:
        doc = load_yaml(path, shown)
    except YamlSyntax as exc:
        raise RulePackError([exc.problem]) from None
    try:
        return ExpectedCase.model_validate(doc.data)
    except ValidationError as exc:
        raise RulePackError([doc.problem(e["loc"], e["type"], message_for(e)) for e in exc.errors()]) from None


def compare_case(case: Path, shown: str, rules_dir: Path) -> tuple[list[str], bool]:
    """Audit one case folder and compare each rule's verdicts with its expected.yaml (`shown` is
    the path its problems are located at): the exact sets of failing, passing and not-evaluated
    entities, or whether the rule is skipped. One line per rule, and whether all agree."""
    from .audit import run_audit

    expected = load_expected(case / "expected.yaml", shown)
    result = run_audit(case, rules_dir=rules_dir, workers=1)
    lines: list[str] = []
    ok = True
    for rule_id, want in sorted(expected.rules.items()):
        outcome = result.outcomes.get(rule_id)
        if outcome is None:
            lines.append(f"✗ {case.name} {rule_id}: 规则未运行")
            ok = False
            continue
        got = {"fail": outcome.failed, "pass": outcome.passed, "not_evaluated": outcome.gaps}
        diffs = [
            f"{key} 多 {sorted(got[key] - wanted)} 少 {sorted(wanted - got[key])}"
            for key, wanted in want.sets().items()
            if wanted != got[key]
        ]
        if want.skipped is not None and want.skipped == outcome.evaluated:
            diffs.append(f"应{'跳过' if want.skipped else '评估'}，实际{'评估' if outcome.evaluated else '跳过'}")
        mark = "✗" if diffs else "✓"
        ok = ok and not diffs
        counts = f"问题 {len(outcome.failed)}，通过 {len(outcome.passed)}，未评估 {len(outcome.gaps)}"
        lines.append(f"{mark} {case.name} {rule_id}: {'；'.join(diffs) or counts}")
    return lines, ok


def run_pack_cases(rules_dir: Path, pack: str) -> tuple[str, bool]:
    """Run a pack's cases (`rules/<pack>/cases/*/`) and compare each rule's verdicts with the
    case's expected.yaml: the exact sets of failing, passing and not-evaluated entities."""
    if pack not in available_packs(rules_dir):
        raise UsageError(f"找不到规则包“{pack}”；可用：{'、'.join(available_packs(rules_dir))}")
    cases = pack_cases(rules_dir, pack)
    if not cases:
        raise UsageError(f"规则包 {pack} 没有用例（应为 rules/{pack}/cases/<用例>/audit.yaml 与 expected.yaml）")
    lines: list[str] = []
    ok = True
    for case in cases:
        case_lines, case_ok = compare_case(case, f"rules/{pack}/cases/{case.name}/expected.yaml", rules_dir)
        lines.extend(case_lines)
        ok = ok and case_ok
    lines.append("全部用例通过" if ok else "有用例未通过")
    return "\n".join(lines), ok
