"""Writing an audit's outputs: findings.json, the rectification list and the Markdown report."""

from __future__ import annotations

from pathlib import Path

from ..audit import AuditResult
from .atomic import publish
from .document import audit_document, dumps
from .markdown import render_markdown
from .rectification import rectification_csv, rejected_csv

__all__ = ["write_outputs"]


def write_outputs(result: AuditResult, out_dir: Path, *, keep_going: bool = False) -> dict[str, Path]:
    """Write every output file atomically; returns them by name."""
    document = audit_document(result, keep_going=keep_going)
    files = {
        "findings.json": dumps(document),
        "rectification.csv": rectification_csv(result.findings),
        "report.md": render_markdown(document).encode("utf-8"),
    }
    if result.rejected:
        files["rejected.csv"] = rejected_csv(result.rejected)
    else:
        (out_dir / "rejected.csv").unlink(missing_ok=True)  # from an earlier run: it would mislead
    return publish(out_dir, files)
