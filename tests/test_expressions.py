"""The rule expression language: parser, type checker, normal form and reference evaluator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from fractions import Fraction
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget import examples
from inspector.limits import EXPRESSION_CHARS, EXPRESSION_DEPTH
from inspector.numbers import operands
from inspector.rules import reference
from inspector.rules import syntax as s
from inspector.rules.normal import (
    FALSE,
    TRUE,
    All,
    AnyOf,
    Formula,
    Has,
    Lowering,
    NormalFormError,
    Ref,
    Truth,
    all_of,
    any_of,
    defined,
    normalize,
    verdict_formulas,
)
from inspector.rules.normal import Test as FieldTest
from inspector.rules.typed import (
    Calc,
    Cmp,
    Cond,
    Const,
    Context,
    ExprError,
    Field,
    Logic,
    Lookup,
    Member,
    Negation,
    Present,
    check,
    fold,
)
from inspector.rules.vocabulary import EntityVocabulary, FieldInfo, build_vocabulary

AS_OF = dt.date(2025, 12, 1)
KINDS = {"kindergarten": "幼儿园", "primary": "小学", "vocational": "中等职业学校"}
FIELDS = {
    "a": FieldInfo("a", "甲", "number", False, "record", scale=10, decimals=1),
    "b": FieldInfo("b", "乙", "number", False, "record"),
    "n": FieldInfo("n", "丙", "number", True, "record"),
    "s": FieldInfo("s", "丁", "text", False, "record"),
    "k": FieldInfo("k", "键", "text", False, "record"),
    "t": FieldInfo("t", "类型", "enum", True, "record", enum=KINDS),
    "flag": FieldInfo("flag", "标志", "bool", False, "record"),
    "day": FieldInfo("day", "日期", "date", False, "record"),
}
HAND = EntityVocabulary("class", "班级", None, MappingProxyType(FIELDS), MappingProxyType({}))
PARAMS: dict[str, object] = {"limit": 3, "table": {"p": 1, "q": 4}, "names": ["p", "r"], "flag_on": True, "word": "x"}
REAL = build_vocabulary()


def hand(text: str) -> Cond:
    """Parse and check `text` against the hand-made vocabulary."""
    return check(s.parse(text), Context(HAND, PARAMS, AS_OF))


def real(text: str, entity: str = "class", *, used: set[str] | None = None) -> Cond:
    """Parse and check `text` against the real vocabulary of `entity`."""
    params = {"limit": 3, "kinds": ["primary", "junior"], "table": {"小班": 25, "中班": 30}}
    return check(s.parse(text), Context(REAL[entity], params, AS_OF, used_params=used))


def syntax_error(text: str) -> s.ExprSyntaxError:
    with pytest.raises(s.ExprSyntaxError) as info:
        s.parse(text)
    return info.value


def check_error(text: str, entity: str = "class") -> ExprError:
    with pytest.raises(ExprError) as info:
        real(text, entity)
    return info.value


def num(value: float) -> Const:
    return Const(value, "number")


def text(value: str) -> Const:
    return Const(value, "text")


# -- parser ----------------------------------------------------------------------------------------


class TestParserStructure:
    def test_and_binds_tighter_than_or(self) -> None:
        """`a or b and c` groups as `a or (b and c)`."""
        tree = s.parse("a or b and c")
        assert tree == s.BoolOp(0, "or", (s.Name(0, "a"), s.BoolOp(0, "and", (s.Name(0, "b"), s.Name(0, "c")))))
        assert tree.operands[1].offset == 5  # type: ignore[attr-defined]

    def test_not_binds_tighter_than_and(self) -> None:
        """`not a and b` negates only `a`."""
        assert s.parse("not a and b") == s.BoolOp(0, "and", (s.Not(0, s.Name(0, "a")), s.Name(0, "b")))

    def test_comparison_binds_tighter_than_not(self) -> None:
        """`not a in [1]` negates the whole membership test."""
        tree = s.parse("not a in [1]")
        assert tree == s.Not(0, s.In(0, s.Name(0, "a"), (s.Literal(0, 1),)))

    def test_multiplication_binds_tighter_than_addition(self) -> None:
        """`a + b * 2 > 3` compares `a + (b * 2)` with 3."""
        tree = s.parse("a + b * 2 > 3")
        product = s.Arith(0, "*", s.Name(0, "b"), s.Literal(0, 2))
        expected = s.Compare(0, ">", s.Arith(0, "+", s.Name(0, "a"), product), s.Literal(0, 3))
        assert tree == expected
        assert tree.offset == 10  # type: ignore[attr-defined]

    def test_chained_or_is_flat(self) -> None:
        """`a or b or c` is one `or` with three operands."""
        assert s.parse("a or b or c") == s.BoolOp(0, "or", (s.Name(0, "a"), s.Name(0, "b"), s.Name(0, "c")))

    def test_parentheses_override_precedence(self) -> None:
        """`(a or b) and c` keeps the `or` together."""
        either = s.BoolOp(0, "or", (s.Name(0, "a"), s.Name(0, "b")))
        assert s.parse("(a or b) and c") == s.BoolOp(0, "and", (either, s.Name(0, "c")))


class TestParserMembership:
    def test_not_in_is_a_negated_membership(self) -> None:
        """`x not in [1, 2]` is one negated `In` whose offset is the `not`."""
        tree = s.parse("x not in [1, 2]")
        assert tree == s.In(0, s.Name(0, "x"), (s.Literal(0, 1), s.Literal(0, 2)), negated=True)
        assert tree.offset == 2
        assert [item.offset for item in tree.items] == [10, 13]  # type: ignore[attr-defined]

    def test_in_a_list_param(self) -> None:
        """`x in params.kinds` keeps the param name as the single item, expanded when checked."""
        tree = s.parse("x in params.kinds")
        assert tree == s.In(0, s.Name(0, "x"), (s.Name(0, "params.kinds"),))
        assert tree.items[0].offset == 5  # type: ignore[attr-defined]

    def test_empty_list(self) -> None:
        """`x in []` is a membership in no values."""
        assert s.parse("x in []") == s.In(0, s.Name(0, "x"), ())

    def test_list_outside_in_is_rejected(self) -> None:
        """A list literal anywhere but after `in` is an error at the `[`."""
        error = syntax_error("[1] == a")
        assert (error.offset, error.message) == (0, "列表只能出现在 in 之后")


class TestParserAtoms:
    def test_dotted_names(self) -> None:
        """`school.type` is one name; the comparison's offset is its operator."""
        tree = s.parse("school.type == 1")
        assert tree == s.Compare(0, "==", s.Name(0, "school.type"), s.Literal(0, 1))
        assert (tree.offset, tree.right.offset) == (12, 15)  # type: ignore[attr-defined]

    def test_chinese_identifiers(self) -> None:
        """Extra columns keep Chinese headers: `school.班主任 == "张三"` parses."""
        tree = s.parse('school.班主任 == "张三"')
        assert tree == s.Compare(0, "==", s.Name(0, "school.班主任"), s.Literal(0, "张三"))
        assert tree.offset == 11  # type: ignore[attr-defined]

    def test_chinese_quotes_delimit_strings(self) -> None:
        """“中文引号” delimit a string like ASCII quotes."""
        assert s.parse("a == “小学”") == s.Compare(0, "==", s.Name(0, "a"), s.Literal(0, "小学"))

    def test_date_literal(self) -> None:
        """`date("2025-12-31")` is a date constant."""
        tree = s.parse('d <= date("2025-12-31")')
        assert tree == s.Compare(0, "<=", s.Name(0, "d"), s.Literal(0, dt.date(2025, 12, 31)))
        assert tree.right.offset == 5  # type: ignore[attr-defined]

    def test_impossible_date_is_located_at_its_string(self) -> None:
        """`date("2025-02-30")` is an error at the string, asking for YYYY-MM-DD."""
        error = syntax_error('d < date("2025-02-30")')
        assert error.offset == 9
        assert "日期应写作 YYYY-MM-DD" in error.message

    def test_negative_number_is_a_literal(self) -> None:
        """`-3` and `-3.5` are negative constants at the minus sign."""
        tree = s.parse("a > -3")
        assert tree == s.Compare(0, ">", s.Name(0, "a"), s.Literal(0, -3))
        assert tree.right.offset == 4  # type: ignore[attr-defined]
        assert s.parse("a > -3.5").right == s.Literal(0, -3.5)  # type: ignore[attr-defined]

    def test_subtracting_a_negative_number(self) -> None:
        """`a - -1` subtracts the constant -1."""
        tree = s.parse("a - -1 > 0")
        assert tree.left == s.Arith(0, "-", s.Name(0, "a"), s.Literal(0, -1))  # type: ignore[attr-defined]

    def test_negated_name_is_a_negation(self) -> None:
        """`-b` on a name stays a `Negate` node."""
        assert s.parse("a > -b").right == s.Negate(0, s.Name(0, "b"))  # type: ignore[attr-defined]

    def test_param_lookup(self) -> None:
        """`params.t[grade]` is a param name indexed by a field name."""
        tree = s.parse("size > params.t[grade]")
        assert tree.right == s.Name(0, "params.t", s.Name(0, "grade"))  # type: ignore[attr-defined]
        assert tree.right.index.offset == 16  # type: ignore[attr-defined]

    def test_exists(self) -> None:
        """`exists(x.y)` wraps a dotted name."""
        assert s.parse("not exists(x.y)") == s.Not(0, s.Exists(0, s.Name(0, "x.y")))


