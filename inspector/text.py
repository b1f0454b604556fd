"""Text as Chinese readers expect it."""

from __future__ import annotations

import re

_WIDE = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_SPACE_BETWEEN_WIDE = re.compile(rf"(?<={_WIDE})\s+(?={_WIDE})")


def one_line(text: str) -> str:
    """Whitespace collapsed to single spaces, and none left between two Chinese characters or
    punctuation marks: YAML folds a long value's lines into spaces, which Chinese must not keep."""
    return _SPACE_BETWEEN_WIDE.sub("", " ".join(text.split()))


# control characters no text of ours may hold (tab, newline and carriage return aside): they are
# invisible, and spreadsheet files cannot store them (openpyxl refuses them)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control_characters(value: str | None) -> str | None:
    """`value` unchanged; a `ValueError` in the user's words if it holds a control character."""
    if value is not None:
        found = _CONTROL.search(value)
        if found:
            raise ValueError(f"不能含有控制字符（U+{ord(found.group()):04X}，第 {found.start() + 1} 个字符）")
    return value


def without_control_characters(text: str) -> str:
    """`text` with any control character (tab, newline and carriage return aside) removed."""
    return _CONTROL.sub("", text)
