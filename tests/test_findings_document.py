"""findings.json as one typed, versioned model: every reader parses it through `findings.model`,
and a malformed, foreign or newer document is a located Chinese error with exit 2, never a
traceback or exit 70."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inspector.cli import EXIT_CODES, EXIT_USAGE, main
from inspector.findings.model import FORMAT, FindingsFileError, LoadedFindings, load_findings, parse_document
from inspector.history.documents import parse_document as history_parse


def _drop_severity(doc: dict[str, Any]) -> None:
    del doc["findings"][3]["severity"]


def _observed_as_text(doc: dict[str, Any]) -> None:
    doc["findings"][5]["observed"] = "many"


def _newer(doc: dict[str, Any]) -> None:
    doc["format"] = "inspector.findings/9"


BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], None] | bytes, str]] = {
    "missing field": (_drop_severity, "findings[3]（F-"),
    "wrong type": (_observed_as_text, "）.observed: 应为列表"),
    "newer format": (_newer, "由更新版本的 inspector 写出"),
    "not JSON": (b"<html>not json</html>", "第 1 行第 1 列：不是有效的 JSON"),
}


def _broken(case_out: Path, tmp_path: Path, name: str) -> tuple[Path, str]:
    """A copy of the case's findings.json (alone in its folder) broken one way, and the expected text."""
    change, expected = BREAKAGES[name]
    out = tmp_path / "out"
    out.mkdir()
    if isinstance(change, bytes):
        (out / "findings.json").write_bytes(change)
    else:
        document = json.loads((case_out / "findings.json").read_bytes())
        change(document)
        (out / "findings.json").write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return out, expected


def _first_id(case_out: Path) -> str:
    return str(json.loads((case_out / "findings.json").read_bytes())["findings"][3]["id"])


@pytest.mark.parametrize("breakage", list(BREAKAGES))
@pytest.mark.parametrize("command", ["explain", "report", "history import"])
def test_a_broken_findings_json_is_a_located_error_with_exit_2(
    small_case_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], breakage: str, command: str
) -> None:
    """explain, report and history import each refuse a findings.json with a missing field, a wrong
    type, a newer format or no JSON at all: exit 2, the file and the place named, no traceback (a
    small case's document: what is refused does not depend on its size)."""
    out, expected = _broken(small_case_out, tmp_path, breakage)
    args = {
        "explain": ["explain", _first_id(small_case_out), "--in", str(out)],
        "report": ["report", str(out), "--out", str(tmp_path / "report")],
        "history import": ["history", "import", str(out), "--db", str(tmp_path / "h.sqlite"), "--today", "2025-12-05"],
    }[command]
    code = main(args)
    err = capsys.readouterr().err
    assert code == EXIT_USAGE, err
    assert "Traceback" not in err and "内部错误" not in err, err
    assert str(out / "findings.json") in err and expected in err, err
    assert not (tmp_path / "report").exists() and not (tmp_path / "h.sqlite").exists()


def test_the_exit_codes_say_a_findings_json_that_cannot_be_read_is_exit_2() -> None:
    """`inspector --help` documents the exit code of an unreadable findings.json."""
    lines = EXIT_CODES.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{EXIT_USAGE} "))
    entry = [lines[start], *(line for line in lines[start + 1 :] if line.startswith("       "))]
    assert "findings.json" in "".join(entry) and "格式版本" in "".join(entry)


