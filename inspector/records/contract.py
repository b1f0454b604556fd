"""The data contract as Markdown, generated from `schema.py` so the documentation cannot drift.

`python -m inspector.records.contract > docs/data-contract.md` (a test checks the committed file).
"""

from __future__ import annotations

from fractions import Fraction

from ..numbers import shortest
from .schema import RECORD_KINDS, Column

_TYPES = {
    "text": "文本",
    "int": "整数",
    "decimal": "数值",
    "rate": "比率（95、95% 或 0.95 均表示 95%）",
    "bool": "是/否",
    "date": "日期",
    "grade": "年级（1–12 或 小班/中班/大班/混合班）",
}


def _type(column: Column) -> str:
    if column.enum:
        return "、".join(f"{code} {word}" for code, word in column.enum.items())
    text = _TYPES[column.type]
    if column.type == "decimal":
        text += f"（保留 {column.places} 位小数）"
    elif column.type == "rate":
        text = text.replace("）", "；精确到 0.01%）")
    if column.unit and column.type != "rate":
        text += f"，单位：{column.unit}"
    low, high = column.bounds
    if low is not None or high is not None:
        rate = column.type == "rate"

        def shown(v: Fraction) -> str:
            return f"{shortest(v * 100, 2)}%" if rate else shortest(v, 2)

        parts = [f"≥ {shown(low)}" if low is not None else "", f"≤ {shown(high)}" if high is not None else ""]
        text += "，合理范围 " + " 且 ".join(p for p in parts if p)
    return text


def _notes(column: Column) -> str:
    notes = ["必填" if column.required else "可空"]
    if column.default is not None:
        notes.append(f"空则为 {'是' if column.default is True else column.default}")
    if column.unique:
        notes.append("不得重复")
    if column.references:
        target, _, field = column.references.partition(".")
        notes.append(f"须见于 {target}" + (f" 的 {field}" if field else ""))
    return "；".join(notes)


def contract_markdown() -> str:
    lines = [
        "# Data contract (数据规范)",
        "",
        "Generated from `inspector/records/schema.py` by `python -m inspector.records.contract`.",
        "Headers may be the canonical English names or the Chinese ones, the Chinese one with the column's",
        "unit in brackets if it has one (`班额（人）`); file and sheet names may be the kind's English name",
        "or one of its Chinese names. A row right under the header whose every filled cell starts with",
        "`示例：` is an example (as `inspector template` writes it) and is not read; a `示例：` cell in any",
        "other row rejects that row. A column may have further Chinese names (表一's indicator names, as",
        "published statistics print them): they follow its label as 也可写作.",
        "",
    ]
    for kind in RECORD_KINDS.values():
        names = "、".join((kind.name, *kind.aliases))
        lines.append(f"## {kind.name}（{kind.label}）")
        lines.append("")
        lines.append(f"File or sheet names: {names}." + (" Required." if kind.required_file else ""))
        if kind.key_columns:
            lines.append(f"One row per {' + '.join(kind.key_columns)}.")
        lines += ["", "| column | 中文表头 | values | notes |", "|---|---|---|---|"]
        for column in kind.columns:
            header = column.label + (f"（也可写作：{'；'.join(column.aliases)}）" if column.aliases else "")
            lines.append(f"| `{column.name}` | {header} | {_type(column)} | {_notes(column)} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(contract_markdown())
