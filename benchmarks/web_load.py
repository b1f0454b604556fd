"""A bounded load test of the web application: concurrent users browsing a province-scale run on loopback.

    python benchmarks/web_load.py [--run OUT] [--users 50] [--views 20] [--think 1.0] [--store FILE]

`--run` is an `inspector audit` output folder (default `benchmarks/data/province-out`, made on first use by
`inspector audit benchmarks/data/province`, the folder `benchmarks/run.py --scale province` generates with
`PYTHONPATH=tests python -m synthetic.city benchmarks/data/province --scale province --format csv`, made here
too if absent; both are cached under benchmarks/data/, which git ignores). That run, the core pack on 20,000
schools and a million rows, has 5,937 findings. (`--packs all` at province scale would give more, but the
generator's pure-Python planting ran for over 15 minutes on this machine without finishing.) It is
imported into a fresh SQLite store as `inspector runs import` does, accounts are added for an inspector, an
auditor, the county 柳北区 and one of its schools, and the application is served by uvicorn (one process, as
`inspector serve` runs it) in a child process on a free loopback port.

Each simulated user logs in through the login form (not timed), waits a random 0–1 × `--think` seconds
(users arrive spread out, not all at the same instant), then views `--views` pages one after another,
waiting a random 0.5–1.5 × `--think` seconds between them (people read pages; without think time the test
measures a queue, not page times): the overview, the findings list (a random page, sometimes filtered by
county, rule, severity or state), a finding's workflow page, its trace, and the JSON API's findings list.
Every request is timed from send to the last byte received; p50/p95/p99/max are printed overall and per kind
of page, and written to benchmarks/results/web_load.json. Any response other than 200 fails the run (exit 1);
so does a p95 over `--limit-ms` (default 200).

The client runs in this process on asyncio (httpx2), the server in another; both share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout this script is in, not whichever inspector the venv installed
DATA = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "web_load.json"
COUNTY = "柳北区"

SERVER = """
import sys, uvicorn
from inspector.history.location import parse_db
from inspector.web.app import create_app
from inspector.web.settings import Settings
# plain http on loopback: cookies without the Secure flag, so that the client sends them back
settings = Settings.for_db(parse_db(sys.argv[1]), secure_cookies=False, login_attempts_per_address="10000/minute")
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def ensure_run(run: Path) -> Path:
    """The audit output folder, made from the province-scale synthetic folder when absent."""
    if (run / "findings.json").is_file():
        return run
    source = run.with_name(run.name.removesuffix("-out"))
    if not (source / "audit.yaml").is_file():
        env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
        subprocess.run(
            [sys.executable, "-m", "synthetic.city", str(source), "--scale", "province", "--format", "csv"],
            check=True,
            env=env,
            cwd=ROOT,
        )
    subprocess.run(
        [sys.executable, "-m", "inspector.cli", "audit", str(source), "--out", str(run), "--quiet"],
        cwd=ROOT,
        check=False,
    )  # exit 1 when findings exist
    if not (run / "findings.json").is_file():
        raise SystemExit(f"inspector audit wrote no findings.json in {run}")
    return run