def test_a_missing_field_names_every_problem_at_its_place() -> None:
    """Two broken findings: both are listed, each at its index with its id."""
    document = {"format": FORMAT, "findings": [{"id": "F-1"}, {"id": "F-2"}]}
    with pytest.raises(FindingsFileError) as caught:
        parse_document(json.dumps(document).encode(), "x/findings.json")
    text = str(caught.value)
    assert "findings[0]（F-1）.rule_id: 缺少必填项" in text and "findings[1]（F-2）.rule_id" in text
    assert "audit: 缺少必填项" in text
    assert caught.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    ("stated", "words"),
    [
        ("inspector.findings/3", "由更新版本的 inspector 写出"),
        ("sarif/2.1", "不是 inspector 的 findings.json 格式"),
        (None, "format: 缺少此项"),
    ],
)
def test_a_document_of_another_format_is_refused_before_its_fields(stated: str | None, words: str) -> None:
    """A newer, foreign or unlabelled document is refused for its format, not for hundreds of fields."""
    document: dict[str, Any] = {"findings": 5}
    if stated is not None:
        document["format"] = stated
    with pytest.raises(FindingsFileError) as caught:
        parse_document(json.dumps(document).encode(), "f.json")
    assert (
        caught.value.problems == tuple(p for p in caught.value.problems if words in p)
        and len(caught.value.problems) == 1
    )


def test_the_loader_keeps_the_document_typed_and_as_written(case_out: Path) -> None:
    """One read gives the typed model, the same data as written and the sha256 of the bytes; every
    finding carries its level, derived from what its rule applies to."""
    loaded = load_findings(case_out)
    assert isinstance(loaded, LoadedFindings)
    raw = json.loads((case_out / "findings.json").read_bytes())
    assert loaded.data == raw and loaded.document.format == FORMAT == raw["format"]
    rules = {r["id"]: r for r in raw["rules"]}
    levels = {
        "class": "school",
        "teacher": "school",
        "school": "school",
        "school_stage": "school",
        "township": "county",
        "county": "county",
        "county_metric": "county",
        "city": "city",
    }
    for finding, typed in zip(raw["findings"], loaded.document.findings, strict=True):
        assert finding["level"] == typed.level == levels[rules[finding["rule_id"]]["applies_to"]]
    assert {f.level for f in loaded.document.findings} >= {"school", "county"}


def test_a_version_1_document_is_read_with_levels_derived(case_out: Path) -> None:
    """A findings.json written before `level` existed (format 1) still loads; its levels are derived."""
    raw = json.loads((case_out / "findings.json").read_bytes())
    raw["format"] = "inspector.findings/1"
    for finding in raw["findings"]:
        finding.pop("level")
    document = parse_document(json.dumps(raw, ensure_ascii=False).encode(), "v1.json")
    assert [f.level for f in document.findings] == [
        f["level"] for f in json.loads((case_out / "findings.json").read_bytes())["findings"]
    ]


def test_the_history_store_refuses_what_the_model_refuses(case_out: Path, tmp_path: Path) -> None:
    """A document that passes the store's own checks but not the model (a newer format) is refused
    by the store too, with the same located problem."""
    raw = json.loads((case_out / "findings.json").read_bytes())
    raw["format"] = "inspector.findings/7"
    with pytest.raises(FindingsFileError) as caught:
        history_parse(json.dumps(raw, ensure_ascii=False).encode(), "stored.json")
    assert "不是可导入的 findings.json" in str(caught.value) and "inspector.findings/7" in str(caught.value)


