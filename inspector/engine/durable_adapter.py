"""The only module that imports durable_rules: formulas in, matches out.

durable_rules 2.0.28 is a Rete engine with sharp edges, each handled here:

* A fact matching no rule raises `MessageNotHandledException` and, in a batch, stops the
  whole batch's actions: a *sink* rule (a join that never completes) makes every fact handled.
* A rule with an `$or` may deliver the same fact once per matching branch: matches are sets.
* Facts are deduplicated by a 32-bit hash of their id per session, so beyond ~46,000 facts
  distinct facts collide (`MessageObservedException`): sessions are kept small (one school, or
  one chunk) and a batch that collides anyway is re-run one fact per session.
* At most 1,024 sessions may be alive per ruleset and undeleted sessions exhaust memory: each
  session is deleted as soon as its matches are read.
* An exception inside an action is stored silently in the session state: the state is read
  after every batch and such an exception is raised as `EngineError`.
* The stock `Host` starts threads that run pending actions in the background; this host does
  not, so actions run only inside our calls, on the calling thread (the engine is not
  thread-safe: a second thread is refused).
* Rulesets cannot be unregistered through the Python API; each evaluator owns its host and
  frees its native ruleset on `close()`, so two audits in one process share nothing.

Field names are encoded (`f0`, `f1`, …) so no field can clash with the engine's reserved
`id` and `sid`, and facts stay short.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import durable_rules_engine as _native
from durable import engine as _durable

from ..errors import EngineError
from ..rules.normal import All, AnyOf, Arith, Formula, Has, Ref, Test, Truth
from ..rules.typed import Const

CAP = 1000
_SINK = "__sink__"
_KIND = "k"
_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
_ARITH = {"+": "$add", "-": "$sub", "*": "$mul", "/": "$div"}
_names = itertools.count(1)


@dataclass(frozen=True)
class EngineRule:
    """One engine rule: a name reported back on each match, the entity kind, the formula."""

    name: str
    kind: str
    formula: Formula


class _Host(_durable.Host):
    """A host without the background dispatch threads of `durable.engine.Host`."""

    def _run(self) -> None:
        return None


Match = tuple[str, str]
OnMatch = Callable[[str, Sequence[str]], None]


class DurableEvaluator:
    """Evaluates entity facts against engine rules, one small session at a time."""

    def __init__(self, rules: Sequence[EngineRule], label: str = "audit", *, on_match: OnMatch | None = None) -> None:
        self._thread = threading.get_ident()
        paths = sorted({path for rule in rules for path in _paths(rule.formula)})
        self._codes = {path: f"f{i}" for i, path in enumerate(paths)}
        self._matches: set[Match] = set()
        self._on_match = on_match or self._record
        self._sessions = itertools.count()
        self.name = f"inspector_{label}_{next(_names)}"
        definition: dict[str, Any] = {}
        for rule in rules:
            if rule.formula == Truth(False):
                continue
            condition = self._condition(rule.kind, rule.formula)
            definition[rule.name] = {"all": [{"m": condition}], "run": self._action(rule.name), "cap": CAP}
        definition[_SINK] = {"all": [{"m": {"$ex": {"id": 1}}}, {"n": {_SINK: 1}}], "run": self._action(_SINK)}
        self._host = _Host()
        try:
            self._host.register_rulesets({self.name: definition})
        except Exception as exc:  # the native module raises bare Exception with an error code
            raise EngineError("规则集无法注册到 durable_rules", detail=str(exc)) from None
        self._ruleset = self._host.get_ruleset(self.name)
        self.facts_asserted = 0
        self.sessions_run = 0

    # -- translation ---------------------------------------------------------------------------

    def _condition(self, kind: str, formula: Formula) -> dict[str, Any]:
        return {"$and": [{_KIND: kind}, self._formula(formula)]}

    def _formula(self, formula: Formula) -> dict[str, Any]:
        if isinstance(formula, Truth):
            # only reachable inside a larger formula that all_of/any_of could not simplify
            return {"$ex": {"id": 1}} if formula.value else {_SINK: 1}
        if isinstance(formula, All):
            return {"$and": [self._formula(item) for item in formula.items]}
        if isinstance(formula, AnyOf):
            return {"$or": [self._formula(item) for item in formula.items]}
        if isinstance(formula, Has):
            return {"$ex" if formula.present else "$nex": {self._codes[formula.path]: 1}}
        if isinstance(formula, Test):
            code = self._codes[formula.path]
            rhs = self._operand(formula.rhs)
            if formula.op == "==":
                return {code: rhs}
            return {_OPS[formula.op]: {code: rhs}}
        raise TypeError(f"unexpected formula {formula!r}")

    def _operand(self, operand: object) -> Any:
        if isinstance(operand, Const):
            return operand.value
        if isinstance(operand, Ref):
            return {"$m": self._codes[operand.path]}
        if isinstance(operand, Arith):
            return {_ARITH[operand.op]: {"$l": self._operand(operand.left), "$r": self._operand(operand.right)}}
        raise TypeError(f"unexpected operand {operand!r}")

    # -- actions -------------------------------------------------------------------------------

    def _record(self, rule: str, fact_ids: Sequence[str]) -> None:
        for fact_id in fact_ids:
            self._matches.add((rule, fact_id))

    def _action(self, rule: str) -> Callable[[Any], None]:
        on_match = self._on_match if rule != _SINK else (lambda _rule, _ids: None)

        def action(c: Any) -> None:
            frames = c.m if isinstance(c.m, list) else [c.m]
            on_match(rule, [frame["id"] for frame in frames])

        return action

    # -- evaluation ----------------------------------------------------------------------------

    @property
    def fields(self) -> Sequence[str]:
        return list(self._codes)

    def evaluate(self, partition: str, facts: Iterable[tuple[str, str, Mapping[str, Any]]]) -> set[Match]:
        """Run one partition: (kind, entity id, values) facts in, (rule, "kind:id") matches out."""
        if threading.get_ident() != self._thread:
            raise EngineError("durable_rules 不是线程安全的：评估器只能在创建它的线程中使用")
        batch = [self._fact(kind, entity_id, values) for kind, entity_id, values in facts]
        if not batch:
            return set()
        self._matches = set()
        try:
            self._run_session(partition, batch)
        except _durable.MessageObservedException:
            # two distinct ids collided in the engine's 32-bit hash: one fact per session cannot collide
            self._matches = set()
            for fact in batch:
                self._run_session(partition, [fact])
        matches, self._matches = self._matches, set()
        return matches

    def _fact(self, kind: str, entity_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        fact: dict[str, Any] = {"id": f"{kind}:{entity_id}", _KIND: kind}
        for path, value in values.items():
            code = self._codes.get(path)
            if code is not None and value is not None:
                fact[code] = value
        return fact

    def _run_session(self, partition: str, batch: list[dict[str, Any]]) -> None:
        sid = f"{partition}#{next(self._sessions)}"
        for fact in batch:
            fact["sid"] = sid
        try:
            self._host.assert_facts(self.name, batch)
        except _durable.MessageObservedException:
            self._delete(sid)
            raise
        except _durable.MessageNotHandledException as exc:
            self._delete(sid)
            raise EngineError("事实未被任何规则处理（不应发生：汇聚规则失效）", session=sid, detail=exc.message) from None
        except Exception as exc:
            self._delete(sid)
            raise EngineError("durable_rules 评估失败", session=sid, detail=str(exc)) from None
        try:
            state = self._host.get_state(self.name, sid)
        except Exception as exc:
            raise EngineError("无法读取 durable_rules 会话状态", session=sid, detail=str(exc)) from None
        finally:
            self._delete(sid)
        self.facts_asserted += len(batch)
        self.sessions_run += 1
        if "exception" in state:
            raise EngineError("规则动作执行时发生异常（durable_rules 将其静默存入会话状态）", session=sid,
                              detail=str(state["exception"]))

    def _delete(self, sid: str) -> None:
        try:
            self._host.delete_state(self.name, sid)
        except Exception:  # a session that never started has no state to delete
            pass

    def close(self) -> None:
        """Free the native ruleset; the evaluator cannot be used afterwards."""
        handle = getattr(self._ruleset, "_handle", None)
        if handle is not None:
            try:
                _native.delete_ruleset(handle)
            except Exception:
                pass
            self._ruleset._handle = None

    def __enter__(self) -> DurableEvaluator:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def definition(self) -> str:
        """The ruleset as durable_rules sees it (for `inspector rules show --engine`)."""
        return json.dumps(self._ruleset.get_definition(), ensure_ascii=False, sort_keys=True, default=str)


def _paths(formula: Formula) -> set[str]:
    if isinstance(formula, (All, AnyOf)):
        return set().union(*(_paths(item) for item in formula.items))
    if isinstance(formula, Has):
        return {formula.path}
    if isinstance(formula, Test):
        return {formula.path} | _operand_paths(formula.rhs)
    return set()


def _operand_paths(operand: object) -> set[str]:
    if isinstance(operand, Ref):
        return {operand.path}
    if isinstance(operand, Arith):
        return _operand_paths(operand.left) | _operand_paths(operand.right)
    return set()
