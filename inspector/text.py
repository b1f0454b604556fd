"""Text as Chinese readers expect it."""

from __future__ import annotations

import re

_WIDE = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_SPACE_BETWEEN_WIDE = re.compile(rf"(?<={_WIDE})\s+(?={_WIDE})")


def one_line(text: str) -> str:
    """Whitespace collapsed to single spaces, and none left between two Chinese characters or
    punctuation marks: YAML folds a long value's lines into spaces, which Chinese must not keep."""
    return _SPACE_BETWEEN_WIDE.sub("", " ".join(text.split()))
