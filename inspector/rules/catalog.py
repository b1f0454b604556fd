"""`inspector rules`: listing, showing and linting the rule packs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from ..errors import UsageError
from ..records.config import FINAL
from .compiler import RuleBook, compile_rulebook, effective_params
from .packs import available_packs, load_packs
from .spec import SEVERITY_LABELS
from .vocabulary import ENTITY_LABELS


def _book(rules_dir: Path, packs: Sequence[str] | None = None, *, check_unused: bool = False,
          target_year: int = FINAL) -> RuleBook:
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
    lines = ["规则 id\t名称\t规则包\t严重程度\t对象"]
    for rule in book.rules:
        spec = rule.spec
        lines.append(f"{spec.id}\t{spec.title}\t{rule.pack.id}\t{SEVERITY_LABELS[spec.severity]}\t{ENTITY_LABELS[spec.applies_to]}")
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
        f"  对象：{ENTITY_LABELS[spec.applies_to]}；严重程度：{SEVERITY_LABELS[spec.severity]}" + (f"；属性：{spec.binding}" if spec.binding else ""),
        f"  适用范围：{' '.join(spec.scope.split()) if spec.scope else '（全部）'}",
        f"  问题条件：{' '.join(spec.condition.split())}",
        f"  所需数据：{'、'.join(rule.requires)}",
        "  参数：" + ("；".join(f"{n} = {v}（{rule.param_specs[n].title}）" for n, v in rule.params.items()) or "（无）"),
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


def lint(rules_dir: Path) -> str:
    book = _book(rules_dir, check_unused=True)
    return f"规则包检查通过：{len(book.packs)} 个规则包，{len(book.rules)} 条规则，{len(book.indicators)} 个指标。"