class TestParserErrors:
    @pytest.mark.parametrize(
        ("text", "offset", "phrase"),
        [
            ("a = 1", 2, "比较相等请用“==”"),
            ('a == "abc', 5, "字符串缺少结尾的引号"),
            ("a == 1 b", 7, "多余的“b”：是否缺少 and / or？"),
            ("a == 1 ==", 7, "多余的“==”"),
            ("", 0, "表达式为空"),
            ("   ", 0, "表达式为空"),
            ("a and", 5, "实为“表达式结尾”"),
            ("(a or b", 7, "此处应为“)”"),
            ("a $ b", 2, "无法识别的字符“$”"),
            ("a.", 2, "“.”之后应为字段名"),
            ("a in 3", 5, "in 之后应为列表或列表参数"),
            ("a in [1 2]", 8, "此处应为“,”或“]”"),
            ("exists(1)", 7, "此处应为字段名"),
        ],
        ids=[
            "single-equals",
            "unterminated-string",
            "trailing-name",
            "trailing-operator",
            "empty",
            "blank",
            "dangling-and",
            "unclosed-paren",
            "bad-character",
            "dot-without-name",
            "in-without-list",
            "list-without-comma",
            "exists-of-number",
        ],
    )
    def test_error_offset_and_message(self, text: str, offset: int, phrase: str) -> None:
        """Each syntax error names the offending offset and says what is wrong."""
        error = syntax_error(text)
        assert error.offset == offset
        assert error.code == "syntax"
        assert phrase in error.message


