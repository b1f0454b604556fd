"""Every rule pack ships its own cases (rules/<pack>/cases/*): their exact verdicts must hold."""

from __future__ import annotations

import pytest

from inspector.rules.catalog import pack_cases, run_pack_cases
from inspector.rules.packs import DEFAULT_RULES_DIR, available_packs

PACKS = available_packs(DEFAULT_RULES_DIR)


@pytest.mark.parametrize("pack", PACKS)
def test_pack_has_cases_covering_every_rule(pack: str) -> None:
    """Each rule of the pack is named in some case's expected.yaml, failing somewhere and passing somewhere."""
    import yaml

    from inspector.rules.packs import load_packs

    (loaded,) = load_packs([pack])
    fails: set[str] = set()
    passes: set[str] = set()
    for case in pack_cases(DEFAULT_RULES_DIR, pack):
        expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))["rules"]
        fails |= {rule for rule, sets in expected.items() if sets.get("fail")}
        passes |= {rule for rule, sets in expected.items() if sets.get("pass")}
    rule_ids = {rule.id for rule, _ in loaded.rules}
    assert rule_ids - fails == set(), "rules never shown failing"
    assert rule_ids - passes == set(), "rules never shown passing"


# the plan pack's cases are city-sized (seconds); the others are a few rows each
@pytest.mark.parametrize("pack", [pytest.param(p, marks=pytest.mark.slow) if p == "plan" else p for p in PACKS])
def test_pack_cases_give_the_expected_verdicts(pack: str) -> None:
    """`inspector rules test PACK` passes: exact fail, pass and not-evaluated sets."""
    text, ok = run_pack_cases(DEFAULT_RULES_DIR, pack)
    assert ok, text
