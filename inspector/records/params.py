"""Param values as `audit.yaml` and rule packs write them: one type, validated once.

Here rather than in `rules.spec` because `records.config` reads `params:` from audit.yaml, and
records sit below rules in the pipeline.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import PlainValidator

__all__ = ["PARAM_MAGNITUDE", "ParamValue", "finite_number"]

# a param number beyond this magnitude is a typing slip, and would overflow the engine's integers
PARAM_MAGNITUDE = 1e15


def finite_number(value: object) -> str:
    """Why `value` is not a usable param number ("" when it is): NaN and infinities compare false
    with everything (a threshold of `.nan` would pass every entity) and are not JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"参数值不能是{' NaN' if math.isnan(value) else '无穷大'}（YAML 的 .nan、.inf）"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > PARAM_MAGNITUDE:
        return f"参数值 {value:.6g} 超出允许范围（绝对值不超过 {PARAM_MAGNITUDE:.0e}）"
    return ""


def _param_value(value: object) -> object:
    """One readable error for a bad param value, instead of one per alternative type."""
    if isinstance(value, (bool, int, float, str)):
        if reason := finite_number(value):
            raise ValueError(reason)
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in value.items()
    ):
        for key, item in value.items():
            if reason := finite_number(item):
                raise ValueError(f"“{key}”：{reason}")
        return value
    raise ValueError("参数值应为数值、文本、是/否、文本列表或“键: 数值”映射")


ParamValue = Annotated[Any, PlainValidator(_param_value)]
