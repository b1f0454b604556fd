"""Fuzzing support: hypothesis profiles chosen by INSPECTOR_FUZZ, strategies for the YAML files
an audit reads and for rule expressions and templates, and the checks every target shares.

Profiles (`INSPECTOR_FUZZ=…`):

* `dev` (`make test-fast`, the developer loop): 20 examples per target, a smoke run; `make test` still
  runs every target at `short` before anything is pushed;
* `short` (default, `make test`): 100 examples per target, the whole folder in well under 30 s;
* `long` (`make fuzz`): 2,000 per target, the whole folder within 3 minutes on two cores (`-n 2`);
* `nightly`: 50,000 per target, for a scheduled job (about an hour on two cores).

Every target runs at the profile's size, the two whole-CLI targets (`test_fuzz_cli_*.py`) too:
each of their examples is an `inspector audit` in-process (about 40–60 ms of CPU on average: most
fuzzed files are refused before the audit runs, a whole audit of the boundary case costs ~0.15 s),
for what only the CLI shows (exit code, no traceback, nothing written outside OUT); the same
audit.yaml and waivers.yaml strategies also run against the parser, the config, and the waivers
applied to a real audit's findings (`test_fuzz_yaml.py`). `test_profiles.py` checks every target's size.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from inspector.errors import Problem

ROOT = Path(__file__).resolve().parents[2]
# where whole audits write: a RAM-backed folder where there is one (the outputs' fsyncs cost more
# than the rest of a small audit), else the system's temporary folder
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
BOUNDARIES = ROOT / "rules" / "core" / "cases" / "boundaries"

_COMMON: dict[str, Any] = {
    # timing is bounded by the regression tests in CPU time; a deadline would measure the machine
    "deadline": None,
    # no example database: each run explores afresh (failures are printed with their blob), and
    # workers write nothing to .hypothesis/
    "database": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
settings.register_profile("fuzz-dev", max_examples=20, **_COMMON)
settings.register_profile("fuzz-short", max_examples=100, **_COMMON)
settings.register_profile("fuzz-long", max_examples=2_000, **_COMMON)
settings.register_profile("fuzz-nightly", max_examples=50_000, **_COMMON)

PROFILE = os.environ.get("INSPECTOR_FUZZ", "short").strip() or "short"
if PROFILE not in ("dev", "short", "long", "nightly"):
    raise RuntimeError(f"INSPECTOR_FUZZ={PROFILE!r}: use dev, short, long or nightly")
FUZZ = settings.get_profile(f"fuzz-{PROFILE}")
# the examples each target must run at least, per profile (test_profiles.py checks the targets)
MIN_EXAMPLES = {"dev": 20, "short": 100, "long": 2_000, "nightly": 50_000}

_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def assert_located(problems: Iterable[Problem], *, lines: int | None = None) -> None:
    """Every problem names a file, a plausible line and says what is wrong in Chinese."""
    problems = list(problems)
    assert problems, "an error without problems"
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.file, problem
        assert problem.line >= 0 and problem.column >= 0, problem
        if lines is not None:
            assert problem.line <= lines + 1, (problem, lines)
        assert _CHINESE.search(problem.message), problem.message
        str(problem)  # renders


def chinese(text: str) -> bool:
    return bool(_CHINESE.search(text))


# -- YAML -------------------------------------------------------------------------------------

ODD_SCALARS = [
    "~",
    "null",
    "Null",
    ".nan",
    ".NaN",
    ".inf",
    "-.inf",
    "0x1F",
    "0o17",
    "0b101",
    "1_000",
    "1:20:30",
    "2025-13-01",
    "2025-12-01",
    "1979-12-31",
    "9999-12-31",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "=",
    "<<",
    "1e400",
    "-0",
    "+12",
    "0.1e-5",
    "'",
    '"',
    "\\",
    "\u3000",
    "\ufeff",
    "\u2028",
    "柳州市",
    "4502060038",
    "",
]
# an integer of more digits than int() converts (4,300), drawn so its repr stays short in reports
odd_scalars = st.sampled_from(ODD_SCALARS) | st.integers(4_000, 6_000).map(lambda n: "9" * n)
texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
scalars = st.one_of(
    texts,
    odd_scalars,
    st.integers(min_value=-(10**40), max_value=10**40),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(str),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.one_of(texts, odd_scalars), inner, max_size=4),
    max_leaves=12,
)

HOSTILE_YAML = [
    # a billion laughs, and a recursive alias
    (
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e]\n"
    ),
    "a: &a [x, *a]\n",
    "&a a: *a\n",
    "a: &x {b: *x}\n",
    "m: &m {a: 1}\nn:\n  <<: [*m, *m, *m]\n",
    "[" * 300 + "]" * 300,
    "{a: " * 200 + "1" + "}" * 200,
    "- " * 200 + "x\n",
    "a: !!python/object/apply:os.system ['echo pwned']\n",
    "a: !!binary aGVsbG8=\nb: !!set {x, y}\nc: !!omap [{a: 1}]\n",
    "a: !!int abc\nb: !!float x\nc: !!bool maybe\n",
    "a: 1\na: 2\n",
    "--- 1\n--- 2\n",
    "\x00\x01\x02",
    "\ufeffa: 1\n",
    "a:\n\t- b\n",
    "? [a, b]\n: c\n",
    "%YAML 1.1\n%YAML 1.1\n---\na: 1\n",
    "a: '" + "x" * 2000 + "\n",
    "a: " + "9" * 5000 + "\n",
    "*undefined\n",
    "!<tag:evil.example,2025:x> a\n",
]
hostile_yaml = st.sampled_from(HOSTILE_YAML)
YAML_TOKENS = list("[]{}:,-?&*!|>'\"#%@`") + [
    " ",
    "  ",
    "\n",
    "\n  ",
    "\t",
    "a",
    "键",
    "1",
    "- ",
    ": ",
    "&x ",
    "*x ",
    "!!str ",
    "!!python/name:os.system ",
    "<<: ",
    "--- ",
    "...",
    "|\n  ",
    ">-\n  ",
    ".nan",
    "2025-12-01",
]
yaml_soups = st.lists(st.sampled_from(YAML_TOKENS), max_size=60).map("".join)


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: generating stays cheap


def _dump(value: object, flow: bool, width: int, unicode: bool) -> str:
    return yaml.dump(
        value, Dumper=_DUMPER, default_flow_style=flow, width=width, allow_unicode=unicode, sort_keys=False
    )


def dumped(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """A value written as YAML in one of several styles."""
    return st.builds(_dump, strategy, st.booleans(), st.sampled_from([20, 80, 10_000]), st.booleans())


@st.composite
def mutated(draw: st.DrawFn, documents: st.SearchStrategy[str]) -> str:
    """A document, sometimes with a hostile snippet or a token soup spliced in at a line boundary."""
    text = draw(documents)
    how = draw(st.sampled_from(["as is", "as is", "snippet", "soup", "truncate"]))
    if how == "as is":
        return text
    lines = text.split("\n")
    at = draw(st.integers(0, len(lines)))
    if how == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    piece = draw(hostile_yaml if how == "snippet" else yaml_soups)
    return "\n".join([*lines[:at], piece, *lines[at:]])


any_yaml = st.one_of(dumped(values), hostile_yaml, yaml_soups, mutated(dumped(values)))

# -- audit.yaml and waivers.yaml ----------------------------------------------------------------

CORE_PARAMS = [
    "large_min",
    "super_large_min",
    "kindergarten_max",
    "min_new_pe_art_share",
    "min_guards",
    "compulsory_types",
]
LIMIT_NAMES = ["yaml_bytes", "yaml_nodes", "yaml_depth", "rows", "cell_chars", "bogus"]


def weighted(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any], weight: int = 3) -> st.SearchStrategy[Any]:
    """`usual` about `weight` times in `weight + 1`, else `other` (one_of would merge repeated
    branches into one, so the weight is drawn explicitly)."""
    return st.integers(0, weight).flatmap(lambda pick: other if pick == 0 else usual)


def _mostly(
    valid: st.SearchStrategy[Any], weight: int = 3, other: st.SearchStrategy[Any] | None = None
) -> st.SearchStrategy[Any]:
    """`valid` mostly, else any value: most documents stay close to valid, so the later stages
    (the engine, the outputs) are reached too."""
    return weighted(valid, values if other is None else other, weight)


param_values = st.one_of(
    st.integers(-5, 200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.15, 0.5, 1.5, -0.1]),
    st.dictionaries(st.sampled_from(["小班", "中班", "大班", "混合班", "x"]), st.integers(-1, 99) | st.floats()),
    st.lists(st.sampled_from(["primary", "junior", "x"]), max_size=3),
    values,
)
_required = {
    "name": _mostly(st.sampled_from(["督导", "核心规则包边界用例"]), 8),
    "as_of": _mostly(st.dates(dt.date(1975, 1, 1), dt.date(2110, 1, 1)).map(str), 8),
    "region": _mostly(st.just("柳州市"), 8),
}
audit_documents = st.one_of(
    # close to valid: what reaches the engine and the outputs
    st.fixed_dictionaries(
        _required,
        optional={
            "packs": _mostly(st.just(["core"]), 8),
            "params": st.dictionaries(st.sampled_from(["large_min", "min_guards"]), st.integers(1, 99), max_size=1),
            "target_year": st.sampled_from([2022, 2025, 2030]),
        },
    ),
    # anything
    st.fixed_dictionaries(
        _required,
        optional={
            "packs": _mostly(st.just(["core"]), 4),
            "params": st.dictionaries(st.sampled_from(CORE_PARAMS) | texts, param_values, max_size=3),
            "target_year": st.integers(1900, 2200) | values,
            "limits": st.dictionaries(st.sampled_from(LIMIT_NAMES), st.integers(-1, 10**10) | values, max_size=3),
            "description": values,
        },
    ),
)
audit_yaml = weighted(dumped(audit_documents), st.one_of(mutated(dumped(audit_documents)), any_yaml), 4)
# for whole audits: a third close to valid (each complete run renders every report), the rest
# every way of failing
audit_yaml_for_cli = weighted(st.one_of(mutated(dumped(audit_documents)), any_yaml), dumped(audit_documents), 2)

CORE_RULES = [
    "class-size.large",
    "class-size.super-large",
    "kindergarten.unlicensed",
    "safety.guards",
    "safety.escort-post",
]
WAIVABLE = CORE_RULES  # rule ids the waiver targets offer the loader
ENTITIES = ["C56", "C66", "P1", "P2", "K1", "K2", "S9", "城中区", "x"]
waiver = st.fixed_dictionaries(
    {
        "rule": _mostly(st.sampled_from(CORE_RULES), 8, scalars),
        "entity": _mostly(st.sampled_from(ENTITIES), 8, scalars),
        "reason": _mostly(st.just("临时"), 8, scalars),
        "authority": _mostly(st.just("柳州市教育局"), 8, scalars),
        "document_no": _mostly(st.just("柳教督函〔2025〕18号"), 8, scalars),
        "expires": _mostly(st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)).map(str), 8, scalars),
    },
    optional={"approved": scalars},
)
_waiver_lists = st.fixed_dictionaries(
    {"waivers": st.lists(waiver, max_size=4, unique_by=lambda w: (str(w["rule"]), str(w["entity"])))}
)
waivers_yaml = weighted(dumped(_waiver_lists), st.one_of(mutated(dumped(_waiver_lists)), any_yaml), 4)

# -- rule expressions ---------------------------------------------------------------------------

FIELDS = [
    "size",
    "grade_no",
    "stage",
    "school.type",
    "school.name",
    "school.county",
    "grade_name",
    "class_id",
    "nothing",
]
ATOMS = [
    *FIELDS,
    "1",
    "56",
    "2.5",
    "-3",
    '"kindergarten"',
    '"小学"',
    "'x'",
    "“中文”",
    "true",
    "false",
    "as_of",
    "audit_year",
    "params.large_min",
    "params.kindergarten_max[grade_name]",
    "params.compulsory_types",
    'date("2025-12-31")',
    'date("2025-13-01")',
    "exists(size)",
    "exists(school)",
    "9" * 30,
]
EXPR_TOKENS = [
    *ATOMS,
    "and",
    "or",
    "not",
    "in",
    "not in",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "+",
    "-",
    "*",
    "/",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "exists(",
    "date(",
    "min(",
    "if(",
    '"',
    "$",
    "\n",
    " ",
]
expression_soups = st.lists(st.sampled_from(EXPR_TOKENS), max_size=40).map(" ".join)

numbers = st.sampled_from(["size", "grade_no", "1", "56", "2.5", "params.large_min", "-size"])
comparisons = st.builds(
    lambda a, op, b: f"{a} {op} {b}", numbers, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), numbers
)
leaves = st.one_of(
    comparisons,
    st.just('stage != "kindergarten"'),
    st.just('school.type in ["primary", "junior"]'),
    st.just("exists(size)"),
    st.just("size > params.kindergarten_max[grade_name]"),
    st.just("true"),
    st.builds(lambda n: " + ".join(["size"] * n) + " > 1", st.integers(1, 60)),
)


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, b: f"{a} and {b}", inner, inner),
        st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
        st.builds(lambda a: f"not ({a})", inner),
        st.builds(lambda a, n: "(" * n + a + ")" * n, inner, st.integers(1, 30)),
    )


well_formed = st.recursive(leaves, _combine, max_leaves=40)
conditions = st.one_of(expression_soups, well_formed, well_formed.map(lambda text: text[: len(text) // 2]))

# -- templates ----------------------------------------------------------------------------------

TEMPLATE_TOKENS = [
    "{{",
    "}}",
    "{%",
    "%}",
    " if ",
    " else ",
    " endif ",
    " for ",
    " in ",
    " endfor ",
    " set ",
    " macro ",
    " include ",
    "school.name",
    "size",
    "observed",
    "params.large_min",
    "loop.index",
    "x",
    "'a'",
    "1000000000",
    "9",
    "2.5",
    "|",
    " pct",
    " num",
    " join('、')",
    " center(99)",
    " replace('a', 'b')",
    "*",
    "**",
    "~",
    "%",
    "+",
    "(",
    ")",
    "[",
    "]",
    ".get(",
    ".ljust(",
    "range(",
    "lipsum(",
    "文字",
    " ",
    "\n",
    "{#",
    "#}",
    "'",
    '"',
]
template_soups = st.lists(st.sampled_from(TEMPLATE_TOKENS), max_size=30).map("".join)
template_parts = st.one_of(
    st.just("{{ school.name }}"),
    st.just("{{ size | num }}"),
    st.just("{% if size > 1 %}大{% else %}小{% endif %}"),
    st.just("{% for o in observed %}{{ o.label }}{% endfor %}"),
    st.just("班额 "),
    st.builds(lambda n: f"{{{{ 'a' * {n} }}}}", st.integers(0, 10**12)),
    st.builds(lambda n: f"{{{{ 2 ** {n} }}}}", st.integers(0, 10**6)),
    st.builds(lambda n: "{{ " + "(" * n + "size" + ")" * n + " }}", st.integers(0, 80)),
)
templates = st.one_of(template_soups, st.lists(template_parts, min_size=1, max_size=6).map("".join))


# -- data tables --------------------------------------------------------------------------------

SHEET_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def classes_workbook(
    path: Path,
    rows: list[list[str | int]],
    *,
    dimension: str = "A1:D1",
    sheet: str | None = None,
    cell: str | None = None,
) -> None:
    """The classes table as an .xlsx written part by part, text in a shared-string table (as Excel
    writes it): `sheet` replaces the sheet part (None: generated), `cell` replaces cell B2's XML."""
    strings = sorted({v for row in rows for v in row if isinstance(v, str)})
    index = {s: i for i, s in enumerate(strings)}

    def xml(col: int, row: int, value: str | int) -> str:
        ref = f"{'ABCD'[col]}{row}"
        if cell is not None and ref == "B2":
            return cell
        return (
            f'<c r="{ref}" t="s"><v>{index[value]}</v></c>'
            if isinstance(value, str)
            else f'<c r="{ref}"><v>{value}</v></c>'
        )

    data = "".join(
        f'<row r="{r}">' + "".join(xml(c, r, v) for c, v in enumerate(row)) + "</row>" for r, row in enumerate(rows, 1)
    )
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{OFFICE_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook {SHEET_NS} xmlns:r="{OFFICE_RELS}"><sheets>'
        '<sheet name="班级" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PACKAGE_RELS}">'
        f'<Relationship Id="rId1" Type="{OFFICE_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{OFFICE_RELS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/sharedStrings.xml": f"<sst {SHEET_NS}>"
        + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
        + "</sst>",
        "xl/worksheets/sheet1.xml": f'<worksheet {SHEET_NS}><dimension ref="{dimension}"/><sheetData>{data}</sheetData></worksheet>',
    }
    if sheet is not None:
        parts["xl/worksheets/sheet1.xml"] = sheet
    if sheet == "":
        del parts["xl/worksheets/sheet1.xml"]
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
