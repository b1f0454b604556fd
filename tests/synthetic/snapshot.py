"""The verdict sets of every rule on an audit folder, as the engine gives them: a regression snapshot.

``expected-all.yaml`` holds, for every rule of the packs the folder's audit.yaml selects, the sorted ``fail``,
``pass`` and ``not_evaluated`` entity ids (or ``skipped`` and why, where the plan sets no target for the
audit's year). It is the engine's output, checked in so that any change in any verdict shows up in a test;
before it is written it is compared with what the folder's own files say the verdicts must be:

* ``planted.yaml`` (built by :mod:`synthetic.packs` from the rules' text): each planted
  entity must be in the set its verdict names (``absent``: in none of them);
* ``expected.yaml`` (the core pack's independent oracle, :mod:`synthetic.oracle`): the core
  rules' fail and not-evaluated sets must be exactly the oracle's.

Usage::

    PYTHONPATH=tests python -m synthetic.snapshot cases/liuzhou-2025 [cases/liuzhou-2022 ...]  # write, list disagreements
    PYTHONPATH=tests python -m synthetic.snapshot --check cases/liuzhou-2025                   # compare, write nothing

Exit status 1 when there is a disagreement (or, with ``--check``, when the file is not what the engine gives).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from inspector.audit import AuditResult, run_audit

__all__ = ["SNAPSHOT_FILE", "disagreements", "load", "snapshot", "verdict_sets", "write"]

SNAPSHOT_FILE = "expected-all.yaml"
VERDICTS = ("fail", "pass", "not_evaluated")

# the committed snapshots are half a megabyte each: libyaml reads one in 0.1 s, PyYAML's pure-Python
# loader in a second (these are the project's own files, not input to harden against)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # CSafeLoader or SafeLoader


class PlantedRule(BaseModel):
    """One rule's planted entities in planted.yaml, by the verdict each is built to get, and how."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    fail: list[str] = []
    pass_: list[str] = Field(default=[], alias="pass")
    not_evaluated: list[str] = []
    absent: list[str] = []
    how: dict[str, str] = {}

    def entities(self, verdict: str) -> list[str]:
        return self.pass_ if verdict == "pass" else list(getattr(self, verdict))


