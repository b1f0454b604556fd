"""The history store: built by Alembic revisions (and stores of the sqlite3 code adopted), `--db`
as a path or a URL, idempotent and all-or-nothing imports on SQLite and PostgreSQL, audit ids, and
`inspector verify` recomputing the stored rows and the digests of inputs, rule packs and outputs."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

import history_databases
from history_databases import Database
from inspector.audit import run_audit
from inspector.cli import main
from inspector.errors import UsageError
from inspector.history import checks, migrations, schema
from inspector.history.errors import StoreDamaged
from inspector.history.integrity import audit_id_of
from inspector.history.ledger import Ledger
from inspector.history.location import DbRef
from inspector.history.store import HistoryStore
from inspector.output.document import audit_document, dumps
from inspector.testing import AuditBuilder

database = history_databases.database  # the fixtures as names of this module
backend = history_databases.backend  # their parameter: SQLite, then PostgreSQL

FIXTURES = Path(__file__).resolve().parent / "history_fixtures"


def _folder(root: Path, name: str = "a", size: int = 60, as_of: dt.date = dt.date(2025, 1, 1)) -> Path:
    builder = AuditBuilder(as_of=as_of)
    builder.school("P1")
    builder.klass("P1", "3", size, "C1")
    return builder.write(root / name)


_DOCUMENTS: dict[tuple[tuple[str, bytes], ...], bytes] = {}


def _output(root: Path, folder: Path) -> Path:
    """findings.json of the folder's audit; a folder byte for byte like one audited before in this
    process gets that audit's document (an audit depends on its files, not on where they are)."""
    out = root / f"out-{folder.name}"
    out.mkdir()
    key = tuple((p.relative_to(folder).as_posix(), p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file())
    if key not in _DOCUMENTS:
        _DOCUMENTS[key] = dumps(audit_document(run_audit(folder)))
    (out / "findings.json").write_bytes(_DOCUMENTS[key])
    (out / "report.md").write_text("# 报告\n", encoding="utf-8")
    return out


def _run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "内部错误" not in captured.err, captured.err
    return code, captured.out, captured.err


def _schema_differences(url: str) -> list[Any]:
    """What Alembic's autogenerate would change to make the database's schema the declared one."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), schema.metadata
            )
    finally:
        engine.dispose()
    # the sqlite3 code declared `INTEGER PRIMARY KEY` without NOT NULL: a rowid, never NULL all the same
    rowids = {
        ("modify_nullable", None, table, column)
        for table, column in (("audits", "seq"), ("events", "seq"), ("ledger_head", "id"))
    }
    return [d for d in differences if not (isinstance(d, list) and len(d) == 1 and tuple(d[0][:4]) in rowids)]


# -- the schema ------------------------------------------------------------------------------------


class TestSchema:
    def test_a_new_store_is_built_by_the_revisions_to_the_declared_schema(
        self, database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The Alembic revisions, run on an empty database, give exactly the tables and columns of `schema`."""
        out = _output(tmp_path, _folder(tmp_path))
        assert _run(capsys, "history", "import", out, "--db", database, "--today", "2025-01-05")[0] == 0
        assert database.query("SELECT version_num FROM alembic_version") == [(migrations.head(),)]
        assert _schema_differences(database.url) == []

    def test_the_revisions_known_to_the_store_are_the_scripts(self) -> None:
        """`migrations.REVISIONS` lists the scripts under alembic/versions, oldest first, in one line of descent."""
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(migrations.alembic_config())
        assert script.get_heads() == [migrations.head()]
        assert tuple(reversed([r.revision for r in script.walk_revisions()])) == migrations.REVISIONS

    def test_the_revisions_go_down_to_nothing_and_up_again(self, database: Database) -> None:
        """Every revision has a downgrade: down to base leaves no table of the store, and up again rebuilds it."""
        from alembic import command

        with HistoryStore.open(database.ref, create=True) as store:
            store.conn.rollback()
            with store.conn.begin():
                command.downgrade(migrations.alembic_config(connection=store.conn), "base")
            tables = set(inspect(store.conn).get_table_names())
            store.conn.rollback()
        assert not tables & set(schema.metadata.tables)
        with HistoryStore.open(database.ref):
            pass
        assert _schema_differences(database.url) == []

    def test_a_url_names_a_sqlite_file_as_a_path_does(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`--db sqlite:///file` and `--db file` are one store."""
        out = _output(tmp_path, _folder(tmp_path))
        db = tmp_path / "h.sqlite"
        assert _run(capsys, "history", "import", out, "--db", f"sqlite:///{db}", "--today", "2025-01-05")[0] == 0
        code, text, _ = _run(capsys, "history", "list", "--db", db)
        assert code == 0 and "A20250101-" in text

    @pytest.mark.parametrize(
        ("db", "message"),
        [
            ("mysql://u:secret@localhost/x", "不支持的数据库“mysql”"),
            ("postgresql+psycopg2://u:secret@localhost/x", "请用 psycopg 驱动"),
            ("sqlite://", "须是一个 SQLite 文件"),
            ("postgresql+psycopg://u:secret@127.0.0.1:9/x", "无法连接历史库 postgresql+psycopg://u:***@127.0.0.1:9/x"),
        ],
    )
    def test_a_url_it_cannot_use_is_refused_without_its_password(
        self, capsys: pytest.CaptureFixture[str], db: str, message: str
    ) -> None:
        """A database URL of another kind, or a server that does not answer: exit 2, the password not shown."""
        code, _, err = _run(capsys, "history", "list", "--db", db)
        assert code == 2 and message in err and "secret" not in err


# -- stores written by the sqlite3 code ------------------------------------------------------------

LEGACY_TABLES = (
    "audits",
    "audit_files",
    "findings",
    "resolutions",
    "indicator_values",
    "items",
    "events",
    "ledger_head",
)


def _legacy_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {
            t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in LEGACY_TABLES if t in tables
        }
    finally:
        conn.close()


class TestLegacyStores:
    @pytest.mark.parametrize("version", [1, 2, 3])
    def test_a_store_of_the_sqlite3_code_is_adopted_with_all_its_data(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], version: int
    ) -> None:
        """A store at user_version 1, 2 or 3 opens: stamped, upgraded, every row kept, and verify passes."""
        db = tmp_path / "legacy.sqlite"
        shutil.copy(FIXTURES / f"legacy-v{version}.sqlite", db)
        before = _legacy_rows(db)
        assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == version

        code, text, _ = _run(capsys, "verify", "--db", db)
        assert code == 0, text
        assert text.count("：完整") == len(before["audits"]) == 2 and "哈希链完整" in text

        after = Database("sqlite", db).snapshot()
        assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 4  # older inspectors refuse it now
        assert Database("sqlite", db).query("SELECT version_num FROM alembic_version") == [(migrations.head(),)]
        assert _schema_differences(f"sqlite:///{db}") == []
        for table in ("audits", "audit_files", "events", "ledger_head"):
            assert after.get(table, []) == before.get(table, []), table
        assert [row[:11] for row in after["findings"]] == [row[:11] for row in before["findings"]]
        if version == 3:
            assert [row[:-1] for row in after["items"]] == before["items"] and {row[-1] for row in after["items"]} == {
                1
            }
            assert (
                after["resolutions"] == before["resolutions"]
                and after["indicator_values"] == before["indicator_values"]
            )
        if version == 1:  # migration 2 of the sqlite3 code left these empty: filled from the stored documents
            assert len(after["resolutions"]) == 1 and len(after["indicator_values"]) == 2

    def test_an_adopted_ledger_goes_on_from_its_last_event(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The chain of an adopted store grows from its head, and its old head is found in it afterwards."""
        db = tmp_path / "legacy.sqlite"
        shutil.copy(FIXTURES / "legacy-v3.sqlite", db)
        old_head = sqlite3.connect(db).execute("SELECT hash FROM ledger_head").fetchone()[0]
        assert _run(capsys, "ledger", "head", "--db", db)[1].strip() == old_head
        code, text, _ = _run(capsys, "ledger", "--db", db, "--today", "2025-11-01")
        assert code == 0 and "升级督办" in text
        added = Database("sqlite", db).query("SELECT count(*) FROM events")[0][0] - 9
        code, text, _ = _run(capsys, "verify", "--db", db, "--head", old_head[:12])
        assert code == 1 and f"所给的是第 9 号事件的哈希：其后又记录了 {added} 条事件" in text and added >= 1
        new_head = _run(capsys, "ledger", "head", "--db", db)[1].strip()
        assert _run(capsys, "verify", "--db", db, "--head", new_head)[0] == 0

    def test_a_failed_upgrade_leaves_the_store_as_it_was(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A revision that fails rolls the whole upgrade back: the legacy store is neither stamped nor altered."""
        scripts = tmp_path / "alembic"
        shutil.copytree(migrations.SCRIPTS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
        (scripts / "versions" / "9999_broken.py").write_text(
            'revision = "9999"\ndown_revision = "'
            + migrations.head()
            + '"\nbranch_labels = None\ndepends_on = None\n\n'
            "from alembic import op\n\n\ndef upgrade() -> None:\n"
            '    op.execute("CREATE TABLE half_done (x INTEGER)")\n    op.execute("THIS IS NOT SQL")\n\n\n'
            "def downgrade() -> None:\n    pass\n",
            encoding="utf-8",
        )
        monkeypatch.setattr(migrations, "SCRIPTS", scripts)
        monkeypatch.setattr(migrations, "REVISIONS", (*migrations.REVISIONS, "9999"))
        db = tmp_path / "legacy.sqlite"
        shutil.copy(FIXTURES / "legacy-v3.sqlite", db)
        before = _legacy_rows(db)
        with pytest.raises(StoreDamaged, match="无法升级到本程序的结构.*syntax error.*升级已整体撤销"):
            HistoryStore.open(db)
        conn = sqlite3.connect(db)
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = [row[1] for row in conn.execute("PRAGMA table_info(items)")]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        conn.close()
        assert "alembic_version" not in tables and "half_done" not in tables and "version" not in columns
        assert _legacy_rows(db) == before


# -- imports ---------------------------------------------------------------------------------------


def test_importing_twice_stores_once(database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The second import of the same output folder records nothing."""
    out = _output(tmp_path, _folder(tmp_path))
    assert _run(capsys, "history", "import", out, "--db", database, "--today", "2025-01-05")[0] == 0
    count = "SELECT (SELECT count(*) FROM audits), (SELECT count(*) FROM events)"
    before = database.query(count)
    code, text, _ = _run(capsys, "history", "import", out / "findings.json", "--db", database, "--today", "2025-02-01")
    assert code == 0 and "未重复导入" in text
    assert before == database.query(count) == [(1, 1)]


def test_the_same_audit_gets_the_same_id_and_other_inputs_another(tmp_path: Path) -> None:
    """An audit's id depends on its inputs, waivers, packs and params, not on its folder."""
    first = audit_document(run_audit(_folder(tmp_path, "a")))
    again = audit_document(run_audit(_folder(tmp_path, "b")))  # same rows, another folder
    other = audit_document(run_audit(_folder(tmp_path, "c", size=61)))
    assert audit_id_of(first) == audit_id_of(again) != audit_id_of(other)
    assert audit_id_of(first).startswith("A20250101-")
    waived = _folder(tmp_path, "d")
    (waived / "waivers.yaml").write_text("waivers: []\n", encoding="utf-8")
    assert audit_id_of(audit_document(run_audit(waived))) != audit_id_of(first)


def test_an_interrupted_import_leaves_the_store_as_it_was(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import interrupted after its rows are written leaves every table as it was."""
    first = _output(tmp_path, _folder(tmp_path, "a"))
    assert _run(capsys, "history", "import", first, "--db", database, "--today", "2025-01-05")[0] == 0
    before = database.snapshot()

    def crash(*_: object, **__: object) -> None:
        raise KeyboardInterrupt  # the audit, its findings and the items are written by now

    monkeypatch.setattr(Ledger, "advance", crash)
    second = _output(tmp_path, _folder(tmp_path, "b", size=58, as_of=dt.date(2025, 6, 1)))
    code, _, err = _run(capsys, "history", "import", second, "--db", database, "--today", "2025-06-05")
    assert code == 130 and "已中断" in err
    assert database.snapshot() == before


def test_reinspect_refuses_itself_and_a_later_previous(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Re-inspecting against itself, a later audit, an unknown id or a missing folder is refused with exit 2."""
    db = tmp_path / "h.sqlite"
    folder = _folder(tmp_path, "a")
    out = _output(tmp_path, folder)
    code, _, err = _run(
        capsys,
        "reinspect",
        folder,
        "--against",
        out,
        "--out",
        tmp_path / "o",
        "--db",
        db,
        "--today",
        "2025-01-05",
        "--quiet",
    )
    assert code == 2 and "相同" in err
    earlier = _folder(tmp_path, "b", as_of=dt.date(2024, 12, 1))
    code, _, err = _run(
        capsys,
        "reinspect",
        earlier,
        "--against",
        out,
        "--out",
        tmp_path / "o",
        "--db",
        db,
        "--today",
        "2025-01-05",
        "--quiet",
    )
    assert code == 2 and "晚于新审核" in err
    code, _, err = _run(
        capsys,
        "reinspect",
        earlier,
        "--against",
        "A2099",
        "--out",
        tmp_path / "o",
        "--db",
        db,
        "--today",
        "2025-01-05",
        "--quiet",
    )
    assert code == 2 and "没有审核“A2099”" in err
    later = _folder(tmp_path, "c", size=50, as_of=dt.date(2025, 6, 1))
    code, _, err = _run(
        capsys, "reinspect", later, "--against", out, "--out", out, "--db", db, "--today", "2025-06-05", "--quiet"
    )
    assert code == 2 and "会覆盖它" in err
    code, _, err = _run(
        capsys,
        "reinspect",
        later,
        "--against",
        tmp_path / "no-such-out",
        "--out",
        tmp_path / "o",
        "--db",
        db,
        "--today",
        "2025-06-05",
        "--quiet",
    )
    assert code == 2 and "no-such-out 不存在" in err
    code, _, err = _run(
        capsys,
        "reinspect",
        later,
        "--against",
        "A2025",
        "--out",
        tmp_path / "o",
        "--db",
        tmp_path / "new.sqlite",
        "--today",
        "2025-06-05",
        "--quiet",
    )
    assert code == 2 and "new.sqlite 不存在" in err and not (tmp_path / "new.sqlite").exists()


# -- a doctored output folder is not imported --------------------------------------------------------


def _doctor(out: Path, change: Any) -> None:
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    result = change(document)
    (out / "findings.json").write_text(
        json.dumps(document if result is None else result, ensure_ascii=False), encoding="utf-8"
    )


def _set(path: str, value: Any) -> Any:
    """A change setting `path` (dot-separated, numbers index lists) of the document to `value`."""

    def change(document: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = document
        for part in parents:
            node = node[part]
        node[last] = value

    return change


def _delete(path: str) -> Any:
    def change(document: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = document
        for part in parents:
            node = node[part]
        del node[last]

    return change


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (_set("findings.0.severity", "bogus"), "findings[0]（F-", "severity: 未知的值“bogus”；可用：critical（严重）"),
        (
            _set("findings.0.id", "F-0000000000000000"),
            "findings[0].id: F-0000000000000000",
            "不是规则 class-size.large 对 class C1 的问题编号",
        ),
        (_set("findings.0.entity_id", "C2"), ".id", "文件可能被修改"),
        (_delete("findings.0.rectification"), "findings[0]（F-", ".rectification: 应为对象"),
        (_set("findings.0.rectification.deadline", "下个月"), ".rectification.deadline", "“下个月”不是日期"),
        (_set("findings.0.county", 5), ".county", "应为非空文字，实为整数"),
        (_set("findings.0.waived", "yes"), ".waived", "应为 true 或 false"),
        (lambda d: d["findings"].append(dict(d["findings"][0])), "findings[1]", "重复"),
        (_set("findings", 5), "findings", "应为列表"),
        (_delete("findings"), "findings", "缺少此项"),
        (_set("audit.as_of", 20250101), "audit.as_of", "应为非空文字，实为整数"),
        (_set("audit.inputs.0.sha256", "abc"), "audit.inputs[0].sha256", "不是 sha256"),
        (_set("audit", []), "audit", "应为对象"),
        (_delete("audit"), "audit", "缺少此项"),
        (lambda d: [d], "findings.json", "应为对象（{…}），实为列表"),
        (lambda d: "文字", "findings.json", "应为对象（{…}），实为文字"),
    ],
)
def test_a_doctored_findings_json_is_refused_at_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, where: str, message: str
) -> None:
    """An output whose findings.json is invalid or doctored is refused with exit 2, located; nothing is stored."""
    out = _output(tmp_path, _folder(tmp_path))
    _doctor(out, change)
    db = tmp_path / "h.sqlite"
    code, _, err = _run(capsys, "history", "import", out, "--db", db, "--today", "2025-01-05")
    assert code == 2, err
    assert "不是可导入的 findings.json" in err and where in err and message in err, err
    assert not db.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "第 1 行第 1 列：不是有效的 JSON"),
        (b"", "不是有效的 JSON"),
        ("{}".encode("utf-16"), "不是 UTF-8 文本"),
    ],
)
def test_a_findings_json_that_is_no_json_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, message: str
) -> None:
    """Bytes that are not JSON (or not UTF-8) are refused with exit 2, not a traceback."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "findings.json").write_bytes(data)
    code, _, err = _run(capsys, "history", "import", out, "--db", tmp_path / "h.sqlite", "--today", "2025-01-05")
    assert code == 2 and message in err


def test_reports_made_from_another_findings_json_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A findings.json changed after its reports were written no longer matches the sha256 they quote: exit 2."""
    out = tmp_path / "out"
    assert main(["audit", str(_folder(tmp_path)), "--out", str(out), "--quiet"]) == 0
    _doctor(
        out, _set("findings.0.message", "班额 50 人，已整改。")
    )  # a consistent document, only not the one reported on
    code, _, err = _run(capsys, "history", "import", out, "--db", tmp_path / "h.sqlite", "--today", "2025-01-05")
    assert code == 2
    for name in ("report.html", "rectification.xlsx", "notices/"):
        assert f"{name}" in err and "该报告依据的 findings.json 为 sha256" in err, name


