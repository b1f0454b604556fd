"""Reading YAML within bounds: sizes, nodes, depth and aliases refused at their line; the C and the
pure-Python parsers agreeing on every shipped file; the worst inputs refused or read in seconds."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from inspector.errors import DataError
from inspector.limits import DATA_YAML_ALIASES, LIMITS, Limits
from inspector.records.config import load_config
from inspector.waivers import load_waivers
from inspector.yamlsrc import WITH_LIBYAML, YamlSyntax, load_yaml, parse_yaml

ROOT = Path(__file__).resolve().parents[1]
BOUNDARIES = ROOT / "rules" / "core" / "cases" / "boundaries"

BILLION_LAUGHS = textwrap.dedent("""\
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    """)


def refused(text: str, **kwargs: object) -> tuple[str, int, int, str]:
    with pytest.raises(YamlSyntax) as raised:
        parse_yaml(text, "t.yaml", **kwargs)  # type: ignore[arg-type]
    problem = raised.value.problem
    return problem.code, problem.line, problem.column, problem.message


class TestBounds:
    def test_a_billion_laughs_stops_at_the_node_limit(self) -> None:
        """Each alias counts as the subtree it stands for, so the bomb is refused where it passes the limit."""
        code, line, _column, message = refused(BILLION_LAUGHS)
        assert (code, line) == ("yaml_nodes", 6) and "100,000" in message

    def test_a_billion_laughs_in_a_data_file_stops_at_the_first_alias(self) -> None:
        """audit.yaml and waivers.yaml may not use aliases at all."""
        assert refused(BILLION_LAUGHS, aliases=DATA_YAML_ALIASES)[:3] == ("yaml_alias", 2, 8)

    def test_an_alias_inside_its_own_anchor_is_a_cycle(self) -> None:
        """A recursive alias is refused instead of building a cyclic structure."""
        code, line, column, message = refused("name: &x [x, *x]\n")
        assert (code, line, column) == ("yaml_alias", 1, 14) and "循环引用" in message

    def test_aliases_beyond_the_budget(self) -> None:
        """Rule files may use a hundred aliases, not more."""
        text = "a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n"
        assert refused(text)[0] == "yaml_alias"
        assert parse_yaml("a: &a 1\nb: [" + ", ".join(["*a"] * 100) + "]\n", "t.yaml").data["b"] == [1] * 100  # type: ignore[index]

    def test_an_alias_to_a_long_text_counts_its_characters(self) -> None:
        """Aliases of a long string expand past the byte limit: refused, though the file is small."""
        text = "a: &a " + "x" * 50_000 + "\nb: [" + ", ".join(["*a"] * 50) + "]\n"
        assert refused(text, limits=Limits(yaml_bytes=1_000_000))[0] == "yaml_alias_size"

    def test_nesting_deeper_than_the_limit(self) -> None:
        """The 33rd level of brackets is refused where it opens, before any recursion."""
        assert refused("[" * 100 + "]" * 100)[:3] == ("yaml_depth", 1, 33)
        assert refused("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 40)))[:2] == ("yaml_depth", 33)

    def test_more_nodes_than_the_limit(self) -> None:
        assert refused("- 1\n" * 11, limits=Limits(yaml_nodes=10))[:2] == ("yaml_nodes", 10)

    def test_a_file_over_the_byte_limit_is_refused_unread(self, tmp_path: Path) -> None:
        """Only limit + 1 bytes are read: the size is known before parsing."""
        path = tmp_path / "big.yaml"
        path.write_text("- 1\n" * 1000, encoding="utf-8")
        with pytest.raises(YamlSyntax) as raised:
            load_yaml(path, "big.yaml", limits=Limits(yaml_bytes=3999), configurable=True)
        assert raised.value.problem.code == "yaml_bytes"
        assert "limits.yaml_bytes" in raised.value.problem.message
        assert load_yaml(path, limits=Limits(yaml_bytes=4000)).data == [1] * 1000

    @pytest.mark.parametrize(
        "text, code",
        [
            ("a: " + "9" * 5000 + "\n", "yaml"),  # more digits than int() converts
            ("a: !!int abc\n", "yaml"),
            ("a: !!bool maybe\n", "yaml"),
            ("? [a]\n: 1\n", "yaml"),
            ("a: !!set {x, y}\n", "yaml"),
            ("a: !!python/object:os.system x\n", "yaml"),
            ("a: !!set [1]\n", "yaml"),
            ("\x00", "yaml"),
            ("--- 1\n--- 2\n", "yaml"),
            ("&a x: &a y\n", "yaml_anchor"),
            ("a: *nowhere\n", "yaml_alias"),
        ],
    )
    def test_odd_input_is_a_located_problem_in_chinese(self, text: str, code: str) -> None:
        """Whatever PyYAML's constructor would raise on becomes a problem in the user's words."""
        found, line, _column, message = refused(text)
        assert found == code and line >= 1
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


class TestKeptBehaviour:
    def test_duplicate_keys_are_refused_at_the_second(self) -> None:
        assert refused("a: 1\nb: 2\na: 3\n")[:3] == ("yaml", 3, 1)

    def test_dates_stay_text_and_positions_are_kept(self) -> None:
        doc = parse_yaml('as_of: 2025-13-01\nlist:\n  - "x \\"y\\""\n  - |\n    a > 1\n    and b\n', "t.yaml")
        assert doc.data == {"as_of": "2025-13-01", "list": ['x "y"', "a > 1\nand b\n"]}
        assert doc.line_of(("list", 1)) == (4, 5)
        quoted = doc.scalar(("list", 0))
        assert quoted is not None and quoted.locate(2) == (3, 8)
        block = doc.scalar(("list", 1))
        assert block is not None and block.block and block.locate(6) == (6, 5)

    def test_merge_keys_merge(self) -> None:
        """`<<: *base` merges (and is no duplicate of the keys it overrides)."""
        doc = parse_yaml("base: &b {p: 1, q: 2}\nrule:\n  <<: *b\n  p: 3\n", "t.yaml")
        assert doc.data == {"base": {"p": 1, "q": 2}, "rule": {"p": 3, "q": 2}}

    @pytest.mark.slow
    @pytest.mark.skipif(not WITH_LIBYAML, reason="PyYAML built without libyaml")
    def test_libyaml_and_pure_python_agree_on_every_shipped_file(self) -> None:
        """Same data, same position of every key path and the same scalar spans, file by file (but the
        cases' verdict snapshots, expected-all.yaml: half a megabyte each, read by tests alone)."""
        files = sorted(
            p
            for p in ROOT.glob("**/*.yaml")
            if ".venv" not in p.parts and "out" not in p.parts and p.name != "expected-all.yaml"
        )
        assert len(files) > 50
        for path in files:
            text = path.read_text(encoding="utf-8-sig")
            limits = Limits(yaml_bytes=LIMITS["yaml_bytes"].maximum, yaml_nodes=LIMITS["yaml_nodes"].maximum)
            fast = parse_yaml(text, str(path), limits=limits)
            slow = parse_yaml(text, str(path), limits=limits, parser=yaml.SafeLoader)
            assert fast.data == slow.data, path
            assert fast._positions == slow._positions, path
            assert fast._scalars == slow._scalars, path


class TestAuditFolderLimits:
    def folder(self, tmp_path: Path, extra: str = "", waivers: str | None = None) -> Path:
        folder = tmp_path / "audit"
        folder.mkdir()
        (folder / "audit.yaml").write_text(
            (BOUNDARIES / "audit.yaml").read_text(encoding="utf-8") + extra, encoding="utf-8"
        )
        if waivers is not None:
            (folder / "waivers.yaml").write_text(waivers, encoding="utf-8")
        return folder

    def test_limits_are_read_from_audit_yaml(self, tmp_path: Path) -> None:
        assert load_config(self.folder(tmp_path, "limits:\n  rows: 10\n  yaml_nodes: 200000\n")).limits.rows == 10

    def test_a_limit_above_its_maximum_is_located(self, tmp_path: Path) -> None:
        """No audit.yaml can raise a limit past its hard maximum."""
        with pytest.raises(DataError) as raised:
            load_config(self.folder(tmp_path, "limits:\n  yaml_bytes: 1000000000\n  speed: 3\n"))
        found = {(p.line, p.field, p.code) for p in raised.value.problems}
        assert found == {(6, "limits.yaml_bytes", "value_error"), (7, "limits.speed", "extra_forbidden")}
        (problem,) = [p for p in raised.value.problems if p.field == "limits.yaml_bytes"]
        assert problem.message.startswith("取值 1,000,000,000 超过硬上限 8,388,608（")
        assert "8,388,608" in str(raised.value)

    def test_a_lowered_limit_binds_waivers_yaml(self, tmp_path: Path) -> None:
        waivers = "waivers:\n" + "".join(
            f"  - {{rule: class-size.large, entity: C{i}, reason: 临时, authority: 局, document_no: 文{i}, expires: 2026-01-01}}\n"
            for i in range(40)
        )
        folder = self.folder(tmp_path, "limits:\n  yaml_nodes: 100\n", waivers)
        with pytest.raises(DataError) as raised:
            load_waivers(folder, ["class-size.large"])
        assert [(p.file, p.code) for p in raised.value.problems] == [("waivers.yaml", "yaml_nodes")]
        assert "limits.yaml_nodes" in raised.value.problems[0].message
        assert load_waivers(folder, ["class-size.large"], Limits()) is not None

    def test_aliases_are_refused_in_waivers_yaml(self, tmp_path: Path) -> None:
        waivers = "waivers:\n  - &w {rule: class-size.large, entity: C1, reason: x, authority: y, document_no: z, expires: 2026-01-01}\n  - *w\n"
        with pytest.raises(DataError) as raised:
            load_waivers(self.folder(tmp_path, waivers=waivers), ["class-size.large"])
        assert [(p.line, p.code) for p in raised.value.problems] == [(3, "yaml_alias")]


WORST = {
    # name: (file text generator, limits) — each must be refused or read within 10 s and 1 GB
    "10 MB list, default limits": ("'- 1\\n' * (10 * 2**20 // 4)", "{}"),
    "8 MiB list at the maximum limits": ("'- 1\\n' * (8 * 2**20 // 4 - 8)", "MAXIMA"),
    "8 MiB flow list at the maximum limits": ("'[' + '1,' * (4 * 2**20 - 8) + '1]'", "MAXIMA"),
    "a mapping just under the maximum node count": ("''.join(f'k{i}: v{i}\\n' for i in range(124_990))", "MAXIMA"),
    "a billion laughs at the maximum limits": (repr(BILLION_LAUGHS), "MAXIMA"),
    "8 MiB of one string at the maximum limits": ("'a: ' + 'x' * (8 * 2**20 - 16) + '\\n'", "MAXIMA"),
    "8 MiB of nesting at the maximum limits": ("'[' * (4 * 2**20 - 8) + ']' * (4 * 2**20 - 8)", "MAXIMA"),
}

_PROBE = """
import json, resource, sys, time
from pathlib import Path
from inspector.limits import LIMITS, Limits
from inspector.yamlsrc import YamlSyntax, load_yaml
MAXIMA = {k: LIMITS[k].maximum for k in ("yaml_bytes", "yaml_nodes", "yaml_depth")}
path = Path(sys.argv[1])
path.write_text(%s, encoding="utf-8")
start, wall = time.process_time(), time.perf_counter()
try:
    load_yaml(path, limits=Limits(**%s))
    outcome = "read"
except YamlSyntax as exc:
    outcome = exc.problem.code
print(json.dumps({"cpu_seconds": time.process_time() - start, "wall_seconds": time.perf_counter() - wall,
                  "outcome": outcome,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", list(WORST))
def test_worst_inputs_are_decided_within_ten_seconds_and_a_gigabyte(name: str, tmp_path: Path) -> None:
    """The hardest files built for the reader, each in a fresh process: refused or read in < 10 s
    of CPU time (user + sys of every thread: on an idle machine wall time is no longer, and on a
    loaded one it measures the machine, not the reader), < 1 GB."""
    text, limits = WORST[name]
    probe = _PROBE % (text, limits)
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "worst.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    measured = json.loads(result.stdout)
    assert measured["cpu_seconds"] < 10 and measured["peak_mb"] < 1024, (name, measured)


@pytest.mark.slow
def test_without_libyaml_the_limits_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyYAML's pure-Python parser is about six times slower: raised limits are capped so that
    reading stays within seconds, and the documents read are the same."""
    from inspector import yamlsrc
    from inspector.limits import PURE_PYTHON_YAML_CAPS

    monkeypatch.setattr(yamlsrc, "WITH_LIBYAML", False)
    capped = yamlsrc.effective_limits(
        Limits(yaml_bytes=LIMITS["yaml_bytes"].maximum, yaml_nodes=LIMITS["yaml_nodes"].maximum)
    )
    assert (capped.yaml_bytes, capped.yaml_nodes) == (
        PURE_PYTHON_YAML_CAPS["yaml_bytes"],
        PURE_PYTHON_YAML_CAPS["yaml_nodes"],
    )
    assert parse_yaml("a: [1, 'x']\n", "t.yaml").data == {"a": [1, "x"]}
    assert (
        refused(
            "- 1\n" * (PURE_PYTHON_YAML_CAPS["yaml_nodes"] + 1), limits=Limits(yaml_nodes=LIMITS["yaml_nodes"].maximum)
        )[0]
        == "yaml_nodes"
    )
