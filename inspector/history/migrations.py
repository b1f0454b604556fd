"""The history store's schema: numbered SQL steps applied in order, the version in `PRAGMA user_version`.

A migration is never edited once released: a change of schema is a new step at the end. Each
step runs in its own transaction together with the version bump, so a failed migration leaves
the database at the previous version.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    title: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "audits, their files and findings",
        (
            """CREATE TABLE audits (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,               -- derived from the audit's inputs, packs and params
                name TEXT NOT NULL,
                region TEXT,
                as_of TEXT NOT NULL,
                target_year INTEGER,
                source_dir TEXT,                       -- the audit folder, when known
                out_dir TEXT,                          -- the output folder, when known
                rules_dir TEXT,                        -- where its rule packs were read
                previous_id TEXT,                      -- the audit it was re-inspected against
                imported_on TEXT NOT NULL,             -- the importing command's --today
                document BLOB NOT NULL,                -- findings.json, byte for byte
                document_sha256 TEXT NOT NULL
            )""",
            """CREATE TABLE audit_files (
                audit_id TEXT NOT NULL REFERENCES audits(id),
                role TEXT NOT NULL,                    -- config | input | waivers | pack | output
                name TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                PRIMARY KEY (audit_id, role, name)
            )""",
            """CREATE TABLE findings (
                audit_id TEXT NOT NULL REFERENCES audits(id),
                finding_id TEXT NOT NULL,
                rule_id TEXT NOT NULL,
                entity_type TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                school_id TEXT,
                county TEXT NOT NULL,
                severity TEXT NOT NULL,
                deadline TEXT NOT NULL,
                change TEXT,                           -- new | persisting | regressed (re-inspections)
                data TEXT NOT NULL,                    -- the finding as in findings.json
                PRIMARY KEY (audit_id, finding_id)
            )""",
            "CREATE INDEX findings_by_finding ON findings(finding_id)",
        ),
    ),
    Migration(
        2,
        "waivers, re-inspection results and indicator values",
        (
            "ALTER TABLE findings ADD COLUMN waiver_expires TEXT",  # the valid waiver's expiry, if waived
            """CREATE TABLE resolutions (
                audit_id TEXT NOT NULL REFERENCES audits(id),
                finding_id TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('resolved', 'unverified')),
                rule_id TEXT NOT NULL,
                entity_type TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                county TEXT NOT NULL,
                data TEXT NOT NULL,                    -- the entry of findings.json's resolved / unverified
                PRIMARY KEY (audit_id, finding_id)
            )""",
            "CREATE INDEX resolutions_by_finding ON resolutions(finding_id)",
            """CREATE TABLE indicator_values (
                audit_id TEXT NOT NULL REFERENCES audits(id),
                rule_id TEXT NOT NULL,
                entity_type TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                county TEXT NOT NULL,
                verdict TEXT NOT NULL,                 -- pass | fail | gap
                field TEXT,
                value REAL,
                data TEXT NOT NULL,                    -- the entry of findings.json's indicators
                PRIMARY KEY (audit_id, rule_id, entity_type, entity_id)
            )""",
        ),
    ),
    Migration(
        3,
        "the rectification ledger: items and hash-chained, append-only events",
        (
            """CREATE TABLE items (
                finding_id TEXT PRIMARY KEY,
                rule_id TEXT NOT NULL,
                rule_title TEXT NOT NULL,
                entity_type TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                school_id TEXT,
                school_name TEXT,
                county TEXT NOT NULL,
                severity TEXT NOT NULL,
                message TEXT NOT NULL,
                responsible TEXT NOT NULL,
                state TEXT NOT NULL,
                level INTEGER NOT NULL,
                deadline TEXT NOT NULL,
                since TEXT NOT NULL,
                opened_audit TEXT NOT NULL,
                last_audit TEXT NOT NULL
            )""",
            "CREATE INDEX items_by_place ON items(county, school_id)",
            """CREATE TABLE events (
                seq INTEGER PRIMARY KEY,               -- 1, 2, 3 … without gaps
                finding_id TEXT NOT NULL,
                transition TEXT NOT NULL,              -- a lifecycle transition id, or `open`
                from_state TEXT,
                to_state TEXT NOT NULL,
                level INTEGER NOT NULL,
                deadline TEXT NOT NULL,
                actor TEXT NOT NULL,
                day TEXT NOT NULL,                     -- the command's --today
                note TEXT NOT NULL,
                audit_id TEXT,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL                     -- sha256(prev_hash + canonical JSON of the event)
            )""",
            "CREATE INDEX events_by_finding ON events(finding_id, seq)",
            """CREATE TABLE ledger_head (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                seq INTEGER NOT NULL,
                hash TEXT NOT NULL
            )""",
            """CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
               BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END""",
            """CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
               BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END""",
        ),
    ),
)

LATEST = MIGRATIONS[-1].version
APPEND_ONLY_TRIGGERS = ("events_append_only_update", "events_append_only_delete")


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> list[Migration]:
    """Apply the steps after the database's version up to `target`; returns those applied.

    `conn` must be in autocommit mode (isolation_level=None): each step is its own transaction.
    """
    current = version(conn)
    if current > LATEST:
        raise SchemaTooNew(current)
    applied: list[Migration] = []
    for migration in MIGRATIONS:
        if migration.version <= current or migration.version > target:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {migration.version:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(migration)
    return applied


class SchemaTooNew(Exception):
    def __init__(self, found: int) -> None:
        self.found = found
        super().__init__(found)
