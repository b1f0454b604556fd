"""The county edition's isolation and the report's 数据质量 section as Chinese Gherkin (tests/report_features/).

The feature lives outside tests/features/ because tests/test_features.py collects every feature
under that folder, and these steps are defined in steps_reports.py, not in steps_audit.py.
"""

from __future__ import annotations

from pathlib import Path

from pytest_bdd import scenarios

from steps_reports import *  # noqa: F403  (the step fixtures must be names of this module)

scenarios(str(Path(__file__).parent / "report_features" / "reports.feature"))
scenarios(str(Path(__file__).parent / "report_features" / "data_quality.feature"))
