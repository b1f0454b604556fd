"""Benchmark ``inspector audit`` against a plain-polars baseline on synthetic audit folders.

For each scale: generate (or reuse) a ``--format csv`` synthetic folder under ``benchmarks/data/<scale>/``
(``national``: written by ``benchmarks/national.py`` in county blocks, bounded memory),
time ``inspector audit FOLDER --out TMP --quiet`` and ``python benchmarks/baseline_polars.py FOLDER --out
TMP`` as child processes (wall time and peak RSS), check both against ``expected.yaml`` (a fast wrong
answer is not a result: any mismatch aborts the run), then print a Markdown table and write it as JSON
to ``benchmarks/results/latest.json``. At national scale inspector also runs on a two-worker Dask
``LocalCluster`` (``--dask local --workers 2``), timed too, and its findings.json must be byte-identical to
the single-machine run's.

Usage::

    python benchmarks/run.py [--scale city|province|both|national] [--schools N] [--repeat N] [--data DIR] [--seed N]

Standard library and polars only (polars is imported solely to record its version and thread count).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BASELINE = HERE / "baseline_polars.py"
RESULTS = HERE / "results" / "latest.json"
TESTS = REPO / "tests"  # the generator is a test fixture: tests/synthetic, imported as `synthetic`
GENERATOR_FILES = (*sorted((TESTS / "synthetic").glob("*.py")), HERE / "national.py")
NATIONAL = HERE / "national.py"
MARKER = ".benchmark.json"
KINDS = ("schools", "classes", "teachers", "safety")
DEFAULT_REPEAT = {"city": 3, "province": 1, "national": 1}
NATIONAL_SCHOOLS = 500_000
DEFAULT_SEED = 2025


class BenchmarkError(RuntimeError):
    """A child failed, or its findings disagree with expected.yaml."""


@dataclass
class Timing:
    """Wall times (seconds) and peak resident set sizes (MiB) of repeated runs of one command."""

    command: list[str]
    walls: list[float] = field(default_factory=list)
    peaks_mb: list[float] = field(default_factory=list)
    tree_peaks_mb: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.walls)

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def peak_mb(self) -> float:
        return max(self.peaks_mb)

    def summary(self) -> dict[str, Any]:
        return {
            "command": shlex.join(self.command),
            "runs": len(self.walls),
            "wall_s": self.walls,
            "best_s": self.best,
            "median_s": self.median,
            "peak_rss_mb": self.peak_mb,
            "tree_peak_rss_mb": max(self.tree_peaks_mb),
        }


@dataclass
class Expected:
    """The expected findings of one rule: always a count, the id set when expected.yaml lists it."""

    count: int
    fail: set[str] | None


# --- Data --------------------------------------------------------------------------------------------


def generator_digest() -> str:
    """SHA-256 of the generator's source, so that a changed generator invalidates cached folders."""
    digest = hashlib.sha256()
    for path in GENERATOR_FILES:
        digest.update(path.read_bytes() if path.exists() else b"missing")
    return digest.hexdigest()[:16]


def ensure_folder(data_dir: Path, scale: str, seed: int, schools: int = NATIONAL_SCHOOLS) -> Path:
    """Return ``data_dir/scale``, generating it unless its marker says same scale, seed and generator
    (national scale: ``data_dir/national`` for 500,000 schools, ``data_dir/national-N`` for another N)."""
    national = scale == "national"
    folder = data_dir / (scale if not national or schools == NATIONAL_SCHOOLS else f"national-{schools}")
    wanted = {
        "scale": scale,
        "seed": seed,
        "format": "csv",
        "generator": generator_digest(),
        **({"schools": schools} if national else {}),
    }
    marker = folder / MARKER
    if marker.exists() and (folder / "expected.yaml").exists():
        try:
            if json.loads(marker.read_text(encoding="utf-8")) == wanted:
                print(f"reusing {folder} (seed {seed})", file=sys.stderr)
                return folder
        except json.JSONDecodeError:
            pass
    marker.unlink(missing_ok=True)
    if national:
        command = [sys.executable, str(NATIONAL), str(folder), "--schools", str(schools), "--seed", str(seed)]
    else:
        command = [
            sys.executable,
            "-m",
            "synthetic.city",
            str(folder),
            "--scale",
            scale,
            "--seed",
            str(seed),
            "--format",
            "csv",
        ]
    path = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH", "")) if p)
    print(f"generating {folder}: PYTHONPATH={shlex.quote(path)} {shlex.join(command)}", file=sys.stderr)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=REPO, env={**os.environ, "PYTHONPATH": path})
    marker.write_text(json.dumps(wanted) + "\n", encoding="utf-8")
    return folder


