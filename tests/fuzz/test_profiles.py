"""The fuzz profiles are the sizes issue 12 asks for, and the commands that run them are wired:
`make test` the short one, `make fuzz` the long one, `.ci/run` both, in that order; `make test-fast`
the dev one, which also cuts the other property tests' examples (tests/budget.py)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from fuzzing import MIN_EXAMPLES, PROFILE, ROOT
from hypothesis import settings

import budget

# the targets that run whole audits through the CLI (fuzzing.py), at the profile's size like the others
WHOLE_CLI_TARGETS = {"test_audit_with_a_fuzzed_audit_yaml", "test_audit_with_a_fuzzed_waivers_yaml"}


def test_the_profiles_have_the_asked_sizes() -> None:
    sizes = {name: settings.get_profile(f"fuzz-{name}").max_examples for name in ("short", "long", "nightly")}
    assert sizes["short"] >= 100 and sizes["long"] >= 2_000 and sizes["nightly"] > sizes["long"], sizes


def test_make_fuzz_runs_the_long_profile_and_ci_runs_it_after_make_test() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^fuzz:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe and "INSPECTOR_FUZZ=long" in recipe.group(1) and "tests/fuzz" in recipe.group(1)
    test_recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert test_recipe and "INSPECTOR_FUZZ" not in test_recipe.group(1)  # the default profile: short
    steps = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert steps.index("make fuzz") > steps.index("make test")


def test_every_target_runs_the_examples_of_its_profile() -> None:
    """Under the profile this run uses, every fuzz target is set to at least the profile's size
    (2,000 under `long`, 100 under `short`), the whole-CLI targets included."""
    targets: dict[str, int] = {}
    for path in sorted(Path(__file__).parent.glob("test_fuzz_*.py")):
        module = importlib.import_module(path.stem)
        for name, function in vars(module).items():
            if name.startswith("test_") and getattr(function, "is_hypothesis_test", False):
                targets[name] = function._hypothesis_internal_use_settings.max_examples
    assert len(targets) >= 12 and WHOLE_CLI_TARGETS <= set(targets), targets
    for name, examples in targets.items():
        assert examples >= MIN_EXAMPLES[PROFILE], (name, examples)
    assert settings.get_profile(f"fuzz-{PROFILE}").max_examples == MIN_EXAMPLES[PROFILE]


def test_make_test_fast_runs_the_dev_profile_with_fewer_examples_than_make_test() -> None:
    """The developer loop draws fewer examples (fuzz targets and property tests), never none, and
    only when INSPECTOR_FUZZ=dev says so."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^test-fast:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe and "INSPECTOR_FUZZ=dev" in recipe.group(1)
    dev, short = (settings.get_profile(f"fuzz-{name}").max_examples for name in ("dev", "short"))
    assert 0 < dev < short, (dev, short)
    assert budget.DEV == (PROFILE == "dev")
    assert budget.examples(300) == (60 if budget.DEV else 300) and budget.examples(40) == (10 if budget.DEV else 40)
    # tests that name no settings: tests/conftest.py's profile (100 examples is hypothesis' own default)
    assert settings.default.max_examples == (20 if budget.DEV else 100) and settings.default.deadline is None
