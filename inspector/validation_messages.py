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
    "float_type": "应为数值",
    "float_parsing": "应为数值",
    "bool_type": "应为是/否",
    "bool_parsing": "应为是/否",
    "string_type": "应为文本",
    "string_too_short": "不能为空",
    "date_type": "应为日期",
    "date_parsing": "日期无法识别",
    "date_from_datetime_parsing": "日期无法识别",
    "list_type": "应为列表",
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
    "union_tag_invalid": "类型不在允许范围内",
}


def message_for(error: Mapping[str, Any]) -> str:
    """The user-facing message of one pydantic error detail (`ValidationError.errors()` item)."""
    msg = str(error.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if not msg.isascii():
        return msg  # raised by our own validators, already in the user's words
    template = _MESSAGES.get(error.get("type", ""))
    if template is None:
        return msg
    try:
        text = template.format(**dict(error.get("ctx") or {}))
    except (KeyError, IndexError):
        text = template
    value = error.get("input")
    if error.get("type") not in ("missing", "extra_forbidden") and isinstance(value, (str, int, float)):
        text += f"：“{value}”"
    return text
