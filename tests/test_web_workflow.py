"""The rectification workflow through the web application, on SQLite and PostgreSQL: a county
assigns, uploads evidence and reports completion; the inspector can close only after a
re-inspection (imported through the page) confirms the rule no longer fires; every step is an
event of the hash chain and `inspector verify` passes afterwards. Two reviewers acting on one item
at once: exactly one wins. Evidence: limits, content sniffing, and a failure between upload and
event leaves neither file nor event. 自查 on the warm engine."""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from inspector.history.commands import verify
from inspector.history.lifecycle import load_lifecycle
from inspector.web.evidence import EvidenceStore
from web_support import *
from web_support import CZ_LARGE, LB_LARGE, LB_SUPER, PNG, Rounds, Web, post, version_of, zipped

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _events(web: Web, fid: str) -> list[tuple[Any, ...]]:
    return web.db.query(
        "SELECT seq, transition, to_state, actor, note FROM events WHERE finding_id = :f ORDER BY seq", f=fid
    )


def test_import_assign_evidence_submit_reinspect_close(web: Web, rounds: Rounds) -> None:
    """The whole workflow; each step a chain event with who, when and what; verify passes after it."""
    county, inspector = web.client("liubei"), web.client("inspector")
    assert (
        post(
            county,
            f"/findings/{LB_LARGE}/assign",
            {"version": version_of(county, LB_LARGE), "assignee": "张校长", "due": "2025-05-31"},
        ).status_code
        == 303
    )
    uploaded = post(
        county,
        f"/findings/{LB_LARGE}/evidence",
        {"version": version_of(county, LB_LARGE), "note": "分班后照片"},
        files={"file": ("分班照片.png", io.BytesIO(PNG), "image/png")},
    )
    assert uploaded.status_code == 303, uploaded.text
    assert (
        post(
            county,
            f"/findings/{LB_LARGE}/submit",
            {"version": version_of(county, LB_LARGE), "note": "已分班，班额 40 人"},
        ).status_code
        == 303
    )
    page = inspector.get(f"/findings/{LB_LARGE}").text
    assert "待复查" in page and 'id="accept" disabled' in page  # no re-inspection yet
    refused = post(
        inspector,
        f"/findings/{LB_LARGE}/review",
        {"version": version_of(inspector, LB_LARGE), "decision": "accept", "note": "同意"},
    )
    assert refused.status_code == 400 and "复查" in refused.text
    # the re-inspection's output, imported through the page
    web.today = web.today.replace(month=3, day=10)
    imported = post(
        inspector,
        "/runs/import",
        files={"file": ("recheck.zip", io.BytesIO(zipped(rounds.recheck)), "application/zip")},
    )
    assert imported.status_code == 303, imported.text
    assert "已导入审核" in inspector.get("/runs").text
    closed = post(
        inspector,
        f"/findings/{LB_LARGE}/review",
        {"version": version_of(inspector, LB_LARGE), "decision": "accept", "note": "复查通过，同意销号"},
    )
    assert closed.status_code == 303, closed.text
    assert "已销号" in inspector.get(f"/findings/{LB_LARGE}").text
    events = _events(web, LB_LARGE)
    steps = [(t, s) for _, t, s, _, _ in events]
    assert steps == [
        ("open", "open"),
        ("file-plan", "in_progress"),
        ("evidence", "in_progress"),
        ("report-done", "awaiting_review"),
        ("close", "closed"),
    ]
    actors = [a for _, _, _, a, _ in events]
    assert "账号 liubei" in actors[1] and "账号 inspector" in actors[4]
    sha = web.db.query("SELECT sha256 FROM evidence")[0][0]
    assert sha in events[2][4]  # the file's sha256 is under the chain's hash
    text, ok = verify(web.db.ref)
    assert ok, text
    trail = json.loads(inspector.get(f"/findings/{LB_LARGE}/trail").text)
    assert [e["transition"] for e in trail["events"]] == [t for t, _ in steps]
    assert trail["evidence"][0]["sha256"] == sha and trail["finding"]["rule_id"] == "class-size.large"
    # the still-failing class of the same school cannot be closed
    assert "仍存在" in inspector.get(f"/findings/{LB_SUPER}").text


