"""Chinese wording for pydantic's validation errors, keyed by its stable error `type`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MESSAGES: Mapping[str, str] = {
    "missing": "缺少必填项",
    "extra_forbidden": "未知字段（是否拼写错误？）",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "int_parsing_size": "整数位数过多",
    "finite_number": "应为有限的数值（不能是 .nan、.inf）",
    "float_type": "应为数值",
    "float_parsing": "应为数值",
    "bool_type": "应为是/否",
    "bool_parsing": "应为是/否",
    "string_type": "应为文本",
    "string_too_short": "不能为空",
    "string_too_long": "过长（最多 {max_length} 个字符）",
    "bytes_type": "应为文本",
    "date_type": "应为日期",
    "date_parsing": "日期无法识别",
    "date_from_datetime_parsing": "日期无法识别",
    "date_from_datetime_inexact": "应为日期（不含时刻）",
    "list_type": "应为列表",
    "tuple_type": "应为列表",
    "set_type": "应为列表",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "model_attributes_type": "应为映射（键: 值）",
    "literal_error": "取值不在允许范围内，允许：{expected}",
    "enum": "取值不在允许范围内，允许：{expected}",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "string_pattern_mismatch": "格式不符合要求（{pattern}）",
    "too_short": "至少应有 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "none_required": "应为空",
    "recursion_loop": "内容循环引用自身",
    "union_tag_not_found": "类型不在允许范围内",
    "union_tag_invalid": "类型不在允许范围内",
}


def message_for(error: Mapping[str, Any]) -> str:
    """The user-facing message of one pydantic error detail (`ValidationError.errors()` item)."""
    msg = str(error.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if not msg.isascii():
        return msg  # raised by our own validators, already in the user's words
    template = _MESSAGES.get(error.get("type", ""))
    if template is None:
        return f"取值不符合要求（{msg}）"  # a pydantic error type not yet worded here: keep its detail
    try:
        text = template.format(**dict(error.get("ctx") or {}))
    except (KeyError, IndexError):
        text = template
    value = error.get("input")
    if error.get("type") not in ("missing", "extra_forbidden") and isinstance(value, (str, int, float)):
        text += f"：“{value}”"
    return text
