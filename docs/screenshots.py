"""Regenerate the images in docs/ from cases/liuzhou-2025: `make docs-images`.

- report-liuzhou-2025.png: the top of report.html, in headless Chromium (1280 px wide)
- report-county-rongshui.png: the top of the 融水苗族自治县 county edition
- notice-example.png: the notice of the school with the most findings
- rectification-xlsx.png: page 1 of rectification.xlsx as LibreOffice prints it (soffice → PDF → pdftoppm)

Needs chromium, chromium-driver, fonts-noto-cjk, libreoffice-calc-nogui and poppler-utils (Debian).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from chromium import chromium, missing, screenshot  # noqa: E402

from inspector.cli import main  # noqa: E402


def _xlsx_image(workbook: Path, target: Path, work: Path) -> None:
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        raise SystemExit("需要 libreoffice-calc-nogui 与 poppler-utils：apt-get install libreoffice-calc-nogui poppler-utils")
    subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{work / 'lo-profile'}",
         "--convert-to", "pdf", "--outdir", str(work), str(workbook)],
        check=True, capture_output=True, timeout=300,
    )
    subprocess.run(
        [pdftoppm, "-r", "110", "-f", "1", "-l", "1", "-png", "-singlefile", str(work / "rectification.pdf"), str(work / "sheet")],
        check=True,
    )
    shutil.copyfile(work / "sheet.png", target)


def main_() -> int:
    reason = missing()
    if reason:
        raise SystemExit(reason)
    with tempfile.TemporaryDirectory(prefix="inspector-docs-") as temp:
        work = Path(temp)
        out = work / "out"
        assert main(["audit", str(ROOT / "cases" / "liuzhou-2025"), "--out", str(out), "--quiet"]) == 0
        assert main(["report", str(out), "--county", "融水苗族自治县", "--out", str(work / "rongshui"), "--quiet"]) == 0
        document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
        counts: dict[str, int] = {}
        for finding in document["findings"]:
            if finding["school_id"]:
                counts[finding["school_id"]] = counts.get(finding["school_id"], 0) + 1
        school = max(sorted(counts), key=lambda s: counts[s])
        with chromium() as driver:
            for page, image, width, height in (
                (out / "report.html", "report-liuzhou-2025.png", 1280, 2000),
                (work / "rongshui" / "report.html", "report-county-rongshui.png", 1280, 1500),
                (out / "notices" / f"{school}.html", "notice-example.png", 900, 1500),
            ):
                driver.get(page.resolve().as_uri())
                screenshot(driver, DOCS / image, width, height)
                print(f"docs/{image}")
        _xlsx_image(out / "rectification.xlsx", DOCS / "rectification-xlsx.png", work)
        print("docs/rectification-xlsx.png")
    return 0


if __name__ == "__main__":
    sys.exit(main_())
