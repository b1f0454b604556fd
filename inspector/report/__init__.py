"""Reports built from an audit's findings.json alone: the HTML report, the Excel rectification
list, one rectification notice per school, and (for a rebuild) the CSV list and the Markdown
summary. A county edition is the same reports of `county_document(document, county)`.

A large audit's reports are rendered by two processes: the traces pages and the workbook in a
second one (spawned, given findings.json's bytes), the rest in this one. Every file is the same
bytes either way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ..findings.model import decode_json
from ..findings.model import load_findings as read_document
from ..output.atomic import SetWriter
from ..output.markdown import render_markdown
from ..progress import Progress
from ..workers import available_cpus, requested_workers, spawned_pool
from .county import county_document, county_names, resolve_county
from .excel import rectification_xlsx
from .html import TRACES_DIR, environment, iter_traces, render_report
from .notices import NOTICES_DIR, iter_notices
from .rectification import rectification_csv
from .view import schools_of

__all__ = [
    "county_document",
    "county_names",
    "iter_reports",
    "load_findings",
    "render_reports",
    "resolve_county",
    "write_reports",
]


def load_findings(out_dir: Path) -> tuple[dict[str, Any], str]:
    """An audit's findings.json, read through the typed model (`findings.model.load_findings`: a
    malformed, foreign or newer document is a located error, exit 2), as the data the templates
    read, and the sha256 of its bytes (quoted in every report)."""
    loaded = read_document(out_dir)
    document = loaded.data
    document.setdefault("indicators", [])
    document.setdefault("data_gaps", [])
    document.setdefault("rejected_rows", [])
    return document, loaded.sha256


# from this many findings a second process renders part of the reports (below it, starting the
# process costs more than it saves)
PARALLEL_FROM = 2_000
# up to this size of findings.json: beyond it the second process's own parse of the document and
# the pages it sends back cost more memory than the time saved is worth (a national audit's
# findings.json is about 0.5 GB), so every page is rendered here, one at a time
PARALLEL_UP_TO_BYTES = 128 << 20


def render_reports(
    document: Mapping[str, Any],
    source_sha256: str,
    *,
    county: str | None = None,
    rebuild: bool = False,
    source: bytes | None = None,
) -> dict[str, bytes]:
    """Every report file by its path relative to the output folder (`iter_reports`, held)."""
    return dict(iter_reports(document, source_sha256, county=county, rebuild=rebuild, source=source))


def iter_reports(
    document: Mapping[str, Any],
    source_sha256: str,
    *,
    county: str | None = None,
    rebuild: bool = False,
    source: bytes | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Every report file as (path relative to the output folder, bytes), one at a time, so that a
    caller writing them as they come holds one page, not all of them.

    `rebuild` adds rectification.csv and report.md (an audit writes those itself); a county
    edition always has them, cut to the county like the rest. `source` (findings.json's bytes,
    which `document` was read from) lets a second process share the work for a large audit.
    """
    if county is not None:
        document = county_document(document, county)
    rebuild = rebuild or county is not None
    if (
        source is not None
        and PARALLEL_FROM <= len(document["findings"])
        and len(source) <= PARALLEL_UP_TO_BYTES
        and _second_process()
    ):
        try:
            with spawned_pool(1) as pool:
                pages = pool.submit(_render_pages, source, source_sha256, county)
                files = dict(_render_documents(document, source_sha256, rebuild=rebuild))
                files.update(pages.result())
        except (BrokenProcessPool, OSError):
            pass  # the second process could not start or died: render here, same bytes
        else:
            yield from files.items()
            return
    yield from _render_documents(document, source_sha256, rebuild=rebuild)
    yield from _pages(document, source_sha256)


def _second_process() -> bool:
    requested = requested_workers(None, os.environ)
    return (requested if requested is not None else available_cpus()) > 1


def _render_documents(document: Mapping[str, Any], source_sha256: str, *, rebuild: bool) -> Iterator[tuple[str, bytes]]:
    """The report, the notices and (for a rebuild or an edition) the CSV list and report.md."""
    env = environment()
    schools = schools_of(document["findings"])  # the report's and the notices'
    yield "report.html", render_report(document, source_sha256, env, schools=schools).encode("utf-8")
    if rebuild:
        yield "rectification.csv", rectification_csv(document["findings"])
        yield "report.md", render_markdown(dict(document)).encode("utf-8")
    yield from iter_notices(document, source_sha256, env, schools=schools)


def _pages(document: Mapping[str, Any], source_sha256: str) -> Iterator[tuple[str, bytes]]:
    """The traces pages and the workbook: the share of a second process."""
    yield "rectification.xlsx", rectification_xlsx(document, source_sha256)
    yield from iter_traces(document, source_sha256, environment())


def _render_pages(source: bytes, source_sha256: str, county: str | None) -> dict[str, bytes]:
    """`_pages` in the second process, from findings.json's bytes (decoded as the first process
    decoded them: integers past 64 bits exactly)."""
    document = decode_json(source, "findings.json")
    return dict(_pages(county_document(document, county) if county is not None else document, source_sha256))


def write_reports(
    out_dir: Path, files: Mapping[str, bytes] | Iterable[tuple[str, bytes]], progress: Progress | None = None
) -> dict[str, Path]:
    """Publish the files (a mapping, or pairs written as they come, `iter_reports`) as the folder's
    new set: what the folder already held from the tool (findings.json, rejected.csv, county
    editions) is carried over, except notices and traces, so the folder holds exactly this run's
    pages (see `atomic.SetWriter`). Returns each file's path."""
    items = sorted(files.items()) if isinstance(files, Mapping) else files
    total = len(files) if isinstance(files, Mapping) else 0
    with SetWriter(out_dir, keep=lambda name: not name.startswith((NOTICES_DIR + "/", TRACES_DIR + "/"))) as writer:
        for name, data in items:
            writer.add(name, data)
            if progress is not None:
                progress("生成报告", len(writer.digests), total)
        writer.publish()
    return {name: out_dir / name for name in writer.digests}
