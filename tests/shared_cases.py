"""The committed cases under cases/ audited once per test process and shared: the `audited_case`
and `case_out` fixtures (a plugin of tests/conftest.py)."""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from inspector.audit import AuditResult, run_audit
from inspector.publish import write_outputs

CASES = Path(__file__).resolve().parents[1] / "cases"


def _fingerprint(result: AuditResult) -> tuple[object, ...]:
    return (
        tuple(f.id for f in result.findings),
        len(result.gaps),
        len(result.rejected),
        tuple((rule_id, len(o.failed), len(o.passed), len(o.gaps)) for rule_id, o in sorted(result.outcomes.items())),
    )


class SharedCases:
    """Committed cases under cases/, each audited at most once per test process (once per xdist
    worker) with `run_audit(folder, keep_tables=True)` (one partition, its entity tables kept for the
    tests that read them). The results are shared between tests: read them, never change them
    (teardown checks that findings and verdict sets are as the audit left them).
    A test that needs to change a case copies the folder and audits the copy."""

    def __init__(self) -> None:
        self._results: dict[str, tuple[AuditResult, tuple[object, ...]]] = {}

    def __call__(self, name: str) -> AuditResult:
        if name not in self._results:
            result = run_audit(CASES / name, keep_tables=True)
            self._results[name] = (result, _fingerprint(result))
            # the results live as long as the session: frozen, the cyclic collector's full passes
            # (0.16 s each with a city case held, 20 to 30 per process) no longer walk them
            gc.collect()
            gc.freeze()
        return self._results[name][0]

    def check_unchanged(self) -> None:
        for name, (result, fingerprint) in self._results.items():
            assert _fingerprint(result) == fingerprint, f"a test changed the shared audit of cases/{name}"


@pytest.fixture(scope="session")
def audited_case() -> Iterator[SharedCases]:
    """`audited_case("liuzhou-2025")`: the case's AuditResult, audited once per session and shared."""
    shared = SharedCases()
    yield shared
    shared.check_unchanged()


def _written(tmp_path_factory: pytest.TempPathFactory, audited_case: SharedCases, name: str) -> Path:
    """The shared audit of cases/`name` with every output written, as `inspector audit` writes them
    (run_audit then write_outputs)."""
    out = tmp_path_factory.mktemp(name) / "out"
    write_outputs(audited_case(name), out)
    return out


@pytest.fixture(scope="session")
def case_out(tmp_path_factory: pytest.TempPathFactory, audited_case: SharedCases) -> Path:
    """cases/liuzhou-2025's shared audit with every output written; tests only read the folder, or
    copy it to change it."""
    return _written(tmp_path_factory, audited_case, "liuzhou-2025")


@pytest.fixture(scope="session")
def small_case_out(tmp_path_factory: pytest.TempPathFactory, audited_case: SharedCases) -> Path:
    """cases/liuzhou-2020-baseline (statistics only, 13 findings) with every output written: for
    tests of what the tool does with an output folder, where the city case's 941 findings only
    cost time. Read only, or copy it to change it."""
    return _written(tmp_path_factory, audited_case, "liuzhou-2020-baseline")


@pytest.fixture(scope="session", autouse=True)
def _reports_render_what_findings_json_holds() -> Iterator[None]:
    """Wherever a test writes an audit's outputs in its process (the shared cases too: a session
    fixture set up first), the document `write_outputs` renders the reports from is findings.json's
    value type for type, as `inspector report` parses it: so the audit need not parse the file it
    has just written, and a rebuild still writes the same bytes."""
    import inspector.publish

    real = inspector.publish.add_reports

    def checked(writer: Any, document: Mapping[str, Any], source_sha256: str, **kwargs: Any) -> None:
        _assert_json_typed(document)
        written = writer.temp / "findings.json"  # an audit's set holds it; a rebuild carries it over
        if written.is_file():
            assert orjson.loads(written.read_bytes()) == document
        real(writer, document, source_sha256, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inspector.publish, "add_reports", checked)
        yield


def _assert_json_typed(value: Any, where: str = "document") -> None:
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            assert type(key) is str, f"{where}: key {key!r} is a {type(key).__name__}"
            _assert_json_typed(item, f"{where}.{key}")
    elif kind is list:
        for index, item in enumerate(value):
            _assert_json_typed(item, f"{where}[{index}]")
    elif kind is float:
        assert math.isfinite(value), f"{where}: {value}"
    else:
        assert kind in (str, int, bool, type(None)), f"{where}: a {kind.__name__}, not a JSON value"