# -- checker ---------------------------------------------------------------------------------------


class TestConstantFolding:
    @pytest.mark.parametrize(
        ("expression", "value"),
        [
            ("1 + 2 > 2", True),
            ("params.limit * 2 == 6", True),
            ("params.limit - 4 >= 0", False),
            ("audit_year == 2025", True),
            ('as_of > date("2025-01-01")', True),
            ('as_of == date("2025-12-02")', False),
            ("- params.limit < 0", True),
        ],
    )
    def test_constant_comparisons_fold(self, expression: str, value: bool) -> None:
        """A comparison of constants (params, the audit date) folds to a boolean constant."""
        assert real(expression) == Const(value, "bool")

    def test_constant_operand_of_a_field_comparison_folds(self) -> None:
        """`size > params.limit + 2` compares the field with the folded constant 5."""
        assert real("size > params.limit + 2") == Cmp(">", Field(REAL["class"].fields["size"]), num(5))

    def test_dates_become_ordinal_integers(self) -> None:
        """Date constants are YYYYMMDD integers so that comparisons are numeric."""
        cond = real("school.license_valid_until < as_of")
        assert cond == Cmp("<", Field(REAL["class"].fields["school.license_valid_until"]), Const(20251201, "date"))

    def test_bool_param_is_a_condition(self) -> None:
        """A bool param alone is a constant condition."""
        assert hand("params.flag_on") == Const(True, "bool")

    def test_bool_field_is_a_condition(self) -> None:
        """A bool field alone means `field == true`."""
        full_time = Field(REAL["teacher"].fields["full_time"])
        assert real("full_time", "teacher") == Cmp("==", full_time, Const(True, "bool"))

    def test_division_by_constant_zero_is_an_error(self) -> None:
        """`size / 0` is rejected at the divisor."""
        error = check_error("size / 0 > 1")
        assert (error.offset, error.code, error.message) == (7, "type", "除数为 0")


class TestTypedTree:
    def test_logic_and_negation(self) -> None:
        """`not (a > 1) or b > 1` keeps its logical structure."""
        cond = hand("not (a > 1) or b > 1")
        a, b = Field(FIELDS["a"]), Field(FIELDS["b"])
        assert cond == Logic("or", (Negation(Cmp(">", a, num(1))), Cmp(">", b, num(1))))

    def test_field_arithmetic_is_not_folded(self) -> None:
        """`a * 2 + 1 > b` keeps the arithmetic on the field."""
        a, b = Field(FIELDS["a"]), Field(FIELDS["b"])
        assert hand("a * 2 + 1 > b") == Cmp(">", Calc("+", Calc("*", a, num(2)), num(1)), b)

    def test_negated_field_is_multiplied_by_minus_one(self) -> None:
        """`-a < 3` is `a * -1 < 3`."""
        assert hand("-a < 3") == Cmp("<", Calc("*", Field(FIELDS["a"]), num(-1)), num(3))


class TestEnumAlignment:
    def test_chinese_word_becomes_the_code(self) -> None:
        """`school.type == "小学"` compares with the code `primary`."""
        assert real('school.type == "小学"').right == Const("primary", "enum")  # type: ignore[union-attr]

    def test_code_is_kept(self) -> None:
        """`school.type == "primary"` keeps the code."""
        assert real('school.type == "primary"').right == Const("primary", "enum")  # type: ignore[union-attr]

    def test_literal_on_the_left_is_aligned_too(self) -> None:
        """`"幼儿园" == school.type` aligns the left-hand literal."""
        assert real('"幼儿园" == school.type').left == Const("kindergarten", "enum")  # type: ignore[union-attr]

    def test_list_items_are_aligned(self) -> None:
        """`school.type in ["小学", "junior"]` holds two codes."""
        cond = real('school.type in ["小学", "junior"]')
        assert isinstance(cond, Member)
        assert cond.values == (Const("primary", "enum"), Const("junior", "enum"))

    def test_list_param_items_are_aligned(self) -> None:
        """`school.type in params.kinds` expands the param into enum codes."""
        cond = real("school.type in params.kinds")
        assert isinstance(cond, Member)
        assert cond.values == (Const("primary", "enum"), Const("junior", "enum"))

    def test_derived_enum_uses_its_own_words(self) -> None:
        """`stage == "学前"` is the stage code `kindergarten`."""
        assert real('stage == "学前"').right == Const("kindergarten", "enum")  # type: ignore[union-attr]

    def test_unknown_word_lists_the_allowed_values(self) -> None:
        """`"初中"` is neither a school type code nor its word; the error lists both."""
        error = check_error('school.type == "初中"')
        assert (error.offset, error.code) == (15, "enum")  # at the literal, not the operator
        assert error.message.startswith("“初中”不是学校·办学类型的取值，允许：")
        assert "junior（初级中学）" in error.message

    def test_unknown_list_item_is_located_at_the_item(self) -> None:
        """A bad item of an `in` list is located at that item."""
        error = check_error('school.type in ["primary", "大学"]')
        assert (error.offset, error.code) == (27, "enum")