def count_rows(folder: Path) -> dict[str, int]:
    """Data rows (header excluded) of each CSV; the synthetic CSVs never quote a newline."""
    counts = {}
    for kind in KINDS:
        with (folder / f"{kind}.csv").open("rb") as f:
            counts[kind] = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1
    return counts


def warm_page_cache(folder: Path) -> None:
    """Read every input once so that neither contender pays for a cold disk cache."""
    for path in folder.iterdir():
        if path.is_file():
            with path.open("rb") as f:
                while f.read(1 << 20):
                    pass


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value)
    return value


def read_expected(folder: Path) -> dict[str, Expected]:
    """Parse the ``rules:`` block of expected.yaml (block style, as the generator writes it).

    A tiny reader for the one shape yaml.safe_dump gives it, so that this script needs no pyyaml;
    anything unexpected in that block raises instead of being skipped.
    """
    counts: dict[str, int] = {}
    lists: dict[str, dict[str, set[str]]] = defaultdict(dict)
    rule = key = None
    in_rules = False
    for number, line in enumerate((folder / "expected.yaml").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            in_rules, rule, key = line.rstrip() == "rules:", None, None
            continue
        if not in_rules:
            continue
        if m := re.fullmatch(r"  (\S+):", line):
            rule, key = m.group(1), None
        elif rule and (m := re.fullmatch(r"    count: (\d+)", line)):
            counts[rule] = int(m.group(1))
        elif rule and (m := re.fullmatch(r"    (fail|not_evaluated):( \[\])?", line)):
            key = m.group(1)
            lists[rule][key] = set()
        elif rule and key and (m := re.fullmatch(r" *- (.+)", line)):
            lists[rule][key].add(_unquote(m.group(1).strip()))
        else:
            raise BenchmarkError(f"expected.yaml line {number}: cannot read {line!r}")
    if not counts:
        raise BenchmarkError(f"{folder / 'expected.yaml'}: no rules found")
    return {r: Expected(n, lists[r].get("fail")) for r, n in counts.items()}


# --- Measuring ---------------------------------------------------------------------------------------


TREE_SAMPLE_S = 0.2


def _process_tree(root: int) -> list[int]:
    """`root` and every process descending from it, from /proc (Linux)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # ended meanwhile
        children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _rss_bytes(pid: int) -> int:
    """The process's proportional set size (its share of pages it shares with others, so that a
    tree's sum counts a shared page once), else its RSS; 0 once it has ended."""
    for name, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            for line in Path(name).read_text(encoding="utf-8").splitlines():
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return 0


def _sample_tree(root: int, stop: threading.Event, peak: list[int]) -> None:
    """Every TREE_SAMPLE_S until `stop`: the summed memory (`_rss_bytes`) of `root`'s process tree, its maximum kept in
    `peak[0]`."""
    while not stop.is_set():
        peak[0] = max(peak[0], sum(_rss_bytes(pid) for pid in _process_tree(root)))
        stop.wait(TREE_SAMPLE_S)


def measure(command: list[str], log: Path) -> tuple[float, float, float]:
    """Run `command` to completion; return (wall seconds, peak RSS of the child in MiB, peak of the
    summed RSS of the child's whole process tree in MiB).

    Peak RSS comes from os.wait4, which reports the rusage of exactly this child: the largest
    ru_maxrss of it and the grandchildren it waited for, one process's peak, not their sum.
    getrusage(RUSAGE_CHILDREN) is not used: its ru_maxrss is the maximum over *all* children ever
    reaped (the generator, earlier repetitions, the other contender). The audit's worker processes
    (spawned pool, Dask LocalCluster) run at the same time as the main one, so the memory the machine
    needs is their sum: proportional set sizes sampled from /proc every TREE_SAMPLE_S on Linux (0
    elsewhere), a lower bound of the true peak by what falls between two samples.
    """
    with log.open("wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        stop, tree_peak = threading.Event(), [0]
        sampler = threading.Thread(target=_sample_tree, args=(child.pid, stop, tree_peak), daemon=True)
        if sys.platform == "linux":
            sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        stop.set()
        if sampler.is_alive():
            sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen so
    if child.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise BenchmarkError(f"{shlex.join(command)} exited with {child.returncode}:\n{tail}")
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    peak_bytes = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    return wall, peak_bytes / (1 << 20), tree_peak[0] / (1 << 20)


def inspector_command() -> list[str]:
    """``python -m inspector.cli`` of the interpreter running this file, run in this checkout (the
    child's working directory), so the code measured is this checkout's even when the installed
    ``inspector`` console script points at another one."""
    return [sys.executable, "-m", "inspector.cli"]


def inspector_findings(out_dir: Path) -> list[tuple[str, str]]:
    """(rule_id, entity_id) of every finding in findings.json, duplicates kept."""
    document = json.loads((out_dir / "findings.json").read_text(encoding="utf-8"))
    return [(f["rule_id"], str(f["entity_id"])) for f in document["findings"]]


def baseline_findings(path: Path) -> list[tuple[str, str]]:
    """(rule_id, entity_id) lines written by baseline_polars.py."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(rule, entity) for rule, entity in (line.split("\t", 1) for line in lines if line)]


def check(who: str, got: list[tuple[str, str]], expected: dict[str, Expected]) -> list[str]:
    """Raise BenchmarkError if counts (or listed ids) differ from expected; return rule ids not in it."""
    by_rule: dict[str, list[str]] = defaultdict(list)
    for rule, entity in got:
        by_rule[rule].append(entity)
    problems = []
    for rule, want in expected.items():
        ids = by_rule.get(rule, [])
        if len(ids) != want.count:
            problems.append(f"  {rule}: {len(ids)} findings, expected {want.count}")
        if want.fail is not None and set(ids) != want.fail:
            missing, extra = sorted(want.fail - set(ids)), sorted(set(ids) - want.fail)
            problems.append(f"  {rule}: missing {missing[:10]}, unexpected {extra[:10]}")
        duplicates = [e for e, n in Counter(ids).items() if n > 1]
        if duplicates:
            problems.append(f"  {rule}: duplicate findings for {duplicates[:10]}")
    if problems:
        raise BenchmarkError(f"{who} disagrees with expected.yaml:\n" + "\n".join(problems))
    return sorted(set(by_rule) - set(expected))


def bench_scale(scale: str, folder: Path, repeat: int, dask: bool = False) -> dict[str, Any]:
    """Time both contenders `repeat` times (interleaved), checking every run's findings; with `dask`,
    also inspector on a two-worker LocalCluster, whose findings.json must equal the run before it."""
    expected = read_expected(folder)
    rows = count_rows(folder)
    warm_page_cache(folder)
    inspector = Timing([*inspector_command(), "audit", str(folder), "--out", "<tmp>", "--quiet"])
    baseline = Timing([sys.executable, str(BASELINE), str(folder), "--out", "<tmp>/findings.tsv"])
    on_dask = Timing(
        [*inspector_command(), "audit", str(folder), "--out", "<tmp>", "--quiet", "--dask", "local", "--workers", "2"]
    )
    extra_rules: set[str] = set()
    for run in range(1, repeat + 1):
        with tempfile.TemporaryDirectory(prefix=f"bench-{scale}-") as tmp:
            out = Path(tmp)
            wall, peak, tree = measure(
                [a.replace("<tmp>", str(out / "inspector")) for a in inspector.command], out / "inspector.log"
            )
            extra_rules.update(check("inspector", inspector_findings(out / "inspector"), expected))
            inspector.walls.append(wall)
            inspector.peaks_mb.append(peak)
            inspector.tree_peaks_mb.append(tree)
            wall, peak, tree = measure([a.replace("<tmp>", tmp) for a in baseline.command], out / "baseline.log")
            check("polars baseline", baseline_findings(out / "findings.tsv"), expected)
            baseline.walls.append(wall)
            baseline.peaks_mb.append(peak)
            baseline.tree_peaks_mb.append(tree)
            if dask:
                wall, peak, tree = measure(
                    [a.replace("<tmp>", str(out / "dask")) for a in on_dask.command], out / "dask.log"
                )
                if (out / "dask" / "findings.json").read_bytes() != (out / "inspector" / "findings.json").read_bytes():
                    raise BenchmarkError(
                        "findings.json of the Dask LocalCluster run differs from the single-machine run's"
                    )
                on_dask.walls.append(wall)
                on_dask.peaks_mb.append(peak)
                on_dask.tree_peaks_mb.append(tree)
        print(
            f"{scale} run {run}/{repeat}: inspector {inspector.walls[-1]:.2f} s, "
            f"polars {baseline.walls[-1]:.2f} s" + (f", dask {on_dask.walls[-1]:.2f} s" if dask else ""),
            file=sys.stderr,
        )
    return {
        "scale": scale,
        "folder": str(folder),
        "rows": sum(rows.values()),
        "rows_per_file": rows,
        "findings": sum(e.count for e in expected.values()),
        "inspector": inspector.summary(),
        "polars": baseline.summary(),
        "ratio_best": inspector.best / baseline.best,
        "ratio_median": inspector.median / baseline.median,
        "checked": "findings of every run equal expected.yaml (counts and id sets)"
        + ("; the Dask LocalCluster run's findings.json byte-identical to the single-machine run's" if dask else ""),
        "rules_not_in_expected": sorted(extra_rules),
        **({"dask_local_2_workers": on_dask.summary()} if dask else {}),
    }


# --- Reporting ---------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict[str, Any]:
    """What the numbers depend on: CPUs, architecture, Python, polars, and the code under test."""
    import polars as pl

    return {
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "polars": pl.__version__,
        "polars_threads": pl.thread_pool_size(),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": _git("status", "--porcelain", "--untracked-files=no") not in ("", "unknown"),
        # Identifies the uncommitted state of tracked files (the engine may be mid-edit).
        "git_diff_sha256": hashlib.sha256(_git("diff", "HEAD").encode()).hexdigest()[:16],
    }


def markdown(results: list[dict[str, Any]]) -> str:
    """The results table: one line per scale, wall times as best / median of the runs."""
    lines = [
        (
            "| scale | rows | inspector wall s (best / median) | inspector peak MB (one process / all) "
            "| polars wall s (best / median) | polars peak MB | ratio inspector/polars (best) |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ins, pol = r["inspector"], r["polars"]
        lines.append(
            f"| {r['scale']} (×{ins['runs']}) | {r['rows']:,} | {ins['best_s']:.2f} / {ins['median_s']:.2f} "
            f"| {ins['peak_rss_mb']:.0f} / {ins['tree_peak_rss_mb']:.0f} | {pol['best_s']:.2f} / {pol['median_s']:.2f} "
            f"| {pol['peak_rss_mb']:.0f} | {r['ratio_best']:.1f}× |"
        )
    return "\n".join(lines)


def report(command: str, info: dict[str, Any], results: list[dict[str, Any]]) -> str:
    """Table, command lines and machine, as printed."""
    parts = [markdown(results), "", f"Command: `{command}`"]
    for r in results:
        parts.append(f"- {r['scale']}: `{r['inspector']['command']}` vs `{r['polars']['command']}`")
        if "dask_local_2_workers" in r:
            d = r["dask_local_2_workers"]
            parts.append(
                f"  Dask LocalCluster, 2 workers: {d['best_s']:.2f} s, peak {d['peak_rss_mb']:.0f} MB "
                f"(the largest process), {d['tree_peak_rss_mb']:.0f} MB (all its processes together), "
                "findings.json byte-identical "
                f"(`{d['command']}`)"
            )
        if r["rules_not_in_expected"]:
            parts.append(
                f"  (inspector also reported rules absent from expected.yaml: {', '.join(r['rules_not_in_expected'])})"
            )
    dirty = f" + uncommitted changes (diff {info['git_diff_sha256']})" if info["git_dirty"] else ""
    parts.append(
        f"\nMachine: {info['cpu_count']} CPUs, {info['processor']} {info['cpu_model']}".rstrip()
        + f"; Python {info['python']}; polars {info['polars']} ({info['polars_threads']} threads); "
        f"{info['platform']}; inspector at {info['git_commit']}{dirty}"
    )
    return "\n".join(parts)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time inspector audit against a plain-polars baseline.")
    parser.add_argument("--scale", choices=("city", "province", "both", "national"), default="city")
    parser.add_argument(
        "--schools",
        type=int,
        default=NATIONAL_SCHOOLS,
        help="national scale only: schools to generate, in blocks of 1,500 (default 500,000)",
    )
    parser.add_argument("--repeat", type=int, help="runs per contender (default: 3 for city, 1 for province)")
    parser.add_argument("--data", type=Path, default=HERE / "data", help="where the synthetic folders live")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.schools < 1:
        parser.error("--schools must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 if a contender fails or disagrees with expected.yaml."""
    args = parse_args(argv)
    command = shlex.join([sys.executable, *(sys.argv if argv is None else [__file__, *argv])])
    scales = ["city", "province"] if args.scale == "both" else [args.scale]
    results = []
    try:
        for scale in scales:
            folder = ensure_folder(args.data.resolve(), scale, args.seed, args.schools)
            results.append(bench_scale(scale, folder, args.repeat or DEFAULT_REPEAT[scale], dask=scale == "national"))
    except BenchmarkError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    info = machine()
    print(report(command, info, results), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": args.seed,
        "machine": info,
        "results": results,
        "table": markdown(results),
    }
    RESULTS.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {RESULTS.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
