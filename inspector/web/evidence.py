"""Evidence files: limited in size and type, their type read from their content (never from the
name or the browser's word), stored outside the database and outside anything the server serves,
named by their sha256, which the ledger event that records them carries under the chain's hash.

A file is first written to `tmp/`, then moved into `objects/` inside the database transaction that
records its event, before that transaction commits; if the commit fails the file is removed again.
A crash between the two leaves at most an unreferenced file, which `sweep` (run when the server
starts) removes: after it, there is neither the file nor the event.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import filetype  # type: ignore[import-untyped]

from ..errors import UsageError

# what may be uploaded, as its content shows it: documents, scans and photos, spreadsheets
ALLOWED = {
    "application/pdf": "PDF",
    "image/png": "PNG 图片",
    "image/jpeg": "JPEG 图片",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel 工作簿（xlsx）",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word 文档（docx）",
}
_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


class EvidenceRefused(UsageError):
    """An upload the server does not take (too large, empty, of a type not allowed)."""


def sniff(data: bytes) -> str:
    """The content type of `data` read from its bytes; refused unless allowed."""
    kind = filetype.guess(data[:8192] if len(data) > 8192 else data)
    mime: str | None = kind.mime if kind is not None else None
    if mime == "application/zip" or mime is None and data[:4] == b"PK\x03\x04":
        mime = _office(data)
    if mime not in ALLOWED:
        allowed = "、".join(ALLOWED.values())
        raise EvidenceRefused(f"文件类型不被接受（按内容识别为 {mime or '未知类型'}）；可上传：{allowed}")
    return mime


def _office(data: bytes) -> str | None:
    """An Office Open XML document told apart by its parts (filetype looks at the first bytes only)."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            names = set(book.namelist())
    except zipfile.BadZipFile:
        return None
    if "[Content_Types].xml" not in names:
        return "application/zip"
    if "xl/workbook.xml" in names:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if "word/document.xml" in names:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return "application/zip"


def clean_name(name: str | None) -> str:
    """A file name safe to show and to offer back: its last path part, no control or path characters."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = _NAME.sub("_", base).strip(" .")
    return base[:120] or "整改材料"


@dataclass(frozen=True)
class Staged:
    path: Path
    sha256: str
    size: int
    content_type: str


class EvidenceStore:
    """Evidence files under `root` (`tmp/` while uploading, `objects/ab/<sha256>` once recorded)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.tmp = root / "tmp"
        self.objects = root / "objects"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.objects.mkdir(parents=True, exist_ok=True)

    def stage(self, data: bytes) -> Staged:
        """Check an upload and write it to `tmp/` (not yet evidence of anything)."""
        if not data:
            raise EvidenceRefused("文件为空")
        if len(data) > self.max_bytes:
            raise EvidenceRefused(f"文件过大：{len(data):,} 字节，上限 {self.max_bytes:,} 字节")
        content_type = sniff(data)
        path = self.tmp / f"{secrets.token_hex(16)}.part"
        with path.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return Staged(path, hashlib.sha256(data).hexdigest(), len(data), content_type)

    def path_of(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError(sha256)
        return self.objects / sha256[:2] / sha256

    def place(self, staged: Staged) -> Path:
        """Move a staged file to its place (inside the transaction that records it)."""
        final = self.path_of(staged.sha256)
        final.parent.mkdir(exist_ok=True)
        os.replace(staged.path, final)
        return final

    def discard(self, staged: Staged, *, placed: bool, referenced: bool) -> None:
        """Undo `stage` (and `place`, unless another record holds the same content)."""
        staged.path.unlink(missing_ok=True)
        if placed and not referenced:
            self.path_of(staged.sha256).unlink(missing_ok=True)

    def sweep(self, referenced: Iterable[str]) -> list[Path]:
        """Remove what no evidence record refers to: unfinished uploads and unrecorded files."""
        keep = set(referenced)
        removed: list[Path] = []
        for path in self.tmp.glob("*"):
            path.unlink(missing_ok=True)
            removed.append(path)
        for path in self.objects.glob("*/*"):
            if path.name not in keep:
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed
