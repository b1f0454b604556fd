"""Fuzzing the YAML an audit reads: any text is parsed or refused with located Chinese problems;
audit.yaml, waivers.yaml and pack files are accepted (and then satisfy their invariants) or
rejected with `DataError`/`RulePackError` listing located problems, never anything else."""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import tempfile
from pathlib import Path

from fuzzing import (
    BOUNDARIES,
    FUZZ,
    HOSTILE_YAML,
    WAIVABLE,
    any_yaml,
    assert_located,
    audit_yaml,
    conditions,
    dumped,
    templates,
    values,
    waivers_yaml,
    weighted,
    well_formed,
)
from hypothesis import event, example, given
from hypothesis import strategies as st

from inspector.audit import run_audit
from inspector.errors import DataError, RulePackError
from inspector.findings import Finding
from inspector.limits import AS_OF_EARLIEST, AS_OF_LATEST, DATA_YAML_ALIASES, Limits
from inspector.records.config import load_config
from inspector.rules.compiler import compile_rulebook, effective_params
from inspector.rules.packs import load_packs
from inspector.waivers import apply_waivers, load_waivers, summary_lines
from inspector.yamlsrc import YamlSyntax, parse_yaml

SMALL = Limits(yaml_nodes=2_000, yaml_depth=16, yaml_bytes=200_000)


@FUZZ
@given(text=any_yaml, data_file=st.booleans())
@example(text=HOSTILE_YAML[0], data_file=False)
@example(text=HOSTILE_YAML[1], data_file=False)
@example(text="[" * 5000 + "]" * 5000, data_file=True)
def test_any_text_is_read_or_refused_at_a_line(text: str, data_file: bool) -> None:
    """No YAML text, hostile or broken, gets past the reader as anything but a located problem."""
    for limits in (None, SMALL):
        try:
            doc = parse_yaml(text, "f.yaml", limits=limits, aliases=DATA_YAML_ALIASES if data_file else 100)
        except YamlSyntax as exc:
            event(f"refused: {exc.problem.code}")
            assert_located([exc.problem], lines=text.count("\n") + 1)
        else:
            event("read")
            assert doc.path == "f.yaml"


def _folder(root: Path, audit: str | None = None, waivers: str | None = None) -> Path:
    folder = root / "audit"
    folder.mkdir()
    (folder / "audit.yaml").write_text(
        audit if audit is not None else "name: x\nas_of: 2025-12-01\nregion: 柳州市\n", encoding="utf-8"
    )
    if waivers is not None:
        (folder / "waivers.yaml").write_text(waivers, encoding="utf-8")
    return folder


@FUZZ
@given(text=audit_yaml)
@example(text="name: x\nas_of: 1970-01-01\nregion: y\n")
@example(text="name: x\nas_of: 2025-12-01\nregion: y\nparams: {large_min: .nan}\n")
@example(text="name: x\nas_of: 2025-12-01\nregion: y\nlimits: {yaml_bytes: 99999999999}\n")
def test_audit_yaml_is_valid_or_a_data_error(text: str) -> None:
    """A config that loads keeps its invariants: a plausible date, finite params, limits in range."""
    with tempfile.TemporaryDirectory() as root:
        try:
            config = load_config(_folder(Path(root), text))
        except DataError as exc:
            event("refused")
            assert_located(exc.problems, lines=text.count("\n") + 1)
            return
    event("loaded")
    assert AS_OF_EARLIEST <= config.as_of <= AS_OF_LATEST
    assert config.target_year is None or AS_OF_EARLIEST.year <= config.target_year <= AS_OF_LATEST.year
    for value in config.params.values():
        for number in value.values() if isinstance(value, dict) else [value]:
            assert not isinstance(number, float) or math.isfinite(number)
    assert isinstance(config.limits, Limits)


@FUZZ
@given(text=waivers_yaml)
@example(text="waivers:\n  - {rule: class-size.large, entity: C1, reason: x, authority: y, expires: 2026-01-01}\n")
@example(text="waivers: &w [*w]\n")
def test_waivers_yaml_is_valid_or_a_data_error(text: str) -> None:
    """A waiver that loads is complete: rule known, every text non-empty, an expiry date."""
    with tempfile.TemporaryDirectory() as root:
        try:
            waivers = load_waivers(_folder(Path(root), waivers=text), WAIVABLE)
        except DataError as exc:
            event("refused")
            assert_located(exc.problems, lines=text.count("\n") + 1)
            return
    event(f"loaded {len(waivers.entries) if waivers else 0} waivers")
    for entry in waivers.entries if waivers is not None else ():
        waiver = entry.waiver
        assert waiver.reason and waiver.authority and waiver.document_no and isinstance(waiver.expires, dt.date)
    if waivers is None:
        return
    # applied to the boundary case's real findings (audited once per worker), as the audit applies
    # them: what the whole-CLI target also checks, short of the outputs
    as_of, findings = _boundary_findings()
    report = apply_waivers(waivers, findings, as_of)
    ids = {finding.id for finding in findings}
    assert len(report.statuses) == len(waivers.entries)
    assert set(report.applied) <= ids and set(report.expired) <= ids and not set(report.applied) & set(report.expired)
    event(f"{len(report.applied)} applied")
    for finding_id in report.applied:
        assert report.finding_fields(finding_id)["waived"] is True
    assert all(isinstance(line, str) and line for line in summary_lines(report))
    json.dumps(report.as_dict(), ensure_ascii=False)  # what findings.json holds


