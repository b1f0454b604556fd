"""How legacy-v1.sqlite, legacy-v2.sqlite and legacy-v3.sqlite were made: history stores written by
the sqlite3 code that kept its schema in `PRAGMA user_version` (inspector/history/migrations.py and
store.py as of commit 6eef446, before the store moved to SQLAlchemy and Alembic).

It imports that code, so it runs only on that commit's files: it was run as
`git archive 6eef446 | tar -x -C /tmp/old`, this file copied to /tmp/old/tests/history_fixtures/,
then `PYTHONPATH=/tmp/old python /tmp/old/tests/history_fixtures/make_legacy_stores.py`. It is kept
to say how the fixtures came about, not to be run again. Each store records no folders (source_dir,
out_dir and rules_dir are NULL) so that `inspector verify` has no files of the machine that made
it to look for; nothing hashed depends on them.

- v1: two audits, the second a re-inspection, with their files and findings (the columns of
  migration 1, written as its INSERTs did): their resolutions and indicator values have no rows.
- v2: two audits, the second a re-inspection with resolutions and indicator values (no ledger yet).
- v3: the latest schema through the command line: an import, manual and automatic ledger changes,
  a re-inspection and an overdue escalation, and a waiver, so every table has rows.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
import tempfile
from pathlib import Path

from inspector.testing.builder import AuditBuilder  # where it was at 6eef446; today: inspector.testing

from inspector.audit import run_audit
from inspector.cli import main
from inspector.history import migrations
from inspector.history.integrity import audit_id_of, canonical, document_files, output_files, sha256_text
from inspector.history.store import HistoryStore
from inspector.output.document import audit_document, dumps

HERE = Path(__file__).resolve().parent
WAIVERS = "waivers:\n  - {rule: class-size.large, entity: C3, reason: 临时合班, authority: 城中区教育局, expires: 2025-04-30}\n"


def _folder(root: Path, name: str, as_of: dt.date, sizes: dict[str, int], waivers: str | None = None) -> Path:
    builder = AuditBuilder(as_of=as_of, name=f"旧版历史库{name}")
    builder.school("P1", name="城中区测试小学")
    for grade, (class_id, size) in enumerate(sizes.items(), start=1):
        builder.klass("P1", str(grade), size, class_id)
    builder.teacher("P1", subject="体育", hire_year=as_of.year)  # a county indicator (new PE and art teachers)
    builder.teacher("P1", subject="语文", hire_year=as_of.year)
    folder = builder.write(root / name)
    if waivers:
        (folder / "waivers.yaml").write_text(waivers, encoding="utf-8")
    return folder


def _output(root: Path, folder: Path) -> Path:
    out = root / f"out-{folder.name}"
    out.mkdir()
    (out / "findings.json").write_bytes(dumps(audit_document(run_audit(folder))))
    return out


def _forget_folders(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("UPDATE audits SET source_dir = NULL, out_dir = NULL, rules_dir = NULL")
    conn.commit()
    conn.execute("VACUUM")
    conn.close()


def _reinspection(root: Path, first: Path, name: str) -> Path:
    """A re-inspection's output, as `inspector reinspect` wrote it then: classified against `first`."""
    second = _folder(root, name, dt.date(2025, 3, 1), {"C1": 50, "C2": 58})
    out = root / f"out-{name}"
    assert (
        main(
            [
                "reinspect",
                str(second),
                "--against",
                str(first),
                "--out",
                str(out),
                "--db",
                str(root / "scratch.sqlite"),
                "--today",
                "2025-03-05",
                "--quiet",
            ]
        )
        == 0
    )
    return out