def test_every_notice_in_a_countys_file_is_checked_against_findings_json(tmp_path: Path) -> None:
    """A county's notices file quotes findings.json's sha256 once per school: a quote changed in
    its second notice, not only in its first, makes the file one made from another findings.json."""
    import hashlib
    import re

    from inspector.history.documents import report_claims

    builder = AuditBuilder()
    for code in ("P1", "P2"):
        builder.klass(builder.school(code), "3", 60, f"C{code}")
    out = tmp_path / "out"
    assert main(["audit", str(builder.write(tmp_path / "a")), "--out", str(out), "--quiet"]) == 0
    digest = hashlib.sha256((out / "findings.json").read_bytes()).hexdigest()
    assert report_claims(out, digest) == []
    (notices,) = (out / "notices").iterdir()
    text = notices.read_text(encoding="utf-8")
    quotes = list(re.finditer(r"findings\.json（sha256 ([0-9a-f]{16})…）", text))
    assert len(quotes) == 2 and {q.group(1) for q in quotes} == {digest[:16]}
    second = quotes[1]
    notices.write_text(text[: second.start(1)] + "0" * 16 + text[second.end(1) :], encoding="utf-8")
    (problem,) = report_claims(out, digest)
    assert problem.startswith(f"notices/{notices.name}: 该报告依据的 findings.json 为 sha256 0000000000000000…")


