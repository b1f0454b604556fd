"""Reports built from an audit's findings.json alone: the HTML report, the Excel rectification
list, one rectification notice per school, and (for a rebuild) the CSV list and the Markdown
summary. A county edition is the same reports of `county_document(document, county)`.

A large audit's reports are rendered by two processes, each writing its files into the set
(`add_reports`). Every file is the same bytes either way.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any, Self

import orjson

from ..findings.model import decode_json
from ..findings.model import load_findings as read_document
from ..heap import keep_to_the_end
from ..output.atomic import SetShare, SetWriter
from ..output.markdown import render_markdown
from ..progress import Progress
from ..workers import available_cpus, requested_workers, spawned_pool
from .county import county_document, county_names, resolve_county
from .excel import rectification_xlsx
from .html import TRACES_DIR, environment, iter_traces, render_report
from .notices import NOTICES_DIR, iter_notices
from .rectification import rectification_csv
from .view import School, schools_of

__all__ = [
    "ReportProcess",
    "add_reports",
    "county_document",
    "county_names",
    "iter_reports",
    "load_findings",
    "load_source",
    "render_reports",
    "resolve_county",
    "write_reports",
]


def load_findings(out_dir: Path) -> tuple[dict[str, Any], str]:
    """An audit's findings.json, read through the typed model (`findings.model.load_findings`: a
    malformed, foreign or newer document is a located error, exit 2), as the data the templates
    read, and the sha256 of its bytes (quoted in every report)."""
    document, sha256, _source = load_source(out_dir)
    return document, sha256


def load_source(out_dir: Path) -> tuple[dict[str, Any], str, bytes]:
    """`load_findings`, and findings.json's bytes (`add_reports`' `source`)."""
    loaded = read_document(out_dir)
    return _with_defaults(loaded.data), loaded.sha256, loaded.source


def _with_defaults(document: dict[str, Any]) -> dict[str, Any]:
    """The lists a findings.json may leave out (the model allows it), as the templates read them."""
    document.setdefault("indicators", [])
    document.setdefault("data_gaps", [])
    document.setdefault("rejected_rows", [])
    return document


# a second process shares the reports of an audit with this many findings or more (below it,
# starting the process costs more than it saves) and up to `PARALLEL_UP_TO` (beyond it, its own
# parse of findings.json costs more memory than the time saved is worth: a national audit's is
# 155,000 findings, about 0.5 GB, and every page is rendered in one process, one at a time)
PARALLEL_FROM = 2_000
PARALLEL_UP_TO = 40_000


class ReportProcess:
    """The second process that shares a large audit's reports (`add_reports`). Entered as soon as
    the number of findings is known, it starts then, so that its start overlaps the work before
    the reports; for a small or a very large audit, on one CPU or with `INSPECTOR_WORKERS=1`, it is
    not started. `start` gives it its share as soon as findings.json is written."""

    def __init__(self, findings: int, workers: int | None = None) -> None:
        self.findings = findings
        self.workers = workers  # the command's `--workers`, when given: 1 keeps the reports here too
        self.pool: ProcessPoolExecutor | None = None
        self.claims: Synchronized[int] | None = None
        self.given: tuple[str | None, bool] | None = None  # the county and rebuild of the share `start` gave
        self.job: Future[dict[str, str]] | None = None  # the second process's share, once given
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Self:
        if PARALLEL_FROM <= self.findings <= PARALLEL_UP_TO and _second_process(self.workers):
            self.claims = multiprocessing.get_context("spawn").Value("i", 0)
            self.pool = self._stack.enter_context(spawned_pool(1, _take_claims, (self.claims,)))
            with contextlib.suppress(BrokenProcessPool, OSError):  # `add_reports` finds out again
                self.pool.submit(_started)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.claims is not None:
            _close(self.claims, self.job)  # after an error, the process stops after the part it renders
        self._stack.close()
        # let go of the count (a semaphore) and the job at once: a failed job's error, its traceback
        # and their frames can hold them in a reference cycle, never freed with the collector off
        # (`heap`), and a semaphore left at a quick exit (`cli.console`) is reported as leaked
        self.claims, self.pool, self.job = None, None, None

    def start(
        self,
        writer: SetWriter,
        source: bytes | str,
        source_sha256: str,
        *,
        county: str | None = None,
        rebuild: bool = False,
    ) -> None:
        """Give the second process, if started, its share of `writer`'s reports (`add_reports`,
        with the same `county` and `rebuild`): it reads findings.json from `source`, its bytes or
        the name of the file in the set that holds them, written already by this audit's `dumps`
        (nothing is sent through the pipe), and takes parts as soon as it has read them, while
        this process goes on."""
        if self.pool is None or self.claims is None:
            return
        rebuild = rebuild or county is not None  # as `add_reports` reads them: the same parts
        self.given = county, rebuild
        try:
            self.job = self.pool.submit(_second_share, source, source_sha256, county, rebuild, writer.share())
        except (BrokenProcessPool, OSError):
            self.job = None


def _started() -> None:
    """The first task: the process has started and imported this module."""


def render_reports(
    document: Mapping[str, Any],
    source_sha256: str,
    *,
    county: str | None = None,
    rebuild: bool = False,
) -> dict[str, bytes]:
    """Every report file by its path relative to the output folder (`iter_reports`, held)."""
    return dict(iter_reports(document, source_sha256, county=county, rebuild=rebuild))


def iter_reports(
    document: Mapping[str, Any],
    source_sha256: str,
    *,
    county: str | None = None,
    rebuild: bool = False,
) -> Iterator[tuple[str, bytes]]:
    """Every report file as (path relative to the output folder, bytes), one at a time, so that a
    caller writing them as they come holds one page, not all of them.

    `rebuild` adds rectification.csv and report.md (an audit writes those itself); a county
    edition always has them, cut to the county like the rest.
    """
    if county is not None:
        document = county_document(document, county)
    for part in _parts(document, source_sha256, rebuild=rebuild or county is not None):
        yield from part()


def add_reports(
    writer: SetWriter,
    document: Mapping[str, Any],
    source_sha256: str,
    *,
    county: str | None = None,
    rebuild: bool = False,
    shared: ReportProcess | None = None,
    progress: Progress | None = None,
) -> None:
    """Write every report file (`iter_reports`) into `writer`'s set.

    `shared`: a `ReportProcess` given its share of the same reports (`ReportProcess.start`), to
    share a large audit's reports with the second process. The reports come in parts (`_parts`:
    the workbook, the report, the lists, the traces pages, each county's notices); each process
    takes the next part nobody has taken, renders it and writes its files into the set's folder,
    so both CPUs render and both create files. Every file is the same bytes either way; if the
    second process cannot start or dies, this one renders the parts it had taken, replacing what
    it may have left.
    """
    if county is not None:
        document = county_document(document, county)
    rebuild = rebuild or county is not None

    def add(name: str, data: bytes, *, replace: bool = False) -> None:
        writer.add(name, data, replace=replace)
        if progress is not None:
            progress("生成报告", len(writer.digests), 0)

    parts = _parts(document, source_sha256, rebuild=rebuild)
    if shared is None or shared.claims is None or shared.given is None:
        for part in parts:
            for name, data in part():
                add(name, data)
        return
    assert shared.given == (county, rebuild), "the second process was given other reports"
    claims, job = shared.claims, shared.job
    try:
        mine = _render_claimed(parts, claims, add, job)
    except BaseException:
        _close(claims, job)  # the second process stops after the part it renders, before the set is removed
        if job is not None:
            with contextlib.suppress(BaseException):
                job.exception()
        raise
    # a failure is read, not raised here (its traceback would then hold this frame, in a cycle)
    failure = job.exception() if job is not None else None
    if failure is not None and not isinstance(failure, (BrokenProcessPool, OSError)):
        raise failure  # the second process's bug: as this process's own
    digests = job.result() if job is not None and failure is None else None
    if digests is not None:
        writer.adopt(digests)
        return
    print("注意：生成报告的第二个进程未能完成，其负责的部分已由本进程重新生成（内容相同）。", file=sys.stderr)
    for claim, part in enumerate(parts):  # the second process's parts, here: same bytes
        if claim not in mine:
            for name, data in part():
                add(name, data, replace=True)


Part = Callable[[], Iterable[tuple[str, bytes]]]


def _parts(document: Mapping[str, Any], source_sha256: str, *, rebuild: bool) -> list[Part]:
    """The report files in parts two processes can share, the longest first: the workbook, the
    report, (for a rebuild or an edition) the CSV list, the traces pages, (again for a rebuild)
    report.md, and each county's notices."""
    env = environment()
    schools = schools_of(document["findings"])
    counties: dict[str, list[School]] = {}
    for school in schools:
        counties.setdefault(school.county, []).append(school)

    def workbook() -> Iterator[tuple[str, bytes]]:
        yield "rectification.xlsx", rectification_xlsx(document, source_sha256)

    def report() -> Iterator[tuple[str, bytes]]:
        yield "report.html", render_report(document, source_sha256, env, schools=schools).encode("utf-8")

    def csv_list() -> Iterator[tuple[str, bytes]]:
        yield "rectification.csv", rectification_csv(document["findings"])

    def markdown() -> Iterator[tuple[str, bytes]]:
        yield "report.md", render_markdown(dict(document)).encode("utf-8")

    return [
        workbook,
        report,
        *([csv_list] if rebuild else []),
        functools.partial(iter_traces, document, source_sha256, env),
        *([markdown] if rebuild else []),
        *(functools.partial(iter_notices, document, source_sha256, env, schools=group) for group in counties.values()),
    ]


