"""Differential test: the Rete engine and the plain evaluator give the same verdicts.

Random conditions in the rule language (hypothesis builds them from its grammar) are compiled
once; random facts (values missing at random, numbers exact) are evaluated both by durable_rules,
through the normal form, the fact builder (integers at each field's precision and the two
integers of every `Operands` atom) and the adapter, and by `reference.verdict` on the typed tree
in exact arithmetic. Any difference is a bug in the normal form, the lowering, the fact builder,
or in our reading of the engine.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.engine.durable_adapter import DurableEvaluator
from inspector.engine.evaluate import decide, engine_rules
from inspector.engine.facts import Projection, engine_fact
from inspector.rules import syntax
from inspector.rules.normal import Lowering, verdict_formulas
from inspector.rules.reference import verdict
from inspector.rules.typed import Context, check
from inspector.rules.vocabulary import EntityVocabulary, FieldInfo

KINDS = {"kindergarten": "幼儿园", "primary": "小学", "vocational": "中等职业学校"}
FIELDS = {
    "a": FieldInfo("a", "a", "number", False, "record", scale=10, decimals=1),
    "b": FieldInfo("b", "b", "number", False, "record"),
    "n": FieldInfo("n", "n", "number", True, "record"),
    "s": FieldInfo("s", "s", "text", False, "record"),
    "t": FieldInfo("t", "t", "enum", True, "record", enum=KINDS),
    "flag": FieldInfo("flag", "flag", "bool", False, "record"),
    "day": FieldInfo("day", "day", "date", False, "record"),
    "x.y": FieldInfo("x.y", "x.y", "number", False, "record", scale=100, decimals=2),
}
VOCABULARY = EntityVocabulary("class", "班级", None, MappingProxyType(FIELDS), MappingProxyType({}))
PARAMS = {"limit": 3, "table": {"p": 1, "q": 4}, "names": ["p", "r"]}
AS_OF = dt.date(2025, 12, 1)

numbers = st.sampled_from(["0", "1", "2", "3", "4", "2.5", "2.55", "0.333", "-1", "params.limit"])
number_fields = st.sampled_from(["a", "b", "n", "x.y"])
ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
LISTS = ['["p", "q"]', "params.names", "[]"]
DAYS = ["as_of", 'date("2025-06-01")']


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    field = draw(number_fields)
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return f"{field} {draw(ops)} {draw(number_fields)}"
    if choice == 1:
        return f"{field} {draw(ops)} {draw(number_fields)} {draw(st.sampled_from(['+', '-', '*']))} {draw(numbers)}"
    if choice == 2:
        return f"{draw(numbers)} {draw(ops)} {field}"
    if choice == 3:
        return f's {draw(st.sampled_from(["==", "!="]))} "{draw(st.sampled_from("pqr"))}"'
    if choice == 4:
        members = draw(st.sampled_from(LISTS))
        return f"s {draw(st.sampled_from(['in', 'not in']))} {members}"
    if choice == 5:
        return f't {draw(st.sampled_from(["==", "!="]))} "{draw(st.sampled_from(["primary", "幼儿园", "vocational"]))}"'
    if choice == 6:
        return draw(st.sampled_from(["flag", "not flag", "flag == false", "exists(a)", "not exists(s)", "exists(x.y)"]))
    if choice == 7:
        return f"day {draw(ops)} {draw(st.sampled_from(DAYS))}"
    if choice == 8:
        return f"{field} {draw(ops)} params.table[s]"
    return f"{field} {draw(ops)} {draw(number_fields)} / {draw(st.sampled_from(['b', '2', 'x.y']))}"


conditions = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda c: f"not ({c})"),
    ),
    max_leaves=6,
)
scopes = st.one_of(
    st.none(),
    st.sampled_from(['t != "vocational"', "n > 1", "exists(a) and n <= 3", 't in ["primary", "kindergarten"]']),
)

values = {
    "a": st.sampled_from([0, 1, 2, 3, 4, Fraction(5, 2), Fraction(-3, 10), -1]),
    "b": st.sampled_from([0, 1, 2, 3]),
    "n": st.sampled_from([0, 1, 2, 3, 4]),
    "s": st.sampled_from(["p", "q", "r"]),
    "t": st.sampled_from(list(KINDS)),
    "flag": st.booleans(),
    "day": st.sampled_from([20250531, 20250601, 20251130, 20251201, 20251202]),
    "x.y": st.sampled_from([0, 1, 3, Fraction(255, 100), Fraction(1, 100)]),
}


@st.composite
def facts(draw: st.DrawFn) -> dict[str, object]:
    fact: dict[str, object] = {"n": draw(values["n"]), "t": draw(values["t"])}
    for name in ("a", "b", "s", "flag", "day", "x.y"):
        if draw(st.booleans()):
            fact[name] = draw(values[name])
    return fact


def _compile(text: str | None) -> object:
    if text is None:
        return None
    return check(syntax.parse(text), Context(VOCABULARY, PARAMS, AS_OF))


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(condition=conditions, scope=scopes, batch=st.lists(facts(), min_size=1, max_size=12))
def test_engine_agrees_with_reference(condition: str, scope: str | None, batch: list[dict[str, object]]) -> None:
    """For every fact: fail, pass, not evaluated or out of scope, the same on both evaluators."""
    cond = _compile(condition)
    scope_cond = _compile(scope)
    lowering = Lowering("@r#")
    formulas = verdict_formulas(scope_cond, cond, lowering)  # type: ignore[arg-type]

    class _Rule:  # the part of CompiledRule that engine_rules reads
        id = "r"
        verdicts = formulas
        spec = type("Spec", (), {"applies_to": "class"})()

    projection = Projection(tuple(FIELDS.values()), ())
    rows = [[_raw(FIELDS[path], fact.get(path)) for path in projection.paths] for fact in batch]
    facts_ = [engine_fact(projection, row, fact, tuple(lowering.atoms.values())) for row, fact in zip(rows, batch)]
    with DurableEvaluator(engine_rules([_Rule()])) as evaluator:  # type: ignore[list-item]
        matches = evaluator.evaluate("p", [("r0", str(i), fact) for i, fact in enumerate(facts_)])
    names: dict[str, set[str]] = {}
    for name, fact_id in matches:
        names.setdefault(fact_id.split(":", 1)[1], set()).add(name.split("|")[1])
    for i, fact in enumerate(batch):
        expected = verdict(scope_cond, cond, fact)  # type: ignore[arg-type]
        assert decide(names.get(str(i), set())) == expected, (condition, scope, fact)
        assert not {"fail", "pass"} <= names.get(str(i), set())  # never both


def _raw(info: FieldInfo, value: object) -> object:
    """A value as a table holds it: a number in units of its precision, a date as a date."""
    if value is None:
        return None
    if info.type == "number":
        return int(Fraction(value) * info.scale)  # type: ignore[arg-type]
    if info.type == "date":
        return dt.date(value // 10000, value // 100 % 100, value % 100)  # type: ignore[operator]
    return value