@functools.cache
def _boundary_findings() -> tuple[dt.date, tuple[Finding, ...]]:
    result = run_audit(BOUNDARIES)
    return result.config.as_of, tuple(result.findings)


PACK = """\
id: p
version: 1.0.0
title: 模糊测试规则包
params:
  limit: {value: 50, title: 上限, unit: 人, minimum: 0}
  large_min: {value: 56, title: 大班额, unit: 人, minimum: 1}
  kindergarten_max: {value: {小班: 25, 中班: 30, 大班: 35, 混合班: 30}, title: 幼儿园班额, minimum: 1}
  compulsory_types: {value: [primary, junior, nine_year], title: 义务教育学校类型}
"""

pack_params = st.dictionaries(
    weighted(st.sampled_from(["limit", "share", "x"]), st.just("Bad-Name"), 6),
    st.fixed_dictionaries(
        {"title": st.just("参数")},
        optional={
            "value": st.one_of(st.integers(-10, 100), st.floats(allow_nan=True, allow_infinity=True), values),
            "by_year": st.dictionaries(st.sampled_from([2022, 2025]), st.floats(-1, 2) | values, max_size=2),
            "minimum": st.floats(allow_nan=True) | st.integers(-1, 1),
            "maximum": st.floats() | st.integers(0, 100),
            "unit": st.just("人"),
        },
    ),
    max_size=3,
)
rules = st.fixed_dictionaries(
    {
        "id": weighted(st.sampled_from(["t.size", "t.other", "t.third"]), st.just("Bad Id"), 6),
        "version": weighted(st.just(1), st.integers(-1, 3), 6),
        "title": st.just("测试"),
        "applies_to": weighted(st.just("class"), st.sampled_from(["school", "teacher", "county", "nowhere"]), 3),
        "condition": weighted(well_formed, conditions, 2),
        "severity": weighted(st.just("major"), st.sampled_from(["minor", "fatal"]), 6),
        "basis": st.just({"document": "文件", "section": "一", "quote": "原文"}),
        "message": weighted(st.just("{{ school.name }}班额 {{ size }} 人"), templates, 2),
        "rectification": st.fixed_dictionaries(
            {
                "action": weighted(st.just("整改"), templates, 3),
                "responsible": st.just("{{ school.name }}"),
                "deadline_days": weighted(st.just(30), st.integers(-1, 4000)),
            }
        ),
    },
    optional={"scope": weighted(st.just('stage != "kindergarten"'), conditions, 2)},
)


@FUZZ
@given(
    pack=weighted(
        st.just(PACK),
        dumped(
            st.fixed_dictionaries(
                {"id": st.just("p"), "version": st.just("1.0.0"), "title": st.just("包")},
                optional={"params": pack_params},
            )
        ),
    ),
    rule_file=weighted(
        dumped(
            st.fixed_dictionaries({"rules": st.lists(rules, min_size=1, max_size=3, unique_by=lambda rule: rule["id"])})
        ),
        any_yaml,
        4,
    ),
)
def test_pack_files_compile_or_are_a_rule_pack_error(pack: str, rule_file: str) -> None:
    """Random pack files and rules (random conditions and templates) load and compile, or are
    refused with located problems: no RecursionError, MemoryError or bare exception."""
    with tempfile.TemporaryDirectory() as root:
        rules_dir = Path(root) / "rules"
        (rules_dir / "p").mkdir(parents=True)
        (rules_dir / "p" / "pack.yaml").write_text(pack, encoding="utf-8")
        (rules_dir / "p" / "r.yaml").write_text(rule_file, encoding="utf-8")
        try:
            packs = load_packs(["p"], rules_dir)
            params, bad = effective_params(packs, {})
            assert bad == []
            book = compile_rulebook(packs, as_of=dt.date(2025, 12, 1), params=params)
            event(f"compiled {len(book.rules)} rules")
        except RulePackError as exc:
            event(f"refused: {exc.problems[0].code}")
            assert_located(exc.problems)
