"""Writing one workbook the entry commands produce: whole or not at all, never over the input.

A workbook is written to a temporary file beside its target and renamed over it, so a failure
leaves no half-written file. An existing file is replaced only when the caller allows it
(`inspector template --force`; `inspector check` replaces its own earlier result, known by the
"last modified by" property it writes, which a spreadsheet program overwrites when someone saves
the file), and never when it is the very file being read.
"""

from __future__ import annotations

import os
import secrets
import zipfile
from pathlib import Path

from ..errors import UsageError

__all__ = ["MARK", "made_by", "same_file", "write_workbook"]

# written as the workbook's "last modified by" (docProps/core.xml): a later run knows its own file
MARK = "inspector check"


def same_file(first: Path, second: Path) -> bool:
    """Whether two paths name one file (a link or another spelling of the same path included)."""
    try:
        return first.exists() and second.exists() and os.path.samefile(first, second)
    except OSError:
        return False


def made_by(path: Path, marker: str = MARK) -> bool:
    """Whether the workbook at `path` was last saved by the tool as `marker` (no one saved it since)."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("docProps/core.xml")
            if info.file_size > 1 << 20:
                return False
            return f"lastModifiedBy>{marker}<".encode() in archive.read(info)
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


def write_workbook(out: Path, data: bytes, *, replace: bool, inputs: tuple[Path, ...] = ()) -> Path:
    """Write `data` to `out` (an .xlsx path) atomically; refuse an existing file unless `replace`."""
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"输出文件应以 .xlsx 结尾：{out}")
    if any(same_file(out, source) for source in inputs):
        raise UsageError(f"输出文件 {out} 就是输入文件：inspector 从不改动输入，请用 --out 另选文件名")
    if out.is_dir():
        raise UsageError(f"输出路径 {out} 是一个文件夹，应为 .xlsx 文件")
    if out.exists() and not replace:
        raise UsageError(f"文件 {out} 已存在，未覆盖：请用 --out 另选文件名，或先移走该文件")
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.inspector-{secrets.token_hex(4)}")
    try:
        with open(temp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, out)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return out