def v1(root: Path, db: Path) -> None:
    import json

    first = _output(root, _folder(root, "v1a", dt.date(2024, 12, 1), {"C1": 60, "C2": 40}))
    second = _reinspection(root, first, "v1b")
    conn = sqlite3.connect(db, isolation_level=None)
    migrations.migrate(conn, target=1)
    previous = None
    for out, day in ((first, "2024-12-05"), (second, "2025-03-05")):
        data = (out / "findings.json").read_bytes()
        document = json.loads(data)
        audit, audit_id = document["audit"], audit_id_of(document)
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO audits (id, name, region, as_of, target_year, source_dir, out_dir, rules_dir, previous_id,"
            " imported_on, document, document_sha256) VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?, ?)",
            (
                audit_id,
                audit["name"],
                audit.get("region"),
                audit["as_of"],
                audit.get("target_year"),
                previous,
                day,
                data,
                sha256_text(data),
            ),
        )
        files = [*document_files(document), *output_files(out)]
        conn.executemany(
            "INSERT INTO audit_files VALUES (?, ?, ?, ?)", [(audit_id, f.role, f.name, f.sha256) for f in files]
        )
        conn.executemany(
            "INSERT INTO findings (audit_id, finding_id, rule_id, entity_type, entity_id, school_id, county, severity, deadline,"
            " change, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    audit_id,
                    f["id"],
                    f["rule_id"],
                    f["entity_type"],
                    f["entity_id"],
                    f.get("school_id"),
                    f["county"],
                    f["severity"],
                    f["rectification"]["deadline"],
                    f.get("change"),
                    canonical(f),
                )
                for f in document["findings"]
            ],
        )
        conn.execute("COMMIT")
        previous = audit_id
    conn.close()


def v2(root: Path, db: Path) -> None:
    first = _output(root, _folder(root, "v2a", dt.date(2024, 12, 1), {"C1": 60, "C2": 40}))
    conn = sqlite3.connect(db, isolation_level=None)
    migrations.migrate(conn, target=2)
    store = HistoryStore(db, conn)
    with store.transaction():
        record, _ = store.import_document(
            (first / "findings.json").read_bytes(), today=dt.date(2024, 12, 5), outputs=output_files(first)
        )
    out = _reinspection(root, first, "v2b")
    with store.transaction():
        store.import_document(
            (out / "findings.json").read_bytes(),
            today=dt.date(2025, 3, 5),
            outputs=output_files(out),
            previous_id=record.id,
        )
    conn.close()


def v3(root: Path, db: Path) -> None:
    first = _output(root, _folder(root, "v3a", dt.date(2025, 1, 1), {"C1": 60, "C2": 40, "C3": 57}, WAIVERS))
    run = lambda *args: main([*map(str, args), "--db", str(db)])  # noqa: E731
    assert run("history", "import", first, "--today", "2025-01-05") == 0
    assert run("ledger", "--today", "2025-01-06") == 0
    fid = sqlite3.connect(db).execute("SELECT finding_id FROM items WHERE entity_id = 'C1'").fetchone()[0]
    assert (
        run(
            "ledger",
            "update",
            fid,
            "--to",
            "整改中",
            "--by",
            "城中区测试小学 王校长",
            "--note",
            "分班方案已报教育局",
            "--today",
            "2025-02-01",
        )
        == 0
    )
    assert (
        run(
            "ledger",
            "update",
            fid,
            "--to",
            "待复查",
            "--by",
            "城中区测试小学 王校长",
            "--note",
            "已拆分为两个班",
            "--today",
            "2025-02-20",
        )
        == 0
    )
    second = _folder(root, "v3b", dt.date(2025, 3, 1), {"C1": 50, "C2": 58, "C3": 57}, WAIVERS)
    assert (
        run("reinspect", second, "--against", first, "--out", root / "out-v3b", "--today", "2025-03-05", "--quiet") == 0
    )
    assert (
        run(
            "ledger",
            "update",
            fid,
            "--to",
            "已销号",
            "--by",
            "李督学",
            "--note",
            "复查通过，予以销号",
            "--today",
            "2025-03-06",
        )
        == 0
    )
    assert run("ledger", "--today", "2025-09-01") == 0  # overdue, escalated; the waiver of C3 has ended
    assert run("verify") == 0


def main_() -> None:
    for name, make in (("legacy-v1.sqlite", v1), ("legacy-v2.sqlite", v2), ("legacy-v3.sqlite", v3)):
        target = HERE / name
        target.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            make(Path(tmp), target)
        _forget_folders(target)
        version = sqlite3.connect(target).execute("PRAGMA user_version").fetchone()[0]
        print(f"{name}: user_version {version}, {target.stat().st_size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main_()
