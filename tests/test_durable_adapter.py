"""The durable_rules adapter against the engine's known traps, each shown on the raw engine first."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from durable import engine as durable_engine

from inspector.engine import evaluate as evaluate_module
from inspector.engine.durable_adapter import DurableEvaluator, EngineRule
from inspector.errors import EngineError
from inspector.rules.normal import AnyOf
from inspector.rules.normal import Test as FieldTest
from inspector.rules.typed import Const
from inspector.testing import AuditBuilder

# Two entity ids whose fact ids ("class:<id>") have equal 32-bit FNV-1a hashes (found by brute
# force): durable_rules takes the second for a duplicate of the first when both share a session.
COLLIDING = ("C351839", "C1641300")
LARGE = [EngineRule("large|fail", "class", FieldTest("size", ">=", Const(56, "number")))]


class _RawHost(durable_engine.Host):
    def _run(self) -> None:
        return None


def _raw_host(rules: dict[str, object]) -> _RawHost:
    host = _RawHost()
    host.register_rulesets({"raw": rules})
    return host


@pytest.fixture
def evaluator() -> Iterator[DurableEvaluator]:
    with DurableEvaluator(LARGE) as evaluator:
        yield evaluator


class TestUnhandledFacts:
    def test_raw_engine_rejects_a_fact_no_rule_matches(self) -> None:
        """The trap: a fact matching no rule raises, and in a batch loses every action."""
        fired: list[str] = []
        host = _raw_host({"large": {"all": [{"m": {"$gte": {"size": 56}}}], "run": lambda c: fired.append(c.m["id"])}})
        with pytest.raises(durable_engine.MessageNotHandledException):
            host.assert_facts("raw", [{"id": "a", "sid": "s", "size": 60}, {"id": "b", "sid": "s", "size": 30}])
        assert fired == []

    def test_adapter_evaluates_a_batch_with_unmatched_facts(self, evaluator: DurableEvaluator) -> None:
        """Facts that no rule matches are absorbed by the sink; the others still fire."""
        matches = evaluator.evaluate(
            "p", [("class", "a", {"size": 60}), ("class", "b", {"size": 30}), ("school", "s", {})]
        )
        assert matches == {("large|fail", "class:a")}

    def test_session_without_any_match_is_deleted_safely(self) -> None:
        """Deleting a session where no action ran used to crash the interpreter (uninitialised pointers)."""
        script = (
            "from inspector.engine.durable_adapter import DurableEvaluator, EngineRule\n"
            "from inspector.rules.normal import Test\n"
            "from inspector.rules.typed import Const\n"
            "ev = DurableEvaluator([EngineRule('r|fail', 'class', Test('size', '>=', Const(56, 'number')))])\n"
            "for i in range(50):\n"
            "    assert ev.evaluate(f'p{i}', [('school', f's{i}', {'size': 1})]) == set()\n"
            "print('ok')\n"
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "ok"


class TestDuplicateFacts:
    def test_raw_engine_takes_colliding_ids_for_duplicates(self) -> None:
        """The trap behind the ~46,000-fact limit: distinct ids, equal hashes, one is rejected."""
        fired: list[str] = []
        host = _raw_host({"large": {"all": [{"m": {"$gte": {"size": 56}}}], "run": lambda c: fired.append(c.m["id"])}})
        batch = [
            {"id": f"class:{COLLIDING[0]}", "sid": "s", "size": 60},
            {"id": f"class:{COLLIDING[1]}", "sid": "s", "size": 61},
        ]
        with pytest.raises(durable_engine.MessageObservedException):
            host.assert_facts("raw", batch)

    def test_adapter_recovers_from_a_hash_collision(self, evaluator: DurableEvaluator) -> None:
        """A colliding batch is re-run one fact per session: nothing is lost."""
        facts = [
            ("class", COLLIDING[0], {"size": 60}),
            ("class", COLLIDING[1], {"size": 61}),
            ("class", "x", {"size": 70}),
        ]
        matches = evaluator.evaluate("p", facts)
        assert matches == {("large|fail", f"class:{i}") for i in (*COLLIDING, "x")}

    def test_or_branches_do_not_duplicate_matches(self) -> None:
        """A fact matching several branches of an `$or` is one match, not one per branch."""
        rule = EngineRule(
            "either|fail",
            "class",
            AnyOf((FieldTest("size", ">=", Const(56, "number")), FieldTest("size", ">=", Const(60, "number")))),
        )
        with DurableEvaluator([rule]) as evaluator:
            assert evaluator.evaluate("p", [("class", "a", {"size": 70})]) == {("either|fail", "class:a")}

    def test_many_distinct_facts_are_split_into_several_sessions(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """A session never holds more than MAX_SESSION_FACTS facts, and no fact is lost by splitting."""
        sizes: list[int] = []
        original = DurableEvaluator.evaluate

        def spy(self: DurableEvaluator, partition: str, facts: Iterable[Any]) -> Any:
            facts = list(facts)
            sizes.append(len(facts))
            return original(self, partition, facts)

        monkeypatch.setattr(evaluate_module, "MAX_SESSION_FACTS", 7)
        monkeypatch.setattr(DurableEvaluator, "evaluate", spy)
        builder = AuditBuilder()
        school = builder.school()
        ids = [builder.klass(school, "3", 56 + (i % 10)) for i in range(40)]  # ten distinct sizes
        others = [builder.klass(school, "3", 20 + i) for i in range(20)]  # twenty more
        run = builder.run(tmp_path)
        assert max(sizes) == 7 and sum(sizes) >= 30
        assert run.failing("class-size.large") == set(ids)
        assert run.passing("class-size.large") == set(others)


class TestActionErrors:
    def test_raw_engine_hides_an_exception_raised_in_an_action(self) -> None:
        """The trap: the exception is stored in the session state, the call returns normally."""

        def broken(c: object) -> None:
            raise ValueError("boom")

        host = _raw_host({"r": {"all": [{"m": {"$gte": {"size": 56}}}], "run": broken}})
        host.assert_facts("raw", [{"id": "a", "sid": "s", "size": 60}])
        assert "boom" in host.get_state("raw", "s")["exception"]

    def test_adapter_raises_the_exception_of_an_action(self) -> None:
        def broken(rule: str, ids: object) -> None:
            raise ValueError("boom")

        with DurableEvaluator(LARGE, on_match=broken) as evaluator, pytest.raises(EngineError, match="boom"):
            evaluator.evaluate("p", [("class", "a", {"size": 60})])


class TestIsolation:
    def test_two_evaluators_share_no_state(self) -> None:
        """Same rules, same labels, one process: each sees only its own facts."""
        with DurableEvaluator(LARGE, label="same") as first, DurableEvaluator(LARGE, label="same") as second:
            assert first.name != second.name
            assert first.evaluate("p", [("class", "a", {"size": 60})]) == {("large|fail", "class:a")}
            assert second.evaluate("p", [("class", "b", {"size": 70})]) == {("large|fail", "class:b")}
            assert first.evaluate("p", [("class", "c", {"size": 30})]) == set()

    def test_many_evaluators_in_one_process(self) -> None:
        """Native rulesets are freed on close: hundreds of audits do not exhaust the engine."""
        for i in range(300):
            with DurableEvaluator(LARGE) as evaluator:
                assert evaluator.evaluate(f"p{i}", [("class", str(i), {"size": 56})]) == {("large|fail", f"class:{i}")}

    def test_other_threads_are_refused(self, evaluator: DurableEvaluator) -> None:
        errors: list[BaseException] = []

        def call() -> None:
            try:
                evaluator.evaluate("p", [("class", "a", {"size": 60})])
            except BaseException as exc:  # noqa: BLE001 - handed back to the test thread
                errors.append(exc)

        thread = threading.Thread(target=call)
        thread.start()
        thread.join()
        assert len(errors) == 1 and isinstance(errors[0], EngineError)


class TestUnusualIds:
    def test_quotes_and_backslashes_in_ids_and_partitions(self) -> None:
        """A school code with `"` or `\\` (typed by hand) is evaluated, not an engine crash."""
        with DurableEvaluator(LARGE) as evaluator:
            matches = evaluator.evaluate('school:4502"01\\x', [("class", 'C"1\\', {"size": 60})])
        assert matches == {("large|fail", 'class:C"1\\')}
