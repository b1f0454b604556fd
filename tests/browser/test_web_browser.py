"""The web application in real headless Chromium, served by uvicorn on loopback: login, county
isolation, the workflow from import to closure with an evidence upload, and the auditor's trace.

Skipped where Chromium is absent, except under CI (`CI` set), where its absence fails the run.
Screenshots go to $INSPECTOR_SCREENSHOTS (a folder) when set, else to the test's tmp folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import chromium, missing, screenshot

from history_databases import Database
from web_support import *  # noqa: F403
from web_support import CZ_LARGE, LB_LARGE, PASSWORD, PNG, Rounds, Web, zipped


@pytest.fixture(scope="module")
def browser_ok() -> None:
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI 中浏览器测试不得跳过：{reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def server(browser_ok: None, tmp_path_factory: pytest.TempPathFactory, web_template: Path) -> Iterator[tuple[str, Web]]:
    """The application on a copy of the session's store, served by uvicorn on a free loopback port."""
    import uvicorn

    root = tmp_path_factory.mktemp("web-browser")
    shutil.copy(web_template, root / "store.sqlite")
    web = Web(Database("sqlite", root / "store.sqlite"), root)
    listening = socket.create_server(("127.0.0.1", 0))  # bound here and kept: no other process can take the port
    port = listening.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(web.app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", web
    finally:
        uv.should_exit = True
        thread.join(timeout=20)
        listening.close()


@pytest.fixture(scope="module")
def driver(browser_ok: None) -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("INSPECTOR_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _login(driver: Any, base: str, username: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.ID, "login").click()
    # the click returns before the redirect is followed: on a busy machine current_url still reads /login
    WebDriverWait(driver, 20).until(lambda d: "/login" not in d.current_url, message=driver.page_source[:500])


def _errors(driver: Any) -> list[str]:
    """Severe console messages, other than the 404 a test asked for on purpose."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE" and "404" not in e["message"]]


def _submit(driver: Any, form_id: str, **fields: str) -> None:
    from selenium.webdriver.common.by import By

    form = driver.find_element(By.ID, form_id)
    for name, value in fields.items():
        element = form.find_element(By.NAME, name)
        if element.get_attribute("type") == "date":
            driver.execute_script("arguments[0].value = arguments[1]", element, value)
        else:
            element.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _left(driver, form)


def _left(driver: Any, element: Any) -> None:
    """Wait until the page holding `element` has been replaced (a click returns before the navigation it starts).

    selenium's `staleness_of` waits for a StaleElementReferenceException only; mid-navigation Chromium may
    answer "Node with given id does not belong to the document" instead, a plain WebDriverException that
    means the same: the element's page is gone."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def gone(_: Any) -> bool:
        try:
            element.is_enabled()
        except WebDriverException:
            return True
        return False

    WebDriverWait(driver, 30).until(gone)


def test_county_sees_only_its_county_and_gets_404_for_another(server: tuple[str, Web], driver: Any) -> None:
    from selenium.webdriver.common.by import By

    base, _ = server
    _login(driver, base, "liubei")
    assert "柳北区整改概览" in driver.find_element(By.TAG_NAME, "h1").text
    driver.get(f"{base}/findings")
    rows = driver.find_elements(By.CSS_SELECTOR, "#findings tbody tr")
    assert rows and all("柳北区" in row.text for row in rows)
    assert CZ_LARGE not in driver.page_source
    driver.get(f"{base}/findings/{CZ_LARGE}")
    assert "404" in driver.find_element(By.TAG_NAME, "h1").text and "城中区测试小学" not in driver.page_source
    assert _errors(driver) == []


def test_workflow_from_import_to_closure_with_evidence(
    server: tuple[str, Web], driver: Any, shots: Path, tmp_path: Path, rounds: Rounds
) -> None:
    from selenium.webdriver.common.by import By

    base, web = server
    _login(driver, base, "liubei")
    driver.get(f"{base}/findings/{LB_LARGE}")
    _submit(driver, "assign-form", assignee="张校长", due="2025-05-31")
    assert "张校长" in driver.find_element(By.ID, "assignee").text
    photo = tmp_path / "分班照片.png"
    photo.write_bytes(PNG)
    _submit(driver, "evidence-form", file=str(photo))
    assert "分班照片.png" in driver.find_element(By.ID, "evidence").text
    _submit(driver, "submit-form", note="已分班，班额 40 人")
    assert driver.find_element(By.ID, "state").text == "待复查"
    screenshot(driver, shots / "web-workflow-test.png", 1280, 1100)

    _login(driver, base, "inspector")
    web.today = web.today.replace(month=3, day=10)
    archive = tmp_path / "recheck.zip"
    archive.write_bytes(zipped(rounds.recheck))
    driver.get(f"{base}/runs")
    _submit(driver, "import-form", file=str(archive))
    assert "已导入审核" in driver.page_source
    driver.get(f"{base}/findings/{LB_LARGE}")
    _submit(driver, "review-form", note="复查通过，同意销号")
    assert driver.find_element(By.ID, "state").text == "已销号"
    events = driver.find_element(By.ID, "events").text
    for title in ("提交整改方案", "上传整改材料", "报告整改完成", "复查销号"):
        assert title in events
    assert _errors(driver) == []


def test_auditor_traces_a_finding_and_verifies_the_chain(server: tuple[str, Web], driver: Any, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    base, _ = server
    _login(driver, base, "auditor")
    driver.get(f"{base}/findings/{LB_LARGE}")
    assert not driver.find_elements(By.ID, "assign-form") and not driver.find_elements(
        By.ID, "review-form"
    )  # read-only
    link = driver.find_element(By.ID, "trace-link")
    link.click()
    _left(driver, link)
    assert driver.find_element(By.ID, "rule-id").text == "class-size.large"
    assert driver.find_element(By.ID, "basis").text
    assert "size=60" in driver.find_element(By.ID, "rows").text
    assert len(driver.find_element(By.CSS_SELECTOR, "#files code").text) == 64
    screenshot(driver, shots / "web-trace-test.png", 1280, 1300)
    driver.get(f"{base}/ledger/verify")
    assert "校验通过" in driver.find_element(By.ID, "verify-result").text
    assert _errors(driver) == []
