"""Where outputs may go: output folders the tool may replace, and path components made from data.

An output folder is published as a whole (`atomic.publish_set`): the tool replaces it, so it
must never be a folder whose loss would hurt. `check_out_dir` resolves the folder once (a
symlink to it is followed there, once; no symlink inside it is ever followed) and refuses the
root, the home folder, system folders and anything inside them, the working folder and its
parents, and, for an audit, the input folder or any folder holding it.

Names taken from the data (a county's name for its edition's folder) become one path component
through `path_component`, which keeps readable names and turns anything else (separators,
`..`, control characters) into an inert name with a digest, checked to stay inside its parent.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from ..errors import UsageError

# system trees: neither they nor anything inside them is an output folder
SYSTEM_TREES = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var/lib",
    "/var/log",
    "/var/spool",
)
# scratch space inside those trees, where outputs may go (below it, not it)
SCRATCH_TREES = ("/dev/shm", "/run/user")
# folders that must not be replaced themselves (things below them are fine: /tmp/out, /home/me/out)
SYSTEM_FOLDERS = ("/", "/home", "/media", "/mnt", "/opt", "/root", "/srv", "/tmp", "/var", "/var/tmp", *SCRATCH_TREES)


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_out_dir(out: Path, *, inputs: Iterable[Path] = (), option: str = "--out") -> Path:
    """`out` resolved once, or `UsageError` saying why the tool will not publish there."""
    resolved = Path(os.path.abspath(out)).resolve()
    shown = f"{option} {out}" + (f"（即 {resolved}）" if str(resolved) != str(out) else "")

    def refuse(why: str) -> UsageError:
        return UsageError(
            f"不能把输出写入 {shown}：{why}。inspector 会用新结果整体替换输出文件夹，请另选一个专用的文件夹。"
        )

    home = Path.home().resolve()
    if str(resolved) in SYSTEM_FOLDERS or resolved == home:
        raise refuse("这是系统或用户的主文件夹")
    scratch = any(_within(resolved, Path(tree)) for tree in SCRATCH_TREES)
    for tree in SYSTEM_TREES:
        if _within(resolved, Path(tree)) and not scratch:
            raise refuse(f"这是系统文件夹 {tree}（或其中的文件夹）")
    cwd = Path.cwd().resolve()
    if _within(cwd, resolved):
        raise refuse("这是当前工作文件夹或其上级")
    for source in inputs:
        folder = Path(os.path.abspath(source)).resolve()
        if _within(folder, resolved):
            raise refuse(f"审核数据文件夹 {source} 就在其中（或就是它）")
    if resolved.exists() and not resolved.is_dir():
        raise refuse("这是一个文件，不是文件夹")
    return resolved


_READABLE = re.compile(r"[\w\-·（）()]+")  # letters and digits of any script, and a few marks
# names Windows keeps for devices, with any extension (`con`, `NUL.html`, `com1.txt`): a file or
# folder of that name cannot be made there, or opens the device
_DEVICE = re.compile(r"(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(?:\..*)?", re.IGNORECASE)


def device_name(name: str) -> bool:
    """Whether Windows reserves `name` for a device (`CON`, `nul.html`, `COM1`), whatever its case."""
    return _DEVICE.fullmatch(name) is not None


_UNSAFE_RUN = re.compile(r"[^\w\-·（）()]+")


def path_component(name: str) -> str:
    """One path component for a name from the data: the name itself when it is made of letters,
    digits and a few marks (`融水苗族自治县`, `城中区`), else a readable part plus a digest, so
    that `../x`, `a/b` or a name with control characters can never leave or escape its folder."""
    text = unicodedata.normalize("NFC", name)
    if (
        _READABLE.fullmatch(text)
        and len(text.encode("utf-8")) <= 200
        and not text.startswith(("-", "."))
        and not device_name(text)
    ):
        return text
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
    readable = _UNSAFE_RUN.sub("_", text).strip("_.-")[:40]
    return f"{readable}_{digest}" if readable else f"name_{digest}"


def child(folder: Path, name: str) -> Path:
    """`folder / path_component(name)`, checked to be a direct child of `folder`."""
    component = path_component(name)
    path = folder / component
    if (
        path.parent != folder
        or component in ("", ".", "..")
        or os.sep in component
        or (os.altsep and os.altsep in component)
    ):
        raise UsageError(f"名称“{name}”不能用作文件夹名")  # pragma: no cover - path_component never yields these
    return path