class TestNames:
    def test_exists_of_a_relation_tests_its_key(self) -> None:
        """`exists(safety)` on a school is the presence of `safety.school_id`."""
        cond = real("exists(safety)", "school")
        assert cond == Present(Field(REAL["school"].fields["safety.school_id"]))
        assert cond.field.info.always_present is False  # type: ignore[union-attr]

    def test_exists_of_the_required_school_relation(self) -> None:
        """`exists(school)` on a class is the presence of `school.school_id`."""
        assert real("exists(school)") == Present(Field(REAL["class"].fields["school.school_id"]))

    def test_bare_relation_name_asks_for_exists(self) -> None:
        """Naming a relation as a value points to `exists(...)`."""
        error = check_error("safety", "school")
        assert (error.offset, error.code) == (0, "name")
        assert "exists(safety)" in error.message

    def test_unknown_field_suggests_a_close_one(self) -> None:
        """`sise` is unknown; the message asks whether `size` was meant."""
        error = check_error("sise > 3")
        assert (error.offset, error.code) == (0, "name")
        assert error.message == "班级没有字段“sise”，是否指“size”？"

    def test_unknown_field_inside_exists(self) -> None:
        """`exists(license_no)` on a class suggests `school.license_no`, at the name."""
        error = check_error("exists(license_no)")
        assert (error.offset, error.code) == (7, "name")
        assert "是否指“school.license_no”" in error.message

    def test_type_mismatch(self) -> None:
        """A number compared with text is an error at the operator."""
        error = check_error('size > "abc"')
        assert (error.offset, error.code) == (5, "type")
        assert error.message == "类型不一致：班额（数值） 与 文本 'abc' 无法比较"

    def test_text_is_not_ordered(self) -> None:
        """Text can only be compared with == or !=."""
        error = check_error('school.name < "b"')
        assert (error.offset, error.code) == (12, "type")
        assert "只能用 == 或 != 比较" in error.message

    def test_number_is_not_a_condition(self) -> None:
        """A number alone is not a condition."""
        error = check_error("size")
        assert (error.offset, error.code) == (0, "type")
        assert "此处应为条件" in error.message

    def test_unknown_param_suggests_a_close_one(self) -> None:
        """`params.limt` is undeclared; `params.limit` is suggested."""
        error = check_error("size > params.limt")
        assert (error.offset, error.code) == (7, "param")
        assert error.message == "未声明的参数“params.limt”，是否指“params.limit”？"

    def test_list_param_outside_in(self) -> None:
        """A list param compared with == must be used after `in`."""
        error = check_error("school.type == params.kinds")
        assert (error.offset, error.code) == (15, "type")
        assert "只能出现在 in 之后" in error.message

    def test_scalar_param_after_in(self) -> None:
        """A number param after `in` is not a list."""
        error = check_error("size in params.limit")
        assert (error.offset, error.code) == (8, "type")
        assert "不是列表参数" in error.message

    def test_map_param_without_index(self) -> None:
        """A map param must be indexed by a field."""
        error = check_error("size > params.table")
        assert (error.offset, error.code) == (7, "type")
        assert "params.table[字段]" in error.message

    def test_map_param_lookup(self) -> None:
        """`params.table[grade]` is a lookup keyed by the grade field."""
        cond = real("size > params.table[grade]")
        assert cond == Cmp(
            ">",
            Field(REAL["class"].fields["size"]),
            Lookup("table", Field(REAL["class"].fields["grade"]), (("中班", 30), ("小班", 25))),
        )

    def test_map_lookup_needs_a_text_key(self) -> None:
        """A number field cannot index a map param."""
        error = check_error("size > params.table[size]")
        assert (error.offset, error.code) == (20, "type")

    def test_used_params_are_recorded(self) -> None:
        """Every param a condition reads, list params included, is recorded."""
        used: set[str] = set()
        real("size > params.limit and school.type in params.kinds", used=used)
        assert used == {"limit", "kinds"}


# -- normal form -----------------------------------------------------------------------------------