def _second_process(workers: int | None) -> bool:
    requested = workers if workers is not None else requested_workers(None, os.environ)
    return (requested if requested is not None else available_cpus()) > 1


_CLAIMS: Synchronized[int] | None = None  # the shared count of parts taken, in the second process


def _take_claims(claims: Synchronized[int]) -> None:
    global _CLAIMS
    _CLAIMS = claims
    # Ctrl-C is the first process's to handle: it closes the count and waits for this one, which
    # would otherwise print a traceback while it waits for work
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_LOOK = 0.2  # seconds between the first process's looks at the second while the count is locked


@contextlib.contextmanager
def _locked(claims: Synchronized[int], other: Future[Any] | None) -> Iterator[None]:
    """The count's lock. The first process, given the second's job as `other`, does not wait for
    ever on a lock the second process held when it was killed (between taking and releasing it):
    once that job is done, the second process takes no part any more, and the count is its own."""
    lock = claims.get_lock()
    acquired = lock.acquire(False)
    while not acquired and not (other is not None and other.done()):
        acquired = lock.acquire(True, _LOOK)
    if not acquired:  # the second process ended holding it (each later claim finds so at once)
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _close(claims: Synchronized[int], other: Future[Any] | None = None) -> None:
    with _locked(claims, other):
        claims.get_obj().value = 1 << 30  # the raw value: `claims.value` takes the lock again


