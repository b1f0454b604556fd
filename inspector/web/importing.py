"""Importing an `inspector audit` output folder into the store, from the command line
(`inspector runs import OUT`) or from the inspector's upload (a zip of that folder), which is
unpacked under the server's runs folder within limits first (no path outside it, no links, bounded
size and number of files)."""

from __future__ import annotations

import datetime as dt
import io
import secrets
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import UsageError
from ..history.commands import ImportReport, import_audit
from ..history.location import DbRef

MAX_FILES = 20_000


def unpack(data: bytes, runs_dir: Path, max_bytes: int) -> Path:
    """A zip of an output folder unpacked into a new folder under `runs_dir`; the folder holding findings.json."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UsageError("上传的文件不是 zip 压缩包：请把 inspector audit 的输出文件夹压缩为 zip 后上传") from None
    with book:
        infos = book.infolist()
        if len(infos) > MAX_FILES:
            raise UsageError(f"压缩包中文件过多（{len(infos)} 个，上限 {MAX_FILES} 个）")
        total = sum(i.file_size for i in infos)
        if total > max_bytes:
            raise UsageError(f"压缩包解压后过大（{total:,} 字节，上限 {max_bytes:,} 字节）")
        for info in infos:
            path = PurePosixPath(info.filename)
            if path.is_absolute() or ".." in path.parts or "\\" in info.filename:
                raise UsageError(f"压缩包中的路径“{info.filename}”不安全")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise UsageError(f"压缩包中的“{info.filename}”是符号链接，不接受")
        found = [PurePosixPath(i.filename) for i in infos if PurePosixPath(i.filename).name == "findings.json"]
        if not found:
            raise UsageError("压缩包中没有 findings.json：请上传 inspector audit 的输出文件夹")
        top = min(found, key=lambda p: len(p.parts)).parent
        target = runs_dir / f"{dt.date.today():%Y%m%d}-{secrets.token_hex(4)}"
        target.mkdir(parents=True)
        try:
            for info in infos:
                path = PurePosixPath(info.filename)
                if info.is_dir():
                    continue
                if top.parts and path.parts[: len(top.parts)] != top.parts:
                    continue
                dest = target.joinpath(*path.parts[len(top.parts) :])
                dest.parent.mkdir(parents=True, exist_ok=True)
                with book.open(info) as source, dest.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
    return target


def import_run(db: DbRef, out_dir: Path, today: dt.date, source: Path | None = None) -> ImportReport:
    """`inspector history import`, as the web application and `inspector runs import` call it;
    with `source` (the audit's data folder, checked against the digests findings.json records)
    schools can run 自查 against it."""
    report, _ = import_audit(db, out_dir, today=today, source=source)
    return report