class TestNormalize:
    def test_de_morgan_with_complemented_operators(self) -> None:
        """`not (a < 1 or s == "x")` is `a >= 1` and `s != "x"` (`a` is held in tenths: 1 is 10)."""
        cond = hand('not (a < 1 or s == "x")')
        assert normalize(cond) == All((FieldTest("a", ">=", num(10)), FieldTest("s", "!=", text("x"))))
        assert normalize(cond, positive=False) == AnyOf((FieldTest("a", "<", num(10)), FieldTest("s", "==", text("x"))))

    def test_constant_on_the_left_is_mirrored(self) -> None:
        """`1 < n` becomes `n > 1`, with the field on the left."""
        assert normalize(hand("1 < n")) == FieldTest("n", ">", num(1))

    def test_membership_expands_to_tests(self) -> None:
        """`s in params.names` is an AnyOf of equalities; its negation an All of inequalities."""
        cond = hand("s in params.names")
        assert normalize(cond) == AnyOf((FieldTest("s", "==", text("p")), FieldTest("s", "==", text("r"))))
        outside = All((FieldTest("s", "!=", text("p")), FieldTest("s", "!=", text("r"))))
        assert normalize(cond, positive=False) == outside

    def test_empty_membership_is_false(self) -> None:
        """`s in []` is always false."""
        assert normalize(hand("s in []")) == FALSE

    def test_exists_becomes_presence(self) -> None:
        """`not exists(a)` is `Has(a, False)` and needs nothing to be defined."""
        cond = hand("not exists(a)")
        assert normalize(cond) == Has("a", False)
        assert defined(cond) == TRUE

    def test_field_on_the_right_of_arithmetic(self) -> None:
        """`a > b + 1` is decided on two integers the fact carries: an `Operands` atom of its sides."""
        lowering = Lowering("@")
        assert normalize(hand("a > b + 1"), lowering=lowering) == FieldTest("@0<", ">", Ref("@0>"))
        (atom,) = lowering.atoms.values()
        assert (atom.left, atom.right) == (hand("a > b + 1").left, hand("a > b + 1").right)  # type: ignore[union-attr]

    def test_scaled_field_against_a_constant_is_tested_directly(self) -> None:
        """`a` is held in tenths: `a >= 2.5` is `a >= 25`, and `a >= 2.55` is `a >= 26` (integers only)."""
        assert normalize(hand("a >= 2.5")) == FieldTest("a", ">=", num(25))
        assert normalize(hand("a >= 2.55")) == FieldTest("a", ">=", num(26))
        assert normalize(hand("a < 2.55")) == FieldTest("a", "<", num(26))
        assert normalize(hand("a == 2.55")) == FALSE

    def test_plain_formulas_refuse_arithmetic(self) -> None:
        """Without a lowering that collects atoms (the ledger's lifecycle), arithmetic is refused."""
        with pytest.raises(NormalFormError):
            normalize(hand("a > b + 1"))

    def test_lookup_expands_per_key(self) -> None:
        """`n > params.table[k]` is one branch per key, each guarded by the key test."""
        assert normalize(hand("n > params.table[k]")) == AnyOf(
            (
                All((FieldTest("k", "==", text("p")), FieldTest("n", ">", num(1)))),
                All((FieldTest("k", "==", text("q")), FieldTest("n", ">", num(4)))),
            )
        )

    def test_bool_field(self) -> None:
        """`not flag` is `flag != true`."""
        assert normalize(hand("not flag")) == FieldTest("flag", "!=", Const(True, "bool"))

    def test_folded_constant_inside_logic(self) -> None:
        """`n > 1 and 2 > 3` normalises to false."""
        assert normalize(hand("n > 1 and 2 > 3")) == FALSE

    def test_comparison_without_a_single_field_side(self) -> None:
        """`a * 2 > 3` has no single-field side: it becomes an atom of its two sides."""
        lowering = Lowering("@")
        assert normalize(hand("a * 2 > 3"), lowering=lowering) == FieldTest("@0<", ">", Ref("@0>"))


class TestDefined:
    def test_fields_must_be_present(self) -> None:
        """Every field read must be present."""
        cond = hand('a > 1 and s == "x"')
        assert defined(cond) == All((Has("a", True), Has("s", True)))

    def test_divisor_must_be_non_zero(self) -> None:
        """`a > 1 / b` needs b non-zero; the test on b subsumes its presence check."""
        cond = hand("a > 1 / b")
        assert defined(cond) == All((Has("a", True), FieldTest("b", "!=", num(0))))

    def test_lookup_key_must_be_in_the_table(self) -> None:
        """A lookup is defined only for keys of its table."""
        cond = hand("a > params.table[k]")
        assert defined(cond) == All(
            (
                Has("a", True),
                Has("k", True),
                AnyOf((FieldTest("k", "==", text("p")), FieldTest("k", "==", text("q")))),
            )
        )


