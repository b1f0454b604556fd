"""Fuzzing `inspector audit` with a fuzzed audit.yaml (see cli_harness.py for what is checked)."""

from __future__ import annotations

import pytest
from cli_harness import AUDIT_YAML, run_audit_on
from fuzzing import FUZZ, HOSTILE_YAML, audit_yaml_for_cli
from hypothesis import example, given
from hypothesis import strategies as st


# an audit through the CLI per example (most refuse the file; a whole audit costs ~0.15 s of CPU)
@pytest.mark.slow
@FUZZ
@given(audit=audit_yaml_for_cli, fail_on=st.sampled_from([None, "critical", "minor"]))
@example(audit=HOSTILE_YAML[0], fail_on=None)
@example(audit="name: x\nas_of: 9999-12-31\nregion: y\n", fail_on=None)
@example(audit=AUDIT_YAML + "params: {large_min: .nan}\n", fail_on=None)
@example(audit=AUDIT_YAML + "limits: {yaml_nodes: 1}\n", fail_on="minor")
@example(audit='name: "\\u7763\\u5BFC"\nas_of: \'2000-01-01\'\nregion: "\\b"\n', fail_on=None)  # found by make fuzz
def test_audit_with_a_fuzzed_audit_yaml(audit: str, fail_on: str | None) -> None:
    """Whatever audit.yaml holds, the audit ends in 0, 1 or 2 and writes only its output folder."""
    run_audit_on(audit, None, fail_on)
