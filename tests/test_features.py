"""Behaviour of every rule family, bad input, isolation and the entry workbook, as Chinese Gherkin
(tests/features). The entry workbook's steps are in steps_entry.py, the others in steps_audit.py."""

from pytest_bdd import scenarios

from steps_entry import *  # noqa: F403  (the step fixtures must be names of this module)

scenarios(".")