class CityPlanned(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    y2022: str = Field(alias="2022")
    y2025: str = Field(alias="2025")
    how: str


class Planted(BaseModel):
    """planted.yaml: a misspelt key (`failed:`) is an error, never a planted case silently unchecked."""

    model_config = ConfigDict(extra="forbid")

    as_of: Any
    target_year: int
    params: dict[str, int]
    skipped: list[str]
    city_rules: dict[str, CityPlanned]
    rules: dict[str, PlantedRule]


def load_planted(path: Path) -> Planted:
    return Planted.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def verdict_sets(result: AuditResult) -> dict[str, dict[str, Any]]:
    """Per rule (in the rule book's order): sorted fail, pass and not_evaluated ids, or skipped and why."""
    out: dict[str, dict[str, Any]] = {}
    for rule_id, outcome in result.outcomes.items():
        if not outcome.evaluated:
            out[rule_id] = {"skipped": outcome.skipped_reason}
            continue
        out[rule_id] = {
            "fail": sorted(outcome.failed),
            "pass": sorted(outcome.passed),
            "not_evaluated": sorted(outcome.gaps),
        }
    return out


def snapshot(result: AuditResult) -> dict[str, Any]:
    """The document of expected-all.yaml for one audit."""
    config = result.config
    return {
        "as_of": config.as_of,
        "target_year": result.book.target_year,
        "packs": list(config.packs),
        "rules": verdict_sets(result),
    }


def load(folder: Path) -> dict[str, Any]:
    return _read_yaml(folder / SNAPSHOT_FILE)


def _where(sets: Mapping[str, Any], entity: str) -> str:
    for verdict in VERDICTS:
        if entity in sets.get(verdict, ()):
            return verdict
    return "absent"


def disagreements(folder: Path, rules: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Where the engine's sets contradict planted.yaml or the core oracle's expected.yaml."""
    problems: list[str] = []
    planted_path = folder / "planted.yaml"
    if planted_path.is_file():
        planted = load_planted(planted_path)
        for rule_id, entry in planted.rules.items():
            sets = rules.get(rule_id)
            if sets is None:
                problems.append(f"{rule_id}: planted, but the audit has no such rule")
                continue
            if "skipped" in sets:
                problems.append(f"{rule_id}: planted, but skipped ({sets['skipped']})")
                continue
            for verdict in (*VERDICTS, "absent"):
                for entity in entry.entities(verdict):
                    got = _where(sets, str(entity))
                    if got != verdict:
                        how = entry.how.get(entity, "")
                        problems.append(f"{rule_id} {entity}: planted {verdict}, the engine says {got} ({how})")
    oracle_path = folder / "expected.yaml"
    if oracle_path.is_file():
        oracle = _read_yaml(oracle_path)["rules"]
        for rule_id, entry in oracle.items():
            sets = rules.get(rule_id, {})
            for verdict, key in (("fail", "fail"), ("not_evaluated", "not_evaluated")):
                want, got = {str(x) for x in entry.get(key, [])}, set(sets.get(verdict, []))
                if want != got:
                    problems.append(
                        f"{rule_id}: the core oracle's {verdict} set differs from the engine's: "
                        f"only the oracle {sorted(want - got)}, only the engine {sorted(got - want)}"
                    )
    return problems


def _dump(document: Mapping[str, Any], command: str) -> str:
    header = (
        f"# The engine's verdicts on this folder, every rule of its packs: a regression snapshot, not a\n"
        f"# specification (planted.yaml and expected.yaml are). Written by `{command}`\n"
        "# after checking it against both; tests/test_case_all_packs.py compares the engine with it.\n"
    )
    head = {k: v for k, v in document.items() if k != "rules"}
    text = yaml.safe_dump(head, allow_unicode=True, sort_keys=False, default_flow_style=None, width=110)
    rules = {"rules": {rule_id: {k: v for k, v in sets.items()} for rule_id, sets in document["rules"].items()}}
    body = yaml.safe_dump(rules, allow_unicode=True, sort_keys=False, default_flow_style=None, width=110)
    return header + text + body


def write(folder: Path, document: Mapping[str, Any]) -> Path:
    path = folder / SNAPSHOT_FILE
    path.write_text(
        _dump(document, f"PYTHONPATH=tests python -m synthetic.snapshot {folder.as_posix()}"), encoding="utf-8"
    )
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="PYTHONPATH=tests python -m synthetic.snapshot", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("folders", nargs="+", type=Path, metavar="FOLDER")
    parser.add_argument("--check", action="store_true", help="compare with the checked-in file; write nothing")
    args = parser.parse_args(argv)
    status = 0
    for folder in args.folders:
        started = time.perf_counter()
        result = run_audit(folder)
        document = snapshot(result)
        problems = disagreements(folder, document["rules"])
        seconds = time.perf_counter() - started
        for problem in problems:
            print(f"{folder}: {problem}", file=sys.stderr)
        if problems:
            status = 1
        if args.check:
            if not (folder / SNAPSHOT_FILE).is_file() or load(folder) != yaml.safe_load(
                _dump(document, "")
            ):  # compare as data, not as text
                print(f"{folder}: {SNAPSHOT_FILE} is not what the engine gives", file=sys.stderr)
                status = 1
            continue
        if problems:
            print(f"{folder}: not written ({len(problems)} disagreements)", file=sys.stderr)
            continue
        path = write(folder, document)
        evaluated = sum("skipped" not in sets for sets in document["rules"].values())
        print(f"{path}: {len(document['rules'])} rules ({evaluated} evaluated), audit {seconds:.1f} s")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
