"""Regenerate the images in docs/ from cases/liuzhou-2025: `make docs-images`.

- report-liuzhou-2025.png: the top of report.html, in headless Chromium (1280 px wide)
- report-county-rongshui.png: the top of the 融水苗族自治县 county edition
- notice-example.png: the notice of the school with the most findings, in its county's file
- rectification-xlsx.png: page 1 of rectification.xlsx as LibreOffice prints it (soffice → PDF → pdftoppm)
- template-workbook.png: the entry workbook of `inspector template --packs plan,preschool` as LibreOffice
  prints it: the 学校 sheet's header and example row above the top of the 说明 sheet

Needs chromium, chromium-driver, fonts-noto-cjk, libreoffice-calc-nogui and poppler-utils (Debian).
`python docs/screenshots.py template-workbook.png` makes that image alone (it needs no Chromium).
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from chromium import chromium, missing, screenshot  # noqa: E402

from inspector.cli import main  # noqa: E402
from inspector.report.notices import notice_file  # noqa: E402
from inspector.report.view import schools_of  # noqa: E402


def _xlsx_image(workbook: Path, target: Path, work: Path) -> None:
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        raise SystemExit(
            "需要 libreoffice-calc-nogui 与 poppler-utils：apt-get install libreoffice-calc-nogui poppler-utils"
        )
    subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{work / 'lo-profile'}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work),
            str(workbook),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    subprocess.run(
        [
            pdftoppm,
            "-r",
            "110",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            "-singlefile",
            str(work / "rectification.pdf"),
            str(work / "sheet"),
        ],
        check=True,
    )
    shutil.copyfile(work / "sheet.png", target)


def _pdf(workbook: Path, work: Path) -> Path:
    soffice = shutil.which("soffice")
    if not soffice or not shutil.which("pdftoppm"):
        raise SystemExit(
            "需要 libreoffice-calc-nogui 与 poppler-utils：apt-get install libreoffice-calc-nogui poppler-utils"
        )
    subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{work / 'lo-profile'}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work),
            str(workbook),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return work / f"{workbook.stem}.pdf"


def _page(pdf: Path, number: int, work: Path, dpi: int = 150) -> tuple[int, int, list[bytes]]:
    """One page as RGB rows (pdftoppm writes PPM: a short header, then the pixels)."""
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", str(number), "-l", str(number), "-singlefile", str(pdf), str(work / "page")],
        check=True,
    )
    data = (work / "page.ppm").read_bytes()
    fields = data.split(maxsplit=4)
    assert fields[0] == b"P6" and fields[3] == b"255", "pdftoppm writes 8-bit PPM"
    width, height, pixels = int(fields[1]), int(fields[2]), fields[4]
    return width, height, [pixels[y * width * 3 : (y + 1) * width * 3] for y in range(height)]


def _content_rows(rows: list[bytes]) -> tuple[int, int]:
    """The first and last row that are not all white."""
    white = b"\xff" * len(rows[0])
    marked = [i for i, row in enumerate(rows) if row != white]
    return marked[0], marked[-1]


def _png(width: int, rows: list[bytes]) -> bytes:
    """RGB rows as a PNG (no filter): what the docs need without an imaging library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _template_image(target: Path, work: Path) -> None:
    workbook = work / "填报模板.xlsx"
    assert main(["template", "--packs", "plan,preschool", "--out", str(workbook)]) == 0
    pdf = _pdf(workbook, work)
    pages = int(
        next(
            line.split()[-1]
            for line in subprocess.run(
                ["pdfinfo", str(pdf)], check=True, capture_output=True, text=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    notes = next(
        n
        for n in range(1, pages + 1)
        if "填报说明"
        in subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
    )
    width, _, sheet = _page(pdf, 1, work)
    top, bottom = _content_rows(sheet)
    strip = sheet[max(top - 24, 0) : bottom + 24]
    _, _, page = _page(pdf, notes, work)
    start, _ = _content_rows(page)
    blank = b"\xff" * (width * 3)
    target.write_bytes(_png(width, strip + [blank] * 12 + page[max(start - 24, 0) : start + 1000]))


def main_(only: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="inspector-docs-") as temp:
        if only == ["template-workbook.png"]:
            _template_image(DOCS / "template-workbook.png", Path(temp))
            print("docs/template-workbook.png")
            return 0
    reason = missing()
    if reason:
        raise SystemExit(reason)
    with tempfile.TemporaryDirectory(prefix="inspector-docs-") as temp:
        work = Path(temp)
        out = work / "out"
        assert main(["audit", str(ROOT / "cases" / "liuzhou-2025"), "--out", str(out), "--quiet"]) == 0
        assert main(["report", str(out), "--county", "融水苗族自治县", "--out", str(work / "rongshui"), "--quiet"]) == 0
        document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
        school = max(schools_of(document["findings"]), key=lambda s: len(s.findings))  # the first of the most
        with chromium() as driver:
            for page, image, width, height, anchor in (
                (out / "report.html", "report-liuzhou-2025.png", 1280, 2000, None),
                (work / "rongshui" / "report.html", "report-county-rongshui.png", 1280, 1500, None),
                (out / notice_file(school.county), "notice-example.png", 900, 1500, school.slug),
            ):
                driver.get(page.resolve().as_uri())
                top = 0.0
                if anchor is not None:  # the school's notice within its county's file
                    top = driver.execute_script(
                        "return document.getElementById(arguments[0]).getBoundingClientRect().top + window.scrollY",
                        anchor,
                    )
                screenshot(driver, DOCS / image, width, height, top)
                print(f"docs/{image}")
        _xlsx_image(out / "rectification.xlsx", DOCS / "rectification-xlsx.png", work)
        print("docs/rectification-xlsx.png")
        (work / "template").mkdir()
        _template_image(DOCS / "template-workbook.png", work / "template")
        print("docs/template-workbook.png")
    return 0


if __name__ == "__main__":
    sys.exit(main_(sys.argv[1:]))
