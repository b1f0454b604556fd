"""Re-inspection, the rectification ledger and the history store as Chinese Gherkin
(tests/history_features/reinspection.feature), through the CLI on a temporary SQLite file.

The feature lives outside tests/features/ because tests/test_features.py collects every feature
under that folder with the steps of steps_audit.py; these steps are defined in steps_history.py.
"""

from __future__ import annotations

from pathlib import Path

from pytest_bdd import scenarios

from steps_history import *  # noqa: F403  (the step fixtures must be names of this module)

scenarios(str(Path(__file__).parent / "history_features" / "reinspection.feature"))
