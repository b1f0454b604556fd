"""What a web server is started with: the store, where evidence files go, the cookie secret, limits."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..history.database import target
from ..history.location import DbRef

MiB = 1024 * 1024


def _today() -> dt.date:
    return dt.date.today()


@dataclass(frozen=True)
class Settings:
    """A server's configuration; `for_db` fills in the defaults."""

    db: DbRef
    evidence_dir: Path
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    secure_cookies: bool = True  # Secure cookies: browsers send them to https:// and to localhost
    session_hours: int = 12
    token_hours: int = 24
    evidence_max_bytes: int = 10 * MiB
    upload_max_bytes: int = 64 * MiB  # an audit output folder or data workbook uploaded by an inspector
    login_attempts: str = "5/15 minutes"  # per user name (limits' notation)
    login_attempts_per_address: str = "50/15 minutes"  # per client address (an office behind one address)
    today: Callable[[], dt.date] = _today
    work_dir: Path | None = None  # where server-side audits are written (default: beside the evidence)

    @classmethod
    def for_db(cls, db: DbRef, **overrides: object) -> Settings:
        """Defaults for a store: evidence beside a SQLite file, else `./inspector-evidence`."""
        where = target(db)
        evidence = (
            where.path.with_name(where.path.name + ".evidence")
            if where.path is not None
            else Path("inspector-evidence")
        )
        values: dict[str, object] = {"evidence_dir": evidence}
        values.update(overrides)
        return cls(db=db, **values)  # type: ignore[arg-type]

    @property
    def runs_dir(self) -> Path:
        return self.work_dir or self.evidence_dir.with_name(self.evidence_dir.name + "-runs")
