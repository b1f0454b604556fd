"""Atomic file output: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

# From this many files one sync of the whole system is cheaper than a sync per file (an audit
# at province scale writes 5,000 notices: 2.2 s of fsync calls against a few ms).
SYNC_ALL_FROM = 16


def _temp_file(path: Path, data: bytes, *, sync: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


def write_atomic(path: Path, data: bytes) -> None:
    publish(path.parent, {path.name: data})


def publish(
    out_dir: Path, files: Mapping[str, bytes], progress: Callable[[int, int], None] | None = None,
) -> dict[str, Path]:
    """Write each file atomically under `out_dir` (created if missing): every file's data is on
    disk before any of them replaces its old version, so a failure while writing (disk full, a
    crash) replaces none. Only a failure of a rename itself, after the checks here, could leave
    some files new and some old. `progress(done, total)` as files are written."""
    blocked = [str(out_dir / name) for name in files if (out_dir / name).is_dir()]
    if blocked:
        raise IsADirectoryError(f"无法写入，同名文件夹已存在：{'、'.join(blocked)}")
    sync_all = len(files) >= SYNC_ALL_FROM and sys.platform == "linux"  # sync(2) waits for the writes on Linux only
    temps: dict[str, tuple[Path, Path]] = {}
    try:
        for name, data in files.items():
            path = out_dir / name
            temps[name] = (_temp_file(path, data, sync=not sync_all), path)
            if progress is not None:
                progress(len(temps), len(files))
        if sync_all:
            os.sync()
        for temp, path in temps.values():
            os.replace(temp, path)
    except BaseException:
        for temp, _path in temps.values():
            temp.unlink(missing_ok=True)
        raise
    return {name: path for name, (_temp, path) in temps.items()}
