"""Message and rectification templates: jinja2 in a sandbox, since rule files are data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ..text import one_line


def pct(value: object, digits: int = 1) -> str:
    """0.1234 → '12.3%'."""
    if not isinstance(value, (int, float)):
        return str(value)
    return f"{value * 100:.{digits}f}%"


def number(value: object) -> str:
    """Integral floats without '.0'; others with up to 4 significant decimals."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.4g}"
    return str(value)


def _environment(undefined: type[jinja2.Undefined]) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=undefined, autoescape=False, keep_trailing_newline=False)
    env.filters["pct"] = pct
    env.filters["num"] = number
    return env


_RUNTIME = _environment(jinja2.Undefined)
_STRICT = _environment(jinja2.StrictUndefined)


class TemplateProblem(Exception):
    def __init__(self, message: str, line: int = 1) -> None:
        self.message = message
        self.line = line
        super().__init__(message)


def compile_template(source: str) -> jinja2.Template:
    try:
        return _RUNTIME.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"模板语法错误：{exc.message}", exc.lineno or 1) from None


def check_template(source: str, sample: Mapping[str, Any]) -> None:
    """Render against a context holding every name a finding can offer; unknown names fail."""
    try:
        _STRICT.from_string(source).render(sample)
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(f"模板引用了不存在的名称：{exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"模板语法错误：{exc.message}", exc.lineno or 1) from None
    except (TypeError, ValueError, ArithmeticError, jinja2.TemplateError) as exc:
        raise TemplateProblem(f"模板无法渲染：{exc}") from None


def render(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """Render on one line (see `inspector.text.one_line`)."""
    return one_line(template.render(context))
