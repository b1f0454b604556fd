"""Fuzzing rule conditions and message templates: token soups and deep well-formed expressions end
in a checked condition or in the language's own located errors; templates compile and render or
are refused, never exhausting the stack or memory."""

from __future__ import annotations

import datetime as dt

from fuzzing import FUZZ, chinese, conditions, expression_soups, templates, well_formed
from hypothesis import event, example, given
from hypothesis import strategies as st

from inspector.errors import RulePackError
from inspector.limits import EXPRESSION_DEPTH, TEMPLATE_OUTPUT_CHARS
from inspector.rules import reference, syntax
from inspector.rules.compiler import sample_context
from inspector.rules.normal import NormalFormError, disjuncts, verdict_formulas
from inspector.rules.templates import TRUNCATED, TemplateProblem, check_template, compile_template, render
from inspector.rules.typed import Context, ExprError, NoTarget, check
from inspector.rules.vocabulary import build_vocabulary

AS_OF = dt.date(2025, 12, 1)
VOCABULARY = build_vocabulary()
PARAMS: dict[str, object] = {
    "large_min": 56,
    "kindergarten_max": {"小班": 25, "中班": 30, "大班": 35, "混合班": 30},
    "compulsory_types": ["primary", "junior", "nine_year"],
}
FACTS = st.fixed_dictionaries(
    {},
    optional={
        "size": st.integers(0, 120),
        "grade_no": st.integers(1, 12),
        "stage": st.sampled_from(["primary", "kindergarten"]),
        "school.type": st.sampled_from(["primary", "junior", "vocational"]),
        "grade_name": st.sampled_from(["小班", "3", "x"]),
    },
)


@FUZZ
@given(text=conditions, fact=FACTS)
@example(text="(" * 120 + "size > 1" + ")" * 120, fact={})
@example(text="not " * 200 + "size > 1", fact={})
@example(text=" + ".join(["size"] * 500) + " > 1", fact={})
@example(text="-" * 300 + "size > 1", fact={})
@example(text="size > 1 or " * 600 + "size > 1", fact={})
def test_a_condition_is_checked_or_refused_at_an_offset(text: str, fact: dict[str, object]) -> None:
    """Parse, type-check, normal form and the reference evaluator: only the language's errors."""
    try:
        tree = syntax.parse(text)
        cond = check(tree, Context(VOCABULARY["class"], PARAMS, AS_OF, used_params=set()))
    except (syntax.ExprSyntaxError, ExprError) as exc:
        event(f"refused: {exc.code}")
        assert 0 <= exc.offset <= max(len(text), 1) and chinese(exc.message), (exc.offset, exc.message)
        return
    except NoTarget:
        event("no target")
        return
    event("checked")
    try:
        for formula in (verdicts := verdict_formulas(None, cond)).fail, verdicts.passes, verdicts.outside:
            disjuncts(formula)
    except NormalFormError as exc:
        event("normal form refused")
        assert chinese(exc.message)
        return
    assert reference.verdict(None, cond, fact) in ("fail", "pass", "gap", None)


@FUZZ
@given(depth=st.integers(1, 3 * EXPRESSION_DEPTH), shape=st.sampled_from(["parens", "not", "minus", "chain", "call"]))
def test_nesting_is_refused_exactly_past_the_limit(depth: int, shape: str) -> None:
    """Every shape of nesting is accepted up to the limit and refused past it, as `depth`."""
    text = {
        "parens": "(" * depth + "size > 1" + ")" * depth,
        "not": "not " * depth + "size > 1",
        "minus": "-" * depth + "size > 1",
        "chain": " + ".join(["size"] * (depth + 1)) + " > 1",
        "call": "min(" * depth + "size" + ")" * depth + " > 1",
    }[shape]
    try:
        syntax.parse(text)
    except syntax.ExprSyntaxError as exc:
        assert exc.code == "depth" and depth > EXPRESSION_DEPTH - 2, (shape, depth)
    else:
        assert depth <= EXPRESSION_DEPTH, (shape, depth)


@FUZZ
@given(text=st.one_of(expression_soups, well_formed))
def test_a_scope_is_checked_like_a_condition(text: str) -> None:
    """A scope on another entity is checked or refused with the language's own errors."""
    try:
        check(syntax.parse(text), Context(VOCABULARY["school"], PARAMS, AS_OF, used_params=set()))
    except (syntax.ExprSyntaxError, ExprError) as exc:
        assert chinese(exc.message)
    except NoTarget:
        pass


SAMPLE = sample_context(VOCABULARY["class"], PARAMS, AS_OF, ["large_min"], 2025)
CONTEXTS = st.fixed_dictionaries(
    {
        "size": st.one_of(st.integers(-(10**12), 10**12), st.floats(allow_nan=True), st.text(max_size=5)),
        "school": st.fixed_dictionaries({"name": st.text(max_size=50_000)}),
        "observed": st.lists(st.fixed_dictionaries({"label": st.text(max_size=5)}), max_size=5),
        "params": st.just(PARAMS),
        "x": st.integers(0, 10**9),
    }
)


@FUZZ
@given(source=templates, context=CONTEXTS)
@example(
    source="{{ 'a' * 1000000000 }}",
    context={"size": 1, "school": {"name": ""}, "observed": [], "params": PARAMS, "x": 1},
)
@example(
    source="{{ 'x' * x }}", context={"size": 1, "school": {"name": ""}, "observed": [], "params": PARAMS, "x": 10**9}
)
def test_a_template_is_refused_or_renders_bounded(source: str, context: dict[str, object]) -> None:
    """Checked templates render to at most TEMPLATE_OUTPUT_CHARS (plus the cut mark) or fail as a
    located RulePackError; unchecked ones are refused with a TemplateProblem in Chinese."""
    try:
        template = compile_template(source)
        check_template(source, SAMPLE)
    except TemplateProblem as exc:
        event("refused")
        assert chinese(exc.message) and exc.line >= 1
        return
    event("checked")
    template.origin = ("rules/p/r.yaml", 9, 5, "message")  # type: ignore[attr-defined]
    try:
        text = render(template, context)
    except RulePackError as exc:
        event("failed on data")
        assert [p.file for p in exc.problems] == ["rules/p/r.yaml"] and chinese(exc.problems[0].message)
        return
    assert len(text) <= TEMPLATE_OUTPUT_CHARS + len(TRUNCATED)
