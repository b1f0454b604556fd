"""The web workflow as Chinese Gherkin (tests/web_features/workflow.feature), through the pages of
the application on a copy of the session's store (SQLite; the PostgreSQL runs are in
tests/test_web_workflow.py).

The feature lives outside tests/features/ because tests/test_features.py collects every feature
under that folder with the rule steps of steps_audit.py."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from history_databases import Database
from inspector.findings.build import finding_id
from inspector.history.commands import verify
from web_support import *
from web_support import PNG, Rounds, Web, post, version_of, zipped

scenarios(str(Path(__file__).parent / "web_features" / "workflow.feature"))


class Scene:
    def __init__(self, web: Web, rounds: Rounds) -> None:
        self.web = web
        self.rounds = rounds
        self.clients: dict[str, Any] = {}
        self.fid = finding_id("class-size.large", "class", "C1")
        self.last: Any = None

    def client(self, who: str) -> Any:
        name = {"柳北区账号": "liubei", "督学": "inspector"}[who]
        if name not in self.clients:
            self.clients[name] = self.web.client(name)
        return self.clients[name]

    def act(self, who: str, path: str, data: dict[str, Any], files: Any = None) -> Any:
        client = self.client(who)
        self.last = post(
            client, f"/findings/{self.fid}/{path}", {"version": version_of(client, self.fid), **data}, files=files
        )
        return self.last


@pytest.fixture
def scene(tmp_path: Path, web_template: Path, rounds: Rounds) -> Iterator[Scene]:
    shutil.copy(web_template, tmp_path / "store.sqlite")
    web = Web(Database("sqlite", tmp_path / "store.sqlite"), tmp_path)
    try:
        yield Scene(web, rounds)
    finally:
        web.close()


@given("平台已导入一次审核，柳北区和城中区各有大班额问题")
def _imported(scene: Scene) -> None:
    assert scene.web.db.query("SELECT count(*) FROM items WHERE rule_id = 'class-size.large'") == [(2,)]


@when(parsers.parse('{who}为班级 C1 的问题指定责任人"{person}"，计划于 {due} 完成'))
def _assign(scene: Scene, who: str, person: str, due: str) -> None:
    assert scene.act(who, "assign", {"assignee": person, "due": due}).status_code == 303


@when(parsers.parse('{who}上传整改材料"{name}"'))
def _upload(scene: Scene, who: str, name: str) -> None:
    response = scene.act(who, "evidence", {}, files={"file": (name, io.BytesIO(PNG), "image/png")})
    assert response.status_code == 303, response.text


@when(parsers.parse('{who}报告整改完成："{note}"'))
def _submit(scene: Scene, who: str, note: str) -> None:
    assert scene.act(who, "submit", {"note": note}).status_code == 303


@when("督学销号该问题")
def _close(scene: Scene) -> None:
    scene.act("督学", "review", {"decision": "accept", "note": "复查通过"})


@when(parsers.parse('督学退回该问题："{note}"'))
def _send_back(scene: Scene, note: str) -> None:
    assert scene.act("督学", "review", {"decision": "reject", "note": note}).status_code == 303


@when("督学导入复查审核的输出")
def _import(scene: Scene) -> None:
    scene.web.today = scene.web.today.replace(month=3, day=10)
    data = zipped(scene.rounds.recheck)
    response = post(
        scene.client("督学"), "/runs/import", files={"file": ("recheck.zip", io.BytesIO(data), "application/zip")}
    )
    assert response.status_code == 303, response.text


@when(parsers.parse("{who}打开城中区班级 C3 的问题"))
def _open_other(scene: Scene, who: str) -> None:
    scene.last = scene.client(who).get(f"/findings/{finding_id('class-size.large', 'class', 'C3')}")


@then(parsers.parse('该问题的状态为"{state}"'))
def _state(scene: Scene, state: str) -> None:
    page = scene.client("督学").get(f"/findings/{scene.fid}").text
    shown = page.split('id="state">')[1].split("<")[0]
    assert shown == state


@then(parsers.parse('操作被拒绝，原因含"{text}"'))
def _refused(scene: Scene, text: str) -> None:
    assert scene.last.status_code == 400 and text in scene.last.text


@then(parsers.parse('台账事件依次为"{titles}"'))
def _events(scene: Scene, titles: str) -> None:
    lifecycle = scene.web.app.state.backend.lifecycle
    rows = scene.web.db.query("SELECT transition FROM events WHERE finding_id = :f ORDER BY seq", f=scene.fid)
    assert "、".join(lifecycle.transition_title(t) for (t,) in rows) == titles.replace("新建", "新建")


@then("历史库校验通过")
def _verified(scene: Scene) -> None:
    text, ok = verify(scene.web.db.ref)
    assert ok, text


@then(parsers.parse('得到 404，页面中没有"{text}"'))
def _not_found(scene: Scene, text: str) -> None:
    assert scene.last.status_code == 404 and text not in scene.last.text
