"""The history store: schema migrations, idempotent and all-or-nothing imports, audit ids, and
`inspector verify` recomputing the digests of inputs, rule packs and outputs."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from inspector.audit import run_audit
from inspector.cli import main
from inspector.errors import UsageError
from inspector.history import migrations
from inspector.history.integrity import audit_id_of
from inspector.history.ledger import Ledger
from inspector.history.store import HistoryStore
from inspector.output.document import audit_document, dumps
from inspector.testing.builder import AuditBuilder


def _folder(root: Path, name: str = "a", size: int = 60, as_of: dt.date = dt.date(2025, 1, 1)) -> Path:
    builder = AuditBuilder(as_of=as_of)
    builder.school("P1")
    builder.klass("P1", "3", size, "C1")
    return builder.write(root / name)


def _output(root: Path, folder: Path) -> Path:
    out = root / f"out-{folder.name}"
    out.mkdir()
    (out / "findings.json").write_bytes(dumps(audit_document(run_audit(folder))))
    (out / "report.md").write_text("# 报告\n", encoding="utf-8")
    return out


def _run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


# -- migrations ------------------------------------------------------------------------------------


def test_an_old_store_is_migrated_in_order_keeping_its_data(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    assert [m.version for m in migrations.migrate(conn, target=1)] == [1]
    conn.execute(
        "INSERT INTO audits (id, name, as_of, imported_on, document, document_sha256) VALUES ('A1', '旧审核', '2024-12-01', '2024-12-10', x'7b7d', 'x')"
    )
    conn.execute(
        "INSERT INTO findings (audit_id, finding_id, rule_id, entity_type, entity_id, county, severity, deadline, data)"
        " VALUES ('A1', 'F-1', 'class-size.large', 'class', 'C1', '城中区', 'major', '2025-05-30', '{}')"
    )
    conn.close()
    with HistoryStore.open(db) as store:
        assert migrations.version(store.conn) == migrations.LATEST == 3
        row = store.conn.execute("SELECT finding_id, waiver_expires FROM findings").fetchone()
        assert row == ("F-1", None)  # the column added by migration 2, empty for old rows
        tables = {name for (name,) in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"resolutions", "indicator_values", "items", "events", "ledger_head"} <= tables
        assert store.statuses(["F-1"])["F-1"][0].status == "fails"
    with HistoryStore.open(db) as store:  # opening again applies nothing
        assert migrations.migrate(store.conn) == []


def test_a_failed_migration_leaves_the_previous_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    migrations.migrate(conn, target=1)
    broken = migrations.Migration(2, "broken", ("CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"))
    monkeypatch.setattr(migrations, "MIGRATIONS", (migrations.MIGRATIONS[0], broken))
    with pytest.raises(sqlite3.OperationalError):
        migrations.migrate(conn, target=2)
    assert migrations.version(conn) == 1
    assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchall()


def test_a_newer_or_foreign_file_is_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    sqlite3.connect(newer).execute("PRAGMA user_version = 99").connection.close()
    with pytest.raises(UsageError, match="高于本程序支持的版本"):
        HistoryStore.open(newer)
    text = tmp_path / "notes.sqlite"
    text.write_text("这不是数据库" * 200, encoding="utf-8")
    with pytest.raises(UsageError, match="不是可用的历史库"):
        HistoryStore.open(text)


# -- imports ---------------------------------------------------------------------------------------


def test_importing_twice_stores_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _output(tmp_path, _folder(tmp_path))
    db = tmp_path / "h.sqlite"
    assert _run(capsys, "history", "import", out, "--db", db, "--today", "2025-01-05")[0] == 0
    before = sqlite3.connect(db).execute("SELECT (SELECT count(*) FROM audits), (SELECT count(*) FROM events)").fetchone()
    code, text, _ = _run(capsys, "history", "import", out / "findings.json", "--db", db, "--today", "2025-02-01")
    assert code == 0 and "未重复导入" in text
    after = sqlite3.connect(db).execute("SELECT (SELECT count(*) FROM audits), (SELECT count(*) FROM events)").fetchone()
    assert before == after == (1, 1)


def test_the_same_audit_gets_the_same_id_and_other_inputs_another(tmp_path: Path) -> None:
    first = audit_document(run_audit(_folder(tmp_path, "a")))
    again = audit_document(run_audit(_folder(tmp_path, "b")))  # same rows, another folder
    other = audit_document(run_audit(_folder(tmp_path, "c", size=61)))
    assert audit_id_of(first) == audit_id_of(again) != audit_id_of(other)
    assert audit_id_of(first).startswith("A20250101-")
    waived = _folder(tmp_path, "d")
    (waived / "waivers.yaml").write_text("waivers: []\n", encoding="utf-8")
    assert audit_id_of(audit_document(run_audit(waived))) != audit_id_of(first)


def test_an_interrupted_import_leaves_the_store_as_it_was(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "h.sqlite"
    first = _output(tmp_path, _folder(tmp_path, "a"))
    assert _run(capsys, "history", "import", first, "--db", db, "--today", "2025-01-05")[0] == 0
    snapshot = tmp_path / "snapshot.sqlite"
    shutil.copy(db, snapshot)

    def crash(*_: object, **__: object) -> None:
        raise KeyboardInterrupt  # the audit, its findings and the items are written by now

    monkeypatch.setattr(Ledger, "advance", crash)
    second = _output(tmp_path, _folder(tmp_path, "b", size=58, as_of=dt.date(2025, 6, 1)))
    code, _, err = _run(capsys, "history", "import", second, "--db", db, "--today", "2025-06-05")
    assert code == 130 and "已中断" in err

    def dump(path: Path) -> list[str]:
        conn = sqlite3.connect(path)
        try:
            return list(conn.iterdump())
        finally:
            conn.close()

    assert dump(db) == dump(snapshot)


def test_reinspect_refuses_itself_and_a_later_previous(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite"
    folder = _folder(tmp_path, "a")
    out = _output(tmp_path, folder)
    code, _, err = _run(capsys, "reinspect", folder, "--against", out, "--out", tmp_path / "o", "--db", db, "--today", "2025-01-05", "--quiet")
    assert code == 2 and "相同" in err
    earlier = _folder(tmp_path, "b", as_of=dt.date(2024, 12, 1))
    code, _, err = _run(capsys, "reinspect", earlier, "--against", out, "--out", tmp_path / "o", "--db", db, "--today", "2025-01-05", "--quiet")
    assert code == 2 and "晚于新审核" in err
    code, _, err = _run(capsys, "reinspect", earlier, "--against", "A2099", "--out", tmp_path / "o", "--db", db, "--today", "2025-01-05", "--quiet")
    assert code == 2 and "没有审核“A2099”" in err
    later = _folder(tmp_path, "c", size=50, as_of=dt.date(2025, 6, 1))
    code, _, err = _run(capsys, "reinspect", later, "--against", out, "--out", out, "--db", db, "--today", "2025-06-05", "--quiet")
    assert code == 2 and "会覆盖它" in err
    code, _, err = _run(capsys, "reinspect", later, "--against", tmp_path / "no-such-out", "--out", tmp_path / "o", "--db", db,
                        "--today", "2025-06-05", "--quiet")
    assert code == 2 and "no-such-out 不存在" in err
    code, _, err = _run(capsys, "reinspect", later, "--against", "A2025", "--out", tmp_path / "o", "--db", tmp_path / "new.sqlite",
                        "--today", "2025-06-05", "--quiet")
    assert code == 2 and "new.sqlite 不存在" in err and not (tmp_path / "new.sqlite").exists()


# -- verify ----------------------------------------------------------------------------------------


def test_verify_recomputes_inputs_packs_and_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite"
    folder = _folder(tmp_path, "a")
    out = _output(tmp_path, folder)
    rules = tmp_path / "rules"
    shutil.copytree(Path(__file__).resolve().parents[1] / "rules" / "core", rules / "core")
    assert _run(capsys, "history", "import", out, "--db", db, "--today", "2025-01-05", "--source", folder, "--rules", rules)[0] == 0
    code, text, _ = _run(capsys, "verify", "--db", db)
    assert code == 0 and "完整" in text
    audit_id = json.loads(_run(capsys, "ledger", "--db", db, "--today", "2025-01-05", "--format", "json")[1])["items"][0]["opened_audit"]

    (out / "report.md").write_text("# 改过的报告\n", encoding="utf-8")
    with (folder / "classes.csv").open("a", encoding="utf-8") as handle:
        handle.write("C9,P1,3,40,\n")
    (rules / "core" / "pack.yaml").write_text((rules / "core" / "pack.yaml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    (folder / "safety.csv").unlink()
    code, text, _ = _run(capsys, "verify", audit_id[:12], "--db", db)
    assert code == 1
    assert "[不一致] 输出 report.md" in text and "[不一致] 输入 classes.csv" in text
    assert "[不一致] 规则包 core" in text and "[缺失] 输入 safety.csv" in text
    assert "findings.json" not in text  # untouched files are not listed


def test_verify_finds_a_stored_document_changed_in_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite"
    out = _output(tmp_path, _folder(tmp_path, "a"))
    assert _run(capsys, "history", "import", out, "--db", db, "--today", "2025-01-05")[0] == 0
    conn = sqlite3.connect(db)
    conn.execute("UPDATE findings SET data = replace(data, '60', '50')")
    conn.commit()
    conn.close()
    code, text, _ = _run(capsys, "verify", "--db", db)
    assert code == 1 and "问题记录" in text and "与 findings.json 不符" in text