class TestVerdictFormulas:
    def test_scope_and_condition(self) -> None:
        """fail and pass both require the scope; out of scope is the scope's negation. An entity
        in none of the three (n missing) is not evaluated."""
        verdicts = verdict_formulas(hand("n > 1"), hand("n > 2"))
        in_scope = FieldTest("n", ">", num(1))
        assert verdicts.fail == All((in_scope, FieldTest("n", ">", num(2))))
        assert verdicts.passes == All((in_scope, FieldTest("n", "<=", num(2))))
        assert verdicts.outside == FieldTest("n", "<=", num(1))

    def test_without_scope(self) -> None:
        """Without a scope the verdicts are the condition's own formulas and nothing is out of scope."""
        verdicts = verdict_formulas(None, hand("n > 2"))
        assert verdicts.fail == FieldTest("n", ">", num(2))
        assert verdicts.passes == FieldTest("n", "<=", num(2))
        assert verdicts.outside == FALSE

    def test_presence_guarding_a_disjunction_is_kept(self) -> None:
        """`exists(n) and n > 2` fails when n is over 2 and passes when n is absent or at most 2."""
        verdicts = verdict_formulas(None, hand("exists(n) and n > 2"))
        assert verdicts.fail == FieldTest("n", ">", num(2))
        assert verdicts.passes == AnyOf((Has("n", False), FieldTest("n", "<=", num(2))))

    def test_kleene_disjunction_decides_without_every_field(self) -> None:
        """`a > 1 or n > 2` fails on n = 3 whatever a is; it passes only when both are known false."""
        verdicts = verdict_formulas(None, hand("a > 1 or n > 2"))
        assert verdicts.fail == AnyOf((FieldTest("a", ">", num(10)), FieldTest("n", ">", num(2))))  # a in tenths
        assert verdicts.passes == All((FieldTest("a", "<=", num(10)), FieldTest("n", "<=", num(2))))

    def test_optional_field_in_the_scope(self) -> None:
        """A scope reading an optional field is out of scope only when that field is known to
        take it out; a missing value leaves the entity open (a data gap)."""
        verdicts = verdict_formulas(hand("a > 1"), hand("n > 2"))
        assert verdicts.outside == FieldTest("a", "<=", num(10))  # a in tenths

    def test_scope_on_constants_only(self) -> None:
        """A scope that folds to false puts every entity out of scope."""
        verdicts = verdict_formulas(hand("1 > 2"), hand("n > 2"))
        assert (verdicts.fail, verdicts.passes, verdicts.outside) == (FALSE, FALSE, TRUE)


class TestAllOfAnyOf:
    def test_presence_implied_by_a_test_is_dropped(self) -> None:
        """`Has(a)` next to a test on a is redundant; `Has(b)` is kept."""
        formula = all_of(Has("a", True), FieldTest("a", ">", num(1)), Has("b", True))
        assert formula == All((FieldTest("a", ">", num(1)), Has("b", True)))

    def test_absence_is_never_dropped(self) -> None:
        """`Has(a, False)` contradicts a test on a but is not silently removed."""
        formula = all_of(Has("a", False), FieldTest("a", ">", num(1)))
        assert formula == All((Has("a", False), FieldTest("a", ">", num(1))))

    def test_presence_and_test_collapse_to_the_test(self) -> None:
        """A single remaining item is returned unwrapped."""
        assert all_of(Has("a", True), FieldTest("a", "==", num(2))) == FieldTest("a", "==", num(2))

    def test_identities(self) -> None:
        """true and false are the identities and absorbers of all_of / any_of."""
        x = Has("a", True)
        assert all_of() == TRUE
        assert all_of(TRUE, x) == x
        assert all_of(FALSE, x) == FALSE
        assert any_of() == FALSE
        assert any_of(FALSE, x) == x
        assert any_of(TRUE, x) == TRUE

    def test_nested_items_are_flattened_and_deduplicated(self) -> None:
        """All inside all_of and AnyOf inside any_of are flattened; repeats are dropped."""
        x, y, z = Has("a", True), Has("b", True), Has("n", False)
        assert all_of(All((x, y)), x, z) == All((x, y, z))
        assert any_of(AnyOf((x, y)), z) == AnyOf((x, y, z))


# -- reference evaluator ---------------------------------------------------------------------------


