"""The only module that imports durable_rules: formulas in, matches out.

durable_rules 2.0.28 is a Rete engine with sharp edges, each handled here:

* A fact matching no rule raises `MessageNotHandledException` and, in a batch, stops the
  whole batch's actions: a *sink* rule (a join that never completes) makes every fact handled.
* Arithmetic overflows 64-bit integers silently and divides integers as integers (1 / 2 == 0):
  the engine is never asked to compute, only to compare integers (`rules.normal.Lowering`).
* A rule with an `$or` may deliver the same fact once per matching branch, and `$or` nested in
  `$and` compiles into expression sequences capped at 32 entries: each rule is registered as
  one engine rule per conjunction of its disjunctive normal form, and matches are sets.
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
* Deleting a session in which no action ever ran frees two uninitialised pointers
  (`context.messages`, `context.stateFact` are only set by an action) and crashes the
  interpreter: every session carries a marker fact whose no-op rule always fires.
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
from typing import Any, Self

import durable_rules_engine as _native
from durable import engine as _durable

from ..errors import EngineError
from ..rules.normal import All, AnyOf, Atom, Formula, Has, Ref, Test, disjuncts
from ..rules.typed import Const

CAP = 1000
_SINK = "__sink__"
_MARKER = "__session__"
_NOT_HANDLED, _OBSERVED = 1, 2  # durable_rules' ERR_EVENT_NOT_HANDLED, ERR_EVENT_OBSERVED
_KIND = "k"
_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
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
        self._kind_paths: dict[str, list[str]] = {}
        for rule in rules:
            known = self._kind_paths.setdefault(rule.kind, [])
            known.extend(p for p in sorted(_paths(rule.formula)) if p not in known)
        self._matches: set[Match] = set()
        self._on_match = on_match or self._record
        self._sessions = itertools.count()
        self.name = f"inspector_{label}_{next(_names)}"
        definition: dict[str, Any] = {}
        for rule in rules:
            # one engine rule per conjunction: flat alpha chains, no nested $or (capped in the engine)
            for index, term in enumerate(_terms(rule.formula)):
                # durable_rules compares a present field with a missing one as unequal (`n != b`
                # holds without b): a test against another field requires that field too
                present = [Has(a.rhs.path, True) for a in term if isinstance(a, Test) and isinstance(a.rhs, Ref)]
                condition = {"$and": [{_KIND: rule.kind}, *(self._atom(atom) for atom in (*term, *present))]}
                definition[f"{rule.name}#{index}"] = {
                    "all": [{"m": condition}],
                    "run": self._action(rule.name),
                    "cap": CAP,
                }
        definition[_SINK] = {"all": [{"m": {"$ex": {"id": 1}}}, {"n": {_SINK: 1}}], "run": self._action(_SINK)}
        definition[_MARKER] = {"all": [{"m": {_KIND: _MARKER}}], "run": self._action(_MARKER)}
        self._host = _Host()
        try:
            self._host.register_rulesets({self.name: definition})
        except Exception as exc:  # the native module raises bare Exception with an error code
            raise EngineError("规则集无法注册到 durable_rules", detail=str(exc)) from None
        self._ruleset = self._host.get_ruleset(self.name)
        self.facts_asserted = 0
        self.sessions_run = 0

    # -- translation ---------------------------------------------------------------------------

    def _atom(self, atom: Test | Has) -> dict[str, Any]:
        if isinstance(atom, Has):
            return {"$ex" if atom.present else "$nex": {self._codes[atom.path]: 1}}
        code = self._codes[atom.path]
        rhs = self._operand(atom.rhs)
        return {code: rhs} if atom.op == "==" else {_OPS[atom.op]: {code: rhs}}

    def _operand(self, operand: object) -> Any:
        if isinstance(operand, Const):
            return operand.value
        if isinstance(operand, Ref):
            return {"$m": self._codes[operand.path]}
        raise TypeError(f"unexpected operand {operand!r}")

    # -- actions -------------------------------------------------------------------------------

    def _record(self, rule: str, fact_ids: Sequence[str]) -> None:
        for fact_id in fact_ids:
            self._matches.add((rule, fact_id))

    def _action(self, rule: str) -> Callable[[Any], None]:
        on_match = self._on_match if rule not in (_SINK, _MARKER) else (lambda _rule, _ids: None)

        def action(c: Any) -> None:
            frames = c.m if isinstance(c.m, list) else [c.m]
            on_match(rule, [frame["id"] for frame in frames])

        return action

    # -- evaluation ----------------------------------------------------------------------------

    def fields(self, kind: str) -> Sequence[str]:
        """The fields facts of `kind` must carry: those its rules read."""
        return self._kind_paths.get(kind, [])

    def evaluate(self, partition: str, facts: Iterable[tuple[str, str, Mapping[str, Any]]]) -> set[Match]:
        """Run one partition: (kind, entity id, values) facts in, (rule, "kind:id") matches out."""
        if threading.get_ident() != self._thread:
            raise EngineError("durable_rules 不是线程安全的：评估器只能在创建它的线程中使用")
        batch = [self._fact(kind, entity_id, values) for kind, entity_id, values in facts]
        if not batch:
            return set()
        self._matches = set()
        if not self._run_session(partition, batch):
            # two distinct ids collided in the engine's 32-bit hash; one fact per session cannot collide
            self._matches = set()
            for fact in batch:
                if not self._run_session(partition, [fact]):
                    raise EngineError("事实编号与会话标记的哈希值冲突", session=partition, detail=fact["id"])
        matches, self._matches = self._matches, set()
        return matches

    def _fact(self, kind: str, entity_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        fact: dict[str, Any] = {"id": f"{kind}:{entity_id}", _KIND: kind}
        for path, value in values.items():
            code = self._codes.get(path)
            if code is not None and value is not None:
                fact[code] = value
        return fact

    def _run_session(self, partition: str, batch: list[dict[str, Any]]) -> bool:
        """Assert, run every pending action, check the state, delete it; False on an id collision."""
        number = next(self._sessions)
        # the engine cannot read back a session id holding a quote or a backslash: ids are ours
        sid = f"s{number}"
        label = f"{partition}#{number}"
        facts = [{"id": _MARKER, _KIND: _MARKER}, *batch]
        for fact in facts:
            fact["sid"] = sid
        try:
            # the native call, not Host.assert_facts: that one raises on a collision before running the
            # actions, and a session whose actions never ran cannot be deleted safely (see above)
            code, state = _native.assert_facts(self._ruleset._handle, json.dumps(facts, ensure_ascii=False))
            errors: list[BaseException] = []
            self._ruleset.do_actions(state, lambda error, _state: errors.append(error) if error else None)
            if errors:
                raise errors[0]
            state_after = self._host.get_state(self.name, sid)
        except MemoryError:
            raise EngineError("durable_rules 内存不足", session=label) from None
        except Exception as exc:  # the native module raises bare Exception with an error code
            raise EngineError("durable_rules 评估失败", session=label, detail=str(exc)) from None
        finally:
            self._delete(sid)
        if code == _NOT_HANDLED:
            raise EngineError("事实未被任何规则处理（不应发生：汇聚规则失效）", session=label)
        if "exception" in state_after:
            raise EngineError(
                "规则动作执行时发生异常（durable_rules 将其静默存入会话状态）",
                session=label,
                detail=str(state_after["exception"]),
            )
        if code == _OBSERVED:
            return False
        self.facts_asserted += len(batch)
        self.sessions_run += 1
        return True

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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def definition(self) -> str:
        """The ruleset as durable_rules sees it (for `inspector rules show --engine`)."""
        return json.dumps(self._ruleset.get_definition(), ensure_ascii=False, sort_keys=True, default=str)


# normal forms of the formulas this process registered, by the formula's repr: it tells constants
# of other types apart (1, True and Fraction(1) are equal and hash alike as dataclass fields, but
# the engine is given what is written)
_TERMS: dict[str, tuple[tuple[Atom, ...], ...]] = {}
_TERMS_KEPT = 4096


def _terms(formula: Formula) -> tuple[tuple[Atom, ...], ...]:
    """`disjuncts(formula)`, worked out once per process for each formula: every audit registers
    its rules anew, and their normal forms were most of the cost."""
    key = repr(formula)
    terms = _TERMS.get(key)
    if terms is None:
        terms = tuple(disjuncts(formula))
        if len(_TERMS) >= _TERMS_KEPT:
            _TERMS.clear()
        _TERMS[key] = terms
    return terms


def _paths(formula: Formula) -> set[str]:
    if isinstance(formula, (All, AnyOf)):
        return set().union(*(_paths(item) for item in formula.items))
    if isinstance(formula, Has):
        return {formula.path}
    if isinstance(formula, Test):
        return {formula.path} | _operand_paths(formula.rhs)
    return set()


def _operand_paths(operand: object) -> set[str]:
    return {operand.path} if isinstance(operand, Ref) else set()
