"""Atomic file output: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def publish(out_dir: Path, files: Mapping[str, bytes]) -> dict[str, Path]:
    """Write each file atomically under `out_dir` (created if missing)."""
    written: dict[str, Path] = {}
    for name, data in files.items():
        path = out_dir / name
        write_atomic(path, data)
        written[name] = path
    return written
