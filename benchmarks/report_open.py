"""How long a report takes to open in headless Chromium:
`python benchmarks/report_open.py OUT_DIR/report.html [more.html ...] [--repeat 3]`.

For each page: the wall time of loading it (until the load event, as `driver.get` waits) and
Chromium's own layout and style-recalculation time for that load (CDP `Performance.getMetrics`,
differences around the load), best of `--repeat` loads in one browser. A province's report
holds hundreds of thousands of elements; what it costs to open is what an inspector waits for.
Needs chromium, chromium-driver and a CJK font, as the browser tests do.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from chromium import chromium, missing  # noqa: E402

METRICS = ("LayoutDuration", "RecalcStyleDuration", "ScriptDuration")


def _metrics(driver: Any) -> dict[str, float]:
    found = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    return {m["name"]: float(m["value"]) for m in found if m["name"] in METRICS}


def measure(driver: Any, page: Path) -> tuple[float, dict[str, float]]:
    """One load of `page`: its wall seconds, the metrics' growth during it, and its element count."""
    driver.get("about:blank")
    before = _metrics(driver)
    start = time.perf_counter()
    driver.get(page.resolve().as_uri())
    wall = time.perf_counter() - start
    after = _metrics(driver)
    elements = float(driver.execute_script("return document.getElementsByTagName('*').length"))
    return wall, {name: after[name] - before.get(name, 0.0) for name in METRICS} | {"elements": elements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    reason = missing()
    if reason:
        sys.exit(reason)
    with chromium() as driver:
        driver.execute_cdp_cmd("Performance.enable", {})
        for page in args.pages:
            runs = [measure(driver, page) for _ in range(args.repeat)]
            wall, metrics = min(runs, key=lambda run: run[0])
            print(
                f"{page}  {page.stat().st_size / 1e6:.1f} MB  open {wall:.2f} s (best of {args.repeat};"
                f" all {', '.join(f'{w:.2f}' for w, _ in runs)})  layout {metrics['LayoutDuration']:.2f} s"
                f"  style {metrics['RecalcStyleDuration']:.2f} s  script {metrics['ScriptDuration']:.2f} s"
                f"  {metrics['elements']:,.0f} elements"
            )


if __name__ == "__main__":
    main()