def test_an_inspector_sends_back_with_a_reason(web: Web) -> None:
    county, inspector = web.client("chengzhong"), web.client("inspector")
    post(
        county,
        f"/findings/{CZ_LARGE}/evidence",
        {"version": version_of(county, CZ_LARGE)},
        files={"file": ("方案.pdf", io.BytesIO(PDF), "application/pdf")},
    )
    assert (
        post(
            county, f"/findings/{CZ_LARGE}/submit", {"version": version_of(county, CZ_LARGE), "note": "已整改"}
        ).status_code
        == 303
    )
    back = post(
        inspector,
        f"/findings/{CZ_LARGE}/review",
        {"version": version_of(inspector, CZ_LARGE), "decision": "reject", "note": "材料不足"},
    )
    assert back.status_code == 303
    assert _events(web, CZ_LARGE)[-1][1:3] == ("send-back", "open")


def test_submitting_needs_evidence_and_an_assignment_date_within_the_deadline(web: Web) -> None:
    county = web.client("liubei")
    refused = post(county, f"/findings/{LB_LARGE}/submit", {"version": version_of(county, LB_LARGE), "note": "已整改"})
    assert refused.status_code == 400 and "整改材料" in refused.text
    late = post(county, f"/findings/{LB_LARGE}/assign", {"version": 1, "assignee": "张三", "due": "2030-01-01"})
    assert late.status_code == 400 and "晚于整改期限" in late.text


