"""Writing an audit's outputs: findings.json, the rectification list, the Markdown report and
the reports built from them, published together as one set (see `output.atomic.publish_set`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .audit import AuditResult
from .output.atomic import SetWriter
from .output.document import audit_document, dumps
from .output.rectification import evidence_csv, rejected_csv
from .report import ReportProcess, add_reports

__all__ = ["write_outputs"]


def write_outputs(
    result: AuditResult,
    out_dir: Path,
    *,
    keep_going: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    release: bool = False,
    workers: int | None = None,
) -> dict[str, Path]:
    """Render every output and publish them as one set replacing `out_dir`'s content (nothing is
    replaced if anything fails first); returns them by name (the notices as one folder). Each
    file is written to the set's temporary folder as soon as it is rendered: a national audit's
    notices and pages (about 2.7 GB) are never held at once. `release` lets go of the result's
    loaded tables and the engine's verdicts as soon as findings.json no longer needs them
    (`AuditResult.release`): for a caller that needs only the findings after this. `workers`: the
    command's `--workers` (1: the reports too are rendered in this process alone)."""
    with SetWriter(out_dir) as writer, ReportProcess(len(result.findings), workers) as helper:

        def add(name: str, data: bytes) -> None:
            writer.add(name, data)
            if progress is not None:
                progress("生成报告", len(writer.digests), 0)

        document = audit_document(result, keep_going=keep_going, release=release)
        add("findings.json", dumps(document))
        sha256 = writer.digests["findings.json"]  # the manifest's: the file's sha256, taken once
        helper.start(writer, "findings.json", sha256, rebuild=True)  # its parts begin while this one goes on
        add("evidence.csv", evidence_csv(result))
        if result.rejected:
            add("rejected.csv", rejected_csv(result.rejected))
        # the reports, the CSV list and report.md are rendered from this document, which is
        # findings.json's value type for type (dicts, lists, str, int, float, bool, None: what
        # parsing the bytes gives, checked for every audit the tests write, tests/shared_cases.py),
        # so they are the bytes `inspector report` rebuilds from the file
        add_reports(writer, document, sha256, rebuild=True, shared=helper, progress=progress)
        writer.publish()
    return {name: out_dir / name for name in sorted({name.split("/", 1)[0] for name in writer.digests})}
