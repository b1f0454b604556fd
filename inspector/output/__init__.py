"""Writing an audit's outputs: findings.json, the rectification list and the Markdown report."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from ..audit import AuditResult
from .atomic import publish
from .document import audit_document, dumps
from .markdown import render_markdown
from .rectification import evidence_csv, rectification_csv, rejected_csv

__all__ = ["write_outputs"]


def write_outputs(
    result: AuditResult, out_dir: Path, *, keep_going: bool = False, progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Path]:
    """Write every output file atomically; returns them by name (the notices as one folder)."""
    from ..report import render_reports, write_reports

    document = audit_document(result, keep_going=keep_going)
    data = dumps(document)
    files = {
        "findings.json": data,
        "evidence.csv": evidence_csv(result),
        "rectification.csv": rectification_csv(document["findings"]),
        "report.md": render_markdown(document).encode("utf-8"),
    }
    if result.rejected:
        files["rejected.csv"] = rejected_csv(result.rejected)
    else:
        (out_dir / "rejected.csv").unlink(missing_ok=True)  # from an earlier run: it would mislead
    written = publish(out_dir, files)
    # the reports read findings.json as written, exactly as `inspector report` reads it later
    reports = render_reports(json.loads(data), hashlib.sha256(data).hexdigest())
    for name, path in write_reports(out_dir, reports, progress).items():
        top = name.split("/", 1)[0]
        written[top] = path if top == name else out_dir / top
    return written