def test_two_reviewers_acting_on_one_item_at_once_exactly_one_wins(web: Web) -> None:
    """Both saw version 1 and submit together: one 303, one 409, and one event in the chain."""
    first, second = web.client("liubei"), web.client("liubei")
    version = version_of(first, LB_LARGE)
    assert version_of(second, LB_LARGE) == version
    results: list[int] = []
    barrier = threading.Barrier(2)

    def act(client: Any, who: str) -> None:
        barrier.wait()
        results.append(
            post(
                client, f"/findings/{LB_LARGE}/assign", {"version": version, "assignee": who, "due": "2025-05-01"}
            ).status_code
        )

    threads = [threading.Thread(target=act, args=(c, w)) for c, w in ((first, "甲"), (second, "乙"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [303, 409]
    assert len([e for e in _events(web, LB_LARGE) if e[1] == "file-plan"]) == 1
    assert web.db.query("SELECT version FROM items WHERE finding_id = :f", f=LB_LARGE) == [(version + 1,)]


class TestEvidence:
    def test_size_and_type_limits_read_from_the_content(self, web: Web) -> None:
        county = web.client("liubei")
        files = web.app.state.evidence
        files.max_bytes = 1000
        too_big = post(
            county,
            f"/findings/{LB_LARGE}/evidence",
            {"version": 1},
            files={"file": ("big.png", io.BytesIO(PNG + b"\0" * 1000), "image/png")},
        )
        assert too_big.status_code == 413
        disguised = post(
            county,
            f"/findings/{LB_LARGE}/evidence",
            {"version": 1},
            files={"file": ("report.pdf", io.BytesIO(b"<script>alert(1)</script>"), "application/pdf")},
        )
        assert disguised.status_code == 415 and "文件类型不被接受" in disguised.text
        empty = post(
            county,
            f"/findings/{LB_LARGE}/evidence",
            {"version": 1},
            files={"file": ("a.png", io.BytesIO(b""), "image/png")},
        )
        assert empty.status_code == 400
        assert web.db.query("SELECT count(*) FROM evidence") == [(0,)]
        assert not any(files.tmp.iterdir()) and not any(files.objects.rglob("*.*"))

    def test_a_spreadsheet_is_told_apart_by_its_parts_and_served_as_an_attachment(
        self, web: Web, tmp_path: Path
    ) -> None:
        import xlsxwriter

        path = tmp_path / "名单.xlsx"
        book = xlsxwriter.Workbook(str(path))
        book.add_worksheet().write(0, 0, "班级")
        book.close()
        county = web.client("liubei")
        response = post(
            county,
            f"/findings/{LB_LARGE}/evidence",
            {"version": 1},
            files={"file": ("../../etc/名单.xlsx", io.BytesIO(path.read_bytes()), "application/octet-stream")},
        )
        assert response.status_code == 303, response.text
        ((filename, content_type),) = web.db.query("SELECT filename, content_type FROM evidence")
        assert filename == "名单.xlsx" and content_type.endswith("spreadsheetml.sheet")
        download = county.get("/evidence/1")
        assert download.status_code == 200 and download.content == path.read_bytes()
        assert download.headers["content-disposition"].startswith("attachment")
        assert download.headers["x-content-type-options"] == "nosniff"
        stored = web.app.state.evidence.objects
        assert Path(web.settings.evidence_dir) == stored.parent and "static" not in stored.parts

    def test_a_failure_between_upload_and_event_leaves_neither(self, web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
        """The file is moved into place inside the transaction; if the transaction then fails, both go."""
        county = web.client("liubei")
        events = web.db.query("SELECT count(*) FROM events")
        original = EvidenceStore.place

        def place_then_crash(self: EvidenceStore, staged: Any) -> Path:
            original(self, staged)
            raise OSError("disk gone")

        monkeypatch.setattr(EvidenceStore, "place", place_then_crash)
        version = version_of(county, LB_LARGE)
        with pytest.raises(OSError, match="disk gone"):  # a server error (500) for the browser
            post(
                county,
                f"/findings/{LB_LARGE}/evidence",
                {"version": version},
                files={"file": ("a.png", io.BytesIO(PNG), "image/png")},
            )
        files = web.app.state.evidence
        assert web.db.query("SELECT count(*) FROM events") == events
        assert web.db.query("SELECT count(*) FROM evidence") == [(0,)]
        assert not [p for p in files.objects.rglob("*") if p.is_file()] and not any(files.tmp.iterdir())

    def test_a_crash_that_left_a_file_behind_is_swept_at_start(self, web: Web) -> None:
        """A process killed after moving the file but before committing: the next start removes the file."""
        web.client()  # started once
        files = web.app.state.evidence
        orphan = files.objects / "ab" / ("ab" + "0" * 62)
        orphan.parent.mkdir(parents=True, exist_ok=True)
        orphan.write_bytes(PNG)
        (files.tmp / "half.part").write_bytes(b"half")
        web.close()
        again = Web(web.db, web.root)
        try:
            again.client()
            assert not orphan.exists() and not any(files.tmp.iterdir())
        finally:
            again.close()
            web._clients = []
            web.app.state.backend.close()


class TestSelfCheck:
    def _upload(self, web: Web, name: str, body: str) -> Any:
        school = web.client("school_p1")
        return post(school, "/selfcheck", files={"file": (name, io.BytesIO(body.encode("utf-8-sig")), "text/csv")})

    def test_corrected_rows_show_what_would_close(self, web: Web) -> None:
        """P1's class C1 corrected to 40 pupils: its 大班额 finding would close, C2's 超大班额 remains; nothing official changes."""
        events = web.db.query("SELECT count(*) FROM events")
        response = self._upload(web, "classes.csv", "班级代码,学校代码,年级,班额\nC1,P1,3,40\nC2,P1,4,70\n")
        assert response.status_code == 200, response.text
        closes = response.text.split('id="closes"')[1].split("</ul>")[0]
        remains = response.text.split('id="remains"')[1].split("</ul>")[0]
        assert LB_LARGE in closes and LB_SUPER in remains
        assert web.db.query("SELECT count(*) FROM events") == events

    def test_rows_are_validated_located_and_bound_to_the_school(self, web: Web) -> None:
        response = self._upload(
            web, "classes.csv", "班级代码,学校代码,年级,班额\nC1,P1,3,abc\nC3,P2,5,40\nC9,PX,3,30\n"
        )
        assert response.status_code == 200
        problems = response.text.split('id="selfcheck-problems"')[1].split("</ul>")[0]
        assert "classes.csv:2" in problems and "班额" in problems  # a bad number, located
        assert "不是本校" in problems  # another school's row
        assert "不在学校名单中" in problems  # an unknown school

    def test_a_file_of_no_known_kind_is_refused_with_a_reason(self, web: Web) -> None:
        response = self._upload(web, "notes.csv", "a,b\n1,2\n")
        assert "无法从文件名判断数据类型" in response.text


def test_an_uploaded_zip_that_escapes_its_folder_is_refused(web: Web) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("../evil/findings.json", "{}")
    response = post(
        web.client("inspector"),
        "/runs/import",
        files={"file": ("x.zip", io.BytesIO(buffer.getvalue()), "application/zip")},
    )
    assert response.status_code == 400 and "不安全" in response.text
    assert not (web.root / "evil").exists()


def _tile(page: str, state: str) -> int:
    found = re.search(rf'class="tile state-{state}"[^>]*><b>(\d+)</b>', page)
    assert found, f"no tile for {state}"
    return int(found.group(1))


def _cell(page: str, table: str, row: str | None, state: str) -> int:
    """The count in `table` (counties or schools) in the column of `state`: of the row whose link
    names `row`, or summed over all rows (row None)."""
    body = page[page.index(f'<table class="grid" id="{table}">') :]
    body = body[: body.index("</table>")]
    column = re.findall(r"<th>([^<]+)</th>", body)[1:].index(load_lifecycle().title(state))
    rows = re.findall(r"<tr><td><a [^>]*>([^<]+)</a>.*?</td>\n((?:<td class=\"num\">\d+</td>)+)", body)
    assert rows, f"no rows in {table}"
    counts = {name: [int(n) for n in re.findall(r"<td class=\"num\">(\d+)</td>", cells)] for name, cells in rows}
    return sum(c[column] for c in counts.values()) if row is None else counts[row][column]


def test_the_overview_counts_follow_every_change_and_each_scope_has_its_own(web: Web) -> None:
    """The overview's counts and tables are kept between requests until the ledger changes
    (web.backend.summary): a report of completion moves one item to 待复查 on the next page, in the
    tiles and in the county's row of the counties' table for the inspector and the county, and in the
    school's row for the county; another county's overview is computed for its own scope, never the
    inspector's."""
    county, inspector, other = web.client("liubei"), web.client("inspector"), web.client("chengzhong")
    before = {
        name: _tile(client.get("/").text, "awaiting_review")
        for name, client in (("inspector", inspector), ("liubei", county), ("chengzhong", other))
    }
    rows_before = {
        "inspector": _cell(inspector.get("/").text, "counties", "柳北区", "awaiting_review"),
        "schools": _cell(county.get("/").text, "schools", None, "awaiting_review"),
    }
    assert (
        post(
            county,
            f"/findings/{LB_LARGE}/assign",
            {"version": version_of(county, LB_LARGE), "assignee": "张校长", "due": "2025-05-31"},
        ).status_code
        == 303
    )
    assert (
        post(
            county,
            f"/findings/{LB_LARGE}/evidence",
            {"version": version_of(county, LB_LARGE)},
            files={"file": ("照片.png", io.BytesIO(PNG), "image/png")},
        ).status_code
        == 303
    )
    assert (
        post(
            county, f"/findings/{LB_LARGE}/submit", {"version": version_of(county, LB_LARGE), "note": "已整改"}
        ).status_code
        == 303
    )
    assert _tile(inspector.get("/").text, "awaiting_review") == before["inspector"] + 1
    assert _tile(county.get("/").text, "awaiting_review") == before["liubei"] + 1
    assert _tile(other.get("/").text, "awaiting_review") == before["chengzhong"]
    assert _cell(inspector.get("/").text, "counties", "柳北区", "awaiting_review") == rows_before["inspector"] + 1
    assert _cell(county.get("/").text, "schools", None, "awaiting_review") == rows_before["schools"] + 1


def _selected(page: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}">(.*?)</select>', page, re.DOTALL)
    assert select, f"no select {name}"
    return re.findall(r'<option value="([^"]*)" selected>', select.group(1))


def test_the_findings_filter_keeps_what_was_chosen(web: Web) -> None:
    """The filter form lists every county and rule in scope and marks the chosen ones (the lists are
    kept between pages, the choice is each page's own); a value that is not listed marks nothing."""
    inspector = web.client("inspector")
    plain = inspector.get("/findings").text
    assert _selected(plain, "county") == [] and _selected(plain, "rule_id") == []
    assert '<option value="柳北区">柳北区</option>' in plain and '<option value="城中区">城中区</option>' in plain
    chosen = inspector.get("/findings", params={"county": "柳北区", "rule_id": "class-size.large"}).text
    assert _selected(chosen, "county") == ["柳北区"] and _selected(chosen, "rule_id") == ["class-size.large"]
    assert LB_LARGE in chosen and CZ_LARGE not in chosen
    other = inspector.get("/findings", params={"county": "城中区"}).text
    assert _selected(other, "county") == ["城中区"] and _selected(other, "rule_id") == []
    unknown = inspector.get("/findings", params={"county": '柳北"区'}).text
    assert _selected(unknown, "county") == [] and "没有符合条件的问题" in unknown
