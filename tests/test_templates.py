"""Message templates in a bounded sandbox: what would build huge values is refused when a pack is
compiled, located at its key, and fails cleanly (or is cut) when real data makes it too big."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.errors import RulePackError
from inspector.limits import EXPRESSION_DEPTH, TEMPLATE_OUTPUT_CHARS, TEMPLATE_SEQUENCE
from inspector.rules.templates import TRUNCATED, TemplateProblem, check_template, compile_template, render
from test_rule_packs import compile_problems, located, one_rule

SAMPLE = {"name": "示例", "size": 1, "observed": [{"label": "班额", "text": "56"}] * 3, "params": {"limit": 55}}


def problem_of(source: str) -> str:
    with pytest.raises(TemplateProblem) as raised:
        compile_template(source)
        check_template(source, SAMPLE)
    return raised.value.message


class TestRefusedWhenChecked:
    @pytest.mark.parametrize(
        "source, phrase",
        [
            ("{{ 'a' * 1000000000 }}", "重复后的文本或列表"),
            ("{{ [1] * 10 ** 9 }}", "重复后的文本或列表"),
            ("{{ name * 20000 }}", "重复后的文本或列表"),
            ("{{ 10 ** 100000 }}", "乘方结果过大"),
            ("{{ '%0999999999d' % 1 }}", "不能用 % 格式化文本"),
            ("{% for i in range(10 ** 9) %}x{% endfor %}", "函数调用"),
            ("{{ name.ljust(10 ** 9) }}", "函数调用"),
            ("{{ name | center(10 ** 9) }}", "过滤器“center”"),
            ("{{ name | replace('示', name * 9999) }}", "过滤器“replace”"),
            ("{% for a in observed %}{% for b in observed %}x{% endfor %}{% endfor %}", "不能嵌套"),
            ("{% set a = name ~ name %}{{ a }}", "{% set %}"),
            ("{% macro m() %}{{ m() }}{% endmacro %}", "{% macro %}"),
            ("{% include 'report.md.j2' %}", "{% include %}"),
            ("{{ " + "(" * 60 + "1" + ")" * 60 + " }}", "嵌套过深"),
            ("{{ " + "not " * 300 + "size }}", "嵌套过深"),
            ("{{ " + "not " * 3000 + "size }}", "嵌套过深"),
            ("{% if size %}" * 60 + "x" + "{% endif %}" * 60, "嵌套过深"),
            ("{{ (name * 4000) ~ (name * 4000) ~ (name * 4000) }}", "渲染结果超过"),
        ],
    )
    def test_growth_is_refused(self, source: str, phrase: str) -> None:
        """Each template that could build gigabytes is refused before it builds anything large."""
        assert phrase in problem_of(source)

    def test_a_pack_with_a_huge_message_is_a_located_error(self, tmp_path: Path) -> None:
        """The red-team case: `{{ 'a' * 1e9 }}`-style message, reported at the message's line."""
        (problem,) = compile_problems(tmp_path, one_rule(message="\"{{ 'a' * 1000000000 }}\""))
        assert located(problem)[:4] == ("rules/p/r.yaml", 12, 5, "message")
        assert "重复后的文本或列表" in problem.message


class TestAllowed:
    @pytest.mark.parametrize(
        "source",
        [
            "{{ name }}班额 {{ size | num }} 人，{% if size > params.limit %}超过{% else %}未超过{% endif %}上限。",
            "{% for o in observed %}{{ o.label }} {{ o.text }}{% if not loop.last %}、{% endif %}{% endfor %}",
            "{{ observed | join('、', attribute='label') }}",
            "{{ {'小学': 'primary'}.get(name, 'other') }}",
            "{{ '★' * 3 }}{{ (size / 3) | pct(0) }}",
            "{{ " + "(" * (EXPRESSION_DEPTH - 2) + "size" + ")" * (EXPRESSION_DEPTH - 2) + " }}",
        ],
    )
    def test_what_messages_need_still_works(self, source: str) -> None:
        """The template features the packs' messages use compile and pass the check with sample data."""
        compile_template(source)
        check_template(source, SAMPLE)


class TestAtRenderTime:
    def test_data_that_makes_a_repetition_huge_fails_at_the_template_key(self) -> None:
        """A check passed with sample data; a real value that would build a gigabyte is a located error."""
        template = compile_template("{{ '★' * size }}")
        template.origin = ("rules/p/r.yaml", 14, 5, "message")  # type: ignore[attr-defined]
        assert render(template, {"size": 3}) == "★★★"
        with pytest.raises(RulePackError) as raised:
            render(template, {"size": 10**9})
        (problem,) = raised.value.problems
        assert (problem.file, problem.line, problem.field, problem.code) == (
            "rules/p/r.yaml",
            14,
            "message",
            "template_render",
        )

    def test_a_long_value_from_the_data_is_cut_not_fatal(self) -> None:
        """A cell of any length ends in a message of at most TEMPLATE_OUTPUT_CHARS, marked as cut."""
        text = render(compile_template("{{ name }}"), {"name": "长" * (TEMPLATE_OUTPUT_CHARS * 5)})
        assert len(text) == TEMPLATE_OUTPUT_CHARS + len(TRUNCATED) and text.endswith(TRUNCATED)

    def test_a_repetition_at_the_limit_is_allowed(self) -> None:
        assert len(render(compile_template("{{ 'x' * n }}"), {"n": TEMPLATE_SEQUENCE})) == TEMPLATE_SEQUENCE


class TestControlCharacters:
    def test_control_characters_from_the_data_are_dropped_from_messages(self) -> None:
        """A name typed with a control character renders without it (spreadsheets cannot hold one)."""
        assert render(compile_template("{{ name }}小学"), {"name": "文\x08惠\x1b"}) == "文惠小学"

    def test_a_rule_text_with_a_control_character_is_located(self, tmp_path: Path) -> None:
        files = one_rule()
        files["r.yaml"] = files["r.yaml"].replace("title: 测试规则", 'title: "测试\\a规则"')
        (problem,) = compile_problems(tmp_path, files)
        assert located(problem)[:2] == ("rules/p/r.yaml", 4) and "控制字符" in problem.message