def build_store(run: Path, store: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """A fresh store with the run imported and one account per browsing role; (passwords, facts)."""
    from sqlalchemy import func, select

    from inspector.history import schema
    from inspector.history.database import write_transaction
    from inspector.history.location import parse_db
    from inspector.history.store import HistoryStore
    from inspector.web import users
    from inspector.web.importing import import_run

    for leftover in (store, store.with_name(store.name + "-wal"), store.with_name(store.name + "-shm")):
        leftover.unlink(missing_ok=True)
    db = parse_db(str(store))
    started = time.perf_counter()
    import_run(db, run, dt.date.today())  # imported today: no deadline has passed when the server starts
    imported = time.perf_counter() - started
    passwords = {name: secrets.token_urlsafe(16) for name in ("inspector", "auditor", "county", "school")}
    with HistoryStore.open(db) as opened, write_transaction(opened.conn) as conn:
        t = schema.items
        # the county user's county: 柳北区, or in a run without it (a national folder's 柳北区017)
        # the county with the most items
        county = conn.execute(select(t.c.county).where(t.c.county == COUNTY).limit(1)).scalar() or (
            conn.execute(
                select(t.c.county)
                .where(t.c.county.is_not(None))
                .group_by(t.c.county)
                .order_by(func.count().desc(), t.c.county)
                .limit(1)
            ).scalar_one()
        )
        school = (
            conn.execute(
                select(t.c.school_id)
                .where(t.c.county == county, t.c.school_id.is_not(None))
                .group_by(t.c.school_id)
                .order_by(func.count().desc(), t.c.school_id)
            )
            .scalars()
            .first()
        )
        for name, role in (
            ("inspector", "inspector"),
            ("auditor", "auditor"),
            ("county", "county"),
            ("school", "school"),
        ):
            users.add_user(
                conn,
                name,
                passwords[name],
                role,
                county=county if role == "county" else None,
                school_id=school if role == "school" else None,
            )
        items = conn.execute(select(func.count()).select_from(t)).scalar_one()
        findings = conn.execute(select(func.count()).select_from(schema.findings)).scalar_one()
        facts = {
            "items": int(items),
            "findings": int(findings),
            "import_s": round(imported, 2),
            "county": county,
            "county_items": int(conn.execute(select(func.count()).where(t.c.county == county)).scalar_one()),
            "ids": {
                scope: conn.execute(select(t.c.finding_id).where(*clause)).scalars().all()
                for scope, clause in (
                    ("all", ()),
                    ("county", (t.c.county == county,)),
                    ("school", (t.c.school_id == school,)),
                )
            },
            "rules": conn.execute(select(t.c.rule_id).distinct()).scalars().all(),
            "counties": conn.execute(select(t.c.county).distinct()).scalars().all(),
        }
    return passwords, facts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(store: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(store), str(port)], cwd=ROOT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited on start")
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return process
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not answer /api/health within 180 s")


ROLES = ["inspector"] * 2 + ["county"] * 5 + ["auditor"] + ["school"] * 2  # a mix of who browses


class User:
    def __init__(self, base: str, username: str, password: str, facts: dict[str, Any], rng: random.Random) -> None:
        self.client = httpx2.AsyncClient(base_url=base, timeout=60, follow_redirects=False)
        self.username, self.password, self.rng = username, password, rng
        scope = {"county": "county", "school": "school"}.get(username, "all")
        self.ids: list[str] = facts["ids"][scope]
        self.rules: list[str] = facts["rules"]
        self.counties: list[str] = facts["counties"] if scope == "all" else [facts["county"]]
        self.total = len(self.ids)
        self.token = ""

    async def login(self) -> None:
        page = await self.client.get("/login")
        field = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
        assert field, "no CSRF field on the login page"
        response = await self.client.post(
            "/login",
            data={"username": self.username, "password": self.password, "csrftoken": field.group(1), "next": "/"},
        )
        assert response.status_code == 303, (response.status_code, response.text[:300])
        token = await self.client.post("/api/token", data={"username": self.username, "password": self.password})
        assert token.status_code == 200, token.text
        self.token = token.json()["access_token"]

    def next_request(self) -> tuple[str, str, dict[str, str]]:
        """(kind, path, headers) of the page this user looks at next."""
        rng = self.rng
        pages = max(1, (self.total + 49) // 50)
        kind = rng.choices(["overview", "list", "filtered", "finding", "trace", "api"], [1, 3, 2, 3, 1, 2])[0]
        if kind == "overview":
            return kind, "/", {}
        if kind == "list":
            return kind, f"/findings?page={rng.randint(1, pages)}", {}
        if kind == "filtered":
            name, value = rng.choice(
                [
                    ("county", rng.choice(self.counties)),
                    ("rule_id", rng.choice(self.rules)),
                    ("severity", rng.choice(["critical", "major", "minor"])),
                    ("state", rng.choice(["open", "in_progress", "awaiting_review", "overdue"])),
                ]
            )
            return kind, "/findings?" + httpx2.QueryParams({name: value, "page": rng.randint(1, 3)}).__str__(), {}
        fid = rng.choice(self.ids)
        if kind == "finding":
            return kind, f"/findings/{fid}", {}
        if kind == "trace":
            return kind, f"/findings/{fid}/trace", {}
        return (
            kind,
            f"/api/findings?page={rng.randint(1, max(1, self.total // 50))}&per_page=50",
            {"Authorization": f"Bearer {self.token}"},
        )


async def browse(user: User, views: int, think: float, times: list[tuple[str, float, int]]) -> None:
    # users arrive spread over one think time, as people do, not all at the same instant: 50 first pages
    # asked at once measure the queue of one burst (the p99 near 1 s of the first figures), not page times
    await asyncio.sleep(think * user.rng.uniform(0, 1))
    for view in range(views):
        kind, path, headers = user.next_request()
        started = time.perf_counter()
        response = await user.client.get(path, headers=headers)
        await response.aread()
        times.append((kind, time.perf_counter() - started, response.status_code))
        if response.status_code != 200:
            print(f"  {user.username} {path}: {response.status_code} {response.text[:200]}", file=sys.stderr)
        if view + 1 < views:
            await asyncio.sleep(think * user.rng.uniform(0.5, 1.5))


async def run_load(
    base: str, passwords: dict[str, str], facts: dict[str, Any], n_users: int, views: int, think: float, seed: int
) -> tuple[list[tuple[str, float, int]], float]:
    rng = random.Random(seed)
    users = [
        User(base, ROLES[i % len(ROLES)], passwords[ROLES[i % len(ROLES)]], facts, random.Random(rng.random()))
        for i in range(n_users)
    ]
    for user in users:  # logins one by one: password hashing is deliberately slow, and not what is measured
        await user.login()
    times: list[tuple[str, float, int]] = []
    started = time.perf_counter()
    await asyncio.gather(*(browse(u, views, think, times) for u in users))
    wall = time.perf_counter() - started
    for user in users:
        await user.client.aclose()
    return times, wall


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]  # nearest rank


def summary(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=DATA / "province-out", help="an inspector audit output folder")
    parser.add_argument("--store", type=Path, help="the SQLite store to build (default: a temporary file)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--views", type=int, default=20, help="pages each user views")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's pages")
    parser.add_argument("--limit-ms", type=float, default=200.0, help="p95 above this fails the run")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)

    run = ensure_run(args.run.resolve())
    with tempfile.TemporaryDirectory(prefix="web-load-") as tmp:
        store = (args.store or Path(tmp) / "store.sqlite").resolve()
        passwords, facts = build_store(run, store)
        print(
            f"store: {facts['items']:,} items, {facts['findings']:,} findings ({facts['county_items']:,} of {facts['county']}); "
            f"imported in {facts['import_s']} s"
        )
        port = free_port()
        server = start_server(store, port)
        try:
            times, wall = asyncio.run(
                run_load(f"http://127.0.0.1:{port}", passwords, facts, args.users, args.views, args.think, args.seed)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    failed = [t for t in times if t[2] != 200]
    overall = summary([t[1] for t in times])
    kinds = {kind: summary([t[1] for t in times if t[0] == kind]) for kind in sorted({t[0] for t in times})}
    command = " ".join(["python", "benchmarks/web_load.py", *(argv if argv is not None else sys.argv[1:])])
    result = {
        "command": command,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "run": str(run),
        "items": facts["items"],
        "findings": facts["findings"],
        "users": args.users,
        "views_per_user": args.views,
        "think_s": args.think,
        "requests": len(times),
        "failed": len(failed),
        "wall_s": round(wall, 1),
        "requests_per_s": round(len(times) / wall, 1),
        "overall": overall,
        "by_kind": kinds,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(
        f"{args.users} users × {args.views} pages, think {args.think} s: {len(times)} requests in {wall:.1f} s "
        f"({result['requests_per_s']}/s), {len(failed)} not 200"
    )
    print("| page | n | p50 ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|")
    for kind, s in [*kinds.items(), ("all", overall)]:
        print(f"| {kind} | {s['n']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['max_ms']} |")
    ok = not failed and overall["p95_ms"] <= args.limit_ms
    print(("OK" if ok else "FAILED") + f": p95 {overall['p95_ms']} ms (limit {args.limit_ms:g} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
