"""List tests with neither a docstring nor a descriptive name, shortest names first.

Run from the repository root: `python tests/support/undocumented_tests.py`. A test whose name has
fewer than 4 words after `test_` (test_basic, test_ok) and no docstring does not say what behaviour
it checks; those are counted on the last line (stderr), and should be none.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SHORT = 4


def undocumented(root: Path) -> list[tuple[int, str, str]]:
    rows = []
    for path in sorted(root.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_test = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
            if is_test and not ast.get_docstring(node):
                rows.append((len(node.name[5:].split("_")), f"{path}:{node.lineno}", node.name))
    return sorted(rows)


if __name__ == "__main__":
    found = undocumented(Path("tests"))
    for words, where, name in found:
        print(words, where, name)
    short = sum(1 for words, _, _ in found if words < SHORT)
    print(f"{len(found)} tests without a docstring; {short} of them with a name under {SHORT} words", file=sys.stderr)
    sys.exit(1 if short else 0)
