"""Publishing outputs as a set: the previous set survives any failure, nothing outside the output
folder is written or removed, only what the tool wrote is ever replaced, and modes follow the umask."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import inspector.audit
import inspector.publish
import inspector.report
from inspector.cli import main
from inspector.errors import UsageError
from inspector.output import atomic
from inspector.output.atomic import MANIFEST, SetWriter, foreign_entries, publish_set
from inspector.output.paths import check_out_dir, child, path_component
from inspector.report import load_findings, render_reports, write_reports

BOUNDARIES = Path(__file__).resolve().parents[1] / "rules" / "core" / "cases" / "boundaries"


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (not following symlinks) with its bytes, the manifest left out."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.name != MANIFEST
    }


def siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p != folder)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


class TestSetPublishing:
    def test_the_folder_holds_exactly_the_set_and_its_manifest(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        publish_set(out, {"a.txt": b"a", "notices/x.html": b"x"})
        publish_set(out, {"a.txt": b"A", "notices/y.html": b"y"})
        assert tree(out) == {"a.txt": b"A", "notices/y.html": b"y"}
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        assert set(manifest["files"]) == {"a.txt", "notices/y.html"}
        assert siblings(out) == []  # no temporary or previous folder left beside it

    def test_a_failure_while_writing_leaves_the_previous_set_whole(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A full disk part-way: every old file as it was, and no temporary folder left."""
        out = tmp_path / "out"
        names = [f"notices/{i:03d}.html" for i in range(20)]
        publish_set(out, {name: b"old" for name in names})
        real = atomic._write_file

        def flaky(path: Path, data: bytes, *, sync: bool) -> None:
            if path.name == "010.html":
                raise OSError(28, "No space left on device")
            real(path, data, sync=sync)

        monkeypatch.setattr(atomic, "_write_file", flaky)
        with pytest.raises(OSError):
            publish_set(out, {name: b"new" for name in names})
        assert tree(out) == {name: b"old" for name in names}
        assert siblings(out) == []

    def test_every_file_and_folder_of_the_set_is_synced_before_it_is_published(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Each file is synced as it is written (in a thread), the manifest and every folder before
        the set replaces the previous one: a crash after publishing never finds a file of the set
        empty or missing."""
        synced: list[str] = []
        real_file, real_dir = atomic._fsync_file, atomic._fsync_dir
        out = tmp_path / "out"

        def record_file(path: Path) -> None:
            assert not out.exists(), "synced after publishing"
            synced.append(path.relative_to(writer.temp).as_posix())
            real_file(path)

        def record_dir(path: Path) -> None:
            if path != out.parent:
                synced.append(path.relative_to(writer.temp).as_posix() + "/")
            real_dir(path)

        monkeypatch.setattr(atomic, "_fsync_file", record_file)
        monkeypatch.setattr(atomic, "_fsync_dir", record_dir)
        writer = SetWriter(out)
        with writer:
            for name in ("a.txt", "notices/x.html", "notices/y.html", "traces/t/z.html"):
                writer.add(name, name.encode())
            writer.publish()
        assert sorted(synced) == sorted(
            ["a.txt", "notices/x.html", "notices/y.html", "traces/t/z.html", "./", "notices/", "traces/", "traces/t/"]
        )

    def test_a_file_that_cannot_be_synced_fails_the_set(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """An error syncing a file (a disk going bad) is the set's error: the previous set stays."""
        out = tmp_path / "out"
        publish_set(out, {"a.txt": b"old"})
        real = atomic._fsync_file

        def failing(path: Path) -> None:
            if path.name == "b.txt":
                raise OSError(5, "Input/output error")
            real(path)

        monkeypatch.setattr(atomic, "_fsync_file", failing)
        with pytest.raises(OSError, match="Input/output"):
            publish_set(out, {"a.txt": b"new", "b.txt": b"b"})
        assert tree(out) == {"a.txt": b"old"} and siblings(out) == []

    def test_without_an_atomic_exchange_two_renames_do(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
        out = tmp_path / "out"
        publish_set(out, {"a.txt": b"1"})
        publish_set(out, {"a.txt": b"2"})
        assert tree(out) == {"a.txt": b"2"} and siblings(out) == []

    def test_a_folder_left_by_a_crashed_run_is_cleared(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        publish_set(tmp_path / ".out.inspector-dead", {"a.txt": b"half"})  # as a crash would leave it
        publish_set(out, {"a.txt": b"1"})
        assert siblings(out) == []

    def test_a_set_killed_while_written_is_cleared_by_the_next_run(self, tmp_path: Path) -> None:
        """A run killed outright (out of memory) while streaming its files leaves a temporary folder
        whose manifest still says `writing`, by a process now gone: the next run removes it."""
        out = tmp_path / "out"
        writer = SetWriter(out)
        writer.add("findings.json", b"{}")
        writer.add("notices/a.html", b"a")  # and then the process is killed: no publish, no __exit__
        manifest = writer.temp / MANIFEST
        gone = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True, text=True
        )
        manifest.write_text(manifest.read_text(encoding="utf-8").replace(str(os.getpid()), gone.stdout.strip()))
        assert siblings(out) and not out.exists()
        publish_set(out, {"a.txt": b"1"})
        assert siblings(out) == [] and tree(out) == {"a.txt": b"1"}

    def test_a_set_another_run_is_writing_is_left_to_it(self, tmp_path: Path) -> None:
        """Two runs on one folder: the second does not take the first's folder for a crashed run's
        (it removed it, and the first failed on its next file); the last to publish wins."""
        out = tmp_path / "out"
        publish_set(out, {"findings.json": b"old"})
        first = SetWriter(out)
        first.add("findings.json", b"first")
        with SetWriter(out) as second:
            second.add("findings.json", b"second")
            second.publish()
        assert first.temp.is_dir()
        first.add("report.md", b"first")
        first.publish()
        assert tree(out) == {"findings.json": b"first", "report.md": b"first"} and siblings(out) == []

    def test_a_stranger_folder_named_like_a_temporary_one_is_left_alone(self, tmp_path: Path) -> None:
        """Only a folder the tool marked as its own is removed, whatever its name."""
        stranger = tmp_path / ".out.inspector-mine"
        stranger.mkdir()
        (stranger / "notes.txt").write_text("mine", encoding="utf-8")
        publish_set(tmp_path / "out", {"a.txt": b"1"})
        assert (stranger / "notes.txt").read_text(encoding="utf-8") == "mine"

    def test_a_streamed_set_is_published_whole_or_not_at_all(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        publish_set(out, {"old.txt": b"0"})
        with pytest.raises(RuntimeError), SetWriter(out) as writer:
            writer.add("new.txt", b"1")
            raise RuntimeError("rendering failed")
        assert tree(out) == {"old.txt": b"0"} and siblings(out) == []
        with SetWriter(out) as writer:
            writer.add("new.txt", b"1")
            writer.publish()
        assert tree(out) == {"new.txt": b"1"} and siblings(out) == []

    def test_files_and_folders_follow_the_umask(self, tmp_path: Path, umask_022: None) -> None:
        """Outputs were written 0600; they are 0644 under umask 022, like any program's files."""
        out = tmp_path / "out"
        publish_set(out, {"a.txt": b"a", "notices/x.html": b"x"})
        assert stat.S_IMODE((out / "a.txt").stat().st_mode) == 0o644
        assert stat.S_IMODE((out / "notices" / "x.html").stat().st_mode) == 0o644
        assert stat.S_IMODE((out / "notices").stat().st_mode) == 0o755
        assert stat.S_IMODE(out.stat().st_mode) == 0o755

    def test_a_replaced_folder_keeps_its_own_mode(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        publish_set(out, {"a.txt": b"a"})
        out.chmod(0o750)
        publish_set(out, {"a.txt": b"b"})
        assert stat.S_IMODE(out.stat().st_mode) == 0o750


class TestOnlyWhatTheToolWrote:
    def test_a_users_file_in_the_folder_stops_publishing(self, tmp_path: Path) -> None:
        """Notes beside the outputs were deleted; now nothing is written and the notes are named."""
        out = tmp_path / "out"
        publish_set(out, {"a.txt": b"a", "notices/x.html": b"x"})
        (out / "notices" / "我的批注.txt").write_text("备忘", encoding="utf-8")
        with pytest.raises(UsageError, match="我的批注.txt"):
            publish_set(out, {"a.txt": b"b"})
        assert (out / "notices" / "我的批注.txt").read_text(encoding="utf-8") == "备忘"
        assert tree(out)["a.txt"] == b"a"

    def test_an_edited_output_counts_as_the_users(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        publish_set(out, {"report.md": b"tool"})
        (out / "report.md").write_bytes(b"edited by hand")
        with pytest.raises(UsageError, match="report.md"):
            publish_set(out, {"report.md": b"tool again"})
        assert (out / "report.md").read_bytes() == b"edited by hand"

    def test_a_folder_of_an_older_version_is_recognised(self, tmp_path: Path) -> None:
        """Without a manifest, the names the tool writes are its own, anything else is not."""
        out = tmp_path / "out"
        (out / "notices").mkdir(parents=True)
        (out / "findings.json").write_text("{}", encoding="utf-8")
        (out / "notices" / "P1.html").write_text("旧", encoding="utf-8")
        assert foreign_entries(out) == []
        (out / "notes.txt").write_text("mine", encoding="utf-8")
        assert foreign_entries(out) == [out / "notes.txt"]

    def test_an_unrelated_folder_is_never_replaced(self, tmp_path: Path) -> None:
        out = tmp_path / "documents"
        out.mkdir()
        (out / "thesis.docx").write_bytes(b"years of work")
        with pytest.raises(UsageError, match="thesis.docx"):
            publish_set(out, {"a.txt": b"a"})
        assert tree(out) == {"thesis.docx": b"years of work"}

    @pytest.mark.parametrize("command", ["audit", "report", "report --county 城中区", "report --all-counties"])
    def test_a_command_refuses_a_folder_with_foreign_content_before_its_work(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
    ) -> None:
        """A long audit (or a report rebuild) is not run only to be refused at the end: exit 2 at once,
        naming the file, with nothing audited or rendered and the folder untouched."""
        out = tmp_path / "out"
        assert main(["audit", str(BOUNDARIES), "--out", str(out), "--quiet"]) == 0
        target = out
        if command != "report":
            target = tmp_path / "editions"
            target.mkdir()
        (target / "我的批注.txt").write_text("备忘", encoding="utf-8")
        before = tree(out)

        def not_now(*_args: object, **_kwargs: object) -> None:
            raise AssertionError("the work started before the output folder was checked")

        monkeypatch.setattr(inspector.audit, "run_audit", not_now)
        monkeypatch.setattr(inspector.report, "render_reports", not_now)
        monkeypatch.setattr(inspector.report, "add_reports", not_now)
        capsys.readouterr()
        name, *options = command.split()
        args = [str(BOUNDARIES)] if name == "audit" else [str(out), *options]
        assert main([name, *args, "--out", str(target), "--quiet"] if target != out else [name, *args, "--quiet"]) == 2
        assert "我的批注.txt" in capsys.readouterr().err
        assert tree(out) == before and (target / "我的批注.txt").read_text(encoding="utf-8") == "备忘"


class TestSymlinks:
    def test_a_symlinked_notices_folder_is_refused_and_its_target_untouched(self, tmp_path: Path) -> None:
        """OUT/notices → elsewhere: the audit wrote, and deleted, outside OUT; now it stops first."""
        victim = tmp_path / "victim"
        victim.mkdir()
        (victim / "keep.html").write_text("别人的文件", encoding="utf-8")
        out = tmp_path / "out"
        out.mkdir()
        (out / "notices").symlink_to(victim)
        code = main(["audit", str(BOUNDARIES), "--out", str(out), "--quiet"])
        assert code == 2
        assert sorted(p.name for p in victim.iterdir()) == ["keep.html"]
        assert (out / "notices").is_symlink()

    def test_a_symlinked_output_folder_is_resolved_once(self, tmp_path: Path) -> None:
        """OUT itself a link: the set is published at its target, and the link still points there."""
        real = tmp_path / "real"
        link = tmp_path / "link"
        link.symlink_to(real, target_is_directory=True)
        real.mkdir()
        assert main(["audit", str(BOUNDARIES), "--out", str(link), "--quiet"]) == 0
        assert link.is_symlink() and (real / "findings.json").is_file()
        assert main(["audit", str(BOUNDARIES), "--out", str(link), "--quiet"]) == 0
        assert link.is_symlink() and (link / "findings.json").is_file()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


class TestWhereOutputsMayGo:
    @pytest.mark.parametrize("target", ["/", "/etc", "/usr", "/usr/local/share/x", "/bin", "/tmp", "/proc/self"])
    def test_system_folders_are_refused(self, target: str) -> None:
        with pytest.raises(UsageError, match="不能把输出写入"):
            check_out_dir(Path(target))

    def test_scratch_space_below_dev_is_allowed(self) -> None:
        """RAM-backed scratch (/dev/shm, /run/user/…) may hold outputs; the rest of /dev may not."""
        assert check_out_dir(Path("/dev/shm/inspector-out")) == Path("/dev/shm/inspector-out")
        for target in ("/dev/shm", "/dev/null", "/dev/x"):
            with pytest.raises(UsageError):
                check_out_dir(Path(target))

    def test_home_itself_is_refused(self) -> None:
        with pytest.raises(UsageError, match="主文件夹"):
            check_out_dir(Path.home())

    def test_the_working_folder_and_its_parents_are_refused(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        work = tmp_path / "work"
        work.mkdir()
        monkeypatch.chdir(work)
        for target in (Path("."), work, tmp_path):
            with pytest.raises(UsageError, match="当前工作文件夹"):
                check_out_dir(target)

    @pytest.mark.parametrize("relation", ["same", "parent"])
    def test_the_input_folder_and_its_parents_are_refused(
        self, tmp_path: Path, relation: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        folder = tmp_path / "cases" / "boundaries"
        folder.parent.mkdir()
        folder.mkdir()
        for path in BOUNDARIES.iterdir():
            (folder / path.name).write_bytes(path.read_bytes())
        out = folder if relation == "same" else folder.parent
        assert main(["audit", str(folder), "--out", str(out), "--quiet"]) == 2
        assert "审核数据文件夹" in capsys.readouterr().err
        assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in BOUNDARIES.iterdir())


class TestCountyFolderNames:
    @pytest.mark.parametrize("name", ["../../evil", "a/b", "..", ".", "", "x\x00y", "\n", "-rf", ".hidden", "C:\\x"])
    def test_names_from_data_stay_one_component(self, tmp_path: Path, name: str) -> None:
        component = path_component(name)
        assert component not in ("", ".", "..") and "/" not in component and "\\" not in component
        assert not component.startswith((".", "-")) and "\x00" not in component
        assert child(tmp_path, name).parent == tmp_path

    def test_readable_names_are_kept(self) -> None:
        assert path_component("融水苗族自治县") == "融水苗族自治县" and path_component("城中区") == "城中区"

    def test_a_county_named_with_dot_dot_stays_under_counties(self, tmp_path: Path) -> None:
        """`inspector report OUT --county NAME` wrote outside OUT for a county called ../../../evil."""
        folder = tmp_path / "audit"
        folder.mkdir()
        for path in BOUNDARIES.iterdir():
            text = path.read_bytes()
            if path.name == "schools.csv":
                text = text.replace(",城中区,".encode(), b",../../../evil,")
            (folder / path.name).write_bytes(text)
        out = tmp_path / "out"
        assert main(["audit", str(folder), "--out", str(out), "--quiet"]) == 0
        assert main(["report", str(out), "--county", "../../../evil", "--quiet"]) == 0
        editions = list((out / "counties").iterdir())
        assert len(editions) == 1 and (editions[0] / "report.html").is_file()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["audit", "out"]


class TestReportRebuild:
    def test_a_rebuild_keeps_findings_and_county_editions(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        assert main(["audit", str(BOUNDARIES), "--out", str(out), "--quiet"]) == 0
        assert main(["report", str(out), "--county", "城中区", "--quiet"]) == 0
        before = tree(out)
        assert main(["report", str(out), "--quiet"]) == 0
        assert tree(out) == before
        assert foreign_entries(out) == []

    def test_an_audit_replaces_stale_county_editions(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        assert main(["audit", str(BOUNDARIES), "--out", str(out), "--quiet"]) == 0
        assert main(["report", str(out), "--county", "城中区", "--quiet"]) == 0
        assert main(["audit", str(BOUNDARIES), "--out", str(out), "--quiet"]) == 0
        assert not (out / "counties").exists()


class TestFailureLeavesNoOutputs:
    def test_an_internal_error_while_rendering_writes_nothing(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Exit 70 with a request to report it, and the previous set untouched, though the outputs
        before the error were already written into the new set's temporary folder."""
        out = tmp_path / "out"
        assert main(["audit", str(BOUNDARIES), "--out", str(out), "--quiet"]) == 0
        before = tree(out)

        def broken(writer: SetWriter, *_args: object, **_kwargs: object) -> None:
            writer.add("report.html", b"half")
            raise KeyError("a bug")

        monkeypatch.setattr(inspector.publish, "add_reports", broken)
        assert main(["audit", str(BOUNDARIES), "--out", str(out), "--quiet"]) == 70
        err = capsys.readouterr().err
        assert "内部错误" in err and "--debug" in err and "Traceback" not in err
        assert tree(out) == before and siblings(out) == []

    def test_a_first_run_that_fails_leaves_no_folder(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(inspector.publish, "add_reports", lambda *a, **k: {}["x"])
        assert main(["audit", str(BOUNDARIES), "--out", str(tmp_path / "out"), "--quiet"]) == 70
        assert list(tmp_path.iterdir()) == []


def test_write_reports_replaces_stale_notices_but_keeps_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["audit", str(BOUNDARIES), "--out", str(out), "--quiet"]) == 0
    document, sha = load_findings(out)
    files = render_reports(document, sha)
    assert sorted(name for name in files if name.startswith("notices/")) == [
        "notices/城中区.html",
        "notices/鱼峰区.html",
    ]
    kept = {name: data for name, data in files.items() if name != "notices/鱼峰区.html"}
    write_reports(out, kept)
    assert sorted(p.name for p in (out / "notices").rglob("*")) == ["城中区.html"]
    assert (out / "findings.json").is_file() and (out / "rectification.csv").is_file()


def test_releasing_the_evaluation_changes_no_output(tmp_path: Path) -> None:
    """`inspector audit` lets go of the loaded tables and verdicts once findings.json is built:
    every output is the same bytes, and the findings stay for its summary."""
    from inspector.audit import run_audit
    from inspector.publish import write_outputs

    kept, released = run_audit(BOUNDARIES), run_audit(BOUNDARIES)
    write_outputs(kept, tmp_path / "kept")
    write_outputs(released, tmp_path / "released", release=True)
    assert tree(tmp_path / "released") == tree(tmp_path / "kept")
    assert released.dataset.tables == {} and released.findings == kept.findings
    for rule, outcome in released.outcomes.items():
        assert outcome.verdicts.is_empty()
        assert [outcome.count(v) for v in ("fail", "pass", "gap")] == [
            kept.outcomes[rule].count(v) for v in ("fail", "pass", "gap")
        ]


def test_a_failure_while_two_processes_write_leaves_the_previous_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reports shared with a second process (`report.add_reports`): this process fails on its
    first part while the other writes its own; exit 70, the previous set as it was, and no
    temporary folder left beside it (the second process stopped before the folder was removed)."""
    out = tmp_path / "out"
    assert main(["audit", str(BOUNDARIES), "--out", str(out), "--quiet"]) == 0
    before = tree(out)
    monkeypatch.setenv("INSPECTOR_WORKERS", "2")
    monkeypatch.setattr(inspector.report, "PARALLEL_FROM", 0)
    started: list[int] = []

    def broken(*_args: object) -> bytes:
        """Fail once the second process is writing its parts (it takes the report next)."""
        started.append(1)
        for _ in range(400):
            if any(tmp_path.glob(".out.inspector-*/report.html")):
                break
            time.sleep(0.025)
        raise KeyError("a bug")

    monkeypatch.setattr(inspector.report, "rectification_xlsx", broken)  # here only: the spawned process has its own
    pools: list[int] = []
    spawned_pool = inspector.report.spawned_pool

    def counted(*args: Any) -> Any:
        pools.append(1)
        return spawned_pool(*args)

    monkeypatch.setattr(inspector.report, "spawned_pool", counted)
    capsys.readouterr()
    assert main(["report", str(out), "--quiet"]) == 70
    assert pools == [1] and started == [1] and "内部错误" in capsys.readouterr().err
    assert tree(out) == before and siblings(out) == []


def test_a_share_whose_set_was_removed_does_not_make_its_folder_again(tmp_path: Path) -> None:
    """The second process writes into the set's folder through a `SetShare`; once the set is
    removed (its run failed), a late write fails instead of leaving a folder without a manifest,
    which no later run would recognise as the tool's."""
    out = tmp_path / "out"
    with SetWriter(out) as writer:
        share = writer.share()
        share.add("notices/城中区/a.html", b"a")
        writer.adopt(share.digests)
        assert (writer.temp / "notices" / "城中区" / "a.html").read_bytes() == b"a"
    assert list(tmp_path.iterdir()) == []  # left without publishing: removed
    with pytest.raises(FileNotFoundError):
        share.add("notices/柳北区/b.html", b"b")
    assert list(tmp_path.iterdir()) == []


def test_a_file_the_share_did_not_write_is_not_adopted(tmp_path: Path) -> None:
    with SetWriter(tmp_path / "out") as writer, pytest.raises(ValueError, match="not a file the share wrote"):
        writer.adopt({"notices/x/y.html": "0" * 64})
