"""Output files: contents, escaping of what they embed and provenance (publishing: test_publishing.py)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.cli import main
from inspector.output.escape import spreadsheet_text
from inspector.output.rectification import EVIDENCE_HEADERS, csv_bytes, evidence_rows_csv
from inspector.testing import AuditBuilder

HOSTILE_NAME = "<script>alert(1)</script>"
FORMULA_NAME = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An audit with a hostile school name and a formula-like one, both with findings: its output
    folder, with the data beside it in ../audit. Audited once for the module; the tests only read it."""
    root = tmp_path_factory.mktemp("outputs")
    builder = AuditBuilder()
    hostile = builder.school("S1", name=HOSTILE_NAME)
    formula = builder.school("S2", name=FORMULA_NAME)
    builder.klass(hostile, "3", 60, "C1")
    builder.klass(formula, "3", 70, "C2")
    folder = builder.write(root / "audit")
    assert main(["audit", str(folder), "--out", str(root / "out"), "--quiet"]) == 0
    return root / "out"


class TestSpreadsheetText:
    @pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "＝1"])
    def test_formula_triggers_are_neutralised(self, text: str) -> None:
        """A cell a spreadsheet would evaluate starts with a quote instead."""
        assert spreadsheet_text(text) == "'" + text

    def test_plain_text_is_unchanged(self) -> None:
        assert spreadsheet_text("文惠小学") == "文惠小学"


class TestRectificationCsv:
    def test_csv_opens_in_excel_and_is_inert(self, audited: Path) -> None:
        """UTF-8 with BOM, Chinese headers, one row per finding, no cell starting a formula."""
        raw = (audited / "rectification.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows[0][:4] == ["序号", "问题编号", "区县", "乡镇"]
        document = json.loads((audited / "findings.json").read_text(encoding="utf-8"))
        assert len(rows) - 1 == len(document["findings"])
        for row in rows[1:]:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@")), cell
        names = {row[5] for row in rows[1:]}
        assert "'" + FORMULA_NAME in names and HOSTILE_NAME in names


class TestEvidenceCsv:
    def test_every_evidence_row_of_every_finding_once_and_in_order(self, audited: Path) -> None:
        """One row per (finding, file, row, role), sorted, each finding's rows found in the data."""
        raw = (audited / "evidence.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows[0] == ["问题编号", "文件", "行", "角色"]
        document = json.loads((audited / "findings.json").read_text(encoding="utf-8"))
        inline = {(f["id"], e["file"], str(e["row"]), e["role"]) for f in document["findings"] for e in f["evidence"]}
        assert inline <= {tuple(row) for row in rows[1:]} and len(rows) - 1 == len({tuple(r) for r in rows[1:]})
        classes = (audited.parent / "audit" / "classes.csv").read_text(encoding="utf-8").splitlines()
        for finding_id, file, row, role in rows[1:]:
            if file == "classes.csv":
                assert role == "record" and classes[int(row) - 1].startswith(("C1,", "C2,")), finding_id

    @given(
        st.lists(
            st.tuples(
                st.text(min_size=1, max_size=8),
                st.integers(0, 2),
                st.integers(1, (1 << 32) - 1),
                st.sampled_from(["school", "record", "=cmd", "a,b"]),
            ),
            max_size=20,
        ),
        st.lists(st.text(min_size=1, max_size=12), min_size=3, max_size=3),
    )
    def test_written_as_the_csv_module_writes_its_rows(
        self, rows: list[tuple[str, int, int, str]], sources: list[str]
    ) -> None:
        """Ids, file names and roles with commas, quotes, line breaks or a formula's first character:
        the bytes `csv_bytes` gives for the sorted distinct rows, each cell neutralised."""
        evidence = [(fid, source << 32 | row, role) for fid, source, row, role in rows]
        expected = csv_bytes(
            EVIDENCE_HEADERS,
            [[fid, sources[ref >> 32], str(ref & 0xFFFFFFFF), role] for fid, ref, role in sorted(set(evidence))],
        )
        assert evidence_rows_csv(evidence * 2, sources) == expected


class TestMarkdownReport:
    def test_embedded_text_cannot_inject_markup(self, audited: Path) -> None:
        """HTML and table syntax in data are escaped in report.md."""
        report = (audited / "report.md").read_text(encoding="utf-8")
        assert "<script>" not in report
        assert r"\<script\>alert(1)\</script\>" in report


class TestFindingsJson:
    def test_provenance_matches_the_inputs(self, audited: Path) -> None:
        """Inputs are listed with their sha256 and row counts, packs with theirs, tools with versions."""
        document = json.loads((audited / "findings.json").read_text(encoding="utf-8"))
        audit = document["audit"]
        for item in audit["inputs"]:
            data = (audited.parent / "audit" / item["file"]).read_bytes()
            assert item["sha256"] == hashlib.sha256(data).hexdigest()
            assert item["rows_read"] == item["rows_loaded"] + item["rows_rejected"]
        assert (
            audit["config"]["sha256"]
            == hashlib.sha256((audited.parent / "audit" / "audit.yaml").read_bytes()).hexdigest()
        )
        assert [p["id"] for p in audit["packs"]] == ["core"] and len(audit["packs"][0]["sha256"]) == 64
        assert set(audit["tool"]) == {"inspector", "durable-rules", "python"}
        assert document["summary"]["total"] == len(document["findings"]) == 2
        assert document["summary"]["by_severity"] == {"critical": 1, "major": 1, "minor": 0}

    def test_rule_table_accounts_for_every_entity(self, audited: Path) -> None:
        """checked = passed + failed + not evaluated, for every rule."""
        document = json.loads((audited / "findings.json").read_text(encoding="utf-8"))
        for rule in document["rules"]:
            assert rule["checked"] == rule["passed"] + rule["failed"] + rule["not_evaluated"], rule["id"]


class TestTemplateCache:
    def test_a_vanished_cache_folder_only_costs_time(self, tmp_path: Path) -> None:
        """jinja2's own cache raises when its folder is gone (a tmp cleaner, a full disk); ours renders."""
        from inspector.jinja_cache import _BestEffortCache

        gone = str(tmp_path / "gone")
        plain = jinja2.Environment(
            loader=jinja2.DictLoader({"t": "{{ x }}"}), bytecode_cache=jinja2.FileSystemBytecodeCache(gone)
        )
        with pytest.raises(OSError):
            plain.get_template("t")
        ours = jinja2.Environment(loader=jinja2.DictLoader({"t": "{{ x }}"}), bytecode_cache=_BestEffortCache(gone))
        assert ours.get_template("t").render(x=1) == "1"

    def test_html_and_markdown_environments_keep_separate_entries(self) -> None:
        from inspector.jinja_cache import bytecode_cache

        html, markdown = bytecode_cache("html"), bytecode_cache("markdown")
        if html is None or markdown is None:
            pytest.skip("no private cache folder on this machine")
        assert html.pattern != markdown.pattern and jinja2.__version__ in html.pattern
