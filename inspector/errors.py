"""One error root, two families, every problem located.

`DataError` is the data's fault (an input file or `audit.yaml`), `RulePackError` the rule
author's. Both carry every `Problem` found, not just the first: loaders collect, then raise once.
`EngineError` wraps what the evaluation engine reports, so callers never see durable_rules'
own exceptions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem: `file:line[:column]: field: message` in the user's words.

    `line` is the row number a spreadsheet shows (header = 1) for data files and the
    1-based line for YAML; `column` is the character column in a YAML file (0 = unknown).
    `field` is the column header or key as the user wrote it. `code` is a stable machine
    name for tests and tools.
    """

    file: str
    line: int
    field: str
    code: str
    message: str
    column: int = 0
    excerpt: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.column:
            where += f":{self.column}"
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        if self.excerpt:
            text += "\n    " + self.excerpt
            if self.column:
                text += "\n    " + " " * (self.column - 1) + "^"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "row": self.line,
            "column": self.field,
            "code": self.code,
            "message": self.message,
        }


class InspectorError(Exception):
    """Root of every error the inspector raises on purpose."""

    exit_code = 2


class _ProblemsError(InspectorError):
    headline = "错误"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(problems))
        super().__init__(self.render())

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.problems,))

    def render(self) -> str:
        lines = [f"{self.headline}（共 {len(self.problems)} 处）："]
        lines.extend(str(p) for p in self.problems)
        return "\n".join(lines)


class DataError(_ProblemsError):
    """Input data that cannot be audited as given (rows, columns, audit.yaml)."""

    headline = "输入数据有误"


class RulePackError(_ProblemsError):
    """A rule pack that cannot be compiled (schema, expression, template, params)."""

    headline = "规则包有误"


class EngineError(InspectorError):
    """The evaluation engine failed or reported an inconsistent state."""

    exit_code = 3

    def __init__(self, message: str, *, session: str = "", detail: str = "") -> None:
        self.message = message
        self.session = session
        self.detail = detail
        text = f"规则引擎错误：{message}"
        if session:
            text += f"（会话 {session}）"
        if detail:
            text += f"\n{detail}"
        super().__init__(text)

    def __reduce__(self) -> tuple[object, ...]:
        # raised in forked workers and re-raised in the parent: rebuild from the parts
        return (_engine_error, (self.message, self.session, self.detail))


def _engine_error(message: str, session: str, detail: str) -> EngineError:
    return EngineError(message, session=session, detail=detail)


class UsageError(InspectorError):
    """A command line that cannot be carried out (missing folder, unknown finding id)."""
