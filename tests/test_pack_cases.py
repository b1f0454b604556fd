"""Every rule pack ships its own cases (rules/<pack>/cases/*): their exact verdicts must hold."""

from __future__ import annotations

import pytest

from inspector.catalog import pack_cases, run_pack_cases
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


def test_a_misspelt_key_in_expected_yaml_is_a_located_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`failed:` for `fail:` would leave a rule untested: expected.yaml has a schema, and the error names its line."""
    from inspector.catalog import load_expected
    from inspector.errors import RulePackError

    path = tmp_path / "expected.yaml"
    path.write_text("rules:\n  core.class-size:\n    fail: [C1]\n    failed: [C2]\n", encoding="utf-8")
    with pytest.raises(RulePackError) as caught:
        load_expected(path, "rules/core/cases/x/expected.yaml")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == ("rules/core/cases/x/expected.yaml", 4)
    assert "failed" in problem.field


def test_every_shipped_expected_yaml_follows_the_schema() -> None:
    from inspector.catalog import load_expected

    for pack in PACKS:
        for case in pack_cases(DEFAULT_RULES_DIR, pack):
            assert load_expected(case / "expected.yaml", str(case)).rules, case
