"""Regenerate the web application's images in docs/ from cases/liuzhou-2025: `make docs-web-images`.

- web-county.png: a county reviewer's view of its county (柳北区): states, severities, schools
- web-workflow.png: a finding's workflow page after assignment, evidence and the report of completion
- web-trace.png: the auditor's trace of that finding (rule, basis, observed values, rows, file sha256, run)

The case is audited into a temporary folder, imported into a temporary store with one account per
role (`inspector serve --demo` does the same), served by uvicorn on loopback and driven in headless
Chromium (chromium, chromium-driver, fonts-noto-cjk from Debian).
"""

from __future__ import annotations

import datetime as dt
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from chromium import chromium, missing, screenshot  # noqa: E402

from inspector.cli import main  # noqa: E402
from inspector.history.database import write_transaction  # noqa: E402
from inspector.history.store import HistoryStore  # noqa: E402
from inspector.web.app import create_app  # noqa: E402
from inspector.web.settings import Settings  # noqa: E402
from inspector.web.users import add_user  # noqa: E402

PASSWORD = "screenshot-password"
TODAY = dt.date(2026, 1, 10)


def _login(driver: object, base: str, username: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()  # type: ignore[attr-defined]
    driver.get(f"{base}/login")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "username").send_keys(username)  # type: ignore[attr-defined]
    driver.find_element(By.ID, "password").send_keys(PASSWORD)  # type: ignore[attr-defined]
    driver.find_element(By.ID, "login").click()  # type: ignore[attr-defined]


def main_() -> None:
    reason = missing()
    if reason:
        raise SystemExit(reason)
    import uvicorn
    from selenium.webdriver.common.by import By

    with tempfile.TemporaryDirectory(prefix="inspector-web-shots-") as tmp:
        work = Path(tmp)
        out = work / "out"
        assert main(["audit", str(ROOT / "cases" / "liuzhou-2025"), "--out", str(out), "--quiet"]) == 0
        db = work / "demo.sqlite"
        assert main(["runs", "import", str(out), "--db", str(db), "--today", "2026-01-05"]) == 0
        with HistoryStore.open(db) as store, write_transaction(store.conn) as conn:
            add_user(conn, "liubei", PASSWORD, "county", county="柳北区", display_name="柳北区教育局")
            add_user(conn, "auditor", PASSWORD, "auditor", display_name="市审计局")
        app = create_app(Settings.for_db(db, today=lambda: TODAY))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            with chromium() as driver:
                _login(driver, base, "liubei")
                screenshot(driver, DOCS / "web-county.png", 1280, 1000)
                driver.get(f"{base}/findings?rule_id=class-size.large")
                link = driver.find_element(By.CSS_SELECTOR, "#findings tbody a")
                fid = link.text
                link.click()
                form = driver.find_element(By.ID, "assign-form")
                form.find_element(By.NAME, "assignee").send_keys("覃校长（分管副校长）")
                driver.execute_script("arguments[0].value = '2026-03-31'", form.find_element(By.NAME, "due"))
                form.find_element(By.CSS_SELECTOR, "button").click()
                photo = work / "分班后课表.png"
                photo.write_bytes((ROOT / "docs" / "notice-example.png").read_bytes())
                form = driver.find_element(By.ID, "evidence-form")
                form.find_element(By.NAME, "file").send_keys(str(photo))
                form.find_element(By.NAME, "note").send_keys("调整后的分班名单与课表")
                form.find_element(By.CSS_SELECTOR, "button").click()
                form = driver.find_element(By.ID, "submit-form")
                form.find_element(By.NAME, "note").send_keys("已将该班拆分为两个教学班，班额降至 45 人以下")
                form.find_element(By.CSS_SELECTOR, "button").click()
                screenshot(driver, DOCS / "web-workflow.png", 1280, 1250)
                _login(driver, base, "auditor")
                driver.get(f"{base}/findings/{fid}/trace")
                screenshot(driver, DOCS / "web-trace.png", 1280, 1400)
        finally:
            server.should_exit = True
            thread.join(timeout=20)
    print("docs/web-county.png, docs/web-workflow.png, docs/web-trace.png")


if __name__ == "__main__":
    main_()
