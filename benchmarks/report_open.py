"""How long a report takes to open in headless Chromium, and to answer in its rectification list:
`python benchmarks/report_open.py OUT_DIR/report.html [more.html ...] [--repeat 3]`.

For each page: the wall time of loading it (until the load event, as `driver.get` waits) and
Chromium's own layout and style-recalculation time for that load (CDP `Performance.getMetrics`,
differences around the load), best of `--repeat` loads in one browser. Then, in the list (12
rounds; the median and the slowest): choosing the first county in the county filter, choosing
全部 again, and sorting by 整改期限, each until the page is laid out again. A province's report
holds hundreds of thousands of elements; what it costs to open and to filter is what an inspector
waits for. Needs chromium, chromium-driver and a CJK font, as the browser tests do.
"""

from __future__ import annotations

import argparse
import statistics
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


ACTIONS = {
    "filter by a county": "var c = document.getElementById('rect-county'); c.selectedIndex = 1;"
    " c.dispatchEvent(new Event('change'));",
    "all counties again": "var c = document.getElementById('rect-county'); c.selectedIndex = 0;"
    " c.dispatchEvent(new Event('change'));",
    "sort by deadline": "Array.prototype.filter.call(document.querySelectorAll('#rect-table thead th'),"
    " function (th) { return th.textContent.trim().indexOf('整改期限') === 0; })[0].click();",
}


def list_actions(driver: Any, rounds: int = 12) -> dict[str, list[float]]:
    """Seconds each list action takes, layout included, over `rounds` rounds (the list scrolled to)."""
    driver.execute_script("document.getElementById('rectification').scrollIntoView(); document.body.offsetHeight;")
    times: dict[str, list[float]] = {name: [] for name in ACTIONS}
    for _ in range(rounds):
        for name, script in ACTIONS.items():
            start = time.perf_counter()
            driver.execute_script(script + " document.body.offsetHeight;")
            times[name].append(time.perf_counter() - start)
    return times


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
            if driver.execute_script("return !!document.getElementById('rect-county')"):
                for name, seconds in list_actions(driver).items():
                    print(f"  {name}: median {statistics.median(seconds):.2f} s, slowest {max(seconds):.2f} s")


if __name__ == "__main__":
    main()
