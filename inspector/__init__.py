"""inspector: education inspection (督导) rules engine.

The package follows the data: `records` (data contract, loading) → `rules` (pack specs, the
expression language, compilation) → `engine` (entities, indicators, the durable_rules adapter)
→ `findings` → `output` → `cli`. Compile once per audit, evaluate many entities.
"""

from __future__ import annotations

from .errors import DataError, EngineError, InspectorError, Problem, RulePackError

__all__ = ["DataError", "EngineError", "InspectorError", "Problem", "RulePackError", "run_audit"]


def run_audit(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Audit a folder; see `inspector.audit.run_audit`."""
    from .audit import run_audit as _run_audit

    return _run_audit(*args, **kwargs)