def _claim(claims: Synchronized[int], other: Future[Any] | None = None) -> int:
    """The next part nobody has taken."""
    with _locked(claims, other):
        count = claims.get_obj()
        claim = int(count.value)
        count.value = claim + 1
    return claim


def _render_claimed(
    parts: Sequence[Part],
    claims: Synchronized[int],
    write: Callable[[str, bytes], None],
    other: Future[Any] | None = None,
) -> set[int]:
    """Take parts nobody has taken until none is left, writing each one's files; the parts taken
    (`other`: see `_locked`)."""
    taken: set[int] = set()
    while (claim := _claim(claims, other)) < len(parts):
        taken.add(claim)
        for name, data in parts[claim]():
            write(name, data)
    return taken


def _second_share(
    source: bytes | str, source_sha256: str, county: str | None, rebuild: bool, share: SetShare
) -> dict[str, str]:
    """The second process's parts (`add_reports`), from findings.json's bytes or the file of the
    set holding them (`ReportProcess.start`), written into the set's folder; the digests of what
    it wrote. The document is what the first process renders from: bytes given (a findings.json
    read from disk, maybe edited by hand) are decoded as the first process decoded them, integers
    past 64 bits exactly; the set's file this audit wrote with orjson holds none, and is read with
    orjson alone (looking for one took 0.03 s of a province)."""
    assert _CLAIMS is not None, "started without the shared count"
    if isinstance(source, str):
        document = _with_defaults(orjson.loads(share.read(source)))
    else:
        document = _with_defaults(decode_json(source, "findings.json"))
    if county is not None:
        document = county_document(document, county)
    _render_claimed(_parts(document, source_sha256, rebuild=rebuild), _CLAIMS, share.add)
    keep_to_the_end(document)  # the process leaves without freeing it (`workers`)
    share.synced()
    return share.digests


def write_reports(
    out_dir: Path,
    files: Mapping[str, bytes] | Callable[[SetWriter], None],
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Publish report files as the folder's new set: a mapping of them, or a function that writes
    them into the set (`add_reports`). What the folder already held from the tool (findings.json,
    rejected.csv, county editions) is carried over, except notices and traces, so the folder holds
    exactly this run's pages (see `atomic.SetWriter`). Returns each file's path."""
    with SetWriter(out_dir, keep=lambda name: not name.startswith((NOTICES_DIR + "/", TRACES_DIR + "/"))) as writer:
        if callable(files):
            files(writer)
        else:
            for name, data in sorted(files.items()):
                writer.add(name, data)
                if progress is not None:
                    progress("生成报告", len(writer.digests), len(files))
        writer.publish()
    return {name: out_dir / name for name in writer.digests}
