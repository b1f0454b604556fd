"""Run a command and sample its process tree's resident memory: `python benchmarks/tree_memory.py
LIMIT_MB COMMAND...`.

Every 0.5 s the RSS of the command and of all its descendants (from /proc; Linux only) is summed;
past LIMIT_MB the whole process group is killed, so a run that would exhaust the machine stops
instead. Prints the exit code, the wall time, the tree's peak (and when) and the command's own peak.
A lower bound: what happens between two samples is not seen.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_mb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def own_memory() -> str:
    """This process's peak and resident memory so far (Linux), for a driver's stage lines."""
    found = {}
    with open("/proc/self/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith(("VmHWM", "VmRSS")):
                found[line.split(":")[0]] = int(line.split()[1]) // 1024
    return f"peak {found['VmHWM']:,} MB, resident {found['VmRSS']:,} MB"


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit():
        print(__doc__, file=sys.stderr)
        return 2
    limit, command = int(argv[0]), argv[1:]
    start = time.monotonic()
    child = subprocess.Popen(command, start_new_session=True)
    peak, peak_at, own_peak = 0, 0.0, 0
    while child.poll() is None:
        total = sum(_rss_mb(pid) for pid in _descendants(child.pid))
        if total > peak:
            peak, peak_at = total, time.monotonic() - start
        own_peak = max(own_peak, _rss_mb(child.pid))
        if total > limit:
            print(f"killed at {time.monotonic() - start:.0f} s: tree {total} MB > {limit} MB", flush=True)
            os.killpg(child.pid, signal.SIGKILL)
            break
        time.sleep(0.5)
    code = child.wait()
    print(
        f"exit {code}, wall {time.monotonic() - start:.1f} s, tree peak {peak} MB at {peak_at:.0f} s, "
        f"command's own peak {own_peak} MB",
        flush=True,
    )
    return 0 if code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
