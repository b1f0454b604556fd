"""Publishing an output folder as a set: a reader sees the old set or the new one, never a mix.

Every output of a run (findings.json, the lists, the reports, the notices) is written into a
fresh sibling folder `.<name>.inspector-<random>`, synced, and then swapped in for the output
folder with one rename (an atomic exchange where the system has `renameat2`, else two renames a
moment apart). The previous set is then removed. A failure before the swap (a full disk, an
internal error, Ctrl-C) removes the new folder and leaves the previous set untouched.

What the tool removes is only ever what it wrote: each set carries a manifest
(`.inspector-manifest.json`: every file with its sha256), and the previous folder is replaced
only when everything in it is listed there unchanged, or is itself such a set (a county
edition under `counties/`). Anything else (a user's notes, an edited report, a symlink) makes
publishing stop before writing, naming what is in the way: move it, or choose another folder.
A folder written by an older version of the tool, without a manifest, counts as the tool's when
it holds only the names the tool writes.

Files are created with the permissions the umask gives (0644 under the usual 022); a replaced
folder keeps its own permissions. Symlinks are never followed inside an output folder; the
folder itself is resolved once, by `paths.check_out_dir`.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import secrets
import shutil
import socket
import stat
import sys
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Self

from ..errors import UsageError
from .paths import check_out_dir

MANIFEST = ".inspector-manifest.json"
TEMP_MARK = ".inspector-"
# the names an older version wrote, without a manifest
_LEGACY_FILES = frozenset(
    {"findings.json", "rectification.csv", "rectification.xlsx", "report.md", "report.html", "rejected.csv"}
)

Progress = Callable[[int, int], None]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_manifest(folder: Path) -> dict[str, str] | None:
    path = folder / MANIFEST
    if path.is_symlink() or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if data.get("tool") != "inspector" or not isinstance(files, dict):
            return None
        return {str(k): str(v) for k, v in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def foreign_entries(folder: Path) -> list[Path]:
    """What in `folder` the tool did not write (or that was changed since): empty when the whole
    folder may be replaced. Symlinks are never followed."""
    manifest = _read_manifest(folder)
    if manifest is None:
        return _legacy_foreign(folder)
    found: list[Path] = []

    def scan(directory: Path, relative: str) -> None:
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                name = f"{relative}{entry.name}"
                path = Path(entry.path)
                if entry.is_symlink():
                    found.append(path)
                elif entry.is_dir(follow_symlinks=False):
                    if (path / MANIFEST).is_file():
                        found.extend(foreign_entries(path))  # a set of its own (a county edition)
                    else:
                        scan(path, name + "/")  # what it holds decides; an empty folder holds nothing
                elif entry.is_file(follow_symlinks=False):
                    if name == MANIFEST or manifest.get(name) == _file_digest(path):
                        continue
                    found.append(path)
                else:
                    found.append(path)  # a socket, a FIFO, a device

    scan(folder, "")
    return found


def _legacy_foreign(folder: Path) -> list[Path]:
    """A folder without a manifest: the tool's only if it holds nothing but the names it writes."""
    found: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            found.append(entry)
        elif entry.is_file() and entry.name in _LEGACY_FILES:
            continue
        elif entry.is_dir() and entry.name == "notices":
            found.extend(p for p in sorted(entry.iterdir()) if p.is_symlink() or not p.is_file() or p.suffix != ".html")
        elif entry.is_dir() and entry.name == "counties" and (entry / MANIFEST).is_file():
            found.extend(foreign_entries(entry))  # every edition, published at once (report --all-counties)
        elif entry.is_dir() and entry.name == "counties":
            for edition in sorted(entry.iterdir()):
                found.extend([edition] if edition.is_symlink() or not edition.is_dir() else foreign_entries(edition))
        else:
            found.append(entry)
    return found


def _legacy_files(folder: Path) -> dict[str, str]:
    """The files of a set written without a manifest (digests to be computed when carried)."""
    names = [p.name for p in folder.iterdir() if p.is_file() and not p.is_symlink() and p.name in _LEGACY_FILES]
    notices = folder / "notices"
    if notices.is_dir() and not notices.is_symlink():
        names += [f"notices/{p.name}" for p in notices.iterdir() if p.is_file() and not p.is_symlink()]
    return {name: "" for name in sorted(names)}


