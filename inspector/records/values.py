"""Cell spellings an inspector's spreadsheet uses, turned into typed values.

Each function is a pydantic "before" validator: it accepts what a cell may hold (text from a
CSV, a number or a date from an xlsx) and returns a value of the column's type, or raises a
`PydanticCustomError` whose message is shown to the user as is.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping

from pydantic_core import PydanticCustomError

_TRUE = frozenset({"true", "1", "yes", "y", "是", "有", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "否", "无", "f"})
_BOOL_EXACT = {
    **{w: True for w in ("是", "true", "True", "TRUE", "1", "Y", "y", "yes", "Yes")},
    **{w: False for w in ("否", "false", "False", "FALSE", "0", "N", "n", "no", "No")},
}
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)


def normalize_text(value: object) -> str:
    """NFKC-normalised, stripped text: full-width digits and brackets become ASCII."""
    text = value if type(value) is str else str(value)
    if text.isascii():
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


def text_key(value: str) -> str:
    """A comparison key for identifiers typed by hand: NFKC, no whitespace, upper case."""
    return "".join(normalize_text(value).split()).upper()


def parse_text(value: object) -> str:
    if type(value) is str:
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        # xlsx stores a numeric id such as 4502000001 as a float
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def parse_int(value: object) -> int:
    if type(value) is str and value.isdigit():
        return int(value)
    if isinstance(value, bool):
        raise PydanticCustomError("int_parsing", "应为整数，实为是/否值")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise PydanticCustomError("int_parsing", "应为整数：{value}", {"value": value})
    text = normalize_text(value).replace(",", "")
    if text.endswith(".0"):
        text = text[:-2]
    try:
        return int(text)
    except ValueError:
        raise PydanticCustomError("int_parsing", "应为整数：“{value}”", {"value": str(value)}) from None


def parse_float(value: object) -> float:
    if isinstance(value, bool):
        raise PydanticCustomError("float_parsing", "应为数值，实为是/否值")
    if isinstance(value, (int, float)):
        return float(value)
    text = normalize_text(value).replace(",", "")
    percent = text.endswith("%")  # NFKC turns the full-width ％ into %
    try:
        number = float(text.rstrip("%"))
    except ValueError:
        raise PydanticCustomError("float_parsing", "应为数值：“{value}”", {"value": str(value)}) from None
    return number / 100 if percent else number


def parse_rate(value: object) -> float:
    """A rate as a fraction: "95%" and 95 are 0.95, 0.95 stays 0.95 (numbers above 1 are percents)."""
    number = parse_float(value)
    if isinstance(value, str) and value.strip().endswith(("%", "％")):
        return number
    return number / 100 if number > 1 else number


def parse_bool(value: object) -> bool:
    exact = _BOOL_EXACT.get(value) if value.__class__ is str else None
    if exact is not None:
        return exact
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = normalize_text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise PydanticCustomError("bool_parsing", "应为是/否（是、否、Y、N、1、0、true、false）：“{value}”", {"value": str(value)})


def parse_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = normalize_text(value)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                break
    raise PydanticCustomError(
        "date_parsing", "日期无法识别（应如 2025-12-31、2025/12/31 或 2025年12月31日）：“{value}”", {"value": str(value)}
    )


def enum_parser(codes: Mapping[str, str]) -> Callable[[object], str]:
    """A parser accepting an enumeration's English code or its Chinese word."""
    lookup: dict[str, str] = {}
    for code, word in codes.items():
        lookup[code.lower()] = code
        lookup[normalize_text(word)] = code
    allowed = "、".join(f"{word}（{code}）" for code, word in codes.items())

    def parse(value: object) -> str:
        exact = lookup.get(value) if value.__class__ is str else None  # type: ignore[call-overload]
        if exact is not None:
            return exact
        text = normalize_text(value)
        code = lookup.get(text) or lookup.get(text.lower())
        if code is None:
            raise PydanticCustomError(
                "enum", "取值“{value}”不在允许范围内，允许：{allowed}", {"value": str(value), "allowed": allowed}
            )
        return code

    return parse


KINDERGARTEN_GRADES = ("小班", "中班", "大班", "混合班")
_CN_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11, "十二": 12}
_GRADE_WORDS = {
    **{f"{word}年级": n for word, n in _CN_NUMERALS.items()},
    "初一": 7, "初二": 8, "初三": 9, "高一": 10, "高二": 11, "高三": 12,
}


def parse_grade(value: object) -> str:
    """A grade as `"1"`…`"12"` or a kindergarten class level (小班, 中班, 大班, 混合班)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = parse_int(value)
    else:
        text = normalize_text(value)
        if text in KINDERGARTEN_GRADES:
            return text
        text = text.removesuffix("年级") if text[:-2].isdigit() else text
        if text in _GRADE_WORDS:
            number = _GRADE_WORDS[text]
        elif text.isdigit():
            number = int(text)
        else:
            raise PydanticCustomError(
                "grade", "年级应为 1–12（或 一年级、初一、高一 等）或 小班、中班、大班、混合班：“{value}”", {"value": str(value)}
            )
    if not 1 <= number <= 12:
        raise PydanticCustomError("grade", "年级应在 1–12 之间：{value}", {"value": number})
    return str(number)
