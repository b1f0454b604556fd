"""Upgrading a store of the previous release (revision 0005, and the sqlite3 stores before it) to
the web application's schema keeps every run, finding and ledger event, and `verify` still passes;
the application then opens it, and actions taken on it keep the chain verifying."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic import command

from history_databases import Database
from inspector.cli import main
from inspector.history import migrations
from inspector.history.commands import verify
from inspector.history.database import engine_for, write_transaction
from inspector.testing import AuditBuilder
from web_support import *
from web_support import LB_LARGE, Rounds, Web, login, post, version_of

FIXTURES = Path(__file__).parent / "history_fixtures"
KEPT = ("audits", "audit_files", "findings", "resolutions", "indicator_values", "items", "events", "ledger_head")


def _rows(db: Database) -> dict[str, list[tuple[object, ...]]]:
    return {
        t: sorted(
            (
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in db.query(f"SELECT * FROM {t}")
            ),
            key=repr,
        )
        for t in KEPT
    }


def test_a_store_of_the_previous_release_upgrades_with_every_row_and_verifies(web_db: Database, tmp_path: Path) -> None:
    engine = engine_for(web_db.ref)
    try:
        with engine.connect() as conn, write_transaction(conn):
            command.downgrade(migrations.alembic_config(connection=conn), "0005")
    finally:
        engine.dispose()
    assert web_db.query("SELECT version_num FROM alembic_version") == [("0005",)]
    before = _rows(web_db)
    assert before["events"] and before["findings"]
    web = Web(web_db, tmp_path)  # the server creates or migrates the store when it starts
    try:
        assert web_db.query("SELECT version_num FROM alembic_version") == [(migrations.head(),)]
        assert _rows(web_db) == before
        text, ok = verify(web_db.ref)
        assert ok, text
        # no accounts survive a downgrade: one made now, from the command line, with its password from stdin
        assert web_db.query("SELECT count(*) FROM users") == [(0,)]
    finally:
        web.close()


def test_a_legacy_sqlite3_store_is_served_and_stays_verifiable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "legacy.sqlite"
    shutil.copy(FIXTURES / "legacy-v3.sqlite", db)
    events = sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone()[0]
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-1\n"))
    assert main(["users", "add", "wang", "--role", "inspector", "--db", str(db)]) == 0
    assert "已创建账号 wang" in capsys.readouterr().out
    web = Web(Database("sqlite", db), tmp_path, today=dt.date(2026, 1, 5))  # after the store's last event
    try:
        client = web.client()
        login(client, "wang", "a-long-password-1")
        page = client.get("/findings")
        assert page.status_code == 200
        fid = sqlite3.connect(db).execute("SELECT finding_id FROM items ORDER BY finding_id").fetchone()[0]
        assert (
            post(
                client, f"/findings/{fid}/comment", {"version": version_of(client, fid), "note": "升级后备注"}
            ).status_code
            == 303
        )
    finally:
        web.close()
    assert sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone()[0] > events
    text, ok = verify(db)
    assert ok, text


def test_users_add_refuses_a_county_account_without_a_known_county(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-1\n"))
    code = main(["users", "add", "x", "--role", "county", "--county", "柳北", "--db", str(tmp_path / "s.sqlite")])
    err = capsys.readouterr().err
    assert code == 2 and "柳北区" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "y", "--role", "auditor", "--db", str(tmp_path / "s.sqlite")]) == 2
    assert "至少 10 个字符" in capsys.readouterr().err


def test_runs_import_is_the_same_as_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rounds: Rounds
) -> None:
    db = tmp_path / "s.sqlite"
    assert (
        main(
            [
                "runs",
                "import",
                str(rounds.first),
                "--db",
                str(db),
                "--source",
                str(rounds.data),
                "--today",
                "2025-01-05",
            ]
        )
        == 0
    )
    assert "已导入审核" in capsys.readouterr().out
    assert main(["runs", "import", str(rounds.first), "--db", str(db), "--today", "2025-01-05"]) == 0
    assert "未重复导入" in capsys.readouterr().out
    assert LB_LARGE in {r[0] for r in sqlite3.connect(db).execute("SELECT finding_id FROM items")}


LIST_INDEXES = {
    "items_in_order",
    "items_by_state",
    "items_by_severity",
    "items_by_rule",
    "items_by_school",
    "items_by_entity_type",
}


def _item_indexes(db: Database) -> set[str]:
    engine = engine_for(db.ref)
    try:
        from sqlalchemy import inspect

        return {index["name"] for index in inspect(engine).get_indexes("items") if index["name"]}
    finally:
        engine.dispose()


def test_the_list_indexes_revision_keeps_every_row_and_the_chain(web_db: Database, tmp_path: Path) -> None:
    """A store at 0006 (the first web release) gains the list's indexes on start, loses no row, and verifies."""
    engine = engine_for(web_db.ref)
    try:
        with engine.connect() as conn, write_transaction(conn):
            command.downgrade(migrations.alembic_config(connection=conn), "0006")
    finally:
        engine.dispose()
    assert web_db.query("SELECT version_num FROM alembic_version") == [("0006",)]
    assert not LIST_INDEXES & _item_indexes(web_db) and "items_by_place" in _item_indexes(web_db)
    before = _rows(web_db)
    assert before["items"] and before["events"]
    web = Web(web_db, tmp_path)
    try:
        assert web_db.query("SELECT version_num FROM alembic_version") == [("0007",)]
        assert LIST_INDEXES <= _item_indexes(web_db) and "items_by_place" not in _item_indexes(web_db)
        assert _rows(web_db) == before
        text, ok = verify(web_db.ref)
        assert ok, text
    finally:
        web.close()