class TestKleeneLogic:
    def test_missing_or_true_is_true(self) -> None:
        """An unknown disjunct does not matter when another is true."""
        assert reference.truth(hand("a > 1 or true"), {}) is True
        assert reference.truth(hand("a > 1 or n > 1"), {"n": 2}) is True

    def test_missing_and_false_is_false(self) -> None:
        """An unknown conjunct does not matter when another is false."""
        assert reference.truth(hand("a > 1 and false"), {}) is False
        assert reference.truth(hand("a > 1 and n > 1"), {"n": 0}) is False

    def test_missing_or_false_is_unknown(self) -> None:
        """An unknown disjunct with only false ones is unknown."""
        assert reference.truth(hand("a > 1 or n > 1"), {"n": 0}) is None

    def test_not_missing_is_unknown(self) -> None:
        """Negating an unknown stays unknown."""
        assert reference.truth(hand("not (a > 1)"), {}) is None

    def test_exists_is_never_unknown(self) -> None:
        """`exists(a)` is false, not unknown, when a is missing."""
        assert reference.truth(hand("exists(a)"), {}) is False
        assert reference.truth(hand("not exists(a)"), {}) is True

    def test_membership_of_missing_is_unknown(self) -> None:
        """`s in [...]` is unknown when s is missing, and honours `not in` otherwise."""
        assert reference.truth(hand('s in ["p"]'), {}) is None
        assert reference.truth(hand('s not in ["p"]'), {"s": "q"}) is True

    def test_lookup_of_unknown_key_is_unknown(self) -> None:
        """A lookup key not in the table leaves the comparison unknown."""
        assert reference.truth(hand("a > params.table[k]"), {"a": 9, "k": "z"}) is None
        assert reference.truth(hand("a > params.table[k]"), {"a": 9, "k": "q"}) is True

    def test_division_by_zero_is_unknown(self) -> None:
        """A zero divisor leaves the comparison unknown."""
        assert reference.truth(hand("a > 1 / b"), {"a": 1, "b": 0}) is None


class TestVerdict:
    SCOPE = "n > 1"

    def verdict(self, condition: str, fact: Mapping[str, object]) -> str | None:
        return reference.verdict(hand(self.SCOPE), hand(condition), fact)

    def test_out_of_scope(self) -> None:
        """An entity outside the scope has no verdict."""
        assert self.verdict("a > 1", {"n": 1, "a": 5}) is None

    def test_gap_when_a_read_field_is_missing(self) -> None:
        """A condition reading a missing field is a gap."""
        assert self.verdict("a > 1", {"n": 2}) == "gap"

    def test_kleene_logic_decides_without_the_missing_field(self) -> None:
        """`a > 1 or n > 1` fails on n = 2 whatever a is; `a > 1 and n > 5` passes whatever a is."""
        assert self.verdict("a > 1 or n > 1", {"n": 2}) == "fail"
        assert self.verdict("a > 1 and n > 5", {"n": 2}) == "pass"
        assert self.verdict("a > 1 and n > 1", {"n": 2}) == "gap"

    def test_gap_when_the_scope_cannot_be_decided(self) -> None:
        """A scope reading a missing field neither includes nor excludes: a gap."""
        scope = hand("a > 1")
        assert reference.verdict(scope, hand("n > 1"), {"n": 2}) == "gap"

    def test_fail_when_the_condition_holds(self) -> None:
        """The condition holding is a finding."""
        assert self.verdict("a > 1", {"n": 2, "a": 5}) == "fail"

    def test_pass_when_the_condition_is_false(self) -> None:
        """The condition false is a pass."""
        assert self.verdict("a > 1", {"n": 2, "a": 1}) == "pass"

    def test_scope_with_an_absent_optional_field(self) -> None:
        """A scope `exists(a) and ...` excludes entities without a."""
        scope = hand("exists(a) and n <= 3")
        assert reference.verdict(scope, hand("n > 1"), {"n": 2}) is None
        assert reference.verdict(scope, hand("n > 1"), {"n": 2, "a": 0}) == "fail"

    def test_no_scope(self) -> None:
        """Without a scope every entity gets a verdict."""
        assert reference.verdict(None, hand("n > 1"), {"n": 0}) == "pass"


# -- property: the normal form means what the typed tree means ------------------------------------


def engine_form(fact: Mapping[str, object], lowering: Lowering) -> dict[str, object]:
    """The fact as the engine sees it: scaled fields in their units, each atom's two integers."""
    result: dict[str, object] = {}
    for path, value in fact.items():
        info = FIELDS[path]
        result[path] = int(Fraction(value) * info.scale) if info.type == "number" else value  # type: ignore[arg-type]
    for atom in lowering.atoms.values():
        left, right = reference.evaluate(atom.left, fact), reference.evaluate(atom.right, fact)
        if left is not None and right is not None:
            result[atom.left_path], result[atom.right_path] = operands(left, right)  # type: ignore[arg-type]
    return result


def evaluate(formula: Formula, fact: Mapping[str, object]) -> bool:
    """A tiny evaluator of normal-form formulas on engine-form facts, independent of the adapter."""
    if isinstance(formula, Truth):
        return formula.value
    if isinstance(formula, Has):
        return (formula.path in fact) == formula.present
    if isinstance(formula, All):
        return all(evaluate(item, fact) for item in formula.items)
    if isinstance(formula, AnyOf):
        return any(evaluate(item, fact) for item in formula.items)
    assert isinstance(formula, FieldTest)
    if formula.path not in fact:
        return False
    rhs = formula.rhs.value if isinstance(formula.rhs, Const) else fact[formula.rhs.path]
    return fold(formula.op, fact[formula.path], rhs)  # type: ignore[arg-type]


