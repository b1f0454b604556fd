"""Fuzzing `inspector audit` with a fuzzed waivers.yaml (see cli_harness.py for what is checked)."""

from __future__ import annotations

import pytest
from cli_harness import AUDIT_YAML, run_audit_on
from fuzzing import FUZZ, HOSTILE_YAML, waivers_yaml
from hypothesis import example, given


# an audit through the CLI per example (most refuse the file; a whole audit costs ~0.15 s of CPU)
@pytest.mark.slow
@FUZZ
@given(waivers=waivers_yaml)
@example(waivers="waivers:\n  - {rule: class-size.large, entity: C56, reason: x, authority: y, expires: 2026-01-01}\n")
@example(waivers="waivers: &w [*w]\n")
@example(waivers=HOSTILE_YAML[0])
def test_audit_with_a_fuzzed_waivers_yaml(waivers: str) -> None:
    """Whatever waivers.yaml holds, the audit ends in 0 or 2 and writes only its output folder."""
    run_audit_on(AUDIT_YAML, waivers, None)