def test_the_findings_list_reads_its_order_from_an_index(tmp_path: Path, rounds: Rounds) -> None:
    """On SQLite the list's page query (unfiltered, or filtered by state, severity or rule) sorts nothing."""
    from inspector.web import queries
    from inspector.web.users import User

    db = tmp_path / "s.sqlite"
    assert main(["runs", "import", str(rounds.first), "--db", str(db), "--today", "2025-01-05"]) == 0
    inspector = User(1, "i", "i", "inspector", None, None, True, False)
    engine = engine_for(Database("sqlite", db).ref)
    try:
        with engine.connect() as conn:
            for filters in (
                queries.Filters(),
                queries.Filters(state="open"),
                queries.Filters(severity="major"),
                queries.Filters(rule_id="x"),
            ):
                query = queries._order(queries._items(inspector).where(*filters.clauses())).limit(50).offset(50)
                sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
                plan = " | ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
                assert "TEMP B-TREE" not in plan and "USING INDEX items_" in plan, (filters, plan)
    finally:
        engine.dispose()


def test_a_county_account_may_name_a_county_of_an_imported_run_outside_liuzhou(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store holding a run whose counties are its own (audit.yaml `divisions:`, as a national
    folder declares 柳北区017) takes county accounts for those counties as the run spells them; a
    county neither imported nor Liuzhou's is still refused."""
    builder = AuditBuilder(as_of=dt.date(2025, 12, 1))
    school = builder.school(type="primary", county="柳北区017")
    builder.klass(school, grade="3", size=66)
    folder = builder.write(tmp_path / "data")
    with (folder / "audit.yaml").open("a", encoding="utf-8") as handle:
        handle.write("divisions:\n  - name: 柳北区017\n")
    db = str(tmp_path / "s.sqlite")
    assert main(["audit", str(folder), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert main(["runs", "import", str(tmp_path / "out"), "--db", db, "--today", "2025-12-05"]) == 0
    capsys.readouterr()
    for name, county, code in (("a", "柳北区017", 0), ("b", "柳北区018", 2), ("c", "柳北区", 0)):
        monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-1\n"))
        assert main(["users", "add", name, "--role", "county", "--county", county, "--db", db]) == code, county
    err = capsys.readouterr().err
    assert "“柳北区018”既不是已导入的督导结果中的区县" in err
