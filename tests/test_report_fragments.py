"""The HTML pieces built in Python escape exactly as jinja2's autoescaping, and the report
environment's dict lookup answers what jinja2's own lookup answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from inspector.jinja_cache import DataEnvironment
from inspector.report import fragments
from inspector.report.html import environment

_TEXT = st.text(alphabet=st.sampled_from("a<>&'\"柳 \n\\{}%#"), max_size=20)


class TestEscaping:
    @given(_TEXT)
    def test_text_is_escaped_as_markupsafe_escapes_it(self, text: str) -> None:
        """Every character autoescaping replaces is replaced with the same entity."""
        assert fragments._e(text) == str(escape(text))

    @given(st.one_of(st.integers(), st.none(), st.floats(allow_nan=False), st.booleans()))
    def test_other_values_show_as_autoescaping_shows_them(self, value: object) -> None:
        """Numbers, None and booleans as `{{ value }}` prints them."""
        template = jinja2.Environment(autoescape=True).from_string("{{ v }}")
        assert fragments._e(value) == template.render(v=value)

    def test_markup_is_kept_as_it_is(self) -> None:
        """A piece that is already markup (a badge inside a row) is not escaped twice."""
        assert fragments._e(Markup("<b>&amp;</b>")) == "<b>&amp;</b>"

    @given(_TEXT, _TEXT, _TEXT)
    def test_a_list_row_escapes_every_field_from_the_data(self, message: str, county: str, action: str) -> None:
        """Text from findings.json never reaches the page as markup."""
        finding: dict[str, Any] = {"id": "F-1", "severity": "major", "county": county}
        row = {
            "county": county,
            "severity": "major",
            "number": 1,
            "school": "<s>",
            "message": message,
            "severity_rank": 1,
            "basis": "b",
            "action": action,
            "responsible": "r",
            "deadline": dt.date(2026, 3, 1),
            "finding": finding,
        }
        html = fragments.list_row(row, lambda f: Markup("<a></a>"))
        for text in (message, county, action):
            assert str(escape(text)) in html
        assert "<s>" not in html


class TestDataEnvironment:
    def test_keys_and_dict_attributes_resolve_as_in_jinja2(self) -> None:
        """`d.items` is still the method, `d.name` the key, a missing key undefined (an error
        under StrictUndefined), whatever environment renders the template."""
        source = "{{ d.name }} {{ d.items() | list | length }} {{ d.get('name') }}"
        data = {"name": "<柳北区>", "items": "a key named like a method"}
        mine = DataEnvironment(autoescape=True).from_string(source).render(d=data)
        theirs = jinja2.Environment(autoescape=True).from_string(source).render(d=data)
        assert mine == theirs == "&lt;柳北区&gt; 2 &lt;柳北区&gt;"

    def test_a_missing_key_is_an_error_in_the_report_environment(self) -> None:
        """The report environment is strict: a misspelt field fails the render, not a blank."""
        template = environment().from_string("{{ d.nmae }}")
        with pytest.raises(jinja2.UndefinedError, match="nmae"):
            template.render(d={"name": "x"})


class TestOneEnvironment:
    def test_the_report_environment_is_made_once(self) -> None:
        """Every report of a process renders in one environment, which keeps its loaded templates."""
        from inspector.output.markdown import environment as markdown_environment

        assert environment() is environment()
        assert markdown_environment() is markdown_environment()
        assert environment() is not markdown_environment()
        assert environment().auto_reload  # a template whose file changed is loaded again
