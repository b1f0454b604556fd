"""Cell spellings an inspector's spreadsheet uses, turned into typed values.

Each parser takes the text of one cell (already stripped; a spreadsheet's numbers and dates
arrive as their text, see `readers`) and returns the column's value, or raises `CellError`
whose message is shown to the user as is. The loader calls them once per distinct spelling
in a column, never once per row.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from fractions import Fraction

from pydantic_core import PydanticCustomError

from ..numbers import NumberError, format_decimal, parse_decimal, scaled, shortest


class CellError(ValueError):
    """A cell that does not hold a value of its column; `code` is stable, `message` Chinese."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


_TRUE = frozenset({"true", "1", "yes", "y", "是", "有", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "否", "无", "f"})
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    # a date with a time of day (an Excel date cell that carries one, a CSV export of such): its day
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?$"),
)
# dates a school record can plausibly hold (licence validity, hire dates)
MIN_DATE, MAX_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


# zero-width space, non-joiner, joiner, word joiner, BOM: invisible, so a typed id holding one looks
# like another (P1 and P1\u200b were two schools)
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE))


def normalize_text(value: str) -> str:
    """NFKC-normalised, stripped text without zero-width characters: full-width digits and brackets
    become ASCII."""
    if value.isascii():
        return value.strip()
    return unicodedata.normalize("NFKC", value).translate(_INVISIBLE).strip()


def text_key(value: str) -> str:
    """A comparison key for identifiers typed by hand: NFKC, no whitespace, upper case."""
    return "".join(normalize_text(value).split()).upper()


def parse_bool(text: str) -> bool:
    lowered = normalize_text(text).lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CellError("bool_parsing", f"应为是/否（是、否、Y、N、1、0、true、false）：“{text}”")


def parse_date(text: str) -> dt.date:
    value = normalize_text(text)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(value)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                day_value = dt.date(year, month, day)
            except ValueError:
                break
            if not MIN_DATE <= day_value <= MAX_DATE:
                raise CellError("date_range", f"日期不在合理范围（{MIN_DATE.year}–{MAX_DATE.year} 年）：“{text}”")
            return day_value
    raise CellError("date_parsing", f"日期无法识别（应如 2025-12-31、2025/12/31 或 2025年12月31日）：“{text}”")


def enum_parser(codes: Mapping[str, str]) -> Callable[[str], str]:
    """A parser accepting an enumeration's English code or its Chinese word."""
    lookup: dict[str, str] = {}
    for code, word in codes.items():
        lookup[code.lower()] = code
        lookup[normalize_text(word)] = code
    allowed = "、".join(f"{word}（{code}）" for code, word in codes.items())

    def parse(text: str) -> str:
        value = normalize_text(text)
        code = lookup.get(value) or lookup.get(value.lower())
        if code is None:
            raise CellError("enum", f"取值“{text}”不在允许范围内，允许：{allowed}")
        return code

    return parse


KINDERGARTEN_GRADES = ("小班", "中班", "大班", "混合班")
_CN_NUMERALS = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "十一": 11,
    "十二": 12,
}
_GRADE_WORDS = {
    **{f"{word}年级": n for word, n in _CN_NUMERALS.items()},
    "初一": 7,
    "初二": 8,
    "初三": 9,
    "高一": 10,
    "高二": 11,
    "高三": 12,
}


def _digits(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also takes ³ or ፫, which `int` refuses."""
    return text.isascii() and text.isdigit()


def parse_grade(text: str) -> str:
    """A grade as `"1"`…`"12"` or a kindergarten class level (小班, 中班, 大班, 混合班)."""
    value = normalize_text(text)
    if value in KINDERGARTEN_GRADES:
        return value
    value = value.removesuffix("年级") if _digits(value[:-2]) else value
    value = value.removesuffix(".0")
    if value in _GRADE_WORDS:
        number = _GRADE_WORDS[value]
    elif _digits(value):
        number = int(value)
    else:
        raise CellError("grade", f"年级应为 1–12（或 一年级、初一、高一 等）或 小班、中班、大班、混合班：“{text}”")
    if not 1 <= number <= 12:
        raise CellError("grade", f"年级应在 1–12 之间：{number}")
    return str(number)


# -- numbers ------------------------------------------------------------------------------------


def _number(text: str, integer: bool = False) -> Fraction:
    try:
        return parse_decimal(normalize_text(text))
    except NumberError as exc:
        if integer and exc.code == "number":
            raise CellError("int_parsing", f"应为整数：“{text}”") from None
        raise CellError(exc.code, exc.message) from None


def _shown(value: Fraction, unit: str = "") -> str:
    return f"{shortest(value, 6)}{unit}"


def _check_range(value: Fraction, low: Fraction | None, high: Fraction | None, text: str, unit: str) -> None:
    if low is not None and value < low:
        raise CellError("range", f"数值“{text}”小于合理下限 {_shown(low, unit)}")
    if high is not None and value > high:
        raise CellError("range", f"数值“{text}”大于合理上限 {_shown(high, unit)}")


def parse_scaled(text: str, places: int, low: Fraction | None, high: Fraction | None, unit: str = "") -> int:
    """A count or a decimal at `places` decimal places, as an integer of units of 10⁻ᵖˡᵃᶜᵉˢ."""
    value = _number(text, integer=places == 0)
    try:
        units = scaled(value, places, text=normalize_text(text))
    except NumberError as exc:
        raise CellError("int_parsing" if places == 0 else exc.code, exc.message) from None
    _check_range(value, low, high, text, unit)
    return units


def parse_rate(text: str, places: int, low: Fraction, high: Fraction) -> int:
    """A rate as units of 10⁻ᵖˡᵃᶜᵉˢ of 1. `95%`, `95` and `0.95` all mean 95%: a number written
    without % is read as a fraction when that is plausible (within `low`–`high`), otherwise as a
    percentage; when both readings are plausible, the fraction (0.95) wins for numbers up to 1.
    A gross ratio (`high` above 1) reads `1.025` as 102.5%, never as 1.025%."""
    raw = normalize_text(text)
    percent = raw.endswith("%")
    number = _number(raw.removesuffix("%").strip() if percent else raw)
    if percent:
        candidates = [number / 100]
    else:
        candidates = [number, number / 100] if number <= 1 else [number / 100, number]
    plausible = [c for c in candidates if low <= c <= high]
    if not plausible:
        readings = "或".join(f"{format_decimal(c * 100, 4).rstrip('0').rstrip('.')}%" for c in candidates)
        span = f"{_pct(low)}–{_pct(high)}"
        raise CellError(
            "rate_range", f"比率“{text}”无论读作{readings}都不在合理范围（{span}）内；百分比请写作如 95% 或 0.95"
        )
    value = plausible[0]
    try:
        return scaled(value, places, text=f"{_pct(value, 6)}")
    except NumberError:
        raise CellError("precision", f"比率最多保留 {max(places - 2, 0)} 位小数（如 95.25%）：“{text}”") from None


def _pct(value: Fraction, digits: int = 2) -> str:
    return f"{shortest(value * 100, digits)}%"


def date_field(value: object) -> dt.date:
    """A date from a YAML or form field (pydantic "before" validator): a date, or its text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return parse_date(value)
        except CellError as exc:
            raise PydanticCustomError(exc.code, exc.message) from None
    raise PydanticCustomError("date_type", "应为日期（如 2025-12-31）：{value}", {"value": repr(value)})