def test_a_source_folder_that_is_not_the_audits_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--source` must hold the inputs findings.json records: a changed input is refused with exit 2."""
    folder = _folder(tmp_path)
    out = _output(tmp_path, folder)
    with (folder / "classes.csv").open("a", encoding="utf-8") as handle:
        handle.write("C9,P1,3,40,\n")
    code, _, err = _run(
        capsys, "history", "import", out, "--db", tmp_path / "h.sqlite", "--today", "2025-01-05", "--source", folder
    )
    assert code == 2 and "--source" in err and "classes.csv" in err and "不一致" in err


def test_import_document_refuses_a_bogus_severity_through_the_api(tmp_path: Path) -> None:
    """`HistoryStore.import_document` checks the document too, not only the command line."""
    out = _output(tmp_path, _folder(tmp_path))
    _doctor(out, _set("findings.0.severity", "bogus"))
    with (
        HistoryStore.open(tmp_path / "h.sqlite", create=True) as store,
        store.transaction(),
        pytest.raises(UsageError, match="severity"),
    ):
        store.import_document((out / "findings.json").read_bytes(), today=dt.date(2025, 1, 5))


def test_a_stored_integer_past_64_bits_reads_back_exactly(tmp_path: Path) -> None:
    """The store's rows are read by orjson, which would make an integer past 64 bits a float: a
    document holding one (hand-edited, read exactly on import) gives it back exactly, from the
    document and from the finding's own row."""
    out = _output(tmp_path, _folder(tmp_path))
    _doctor(out, _set("findings.0.observed.0.value", 10**30 + 1))
    with HistoryStore.open(tmp_path / "h.sqlite", create=True) as store, store.transaction():
        record, _ = store.import_document((out / "findings.json").read_bytes(), today=dt.date(2025, 1, 5))
        assert store.document(record.id)["findings"][0]["observed"][0]["value"] == 10**30 + 1
        [finding] = store.findings_of(record.id)
        assert finding["observed"][0]["value"] == 10**30 + 1


# -- verify ----------------------------------------------------------------------------------------


def test_verify_recomputes_inputs_packs_and_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Changed inputs, packs and outputs are each reported; untouched files are not listed."""
    db = tmp_path / "h.sqlite"
    folder = _folder(tmp_path, "a")
    out = _output(tmp_path, folder)
    rules = tmp_path / "rules"
    shutil.copytree(Path(__file__).resolve().parents[1] / "rules" / "core", rules / "core")
    assert (
        _run(
            capsys, "history", "import", out, "--db", db, "--today", "2025-01-05", "--source", folder, "--rules", rules
        )[0]
        == 0
    )
    code, text, _ = _run(capsys, "verify", "--db", db)
    assert code == 0 and "完整" in text
    audit_id = json.loads(_run(capsys, "ledger", "--db", db, "--today", "2025-01-05", "--format", "json")[1])["items"][
        0
    ]["opened_audit"]

    (out / "report.md").write_text("# 改过的报告\n", encoding="utf-8")
    with (folder / "classes.csv").open("a", encoding="utf-8") as handle:
        handle.write("C9,P1,3,40,\n")
    (rules / "core" / "pack.yaml").write_text(
        (rules / "core" / "pack.yaml").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    (folder / "safety.csv").unlink()
    code, text, _ = _run(capsys, "verify", audit_id[:12], "--db", db)
    assert code == 1
    assert "[不一致] 输出 report.md" in text and "[不一致] 输入 classes.csv" in text
    assert "[不一致] 规则包 core" in text and "[缺失] 输入 safety.csv" in text
    assert "findings.json" not in text  # untouched files are not listed


def _import_one(root: Path) -> Callable[[DbRef], None]:
    """Fill a store with one audit with one finding (C1, a large class) and a waiver, its folders under `root`."""

    def fill(ref: DbRef) -> None:
        builder = AuditBuilder(as_of=dt.date(2025, 1, 1))
        builder.school("P1")
        builder.klass("P1", "3", 60, "C1")
        builder.teacher("P1", subject="体育", hire_year=2025)
        builder.teacher("P1", subject="语文", hire_year=2025)
        folder = builder.write(root / "a")
        (folder / "waivers.yaml").write_text(
            "waivers:\n  - {rule: class-size.large, entity: C1, reason: 临时合班, authority: 城中区教育局, document_no: 城教函〔2025〕7号, expires: 2025-03-31}\n",
            encoding="utf-8",
        )
        out = _output(root, folder)
        assert main(["history", "import", str(out), "--db", str(ref), "--today", "2025-01-05"]) == 0

    return fill


@pytest.fixture
def imported(
    backend: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, str, str]]:
    """A store of its own holding one audit with one finding (C1, a large class) and a waiver, copied
    from one imported once per process (its folders are shared: change only the store);
    (database, audit id, finding id)."""
    root = tmp_path_factory.getbasetemp() / f"imported-{backend}"
    root.mkdir(exist_ok=True)
    made = history_databases.template(backend, "imported", root, _import_one(root))
    with history_databases.from_template(made, tmp_path) as db:
        document = json.loads((root / "out-a" / "findings.json").read_text(encoding="utf-8"))
        assert document["indicators"] and document["findings"][0]["waived"]
        yield db, audit_id_of(document), document["findings"][0]["id"]


@pytest.mark.parametrize(
    ("statement", "column"),
    [
        ("UPDATE findings SET severity = 'minor'", "severity"),
        ("UPDATE findings SET county = '柳南区'", "county"),
        ("UPDATE findings SET deadline = '2026-12-31'", "deadline"),
        ("UPDATE findings SET waiver_expires = '2099-12-31'", "waiver_expires"),
        ("UPDATE findings SET change = 'persisting'", "change"),
        ("UPDATE findings SET rule_id = 'class-size.super-large'", "rule_id"),
        ("UPDATE findings SET data = replace(data, '60', '50')", "data"),
        ("UPDATE indicator_values SET value = 0.25", "value"),
        ("UPDATE indicator_values SET verdict = 'fail'", "verdict"),
        ("UPDATE audits SET name = '另一次督导'", "name"),
    ],
)
def test_verify_recomputes_every_stored_column_from_the_document(
    imported: tuple[Database, str, str], capsys: pytest.CaptureFixture[str], statement: str, column: str
) -> None:
    """A column of a finding, indicator value or audit edited in the database is named with its audit and row: exit 1."""
    database, audit_id, finding = imported
    database.execute(statement)
    code, text, _ = _run(capsys, "verify", "--db", database)
    assert code == 1, text
    lines = text.splitlines()
    audit_line = next(i for i, line in enumerate(lines) if line.startswith(f"审核 {audit_id}"))
    assert "处不一致" in lines[audit_line]
    problem = next(line for line in lines[audit_line:] if f"的 {column}：" in line)
    assert "与 findings.json 不符" in problem
    if statement.startswith("UPDATE findings"):
        assert finding in problem


def test_a_stored_document_is_parsed_once_per_process_and_its_rows_still_checked(
    imported: tuple[Database, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command that changes the ledger checks every stored audit against its findings.json; a
    server or a session of commands parses each document once, and a row edited afterwards is still
    found (the rows are read from the store each time; an edited document changes its sha256)."""
    database, audit_id, _ = imported
    parsed: list[bytes] = []
    real = checks.parse_document
    monkeypatch.setattr(checks, "_DERIVED", type(checks._DERIVED)())
    monkeypatch.setattr(checks, "parse_document", lambda data: parsed.append(data) or real(data))
    with HistoryStore.open(database.ref) as store:
        (record,) = store.audits()
        for _ in range(3):
            assert all(c.ok for c in checks.audit_checks(store, record))
    assert len(parsed) == 1
    database.execute("UPDATE findings SET severity = 'minor'")
    with HistoryStore.open(database.ref) as store:
        (record,) = store.audits()
        failed = [c for c in checks.audit_checks(store, record) if not c.ok]
    assert len(parsed) == 1
    assert failed and all("severity" in c.name for c in failed), failed
    assert record.id == audit_id


@pytest.mark.parametrize(
    ("statement", "text"),
    [
        (
            "DELETE FROM indicator_values",
            "[缺失] 库内记录 指标值 teachers.new-pe-art-share/county/城中区：库内缺少此记录",
        ),
        (
            "INSERT INTO audit_files VALUES ('{audit}', 'input', 'extra.csv', 'x')",
            "文件记录 input extra.csv：findings.json 中没有此文件",
        ),
        ("UPDATE audit_files SET sha256 = 'x' WHERE name = 'classes.csv'", "文件记录 input classes.csv：库内为 x…"),
    ],
)
def test_verify_finds_rows_deleted_or_added(
    imported: tuple[Database, str, str], capsys: pytest.CaptureFixture[str], statement: str, text: str
) -> None:
    """Rows missing from, or added to, what the document stands for are reported: exit 1."""
    database, audit_id, _ = imported
    database.execute(statement.format(audit=audit_id))
    code, out, _ = _run(capsys, "verify", "--db", database)
    assert code == 1 and text in out, out


def test_an_edited_finding_stops_the_ledger_before_it_acts_on_it(
    imported: tuple[Database, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A waiver's expiry lengthened in the findings table would keep the item waived: the ledger refuses to run (exit 1)."""
    database, _, _finding = imported
    database.execute("UPDATE findings SET waiver_expires = '2099-12-31'")
    events = database.query("SELECT count(*) FROM events")
    code, _, err = _run(capsys, "ledger", "--db", database, "--today", "2025-04-01")
    assert code == 1 and "未通过校验" in err and "waiver_expires" in err and "inspector verify" in err
    assert database.query("SELECT count(*) FROM events") == events


# -- an odd database or document: a message and exit 1 or 2, never a traceback ---------------------

ODD_SQLITE: dict[str, tuple[Any, int]] = {
    # name: (how the database is made odd, exit code of verify)
    "table missing": (["DROP TABLE items"], 1),
    "column of another type": (["ALTER TABLE items DROP COLUMN level", "ALTER TABLE items ADD COLUMN level TEXT"], 1),
    "a date that is no date": (["UPDATE audits SET as_of = 'garbage'"], 1),
    "a level that is no number": (["UPDATE items SET level = 'x'"], 1),
    "a deadline that is a number": (["UPDATE items SET deadline = 5"], 1),
    "a state by its Chinese name": (["UPDATE items SET state = '待整改'"], 1),
    "a document that is text": (["UPDATE audits SET document = 'x'"], 1),
    "an event hash edited": (["DROP TRIGGER events_append_only_update", "UPDATE events SET hash = 'x'"], 1),
    "newer schema (user_version)": (["DROP TABLE alembic_version", "DROP TABLE items", "PRAGMA user_version = 99"], 2),
    "newer schema (revision)": (["UPDATE alembic_version SET version_num = 'ffff'"], 2),
    "version record missing": (["DROP TABLE alembic_version"], 1),
    "not SQLite": ("text", 2),
    "empty file": ("empty", 2),
    "another program's database": ("foreign", 2),
    "a folder": ("folder", 2),
}
COMMANDS = {
    "verify": ["verify"],
    "ledger verify": ["ledger", "verify"],
    "ledger head": ["ledger", "head"],
    "ledger": ["ledger", "--today", "2025-02-01"],
    "ledger show": ["ledger", "show", "F-"],
    "ledger update": [
        "ledger",
        "update",
        "F-",
        "--to",
        "整改中",
        "--by",
        "校长",
        "--note",
        "方案",
        "--today",
        "2025-02-01",
    ],
    "history list": ["history", "list"],
    "history trends": ["history", "trends"],
    "history import": ["history", "import", "{out}", "--today", "2025-02-01"],
}
WRITERS = {"ledger", "ledger update", "history import"}  # they check the whole store first; readers what they read


def _make_odd(db: Path, how: Any) -> None:
    if how == "text":
        db.write_text("这不是数据库\n" * 100, encoding="utf-8")
    elif how == "empty":
        db.write_bytes(b"")
    elif how == "folder":
        db.mkdir()
    elif how == "foreign":
        sqlite3.connect(db).execute("CREATE TABLE notes (x TEXT)").connection.close()
    else:
        Database("sqlite", db).execute(*how)


@pytest.fixture(scope="module")
def good_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store with one audit and its ledger item, and a second audit's output folder to import."""
    root = tmp_path_factory.mktemp("odd")
    db = root / "good.sqlite"
    assert (
        main(["history", "import", str(_output(root, _folder(root, "a"))), "--db", str(db), "--today", "2025-01-05"])
        == 0
    )
    return db, _output(root, _folder(root, "b", size=58, as_of=dt.date(2025, 1, 20)))


@pytest.mark.parametrize("case", list(ODD_SQLITE))
def test_an_odd_sqlite_file_ends_in_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], good_store: tuple[Path, Path], case: str
) -> None:
    """Every history command on a damaged, foreign, empty or newer database exits 1 or 2 with a Chinese message."""
    how, verify_code = ODD_SQLITE[case]
    db = tmp_path / "odd.sqlite"
    if isinstance(how, list):
        shutil.copy(good_store[0], db)
    _make_odd(db, how)
    capsys.readouterr()
    for name, command in COMMANDS.items():
        argv = [part.replace("{out}", str(good_store[1])) for part in command]
        code, out, err = _run(capsys, *argv, "--db", db)
        said = out + err
        if name == "verify":
            assert code == verify_code, (name, said)
        elif name == "ledger verify":  # it reads the ledger only: damage elsewhere is not its to find
            assert code in (0, verify_code), (name, said)
        elif name in WRITERS:
            assert code in (1, 2), (name, said)
        else:
            assert code in (0, 1, 2), (name, said)
        if code:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in said), (name, said)


ODD_POSTGRESQL = {
    "table missing": ["DROP TABLE items"],
    "column of another type": ["ALTER TABLE items ALTER COLUMN level TYPE text"],
    "a state by its Chinese name": ["UPDATE items SET state = '待整改'"],
    "newer schema (revision)": ["UPDATE alembic_version SET version_num = 'ffff'"],
    "trigger disabled": ["ALTER TABLE events DISABLE TRIGGER events_append_only_update"],
}


def _import_a(root: Path) -> Callable[[DbRef], None]:
    """Fill a store with the audit of `_folder(root)` (one large class), imported on 2025-01-05."""

    def fill(ref: DbRef) -> None:
        out = _output(root, _folder(root))
        assert main(["history", "import", str(out), "--db", str(ref), "--today", "2025-01-05"]) == 0

    return fill


@pytest.mark.parametrize("case", list(ODD_POSTGRESQL))
def test_an_odd_postgresql_database_ends_in_a_message(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """verify and the ledger on a damaged or newer PostgreSQL store exit 1 or 2 with a Chinese message.
    Each case damages its own copy of a store created, migrated and filled once per process."""
    root = tmp_path_factory.getbasetemp() / "odd-postgresql"
    root.mkdir(exist_ok=True)
    made = history_databases.template("postgresql", "odd", root, _import_a(root))
    with history_databases.from_template(made, tmp_path) as database:
        database.execute(*ODD_POSTGRESQL[case])
        for command in (["verify"], ["ledger", "--today", "2025-02-01"], ["history", "list"]):
            code, text, err = _run(capsys, *command, "--db", database)
            assert code in ((1, 2) if command[0] != "history" else (0, 1, 2)), (command, text, err)
            if code:
                assert any("\u4e00" <= ch <= "\u9fff" for ch in text + err)


def test_an_open_store_refuses_a_newer_or_foreign_database_through_the_api(tmp_path: Path) -> None:
    """`HistoryStore.open` raises UsageError (exit 2) for a newer store and for a file that is not SQLite."""
    newer = tmp_path / "newer.sqlite"
    sqlite3.connect(newer).execute("PRAGMA user_version = 99").connection.close()
    with pytest.raises(UsageError, match="高于本程序支持的版本"):
        HistoryStore.open(newer)
    text = tmp_path / "notes.sqlite"
    text.write_text("这不是数据库" * 200, encoding="utf-8")
    with pytest.raises(UsageError, match="不是可用的历史库"):
        HistoryStore.open(text)


def test_a_column_of_another_type_is_named_with_the_type_it_has_and_should_have(
    imported: tuple[Database, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The structure read from the catalog in one query names the column, what it is and what it should be."""
    database, _, _ = imported
    if database.backend == "sqlite":  # SQLite cannot change a column's type in place
        database.execute("ALTER TABLE items DROP COLUMN level", "ALTER TABLE items ADD COLUMN level TEXT")
    else:
        database.execute("ALTER TABLE items ALTER COLUMN level TYPE text")
    code, out, err = _run(capsys, "verify", "--db", database)
    assert code == 1 and "表 items 的列 level 类型为 TEXT，应为整数" in out + err, out + err
    code, _, err = _run(capsys, "ledger", "--db", database, "--today", "2025-04-01")
    assert code == 1 and "结构已被改动" in err and "表 items 的列 level 类型为 TEXT" in err, err


def test_an_empty_schema_ahead_of_the_tables_on_the_search_path_leaves_the_store_readable(
    imported: tuple[Database, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL: a schema named as the role ("$user", first on the default search path) created
    empty beside the store's tables in public: the tables an unqualified name finds are still the
    store's (the structure check read the current schema only, and found every table missing)."""
    database, _, _ = imported
    if database.backend == "sqlite":
        pytest.skip("PostgreSQL only: SQLite has no schemas")
    role = make_url(str(database.ref)).username
    database.execute(f'CREATE SCHEMA "{role}"')
    code, out, err = _run(capsys, "history", "list", "--db", database)
    assert code == 0 and "结构已被改动" not in err, out + err
