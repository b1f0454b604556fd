"""Rule packs: reading pack files, compiling them, and locating every author mistake."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import pytest

from inspector.errors import Problem, RulePackError
from inspector.limits import EXPRESSION_CHARS, EXPRESSION_DEPTH
from inspector.rules.compiler import RuleBook, compile_rulebook, effective_params
from inspector.rules.normal import FALSE, All, AnyOf
from inspector.rules.normal import Test as FieldTest
from inspector.rules.packs import DEFAULT_RULES_DIR, LoadedPack, load_packs
from inspector.rules.typed import Const, Member

AS_OF = dt.date(2025, 12, 1)

PACK_YAML = """\
id: {pack}
version: 1.0.0
title: 测试规则包
params:
  limit:
    value: 50
    title: 班额上限
    unit: 人
  kinds:
    value: [primary, junior]
    title: 学校类型
  table:
    value: {{小班: 25, 中班: 30}}
    title: 各年龄班上限
"""


def rule(
    rule_id: str = "t.size",
    *,
    condition: str = "size > params.limit",
    scope: str | None = None,
    applies_to: str = "class",
    message: str = '"{{ school.name }}班额 {{ size }} 人"',
    severity: str = "major",
) -> str:
    """One rule as YAML text, indented as an item of `rules:` (the id is on the item's first line)."""
    lines = [
        f"  - id: {rule_id}",
        "    version: 1",
        "    title: 测试规则",
        f"    applies_to: {applies_to}",
    ]
    if scope is not None:
        lines.append(f"    scope: {scope}")
    lines += [
        f"    condition: {condition}",
        f"    severity: {severity}",
        "    basis:",
        "      document: 测试文件",
        "      section: 第一条",
        "      quote: 原文",
        f"    message: {message}",
        "    rectification:",
        "      action: 整改",
        "      responsible: 学校",
        "      deadline_days: 30",
    ]
    return "\n".join(lines) + "\n"


# Line numbers inside a file written as "rules:\n" + rule(...): the item starts on line 2.
ID_LINE, CONDITION_LINE = 2, 6


def write_pack(rules_dir: Path, files: Mapping[str, str], *, pack: str = "p", pack_yaml: str | None = None) -> Path:
    folder = rules_dir / pack
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text(PACK_YAML.format(pack=pack) if pack_yaml is None else pack_yaml, encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return rules_dir


def compile_packs(
    packs: list[LoadedPack], *, check_unused: bool = False, overrides: Mapping[str, object] | None = None
) -> RuleBook:
    params, bad = effective_params(packs, overrides or {})
    assert bad == []
    return compile_rulebook(packs, as_of=AS_OF, params=params, check_unused=check_unused)


def build(tmp_path: Path, files: Mapping[str, str], **kwargs: object) -> RuleBook:
    """Write a pack `p` with `files`, load and compile it."""
    rules_dir = write_pack(tmp_path / "rules", files)
    return compile_packs(load_packs(["p"], rules_dir), **kwargs)  # type: ignore[arg-type]


def load_problems(tmp_path: Path, files: Mapping[str, str], **kwargs: str) -> tuple[Problem, ...]:
    rules_dir = write_pack(tmp_path / "rules", files, **kwargs)
    with pytest.raises(RulePackError) as info:
        load_packs(["p"], rules_dir)
    return info.value.problems


def compile_problems(tmp_path: Path, files: Mapping[str, str], **kwargs: object) -> tuple[Problem, ...]:
    with pytest.raises(RulePackError) as info:
        build(tmp_path, files, **kwargs)
    return info.value.problems


def located(problem: Problem) -> tuple[str, int, int, str, str]:
    return problem.file, problem.line, problem.column, problem.field, problem.code


def one_rule(**kwargs: str) -> dict[str, str]:
    return {"r.yaml": "rules:\n" + rule(**kwargs)}


class TestCorePack:
    def test_core_pack_compiles_with_every_param_used(self) -> None:
        """The shipped `core` pack loads and compiles, and every param it declares is used."""
        packs = load_packs(["core"], DEFAULT_RULES_DIR)
        book = compile_packs(packs, check_unused=True)
        ids = {r.id for r in book.rules}
        assert {
            "class-size.large",
            "class-size.super-large",
            "kindergarten.unlicensed",
            "safety.record-missing",
            "teachers.new-pe-art-share",
        } <= ids
        assert {i.spec.id for i in book.indicators} >= {"license_holders", "new_pe_art_share"}
        assert all(r.where.startswith("rules/core/") for r in book.rules)
        assert [p.id for p in book.packs] == ["core"]

    def test_core_kindergarten_rule_looks_up_its_threshold(self) -> None:
        """`size > params.kindergarten_max[grade]` records the map param it reads."""
        book = compile_packs(load_packs(["core"], DEFAULT_RULES_DIR))
        rule_ = next(r for r in book.rules if r.id == "class-size.kindergarten")
        assert rule_.params == {"kindergarten_max": {"小班": 25, "中班": 30, "大班": 35, "混合班": 30}}
        assert rule_.requires == ("schools", "classes")


class TestPackFiles:
    def test_minimal_pack_compiles(self, tmp_path: Path) -> None:
        """A pack with one rule compiles to one rule, located at its item."""
        book = build(tmp_path, one_rule())
        assert [r.id for r in book.rules] == ["t.size"]
        assert book.rules[0].where == f"rules/p/r.yaml:{ID_LINE}"
        assert book.rules[0].verdicts.fail == FieldTest("size", ">", Const(50, "number"))

    def test_misspelt_key_is_located_at_its_line(self, tmp_path: Path) -> None:
        """`conditon:` is an unknown key at its own line; the missing `condition` at the rule's item."""
        files = {"r.yaml": "rules:\n" + rule().replace("    condition:", "    conditon:")}
        problems = load_problems(tmp_path, files)
        assert [located(p) for p in problems] == [
            ("rules/p/r.yaml", ID_LINE, 5, "rules.condition", "missing"),
            ("rules/p/r.yaml", CONDITION_LINE, 5, "rules.conditon", "extra_forbidden"),
        ]
        assert problems[1].message == "未知字段（是否拼写错误？）"
        assert problems[0].message == "缺少必填项"

    def test_missing_required_key(self, tmp_path: Path) -> None:
        """A rule without `title` is reported at its item."""
        files = {"r.yaml": "rules:\n" + rule().replace("    title: 测试规则\n", "")}
        problems = load_problems(tmp_path, files)
        assert [located(p) for p in problems] == [("rules/p/r.yaml", ID_LINE, 5, "rules.title", "missing")]

    def test_bad_severity(self, tmp_path: Path) -> None:
        """`severity: high` is not one of critical/major/minor."""
        problems = load_problems(tmp_path, one_rule(severity="high"))
        assert [located(p) for p in problems] == [("rules/p/r.yaml", 7, 5, "rules.severity", "literal_error")]
        assert "'critical', 'major' or 'minor'" in problems[0].message
        assert "“high”" in problems[0].message

    def test_invalid_rule_id(self, tmp_path: Path) -> None:
        """A rule id with capitals and underscores breaks the id pattern."""
        problems = load_problems(tmp_path, one_rule(rule_id="Class_Size"))
        assert [located(p) for p in problems] == [("rules/p/r.yaml", ID_LINE, 5, "rules.id", "string_pattern_mismatch")]
        assert "格式不符合要求" in problems[0].message

    def test_yaml_syntax_error(self, tmp_path: Path) -> None:
        """A stray `: ` in a value is a YAML syntax error at its line and column."""
        files = {"r.yaml": "rules:\n" + rule().replace("title: 测试规则", "title: 测试: 规则")}
        problems = load_problems(tmp_path, files)
        assert [located(p) for p in problems] == [("rules/p/r.yaml", 4, 14, "", "yaml")]
        assert problems[0].message.startswith("YAML 语法错误：此处不能出现“键: 值”")

    def test_file_that_is_not_a_mapping(self, tmp_path: Path) -> None:
        """A rule file holding a list is reported as a whole."""
        problems = load_problems(tmp_path, {"r.yaml": "- a\n- b\n"})
        assert [located(p) for p in problems] == [("rules/p/r.yaml", 1, 1, "", "type")]

    def test_duplicate_rule_id_names_the_first_location(self, tmp_path: Path) -> None:
        """The same rule id in two files is reported at the second, naming the first."""
        problems = load_problems(tmp_path, {"a.yaml": "rules:\n" + rule(), "b.yaml": "rules:\n" + rule()})
        assert [located(p) for p in problems] == [("rules/p/b.yaml", ID_LINE, 5, "rules.id", "duplicate_rule")]
        assert problems[0].message == "规则 id“t.size”重复（首次定义于 rules/p/a.yaml:2）"

    def test_pack_id_must_match_its_folder(self, tmp_path: Path) -> None:
        """`id: other` in folder `p` is located at the id."""
        problems = load_problems(tmp_path, one_rule(), pack_yaml=PACK_YAML.format(pack="other"))
        assert [located(p) for p in problems] == [("rules/p/pack.yaml", 1, 1, "id", "pack_id")]
        assert problems[0].message == "规则包 id“other”应与文件夹名“p”一致"

    def test_unknown_pack_lists_the_available_ones(self, tmp_path: Path) -> None:
        """Asking for a pack that does not exist lists the packs that do."""
        rules_dir = write_pack(tmp_path / "rules", one_rule())
        write_pack(rules_dir, {}, pack="extra")
        with pytest.raises(RulePackError) as info:
            load_packs(["nope"], rules_dir)
        (problem,) = info.value.problems
        assert (problem.file, problem.line, problem.field, problem.code) == (str(rules_dir), 0, "packs", "unknown_pack")
        assert problem.message == "找不到规则包“nope”；可用：extra、p"

    def test_folder_without_pack_yaml_is_not_a_pack(self, tmp_path: Path) -> None:
        """A folder of rules without `pack.yaml` is not offered as a pack."""
        rules_dir = write_pack(tmp_path / "rules", one_rule())
        (rules_dir / "draft").mkdir()
        (rules_dir / "draft" / "r.yaml").write_text("rules:\n" + rule(), encoding="utf-8")
        with pytest.raises(RulePackError) as info:
            load_packs(["draft"], rules_dir)
        assert info.value.problems[0].message == "找不到规则包“draft”；可用：p"

    def test_bad_pack_metadata(self, tmp_path: Path) -> None:
        """A pack version that is not x.y.z and a misspelt param key are both reported."""
        pack_yaml = (
            PACK_YAML.format(pack="p")
            .replace("version: 1.0.0", "version: '1.0'")
            .replace("    unit: 人", "    units: 人")
        )
        problems = load_problems(tmp_path, one_rule(), pack_yaml=pack_yaml)
        assert [located(p) for p in problems] == [
            ("rules/p/pack.yaml", 2, 1, "version", "string_pattern_mismatch"),
            ("rules/p/pack.yaml", 8, 5, "params.limit.units", "extra_forbidden"),
        ]

    def test_problems_of_several_files_are_reported_together(self, tmp_path: Path) -> None:
        """Schema problems in two rule files and pack.yaml come in one error, sorted by file and line."""
        files = {
            "a.yaml": "rules:\n" + rule("a.one").replace("    condition:", "    conditon:"),
            "b.yaml": "rules:\n" + rule("b.one", severity="high"),
        }
        pack_yaml = PACK_YAML.format(pack="p").replace("title: 测试规则包", "titel: 测试规则包")
        problems = load_problems(tmp_path, files, pack_yaml=pack_yaml)
        assert [(p.file, p.line, p.field, p.code) for p in problems] == [
            ("rules/p/a.yaml", 2, "rules.condition", "missing"),
            ("rules/p/a.yaml", 6, "rules.conditon", "extra_forbidden"),
            ("rules/p/b.yaml", 7, "rules.severity", "literal_error"),
            ("rules/p/pack.yaml", 1, "title", "missing"),
            ("rules/p/pack.yaml", 3, "titel", "extra_forbidden"),
        ]

    def test_date_like_text_stays_text(self, tmp_path: Path) -> None:
        """`2025-02-30` (which YAML would try to read as a date) is kept as the text written."""
        files = {"r.yaml": "rules:\n" + rule().replace("section: 第一条", "section: 2025-02-30")}
        (pack,) = load_packs(["p"], write_pack(tmp_path, files))
        assert pack.rules[0][0].basis.section == "2025-02-30"

    def test_duplicate_key_is_a_located_problem(self, tmp_path: Path) -> None:
        """A key written twice is refused at the second one (YAML would silently keep the last)."""
        files = {
            "r.yaml": "rules:\n" + rule().replace("    severity: major\n", "    severity: major\n    severity: minor\n")
        }
        problems = load_problems(tmp_path, files)
        assert [(p.file, p.code) for p in problems] == [("rules/p/r.yaml", "yaml")]
        assert "重复" in problems[0].message


class TestExpressionLocations:
    def test_plain_scalar(self, tmp_path: Path) -> None:
        """`size >> 3`: the second `>` is at line 6, column 22, with the line as excerpt."""
        (problem,) = compile_problems(tmp_path, one_rule(condition="size >> 3"))
        assert located(problem) == ("rules/p/r.yaml", CONDITION_LINE, 22, "condition", "expr_syntax")
        assert problem.message == "此处应为字段、数值或括号，实为“>”"
        assert problem.excerpt == "    condition: size >> 3"
        assert str(problem) == (
            "rules/p/r.yaml:6:22: condition: 此处应为字段、数值或括号，实为“>”\n"
            "        condition: size >> 3\n"
            "                         ^"
        )

    def test_double_quoted_scalar(self, tmp_path: Path) -> None:
        """Inside "…", the column counts from after the opening quote."""
        (problem,) = compile_problems(tmp_path, one_rule(condition='"size > 3 and school.type = 1"'))
        assert located(problem) == ("rules/p/r.yaml", CONDITION_LINE, 42, "condition", "expr_syntax")
        assert problem.message == "比较相等请用“==”"
        assert problem.excerpt == '    condition: "size > 3 and school.type = 1"'

    def test_single_quoted_scalar(self, tmp_path: Path) -> None:
        """Inside '…', the column counts from after the opening quote."""
        (problem,) = compile_problems(tmp_path, one_rule(condition="'size > 3 and )'"))
        assert located(problem) == ("rules/p/r.yaml", CONDITION_LINE, 30, "condition", "expr_syntax")

    def test_folded_block_scalar(self, tmp_path: Path) -> None:
        """In a `>` block the error is on the line and column where the token is written."""
        condition = ">\n      size > 3\n      and grade ==\n      and size < 9"
        (problem,) = compile_problems(tmp_path, one_rule(condition=condition))
        assert located(problem) == ("rules/p/r.yaml", 9, 7, "condition", "expr_syntax")
        assert problem.message == "此处应为字段、数值或括号，实为“and”"
        assert problem.excerpt == "      and size < 9"

    def test_nesting_too_deep_is_located_where_the_limit_is_passed(self, tmp_path: Path) -> None:
        """120 nested parentheses: the 41st is named at its column, not a RecursionError."""
        condition = "(" * 120 + "size > 3" + ")" * 120
        (problem,) = compile_problems(tmp_path, one_rule(condition=condition))
        assert located(problem) == ("rules/p/r.yaml", CONDITION_LINE, 16 + EXPRESSION_DEPTH, "condition", "expr_depth")
        assert "嵌套过深" in problem.message

    def test_an_overlong_condition_is_located(self, tmp_path: Path) -> None:
        (problem,) = compile_problems(tmp_path, one_rule(condition="size > 3 or " * 400 + "size > 3"))
        assert located(problem)[1:] == (CONDITION_LINE, 16 + EXPRESSION_CHARS, "condition", "expr_length")

    def test_literal_block_scalar_with_deeper_indent(self, tmp_path: Path) -> None:
        """In a `|` block, a token on a more indented line keeps its own column."""
        condition = "|\n      size > 3 and\n        sise < 5"
        (problem,) = compile_problems(tmp_path, one_rule(condition=condition))
        assert located(problem) == ("rules/p/r.yaml", 8, 9, "condition", "expr_name")
        assert problem.excerpt == "        sise < 5"

    def test_block_scalar_with_indentation_indicator(self, tmp_path: Path) -> None:
        """`>-` and `>2` blocks are located like other blocks."""
        (first,) = compile_problems(tmp_path / "a", one_rule(condition=">-\n      size > 3 and\n      grade = 1"))
        (second,) = compile_problems(tmp_path / "b", one_rule(condition=">2\n        size > 3 and\n        grade = 1"))
        assert (first.line, first.column) == (8, 13)
        assert (second.line, second.column) == (8, 15)

    def test_flow_mapping(self, tmp_path: Path) -> None:
        """A rule written as a flow mapping is located inside its single line."""
        text = (
            "rules:\n  - {id: t.x, version: 1, title: t, applies_to: class, condition: size = 1, severity: major,"
            " basis: {document: d, section: s, quote: q}, message: m, rectification: {action: a, responsible: r,"
            " deadline_days: 1}}\n"
        )
        (problem,) = compile_problems(tmp_path, {"r.yaml": text})
        assert (problem.line, problem.column, problem.code) == (2, 72, "expr_syntax")

    @pytest.mark.parametrize(
        "condition",
        ["size > 3 and\n      grade = 1", '"size > 3 and\n      grade = 1"'],
        ids=["plain", "double-quoted"],
    )
    def test_multi_line_flow_scalar(self, tmp_path: Path, condition: str) -> None:
        """A plain or quoted scalar continued on the next line is located on that line."""
        (problem,) = compile_problems(tmp_path, one_rule(condition=condition))
        assert (problem.line, problem.column) == (CONDITION_LINE + 1, 13)
        assert problem.excerpt.rstrip('"') == "      grade = 1"  # the source line, closing quote included

    def test_quoted_scalar_with_escapes(self, tmp_path: Path) -> None:
        """Escaped quotes before the error do not shift its column."""
        (problem,) = compile_problems(tmp_path, one_rule(condition='"school.name == \\"a\\" and size = 1"'))
        assert (problem.line, problem.column) == (CONDITION_LINE, 47)


class TestExpressionMeaning:
    def test_unknown_field_suggests_a_close_one(self, tmp_path: Path) -> None:
        """`sise` is located at its column and `size` suggested."""
        (problem,) = compile_problems(tmp_path, one_rule(condition="sise > 3"))
        assert located(problem) == ("rules/p/r.yaml", CONDITION_LINE, 16, "condition", "expr_name")
        assert problem.message == "班级没有字段“sise”，是否指“size”？"

    def test_type_mismatch(self, tmp_path: Path) -> None:
        """Comparing a text field with a number is located at the operator."""
        (problem,) = compile_problems(tmp_path, one_rule(condition="school.name == 3"))
        assert located(problem) == ("rules/p/r.yaml", CONDITION_LINE, 28, "condition", "expr_type")
        assert problem.message == "类型不一致：学校·学校名称（文本） 与 数值 3 无法比较"

    def test_enum_literal_that_is_neither_code_nor_word(self, tmp_path: Path) -> None:
        """`"初中"` is not a school type; the allowed codes and words are listed."""
        (problem,) = compile_problems(tmp_path, one_rule(condition='school.type == "初中"'))
        assert located(problem) == ("rules/p/r.yaml", CONDITION_LINE, 31, "condition", "expr_enum")  # the literal
        assert problem.message.startswith("“初中”不是学校·办学类型的取值，允许：kindergarten（幼儿园）")

    def test_chinese_enum_word_is_accepted(self, tmp_path: Path) -> None:
        """`school.type == "小学"` compiles to the code `primary`."""
        book = build(tmp_path, one_rule(condition='school.type == "小学"'))
        assert book.rules[0].verdicts.fail == FieldTest("school.type", "==", Const("primary", "enum"))

    def test_scope_reading_an_optional_field(self, tmp_path: Path) -> None:
        """A scope may read a field that can be empty: a school without `license_no` is neither
        in nor out of the scope, so it is a data gap rather than silently skipped."""
        files = one_rule(applies_to="school", scope='license_no == "x"', condition='type == "primary"', message="x")
        verdicts = build(tmp_path, files).rules[0].verdicts
        assert verdicts.outside == FieldTest("license_no", "!=", Const("x", "text"))

    def test_scope_may_test_presence(self, tmp_path: Path) -> None:
        """`exists(license_no)` is allowed in a scope."""
        files = one_rule(applies_to="school", scope="exists(license_no)", condition='type == "primary"', message="x")
        assert [r.id for r in build(tmp_path, files).rules] == ["t.size"]

    def test_unknown_param_suggests_a_close_one(self, tmp_path: Path) -> None:
        """`params.limt` is undeclared; `params.limit` is suggested."""
        (problem,) = compile_problems(tmp_path, one_rule(condition="size > params.limt"))
        assert located(problem) == ("rules/p/r.yaml", CONDITION_LINE, 23, "condition", "expr_param")
        assert problem.message == "未声明的参数“params.limt”，是否指“params.limit”？"

    def test_list_param_outside_in(self, tmp_path: Path) -> None:
        """A list param compared with `==` is located at the param."""
        (problem,) = compile_problems(tmp_path, one_rule(condition="school.type == params.kinds"))
        assert located(problem) == ("rules/p/r.yaml", CONDITION_LINE, 31, "condition", "expr_type")
        assert problem.message == "params.kinds 是列表，只能出现在 in 之后：x in params.kinds"

    def test_list_param_in_membership(self, tmp_path: Path) -> None:
        """`school.type in params.kinds` expands the list and records the param as used."""
        book = build(tmp_path, one_rule(condition="school.type in params.kinds"))
        compiled = book.rules[0]
        assert isinstance(compiled.condition, Member)
        assert compiled.condition.values == (Const("primary", "enum"), Const("junior", "enum"))
        assert compiled.params == {"kinds": ["primary", "junior"]}

    def test_map_param_lookup(self, tmp_path: Path) -> None:
        """`params.table[grade]` compiles to one guarded branch per key; a grade outside it neither
        fails nor passes (a gap)."""
        book = build(tmp_path, one_rule(condition="size > params.table[grade]"))
        compiled = book.rules[0]
        assert compiled.params == {"table": {"小班": 25, "中班": 30}}
        middle, small = FieldTest("grade", "==", Const("中班", "text")), FieldTest("grade", "==", Const("小班", "text"))
        assert compiled.verdicts.fail == AnyOf(
            (
                All((middle, FieldTest("size", ">", Const(30, "number")))),
                All((small, FieldTest("size", ">", Const(25, "number")))),
            )
        )
        assert compiled.verdicts.passes == AnyOf(
            (
                All((middle, FieldTest("size", "<=", Const(30, "number")))),
                All((small, FieldTest("size", "<=", Const(25, "number")))),
            )
        )
        assert compiled.verdicts.outside == FALSE

    def test_map_param_without_index(self, tmp_path: Path) -> None:
        """A map param must be indexed by a field."""
        (problem,) = compile_problems(tmp_path, one_rule(condition="size > params.table"))
        assert located(problem) == ("rules/p/r.yaml", CONDITION_LINE, 23, "condition", "expr_type")
        assert problem.message == "params.table 是映射，应写作 params.table[字段]"

    def test_indicator_expression_is_located(self, tmp_path: Path) -> None:
        """An error in an indicator's `numerator` is located in the indicator file."""
        indicators = (
            "indicators:\n"
            "  - id: share_x\n"
            "    title: 占比\n"
            "    entity: county\n"
            "    share:\n"
            "      of: teacher\n"
            '      numerator: subjet == "体育"\n'
        )
        (problem,) = compile_problems(tmp_path, {"i.yaml": indicators, **one_rule()})
        assert located(problem) == ("rules/p/i.yaml", 7, 18, "numerator", "expr_name")
        assert "是否指“subject”" in problem.message


class TestTemplates:
    def test_template_typo(self, tmp_path: Path) -> None:
        """`{{ nmae }}` names nothing a finding offers; located at the message key."""
        (problem,) = compile_problems(tmp_path, one_rule(message='"{{ nmae }}"'))
        assert located(problem) == ("rules/p/r.yaml", 12, 5, "message", "template")
        assert problem.message == "模板引用了不存在的名称：'nmae' is undefined"

    def test_template_syntax_error(self, tmp_path: Path) -> None:
        """An unclosed `{{ size }` is a template syntax error at the message key."""
        (problem,) = compile_problems(tmp_path, one_rule(message='"{{ size }"'))
        assert located(problem) == ("rules/p/r.yaml", 12, 5, "message", "template")
        assert problem.message == "模板语法错误：多余的“}”"

    def test_rectification_template_typo(self, tmp_path: Path) -> None:
        """A typo in `rectification.action` is located at that nested key."""
        files = {"r.yaml": "rules:\n" + rule().replace("action: 整改", "action: 整改至 {{ params.limt }} 人")}
        (problem,) = compile_problems(tmp_path, files)
        assert located(problem) == ("rules/p/r.yaml", 14, 7, "rectification.action", "template")
        assert "limt" in problem.message

    def test_template_may_use_fields_params_and_filters(self, tmp_path: Path) -> None:
        """Fields, params, `as_of` and the `pct` filter are all known to templates."""
        message = (
            '"{{ school.name }}{{ grade_name }} {{ size }} 人，上限 {{ params.limit }}，{{ as_of }} {{ 0.5 | pct }}"'
        )
        assert [r.id for r in build(tmp_path, one_rule(message=message)).rules] == ["t.size"]

    def test_template_syntax_error_in_a_literal_block(self, tmp_path: Path) -> None:
        """A syntax error on the second line of a `|` message is located on that line."""
        message = "|\n      第一行 {{ size }}\n      第二行 {{ size }"
        (problem,) = compile_problems(tmp_path, one_rule(message=message))
        assert (problem.file, problem.line, problem.code) == ("rules/p/r.yaml", 14, "template")


class TestUnusedParams:
    def test_unused_params_are_reported_only_when_asked(self, tmp_path: Path) -> None:
        """`check_unused=True` reports declared params no rule reads, at their declaration."""
        assert [r.id for r in build(tmp_path / "a", one_rule()).rules] == ["t.size"]
        problems = compile_problems(tmp_path / "b", one_rule(), check_unused=True)
        assert [located(p) for p in problems] == [
            ("rules/p/pack.yaml", 9, 3, "params.kinds", "unused_param"),
            ("rules/p/pack.yaml", 12, 3, "params.table", "unused_param"),
        ]
        assert problems[0].message == "参数“kinds”未被任何规则或指标使用"

    def test_params_used_by_any_rule_count(self, tmp_path: Path) -> None:
        """Params read by scope, condition or lookup of any rule are all used."""
        rules = "rules:\n" + rule("a.one", condition="size > params.table[grade]", scope="school.type in params.kinds")
        rules += rule("a.two")
        book = build(tmp_path, {"r.yaml": rules}, check_unused=True)
        assert [r.id for r in book.rules] == ["a.one", "a.two"]


class TestManyProblems:
    def test_compile_problems_of_several_files_come_together(self, tmp_path: Path) -> None:
        """Expression and template mistakes in two files are all reported in one error."""
        files = {
            "a.yaml": "rules:\n" + rule("a.one", condition="sise > 1") + rule("a.two", condition="size >"),
            "b.yaml": "rules:\n" + rule("b.one", message='"{{ nmae }}"') + rule("b.two", scope="grade_no >"),
        }
        problems = compile_problems(tmp_path, files)
        assert [(p.file, p.line, p.field, p.code) for p in problems] == [
            ("rules/p/a.yaml", 6, "condition", "expr_name"),
            ("rules/p/a.yaml", 21, "condition", "expr_syntax"),
            ("rules/p/b.yaml", 12, "message", "template"),
            ("rules/p/b.yaml", 21, "scope", "expr_syntax"),
        ]
        assert str(RulePackError(problems)).startswith("规则包有误（共 4 处）：\nrules/p/a.yaml:6:16: condition:")


class TestEffectiveParams:
    @pytest.fixture
    def packs(self, tmp_path: Path) -> list[LoadedPack]:
        return load_packs(["p"], write_pack(tmp_path / "rules", one_rule()))

    def test_defaults_without_overrides(self, packs: list[LoadedPack]) -> None:
        """Without overrides each pack gets its declared values."""
        params, bad = effective_params(packs, {})
        assert params == {"p": {"limit": 50, "kinds": ["primary", "junior"], "table": {"小班": 25, "中班": 30}}}
        assert bad == []

    def test_unknown_name(self, packs: list[LoadedPack]) -> None:
        """An override of an undeclared param is refused, listing the declared ones."""
        params, bad = effective_params(packs, {"limt": 3})
        assert bad == [("limt", "所选规则包没有参数“limt”；可用：kinds、limit、table")]
        assert params["p"]["limit"] == 50

    @pytest.mark.parametrize(
        ("name", "value", "reason"),
        [
            ("limit", "60", "类型应为数值（默认值 50），实为文本"),
            ("limit", True, "类型应为数值（默认值 50），实为是/否"),
            ("kinds", "primary", "类型应为列表（默认值 ['primary', 'junior']），实为文本"),
            ("table", 3, "类型应为映射（默认值 {'小班': 25, '中班': 30}），实为数值"),
        ],
    )
    def test_wrong_type(self, packs: list[LoadedPack], name: str, value: object, reason: str) -> None:
        """An override of another type than the default is refused and the default kept."""
        params, bad = effective_params(packs, {name: value})
        assert bad == [(name, reason)]
        assert (
            params["p"][name] == {"limit": 50, "kinds": ["primary", "junior"], "table": {"小班": 25, "中班": 30}}[name]
        )

    def test_number_override(self, packs: list[LoadedPack]) -> None:
        """A number replaces a number, int or float."""
        params, bad = effective_params(packs, {"limit": 45.5})
        assert (params["p"]["limit"], bad) == (45.5, [])

    def test_map_override_merges_with_defaults(self, packs: list[LoadedPack]) -> None:
        """Overriding one key of a map keeps the other keys' defaults."""
        params, bad = effective_params(packs, {"table": {"小班": 20}})
        assert (params["p"]["table"], bad) == ({"小班": 20, "中班": 30}, [])

    def test_map_override_with_unknown_key(self, packs: list[LoadedPack]) -> None:
        """A map override may not add keys the default does not have."""
        _, bad = effective_params(packs, {"table": {"大班": 35}})
        assert bad == [("table", "映射中的键 大班 不存在；可用：小班、中班")]

    def test_override_reaches_the_compiled_rule(self, packs: list[LoadedPack]) -> None:
        """The compiled condition uses the overridden value."""
        book = compile_packs(packs, overrides={"limit": 40})
        assert book.rules[0].verdicts.fail == FieldTest("size", ">", Const(40, "number"))
        assert book.rules[0].params == {"limit": 40}


class TestCompiledOnce:
    def test_same_packs_and_params_give_the_same_book(self, tmp_path: Path) -> None:
        """A second compile of unchanged packs with the same params is the book already compiled."""
        rules_dir = write_pack(tmp_path / "rules", {"rules.yaml": "rules:\n" + rule()})
        first = compile_packs(load_packs(["p"], rules_dir))
        assert compile_packs(load_packs(["p"], rules_dir)) is first

    def test_other_params_or_changed_bytes_compile_again(self, tmp_path: Path) -> None:
        """An override, or a pack file whose bytes changed, gives a book of its own."""
        rules_dir = write_pack(tmp_path / "rules", {"rules.yaml": "rules:\n" + rule()})
        first = compile_packs(load_packs(["p"], rules_dir))
        overridden = compile_packs(load_packs(["p"], rules_dir), overrides={"limit": 45})
        assert overridden is not first
        assert overridden.rules[0].params["limit"] == 45
        write_pack(rules_dir, {"rules.yaml": "rules:\n" + rule(condition="size >= params.limit")})
        changed = compile_packs(load_packs(["p"], rules_dir))
        assert changed is not first
        assert changed.rules[0].spec.condition == "size >= params.limit"
        assert first.rules[0].spec.condition == "size > params.limit"


class TestReadOnce:
    def test_unchanged_pack_is_the_pack_already_read(self, tmp_path: Path) -> None:
        """A second load of a pack whose bytes did not change gives the pack already read."""
        rules_dir = write_pack(tmp_path / "rules", {"rules.yaml": "rules:\n" + rule()})
        first = load_packs(["p"], rules_dir)[0]
        assert load_packs(["p"], rules_dir)[0] is first

    def test_changed_bytes_are_read_again(self, tmp_path: Path) -> None:
        """A pack file whose bytes changed, even keeping its size, is read again, never taken from before."""
        rules_dir = write_pack(tmp_path / "rules", {"rules.yaml": "rules:\n" + rule()})
        first = load_packs(["p"], rules_dir)[0]
        write_pack(rules_dir, {"rules.yaml": "rules:\n" + rule(condition="size < params.limit")})
        changed = load_packs(["p"], rules_dir)[0]
        assert changed is not first
        assert changed.sha256 != first.sha256
        assert changed.rules[0][0].condition == "size < params.limit"
        assert first.rules[0][0].condition == "size > params.limit"

    def test_added_file_is_read_again(self, tmp_path: Path) -> None:
        """A file added to the pack gives its rules, not the pack read before it was there."""
        rules_dir = write_pack(tmp_path / "rules", {"rules.yaml": "rules:\n" + rule()})
        load_packs(["p"], rules_dir)
        write_pack(rules_dir, {"more.yaml": "rules:\n" + rule("t.other")})
        assert [r.id for r, _ in load_packs(["p"], rules_dir)[0].rules] == ["t.other", "t.size"]

    def test_same_bytes_elsewhere_are_located_there(self, tmp_path: Path) -> None:
        """The same pack in another rules folder is its own read: its problems and rules cite its own files."""
        files = {"rules.yaml": "rules:\n" + rule()}
        one = load_packs(["p"], write_pack(tmp_path / "one", files))[0]
        two = load_packs(["p"], write_pack(tmp_path / "two", files))[0]
        assert one.sha256 == two.sha256
        assert (one.folder, two.folder) == (tmp_path / "one" / "p", tmp_path / "two" / "p")

    def test_a_broken_pack_reports_its_problems_every_time(self, tmp_path: Path) -> None:
        """A pack with problems is never kept: every load reports them again."""
        rules_dir = write_pack(tmp_path / "rules", {"rules.yaml": "rules:\n" + rule(severity="huge")})
        for _ in range(2):
            with pytest.raises(RulePackError) as caught:
                load_packs(["p"], rules_dir)
            assert [p.field for p in caught.value.problems] == ["rules.severity"]