OPS = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
NUMBER_FIELDS = st.sampled_from(["a", "b", "n"])
NUMBERS = st.sampled_from(["0", "1", "2", "2.5", "-1", "params.limit"])
LISTS = st.sampled_from(["params.names", "[]", '["q"]'])
DAYS = st.sampled_from(["as_of", 'date("2025-06-01")'])
WORDS = st.sampled_from(["primary", "幼儿园"])
BOOLS = st.sampled_from(["flag", "not flag", "flag == false", "exists(a)", "not exists(s)"])


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    """One comparison of the hand vocabulary with a single field on (at least) one side."""
    field, op = draw(NUMBER_FIELDS), draw(OPS)
    choice = draw(st.integers(0, 8))
    if choice == 0:
        return f"{field} {op} {draw(NUMBER_FIELDS)}"
    if choice == 1:
        return f"{field} {op} {draw(NUMBER_FIELDS)} {draw(st.sampled_from(['+', '-', '*']))} {draw(NUMBERS)}"
    if choice == 2:
        return f"{draw(NUMBERS)} {op} {field}"
    if choice == 3:
        return f"{field} {op} {draw(NUMBERS)} / b"
    if choice == 4:
        return f"s {draw(st.sampled_from(['in', 'not in']))} {draw(LISTS)}"
    if choice == 5:
        return f't {draw(st.sampled_from(["==", "!="]))} "{draw(WORDS)}"'
    if choice == 6:
        return draw(BOOLS)
    if choice == 7:
        return f"day {op} {draw(DAYS)}"
    return f"{field} {op} params.table[k]"


CONDITIONS = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda c: f"not ({c})"),
    ),
    max_leaves=5,
)
FULL_FACTS = st.fixed_dictionaries(
    {
        "a": st.sampled_from([-1, 0, 1, 2, Fraction(5, 2), 3]),
        "b": st.sampled_from([1, 2, 3]),
        "n": st.sampled_from([0, 1, 2, 3]),
        "s": st.sampled_from(["p", "q", "r"]),
        "k": st.sampled_from(["p", "q"]),
        "t": st.sampled_from(list(KINDS)),
        "flag": st.booleans(),
        "day": st.sampled_from([20250531, 20250601, 20251201, 20251202]),
    }
)


class TestNormalFormProperty:
    @settings(max_examples=examples(300), deadline=None)
    @given(text=CONDITIONS, fact=FULL_FACTS)
    def test_normal_form_agrees_with_reference_on_complete_facts(self, text: str, fact: dict[str, object]) -> None:
        """With every field present, the normal form and its negation agree with `reference.truth`
        wherever the reference can decide (an unknown lookup key or a zero divisor is undecided)."""
        cond = hand(text)
        expected = reference.truth(cond, fact)
        lowering = Lowering("@")
        holds, fails = normalize(cond, True, lowering), normalize(cond, False, lowering)
        engine = engine_form(fact, lowering)
        assert evaluate(holds, engine) is (expected is True)
        assert evaluate(fails, engine) is (expected is False)


class TestLimits:
    """Expressions are bounded in length and nesting, so no pass over them can exhaust the stack."""

    def test_deep_parentheses_are_an_error_at_the_first_level_too_many(self) -> None:
        """120 nested parentheses (a RecursionError before) stop at the 41st, where it opens."""
        error = syntax_error("(" * 120 + "a > 1" + ")" * 120)
        assert (error.code, error.offset) == ("depth", EXPRESSION_DEPTH)
        assert "嵌套过深" in error.message

    @pytest.mark.parametrize(
        "text", ["not " * 100 + "flag", "-" * 100 + "a > 1", "min(" * 60 + "a" + ")" * 60 + " > 1"]
    )
    def test_other_nesting_is_bounded_alike(self, text: str) -> None:
        assert syntax_error(text).code == "depth"

    def test_a_long_operator_chain_is_as_deep_as_it_is_long(self) -> None:
        """`a + a + …` builds a left-deep tree: bounded like parentheses."""
        assert syntax_error(" + ".join(["a"] * 60) + " > 1").code == "depth"

    def test_an_overlong_expression_is_refused_at_the_limit(self) -> None:
        error = syntax_error("a > 1 or " * 500 + "a > 1")
        assert (error.code, error.offset) == ("length", EXPRESSION_CHARS)

    @pytest.mark.parametrize(
        "text",
        [
            "(" * (EXPRESSION_DEPTH - 1) + "a > 1" + ")" * (EXPRESSION_DEPTH - 1),
            "not " * (EXPRESSION_DEPTH - 2) + "a > 1",
            " + ".join(["a"] * (EXPRESSION_DEPTH - 2)) + " > n",
            "-" * (EXPRESSION_DEPTH - 2) + "a > n",
        ],
    )
    def test_at_the_limit_every_pass_works(self, text: str) -> None:
        """Just within the limits: type check, normal form and the reference evaluator all finish."""
        cond, fact = hand(text), {"a": 1, "n": 0}
        lowering = Lowering("@")
        verdicts = verdict_formulas(None, cond, lowering)
        expected = reference.verdict(None, cond, fact)
        assert expected in ("fail", "pass")
        assert evaluate(verdicts.fail, engine_form(fact, lowering)) is (expected == "fail")