def test_explain_reads_a_good_document_unchanged(
    case_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A good output folder copied elsewhere still explains (the model accepts what the audit writes)."""
    shutil.copytree(case_out, tmp_path / "copy")
    assert main(["explain", _first_id(case_out), "--in", str(tmp_path / "copy"), "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == json.loads((case_out / "findings.json").read_bytes())["findings"][3]


BOUNDARIES = Path(__file__).resolve().parents[1] / "rules" / "core" / "cases" / "boundaries"


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (("findings", 0, "rectification", "deadline"), "rectification.deadline"),
        (("audit", "as_of"), "audit.as_of"),
    ],
)
def test_a_date_not_written_as_iso_is_a_located_problem_for_every_reader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: tuple[str | int, ...], shown: str
) -> None:
    """A hand-edited date (2026/06/30) passed the model as text and ended `inspector report` in exit 70
    where the workbook read it as a date; now the document is refused, naming the field (exit 2)."""
    out = tmp_path / "out"
    assert main(["audit", str(BOUNDARIES), "--out", str(out), "--quiet"]) == 0
    document = json.loads((out / "findings.json").read_bytes())
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "2026/06/30"
    data = json.dumps(document, ensure_ascii=False).encode()
    with pytest.raises(FindingsFileError) as caught:
        parse_document(data, "findings.json")
    assert any(shown in p and "YYYY-MM-DD" in p for p in caught.value.problems), caught.value.problems
    (out / "findings.json").write_bytes(data)
    capsys.readouterr()
    assert main(["report", str(out), "--out", str(tmp_path / "edition"), "--quiet"]) == EXIT_USAGE
    assert "2026/06/30" in capsys.readouterr().err


@pytest.mark.parametrize("written", ["20260630", "2026-W27-1", "2026-6-30", "2026-06-31"])
def test_a_deadline_in_another_iso_form_or_impossible_is_refused(tmp_path: Path, written: str) -> None:
    """The message says YYYY-MM-DD: `date.fromisoformat` alone also took 20260630 and week dates."""
    out = tmp_path / "out"
    assert main(["audit", str(BOUNDARIES), "--out", str(out), "--quiet"]) == 0
    document = json.loads((out / "findings.json").read_bytes())
    document["findings"][0]["rectification"]["deadline"] = written
    with pytest.raises(FindingsFileError) as caught:
        parse_document(json.dumps(document, ensure_ascii=False).encode(), "findings.json")
    assert any("rectification.deadline" in p and written in p for p in caught.value.problems)


def test_an_integer_past_64_bits_is_read_exactly_and_one_of_thousands_of_digits_is_refused(
    small_case_out: Path, tmp_path: Path
) -> None:
    """orjson reads an integer past 64 bits as a float, another number: a hand-edited value of 30
    digits is read exactly (as every reader reads it, through `load_findings`), and one past a
    double's range is a located refusal, not a traceback."""
    raw = json.loads((small_case_out / "findings.json").read_bytes())
    raw["findings"][0]["observed"][0]["value"] = 10**30 + 1
    (tmp_path / "findings.json").write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    loaded = load_findings(tmp_path)
    assert loaded.data["findings"][0]["observed"][0]["value"] == 10**30 + 1
    assert loaded.document.findings[0].observed[0].value == 10**30 + 1
    text = (tmp_path / "findings.json").read_text(encoding="utf-8").replace(str(10**30 + 1), "7" * 5000)
    (tmp_path / "findings.json").write_text(text, encoding="utf-8")
    with pytest.raises(FindingsFileError, match="第 1 行第 [0-9]+ 列：不是有效的 JSON"):
        load_findings(tmp_path)


def test_a_long_integer_is_found_wherever_the_chunks_cut_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search for a long number goes a chunk at a time: one cut by a chunk's end, at every
    offset, is found; 18 digits (within 64 bits) are left to orjson, as is a long run of digits
    inside a text; nesting deeper than the standard parser goes is a located refusal."""
    from inspector.findings import model

    monkeypatch.setattr(model, "_CHUNK", 32)
    for at in range(40):
        data = b'{"pad": "' + b"x" * at + b'", "n": ' + str(10**25 + 7).encode() + b"}"
        assert model.decode_json(data, "t.json")["n"] == 10**25 + 7, at
    assert model.decode_json(b'{"n": 123456789012345678}', "t.json")["n"] == 123456789012345678
    text = b'{"exact": "sqrt(25665685508374340508766988993641000/7)", "n": 5}'
    assert not model._has_long_number(text) and model.decode_json(text, "t.json")["n"] == 5
    deep = b"[" * 1010 + b"12345678901234567890123" + b"]" * 1010
    with pytest.raises(FindingsFileError, match="嵌套层数过多"):
        model.decode_json(deep, "t.json")
    # the history store's reader: the same, a ValueError where decode_json's is located
    assert model.loads_exact('{"n": 123456789012345678901234567}')["n"] == 123456789012345678901234567
    assert model.loads_exact(b'{"n": 1.5}')["n"] == 1.5
    for bad in (deep, b'{"n": NaN}', b"{", "[1,]"):
        with pytest.raises(ValueError):
            model.loads_exact(bad)
