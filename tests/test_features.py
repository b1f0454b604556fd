"""Behaviour of every rule family, bad input and isolation, as Chinese Gherkin (tests/features)."""

from pytest_bdd import scenarios

scenarios(".")
