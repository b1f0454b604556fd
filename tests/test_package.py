"""The installed package holds no test code: the synthetic generators live in tests/synthetic.

Only `inspector.testing` (AuditBuilder, for rule authors testing their packs) is a testing helper; no
module of the package imports the generators, pytest or hypothesis, which a user's installation lacks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import inspector
import inspector.testing

PACKAGE = Path(inspector.__file__).resolve().parent
# Top-level modules only tests may import: the generators (tests/ on the path) and the test tools.
TEST_ONLY = frozenset({"synthetic", "tests", "conftest", "pytest", "_pytest", "pytest_bdd", "hypothesis"})


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imported(path: Path) -> set[str]:
    """Top-level names of the modules `path` imports (relative imports stay within the package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


class TestNoTestCode:
    def test_the_scan_sees_the_package(self) -> None:
        """The scan reads the package's own modules, the CLI and the builder among them."""
        found = {path.relative_to(PACKAGE).as_posix() for path in _modules()}
        assert {"__init__.py", "cli.py", "testing.py"} <= found

    def test_no_module_imports_test_code(self) -> None:
        """No module of the package imports synthetic, pytest, pytest-bdd or hypothesis."""
        offenders = {path.relative_to(PACKAGE).as_posix(): sorted(_imported(path) & TEST_ONLY) for path in _modules()}
        assert {name: found for name, found in offenders.items() if found} == {}

    def test_testing_is_the_only_testing_helper(self) -> None:
        """inspector/testing.py is a single module, and nothing else in the package is named for tests."""
        assert not hasattr(inspector.testing, "__path__")  # a module, not the old inspector/testing/ package
        assert list((PACKAGE / "testing").glob("*.py")) == []
        named_for_tests = [
            path.relative_to(PACKAGE).as_posix()
            for path in PACKAGE.rglob("*")
            if path.name != "testing.py"
            and "__pycache__" not in path.parts
            and (path.stem.startswith(("test", "conftest", "synthetic")) or path.stem.endswith("_test"))
        ]
        assert named_for_tests == []

    def test_the_builder_is_importable_from_inspector_testing(self) -> None:
        """Rule authors import the builder and its result from inspector.testing, as the README shows."""
        from inspector.testing import AuditBuilder, AuditRun

        assert set(inspector.testing.__all__) >= {"AuditBuilder", "AuditRun"}
        assert AuditBuilder.__module__ == AuditRun.__module__ == "inspector.testing"
