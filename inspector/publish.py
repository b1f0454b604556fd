"""Writing an audit's outputs: findings.json, the rectification list, the Markdown report and
the reports built from them, published together as one set (see `output.atomic.publish_set`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import orjson

from .audit import AuditResult
from .output.atomic import publish_set
from .output.document import audit_document, dumps
from .output.markdown import render_markdown
from .output.rectification import evidence_csv, rectification_csv, rejected_csv
from .report import render_reports

__all__ = ["write_outputs"]


def write_outputs(
    result: AuditResult,
    out_dir: Path,
    *,
    keep_going: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Path]:
    """Render every output in memory, then publish them as one set replacing `out_dir`'s content
    (nothing is written if anything fails first); returns them by name (the notices as one folder)."""
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
    # the reports read their own parse of findings.json below: drop this copy first, so that two
    # parsed copies of every finding are not held at once (a national-scale audit's outputs peak)
    del document
    # the reports read findings.json as written, exactly as `inspector report` reads it later
    files.update(render_reports(orjson.loads(data), hashlib.sha256(data).hexdigest(), source=data))
    publish_set(out_dir, files, None if progress is None else lambda done, total: progress("生成报告", done, total))
    written: dict[str, Path] = {}
    for name in files:
        top = name.split("/", 1)[0]
        written[top] = out_dir / top
    return written