def _refuse_foreign(folder: Path, found: list[Path]) -> UsageError:
    shown = "、".join(str(p.relative_to(folder)) for p in found[:5])
    more = f" 等 {len(found)} 项" if len(found) > 5 else ""
    return UsageError(
        f"输出文件夹 {folder} 中有不是 inspector 生成的内容（或已被修改）：{shown}{more}。"
        "inspector 会用新结果整体替换该文件夹，为免删除这些内容，本次未写入任何文件：请将它们移走，或用 --out 另选文件夹。"
    )


def _check_names(names: Iterable[str]) -> None:
    for name in names:
        parts = PurePosixPath(name).parts
        if (
            not parts
            or name.startswith("/")
            or any(p in ("", ".", "..") for p in parts)
            or name == MANIFEST
            or "\\" in name
        ):
            raise ValueError(f"unsafe output name {name!r}")  # names are built by the tool: a bug, not input


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def _write_file(path: Path, data: bytes, *, sync: bool) -> None:
    # O_EXCL in a folder the tool just created: nothing to follow, nothing to overwrite; mode
    # 0666 so that the umask decides, as for any file a program writes. Plain os.write: a
    # province's 5,000 notices do not need a buffered file object each.
    fd = os.open(path, _CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the file system cannot exchange
        return False
    raise OSError(errno, os.strerror(errno), str(second))


def _remove_tree(path: Path) -> None:
    # shutil.rmtree never follows symlinks (on Linux it works through file descriptors)
    shutil.rmtree(path, ignore_errors=True)


def _stale_siblings(target: Path) -> list[Path]:
    """Folders a crashed run left next to `target` (`.<name>.inspector-…`), if wholly the tool's."""
    prefix = f".{target.name}{TEMP_MARK}"
    stale = []
    for entry in target.parent.iterdir() if target.parent.is_dir() else ():
        if (
            entry.name.startswith(prefix)
            and entry.is_dir()
            and not entry.is_symlink()
            and _read_manifest(entry) is not None
        ):
            writing = _writer(entry)
            if _abandoned(writing) if writing is not None else not foreign_entries(entry):
                stale.append(entry)
    return stale


def check_publishable(out_dir: Path, *, inputs: Iterable[Path] = ()) -> Path:
    """`out_dir` resolved, or the `UsageError` that `publish_set` would raise there now (a folder
    the tool must not replace, or content it did not write): a command checks this before its
    work, so that a long audit is not refused only at its end. `publish_set` checks again."""
    target = check_out_dir(out_dir, inputs=inputs)
    if target.exists():
        found = foreign_entries(target)
        if found:
            raise _refuse_foreign(target, found)
    return target


def publish_set(
    out_dir: Path,
    files: Mapping[str, bytes],
    progress: Progress | None = None,
    *,
    keep: Callable[[str], bool] | None = None,
) -> dict[str, Path]:
    """Publish `files` (relative path → bytes) as the whole content of `out_dir`.

    `keep(name)` carries files of the previous set that `files` does not replace into the new
    one (a report rebuild keeps findings.json and the county editions); by default nothing is
    carried. Returns each file's path under `out_dir` as given. `progress(done, total)` as files
    are written.
    """
    _check_names(files)
    with SetWriter(out_dir, keep=keep) as writer:
        for done, (name, data) in enumerate(sorted(files.items()), start=1):
            writer.add(name, data)
            if progress is not None:
                progress(done, len(files))
        writer.publish()
    return {name: out_dir / name for name in files}


class SetWriter:
    """A set written file by file into its temporary folder, then published whole: for a set too
    large to hold in memory (a national audit's notices and pages). As a context manager, leaving
    without `publish` (an error, Ctrl-C) removes what was written and leaves the previous set.

    Until `publish` writes the real manifest, the temporary folder's manifest says `writing`, and
    by which process: a run killed part-way leaves a folder the next run recognises as the tool's
    and removes, while a run still writing keeps its folder."""

    def __init__(self, out_dir: Path, *, keep: Callable[[str], bool] | None = None) -> None:
        target = check_publishable(out_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.target, self.keep = target, keep
        self.previous = (_read_manifest(target) or _legacy_files(target)) if target.exists() else {}
        for stale in _stale_siblings(target):
            _remove_tree(stale)
        self.temp = target.parent / f".{target.name}{TEMP_MARK}{secrets.token_hex(4)}"
        os.mkdir(self.temp, 0o777)
        if target.exists():
            os.chmod(self.temp, stat.S_IMODE(target.stat().st_mode))
        _write_file(self.temp / MANIFEST, _manifest_bytes({}, writing=True), sync=False)
        self._own = SetShare(self.temp)  # what this process writes, as another process writes its share
        self.digests = self._own.digests
        self._published = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._published:
            self._own.abandon()
            _remove_tree(self.temp)

    def add(self, name: str, data: bytes, *, replace: bool = False) -> None:
        """Write one file of the set (each name once). `replace`: a file of that name another
        process may have left unfinished (a `SetShare` whose process died) is removed first."""
        self._own.add(name, data, replace=replace)

    def share(self) -> SetShare:
        """A share of this set for another process to write into its folder (see `SetShare`)."""
        return SetShare(self.temp)

    def adopt(self, digests: Mapping[str, str]) -> None:
        """Count the files a `SetShare` wrote (its `digests`) as this set's."""
        _check_names(digests)
        for name in sorted(digests):
            if name in self.digests:
                raise ValueError(f"output {name!r} written twice")
            try:
                regular = stat.S_ISREG(os.lstat(self.temp / name).st_mode)
            except FileNotFoundError:
                regular = False
            if not regular:  # a bug, not the user's input
                raise ValueError(f"output {name!r} is not a file the share wrote")
            self.digests[name] = digests[name]

    def publish(self) -> None:
        """Make the written files `out_dir`'s content, with what `keep` carries of the previous set."""
        temp, target = self.temp, self.target
        try:
            manifest = dict(self.digests)
            if self.keep is not None and target.exists():
                manifest.update(_carry(target, temp, self.previous, self.digests, self.keep))
            os.unlink(temp / MANIFEST)
            _write_file(temp / MANIFEST, _manifest_bytes(manifest), sync=True)
            self._own.synced()  # what the shares of other processes wrote, they synced before handing it over
            carried = manifest.keys() - self.digests.keys()
            if carried and sys.platform == "linux":
                os.sync()  # linked or copied from the previous set: sync(2) waits for the writes on Linux only
            else:
                for name in carried:
                    _fsync_file(temp / name)
            folders = {str(folder) for name in manifest for folder in PurePosixPath(name).parents}
            for folder in sorted(folders, reverse=True):
                _fsync_dir(temp / folder)  # deepest first, the set's own folder ('.') last
            if target.exists():
                if not _exchange(temp, target):
                    old = target.parent / f".{target.name}{TEMP_MARK}old-{secrets.token_hex(4)}"
                    os.rename(target, old)
                    try:
                        os.rename(temp, target)
                    except BaseException:
                        os.rename(old, target)
                        raise
                    temp = old
                _fsync_dir(target.parent)
                self._published = True
                _remove_tree(temp)  # the previous set, now under the temporary name
            else:
                os.rename(temp, target)
                self._published = True
                _fsync_dir(target.parent)
        except BaseException:
            if temp.exists() and temp != target:
                _remove_tree(temp)
            self._published = True  # nothing left for __exit__ to remove
            raise


class SetShare:
    """Files of a set that another process writes into the set's temporary folder, as
    `SetWriter.add` would; it returns `digests` for the `SetWriter` to `adopt`. Picklable: a
    spawned process renders and writes its share of a large audit's reports itself, rather than
    sending them back to be written.

    Each file is synced to disk in a thread as soon as it is written, while the next one is
    rendered: one sync of the whole system at the end, as the set was published before, made a
    province audit wait 0.05 s for 40 MB to reach the disk. `synced` waits for what is left."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.digests: dict[str, str] = {}
        self._folders: set[str] = set()
        self._syncing: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []

    def __getstate__(self) -> dict[str, object]:
        assert not self._pending, "a share is handed to another process before it writes"
        return {"folder": self.folder, "digests": self.digests, "_folders": self._folders}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._syncing, self._pending = None, []

    def add(self, name: str, data: bytes, *, replace: bool = False) -> None:
        """Write `name` into the set's temporary folder (its folder made once per writer), each
        name once; `replace`: see `SetWriter.add`."""
        if name in self.digests:
            raise ValueError(f"output {name!r} written twice")  # names are built by the tool: a bug
        _check_names([name])
        folder = PurePosixPath(name).parent
        if str(folder) != "." and str(folder) not in self._folders:
            # once per folder, not once per file; two writers may race. One level at a time, never
            # the set's folder itself: a writer whose set was removed fails instead of making it again
            for level in reversed([folder, *folder.parents][:-1]):
                with contextlib.suppress(FileExistsError):
                    os.mkdir(self.folder / level, 0o777)
            self._folders.add(str(folder))
        if replace:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.folder / name)
        _write_file(self.folder / name, data, sync=False)
        self.digests[name] = _digest(data)
        if self._syncing is None:
            self._syncing = ThreadPoolExecutor(1, thread_name_prefix="inspector-fsync")
        self._pending.append(self._syncing.submit(_fsync_file, self.folder / name))

    def read(self, name: str) -> bytes:
        """A file of the set written already, by whichever process."""
        _check_names([name])
        return (self.folder / name).read_bytes()

    def synced(self) -> None:
        """Wait until every file this share wrote is on disk (an error syncing one is raised)."""
        try:
            for pending in self._pending:
                pending.result()
        except BaseException:
            self.abandon()
            raise
        self._pending = []
        if self._syncing is not None:
            self._syncing.shutdown()
            self._syncing = None

    def abandon(self) -> None:
        """Stop syncing what is left (the set is given up: an error, Ctrl-C): a national audit's
        queue is not waited for."""
        self._pending = []
        if self._syncing is not None:
            self._syncing.shutdown(wait=False, cancel_futures=True)
            self._syncing = None


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def nested_sets(sets: Mapping[str, Mapping[str, bytes]]) -> dict[str, bytes]:
    """Several sets as the files of one: each under its own folder with its own manifest, so that
    the whole is published at once and each folder can later be replaced on its own (every county
    edition under `counties/`, then one county's again)."""
    files: dict[str, bytes] = {}
    for folder, contents in sets.items():
        _check_names(contents)
        files[f"{folder}/{MANIFEST}"] = _manifest_bytes({name: _digest(data) for name, data in contents.items()})
        files.update({f"{folder}/{name}": data for name, data in contents.items()})
    _check_names(name for name in files if not name.endswith("/" + MANIFEST))
    return files


def _manifest_bytes(manifest: Mapping[str, str], *, writing: bool = False) -> bytes:
    data: dict[str, object] = {"tool": "inspector", "files": dict(sorted(manifest.items()))}
    if writing:  # by which process: a folder another run is still writing is not stale
        data["writing"] = {"host": socket.gethostname(), "pid": os.getpid()}
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return (text + "\n").encode("utf-8")


def _writer(folder: Path) -> object:
    """The `writing` entry of a temporary folder's manifest (which process writes its set), None
    when the manifest has none (a set written whole) or cannot be read."""
    path = folder / MANIFEST
    try:
        return None if path.is_symlink() else json.loads(path.read_text(encoding="utf-8")).get("writing")
    except (OSError, ValueError, AttributeError):
        return None


def _abandoned(writing: object) -> bool:
    """Whether the process a manifest's `writing` names, of this machine, is gone (killed before it
    published). A run still writing, or one on another machine (a shared disk), keeps its folder."""
    if not isinstance(writing, dict) or writing.get("host") != socket.gethostname():
        return False
    pid = writing.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False  # the writer is alive


def _carry(
    source: Path,
    destination: Path,
    previous: Mapping[str, str],
    files: Collection[str],
    keep: Callable[[str], bool],
) -> dict[str, str]:
    """Hard-link (or copy) the previous set's kept files (those not among the new set's `files`)
    into the new folder; their manifest entries."""
    carried: dict[str, str] = {}
    new_dirs = {str(parent) for name in files for parent in PurePosixPath(name).parents}

    def shadowed(name: str) -> bool:
        """The new set has this name, or a file where the name has a folder, or the reverse."""
        return name in files or name in new_dirs or any(str(p) in files for p in PurePosixPath(name).parents)

    # (name, digest): "" to compute it (a set without manifest), None for a file of a nested set,
    # which its own manifest lists
    entries: list[tuple[str, str | None]] = list(previous.items())
    # nested sets (county editions) come along whole, with their own manifests; a set nested in a
    # nested set (every edition under counties/, published at once) comes with its parent
    taken: list[str] = []
    for folder in sorted(p for p in source.rglob(MANIFEST) if p.parent != source and not p.is_symlink()):
        relative = folder.parent.relative_to(source).as_posix()
        if any(relative.startswith(parent + "/") for parent in taken):
            continue
        if not keep(relative + "/") or relative in new_dirs or shadowed(relative):
            continue
        taken.append(relative)
        for path in sorted(folder.parent.rglob("*")):
            if path.is_file() and not path.is_symlink():
                entries.append((path.relative_to(source).as_posix(), None))
    for name, digest in entries:
        if shadowed(name) or not keep(name):
            continue
        src, dst = source / name, destination / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError:
            shutil.copy2(src, dst, follow_symlinks=False)
        if digest is not None:
            carried[name] = digest or _file_digest(src)
    return carried
