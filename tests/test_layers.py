"""The package's imports point down the pipeline: records → rules → engine → findings →
(waivers, history, report, web) → cli. Every module's imports are read with `ast` (lazy imports
inside functions included) and each one that points up is named."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "inspector"

# Lowest first; a unit may import its own layer and any below it. A unit is a top-level module or
# subpackage of `inspector`.
LAYERS: list[tuple[str, ...]] = [
    # base: no knowledge of the pipeline
    (
        "errors",
        "limits",
        "text",
        "numbers",
        "validation_messages",
        "resources",
        "jinja_cache",
        "progress",
        "heap",
        "workers",
        "yamlsrc",
    ),
    ("records",),
    ("rules",),
    ("engine",),
    ("findings",),
    ("waivers", "partitions"),  # orchestration of one run: partitions drive the engine and build findings
    ("audit",),  # records → rules → engine → findings → waivers, for one folder
    ("explain", "output"),
    ("report", "entry", "testing"),
    ("publish", "history", "catalog"),  # publish renders the reports; catalog runs audits and lints the ledger
    ("web",),
    ("cli", "__init__", "__main__"),
]
LEVEL = {unit: level for level, units in enumerate(LAYERS) for unit in units}

# Imports that still point up, each to be removed by moving code down (issue 14, item 5); the
# test fails when one is fixed and left here as much as when a new one appears.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import of an `inspector` module in `path`."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    package = parts[:-1]  # a relative import counts from the module's package (an __init__'s own)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                if node.module:
                    found.append((node.lineno, ".".join([*base, node.module])))
                else:
                    found.extend((node.lineno, ".".join([*base, alias.name])) for alias in node.names)
            elif node.module and node.module.split(".")[0] == "inspector":
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "inspector")
    return found


@functools.cache  # both tests read it: the package parsed once (about 0.7 s)
def _upward() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        source = _unit(module)
        for line, target in _imports(path):
            imported = _unit(target)
            if imported == source:
                continue
            assert source in LEVEL, f"{module} is in no layer of LAYERS: place `{source}` there"
            assert imported in LEVEL, f"{module}:{line} imports {target}, in no layer of LAYERS: place `{imported}`"
            if LEVEL[imported] > LEVEL[source]:
                edges.setdefault((source, imported), []).append(
                    f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
                )
    return edges


def test_no_module_imports_up_the_pipeline() -> None:
    """Every upward import is one of the known, listed ones; each message names the module and the import."""
    upward = _upward()
    new = [where for edge, wheres in sorted(upward.items()) if edge not in KNOWN_UPWARD for where in wheres]
    assert not new, "imports pointing up the pipeline (move the shared code down instead):\n" + "\n".join(new)


def test_known_upward_imports_are_still_there() -> None:
    """An upward import that has been straightened is taken off the list, so the list only shrinks."""
    gone = sorted(set(KNOWN_UPWARD) - set(_upward()))
    assert not gone, f"no longer imported upward, remove from KNOWN_UPWARD: {gone}"


def test_relative_imports_resolve_to_their_module() -> None:
    """`from ..records.params import ParamValue` in rules/spec.py is read as inspector.records.params."""
    assert any(target == "inspector.records.params" for _, target in _imports(PACKAGE / "rules" / "spec.py"))
    assert all(_unit(target) != "rules" for _, target in _imports(PACKAGE / "records" / "config.py"))
