"""The web application's side of the history store: one SQLAlchemy engine for reads, and one thread
that owns the lifecycle engine and makes every change to the ledger.

durable_rules is not thread-safe (an evaluator must stay on the thread that created it), so the
ledger's engine, like the warm engine of 自查, lives on a single dedicated thread; every ledger
change is submitted to it and runs there in one write transaction. Writes are therefore serialised
in this process, and across processes by the store's own write lock; two requests acting on one
item on what they both saw are told apart by the item's version (optimistic locking): the second
is refused with `ItemChanged`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DBAPIError

from ..history import database, schema
from ..history.ledger import Ledger
from ..history.lifecycle import Lifecycle, LifecycleEngine, load_lifecycle
from ..history.store import HistoryStore
from . import queries
from .settings import Settings

T = TypeVar("T")


class Backend:
    """The store and the engine thread of one server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.label = database.label(settings.db)
        HistoryStore.open(settings.db, create=True).close()  # created, or migrated to the latest revision
        self.engine = database.engine_for(settings.db)
        self.lifecycle: Lifecycle = load_lifecycle()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inspector-engine")
        self._thread_state = threading.local()
        self.thread_ident: int | None = None
        self._closed = False
        self._summary_lock = threading.Lock()
        self._summary_mark: tuple[Any, ...] | None = None
        self._summaries: dict[Hashable, Any] = {}
        self._audit_rows: dict[str, dict[str, Any]] = {}

    # -- reading (any thread) ----------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading; its transaction is ended when the block ends."""
        with self.engine.connect() as conn:
            yield conn

    def summary(self, conn: Connection, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` (an aggregate over the ledger's items: counts by state, the rule list), kept
        until the ledger changes. Every change to an item is an event in the hash chain and every
        import adds an audit, so the last event's seq and the number of audits mark what was read;
        they are read afresh on each call, so a change made by another process (the CLI) is seen."""
        e, a = schema.events, schema.audits
        mark = conn.execute(
            select(select(func.max(e.c.seq)).scalar_subquery(), select(func.count()).select_from(a).scalar_subquery())
        ).one()
        with self._summary_lock:
            if self._summary_mark != tuple(mark):
                self._summary_mark, self._summaries = tuple(mark), {}
            if key in self._summaries:
                return self._summaries[key]  # type: ignore[no-any-return]
        value = compute()
        with self._summary_lock:
            if self._summary_mark == tuple(mark) and len(self._summaries) < 10_000:
                self._summaries[key] = value
        return value

    def audit_row(self, conn: Connection, audit_id: str) -> dict[str, Any] | None:
        """An audit's summary row (`queries.audit_row`), kept once read: an audit's row is written once,
        on import, and never changed. On SQLite, reading it costs a walk over the audit's stored
        findings.json (its sha256 column comes after the document in the row): 10-20 ms at 20,000
        findings, on every finding and trace page before it was kept."""
        with self._summary_lock:
            known = self._audit_rows.get(audit_id)
        if known is not None:
            return dict(known)
        row = queries.audit_row(conn, audit_id)
        if row is not None:
            with self._summary_lock:
                if len(self._audit_rows) < 10_000:
                    self._audit_rows[audit_id] = dict(row)
        return row

    def store(self, conn: Connection) -> HistoryStore:
        """The store's reading methods on a connection of ours (never closed through the store)."""
        return HistoryStore(self.engine, conn, self.label)

    # -- the engine thread ---------------------------------------------------------------------------

    def submit(self, task: Callable[[], T]) -> Future[T]:
        """Run `task` on the engine thread."""
        return self._executor.submit(self._run, task)

    def _run(self, task: Callable[[], T]) -> T:
        self.thread_ident = threading.get_ident()
        return task()

    def call(self, task: Callable[[], T]) -> T:
        """Run `task` on the engine thread and wait for it (from a worker thread of the server)."""
        return self.submit(task).result()

    async def acall(self, task: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self.submit(task))

    def lifecycle_engine(self) -> LifecycleEngine:
        """The lifecycle on the engine, created once on the engine thread (call only there)."""
        engine: LifecycleEngine | None = getattr(self._thread_state, "lifecycle", None)
        if engine is None:
            engine = self._thread_state.lifecycle = self.lifecycle.engine()
        return engine

    def change(self, action: Callable[[Ledger], T]) -> T:
        """Run `action` on the ledger in one write transaction, on the engine thread; wait for it."""
        return self.call(lambda: self.change_here(action))

    def change_here(self, action: Callable[[Ledger], T]) -> T:
        with self.engine.connect() as conn:
            store = self.store(conn)
            ledger = Ledger(store, self.lifecycle, self.lifecycle_engine())
            try:
                with store.transaction():
                    return action(ledger)
            except DBAPIError as exc:
                raise store.translate(exc) from None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        def stop() -> None:
            engine: Any = getattr(self._thread_state, "lifecycle", None)
            if engine is not None:
                engine.close()
            selfcheck: Any = getattr(self._thread_state, "selfcheck", None)
            if selfcheck is not None:
                selfcheck.close()

        try:
            self.submit(stop).result(timeout=30)
        finally:
            self._executor.shutdown(wait=True)
            self.engine.dispose()

    def thread_state(self) -> threading.local:
        """Per-thread state of the engine thread (the warm engines live here)."""
        return self._thread_state
