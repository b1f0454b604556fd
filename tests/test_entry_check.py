"""`inspector check`: located errors, the marked copy (right cell, fill, comment), exit codes, and hostile
workbooks that end in exit 2 with a located Chinese message, never a traceback."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from inspector.cli import main
from inspector.entry.check import RESULT_SHEET
from inspector.entry.columns import pack_reads
from inspector.entry.template import template_workbook
from inspector.records.regions import LIUZHOU
from inspector.rules.packs import DEFAULT_RULES_DIR

RED = "00FFC7CE"


@pytest.fixture(scope="module")
def template() -> bytes:
    """The core pack's entry workbook, made once."""
    return template_workbook(pack_reads(["core"], DEFAULT_RULES_DIR), region="柳州市", divisions=LIUZHOU)


def fill(template: bytes, path: Path, sheets: dict[str, list[dict[str, object]]]) -> Path:
    """The template with rows typed from row 3 down, by header."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    for title, rows in sheets.items():
        sheet = book[title]
        headers = [c.value for c in sheet[1]]
        for number, row in enumerate(rows, start=3):
            for header, value in row.items():
                sheet.cell(row=number, column=headers.index(header) + 1, value=value)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


SCHOOLS = [
    {
        "学校代码": "4502020001",
        "学校名称": "文惠小学",
        "区县": "城中区",
        "乡镇": "城中街道",
        "办学类型": "小学",
        "办学性质": "公办",
    },
    {
        "学校代码": "4502050001",
        "学校名称": "柳北小学",
        "区县": "柳北区",
        "乡镇": "解放街道",
        "办学类型": "大学",
        "办学性质": "公办",
    },
]
CLASSES = [
    {"班级代码": "C1", "学校代码": "4502020001", "年级": 3, "班额（人）": 45},
    {"班级代码": "C2", "学校代码": "4502020001", "年级": 4, "班额（人）": 400},
    {"班级代码": "C3", "学校代码": "4502029999", "年级": 5, "班额（人）": 30},
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class TestCleanAndBad:
    def test_clean_workbook_exits_0_and_writes_nothing(
        self, template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """No error: exit 0, a line saying so, no marked copy."""
        book = fill(template, tmp_path / "填报.xlsx", {"学校": SCHOOLS[:1], "班级": CLASSES[:1]})
        code, out, _ = run(capsys, str(book))
        assert code == 0 and "校验通过" in out and "读取 2 行，可载入 2 行" in out
        assert sorted(p.name for p in tmp_path.iterdir()) == ["填报.xlsx"]

    def test_errors_are_listed_located_all_at_once(
        self, template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Every bad cell as `file[sheet]:row: column: reason`, exit 2."""
        book = fill(template, tmp_path / "填报.xlsx", {"学校": SCHOOLS, "班级": CLASSES})
        code, out, _ = run(capsys, str(book))
        assert code == 2
        lines = [line.strip() for line in out.splitlines()]
        assert (
            "填报.xlsx[学校]:4: 办学类型: 取值“大学”不在允许范围内，允许：幼儿园（kindergarten）、小学（primary）、初级中学（junior）、九年一贯制学校（nine_year）、完全中学（complete_secondary）、高级中学（senior）、十二年一贯制学校（twelve_year）、中等职业学校（vocational）、特殊教育学校（special）"
            in lines
        )
        assert "填报.xlsx[班级]:4: 班额（人）: 数值“400”大于合理上限 300人" in lines
        assert "填报.xlsx[班级]:5: 学校代码: 学校代码“4502029999”不在学校名单中" in lines
        assert "发现 3 处错误：" in lines

    def test_marked_copy_highlights_and_comments_the_bad_cells(
        self, template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The copy fills each bad cell red with the reason as a comment, lists every error on a first sheet
        linked to its cell, and leaves good cells and the input file untouched."""
        book = fill(template, tmp_path / "填报.xlsx", {"学校": SCHOOLS, "班级": CLASSES})
        before = digest(book)
        code, out, _ = run(capsys, str(book))
        marked = tmp_path / "填报-校验结果.xlsx"
        assert code == 2 and f"已生成标注副本：{marked}" in out
        assert digest(book) == before
        copy = openpyxl.load_workbook(marked)
        assert copy.sheetnames[0] == RESULT_SHEET and copy.active.title == RESULT_SHEET
        for sheet, ref, reason in (
            ("学校", "E4", "不在允许范围内"),
            ("班级", "D4", "大于合理上限 300人"),
            ("班级", "B5", "不在学校名单中"),
        ):
            cell = copy[sheet][ref]
            assert cell.fill.fgColor.rgb == RED, (sheet, ref)
            assert reason in cell.comment.text
        assert copy["班级"]["D3"].fill.fgColor.rgb != RED and copy["班级"]["D3"].comment is None
        assert (
            copy["学校"]["E1"].comment is not None and "示例" in copy["学校"]["E1"].comment.text
        )  # the header's note kept
        listed = [[c.value for c in row] for row in copy[RESULT_SHEET].iter_rows(min_row=2)]
        assert [(r[0], r[1], r[2], r[4]) for r in listed] == [
            ("填报.xlsx[学校]", 4, "办学类型", "E4"),
            ("填报.xlsx[班级]", 4, "班额（人）", "D4"),
            ("填报.xlsx[班级]", 5, "学校代码", "B5"),
        ]
        assert (
            copy[RESULT_SHEET]["E2"].hyperlink.location == "'学校'!E4"
            or copy[RESULT_SHEET]["E2"].hyperlink.target == "#'学校'!E4"
        )

    def test_the_marked_copy_checks_like_the_original(
        self, template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Its data sheets are the user's; the 校验结果 sheet is not read as data."""
        book = fill(template, tmp_path / "填报.xlsx", {"学校": SCHOOLS, "班级": CLASSES})
        first = run(capsys, str(book))
        second = run(capsys, str(tmp_path / "填报-校验结果.xlsx"), "--out", str(tmp_path / "again.xlsx"))
        assert second[0] == 2
        assert first[1].count("填报.xlsx[") == second[1].count("填报-校验结果.xlsx[") == 3

    def test_a_missing_column_is_marked_on_the_header_row(
        self, template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A problem with no cell of its own (a required column deleted) is noted on A1 of its sheet."""
        book = openpyxl.load_workbook(io.BytesIO(template))
        book["班级"].delete_cols(4)
        book.save(tmp_path / "填报.xlsx")
        code, out, _ = run(capsys, str(tmp_path / "填报.xlsx"))
        assert code == 2 and "填报.xlsx[班级]:1: 班额: 缺少必填列“班额”（size）" in out
        cell = openpyxl.load_workbook(tmp_path / "填报-校验结果.xlsx")["班级"]["A1"]
        assert cell.fill.fgColor.rgb == RED and cell.comment.text.startswith("✗ 班额：缺少必填列")

    def test_example_left_in_data_is_an_error(
        self, template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An example row half overwritten is reported, not skipped and not loaded."""
        book = fill(template, tmp_path / "填报.xlsx", {"学校": SCHOOLS[:1]})
        copy = openpyxl.load_workbook(book)
        copy["班级"]["A2"] = "C9"
        copy.save(book)
        code, out, _ = run(capsys, str(book))
        assert code == 2 and "填报.xlsx[班级]:2: 学校代码: 仍是模板中的示例内容" in out


class TestOutputs:
    def test_out_must_not_be_the_input(
        self, template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--out naming the input file is refused, and the input is untouched."""
        book = fill(template, tmp_path / "填报.xlsx", {"学校": SCHOOLS})
        before = digest(book)
        code, _, err = run(capsys, str(book), "--out", str(book))
        assert code == 2 and "就是输入文件" in err and digest(book) == before

    def test_replaces_its_own_result_but_not_a_file_someone_saved(
        self, template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A rerun replaces the previous marked copy; once a person has saved it (or it is any other file),
        it is left alone (exit 2, say why)."""
        book = fill(template, tmp_path / "填报.xlsx", {"学校": SCHOOLS})
        marked = tmp_path / "填报-校验结果.xlsx"
        assert run(capsys, str(book))[0] == 2 and marked.is_file()
        assert run(capsys, str(book))[0] == 2
        saved = openpyxl.load_workbook(marked)
        saved.properties.lastModifiedBy = "王老师"
        saved.save(marked)
        before = digest(marked)
        code, _, err = run(capsys, str(book))
        assert code == 2 and "已存在，未覆盖" in err and digest(marked) == before

    def test_folder_with_audit_yaml(self, template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A folder is checked with its audit.yaml; --out gets a marked copy of each workbook with errors,
        and may not lie inside the folder."""
        folder = tmp_path / "audit"
        fill(template, folder / "填报.xlsx", {"学校": SCHOOLS})
        (folder / "audit.yaml").write_text(
            "name: 测试\nas_of: 2025-12-01\nregion: 柳州市\npacks: [core]\n", encoding="utf-8"
        )
        code, out, _ = run(capsys, str(folder))
        assert code == 2 and "填报.xlsx[学校]:4: 办学类型" in out and "--out" in out
        assert run(capsys, str(folder), "--out", str(folder / "marked"))[0] == 2
        assert not (folder / "marked").exists()
        code, out, _ = run(capsys, str(folder), "--out", str(tmp_path / "marked"))
        assert code == 2 and (tmp_path / "marked" / "填报-校验结果.xlsx").is_file()

    def test_folder_without_audit_yaml_checks_the_tables(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """CSV files are checked too; a folder without audit.yaml is noted, not refused."""
        (tmp_path / "schools.csv").write_text(
            "学校代码,学校名称,区县,乡镇,办学类型,办学性质\nS1,甲,城中区,城中街道,小学,公办\n", encoding="utf-8"
        )
        code, out, _ = run(capsys, str(tmp_path))
        assert code == 0 and "没有 audit.yaml" in out

    def test_bad_audit_yaml_is_reported_with_the_data(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A misspelt key in audit.yaml is one more located error."""
        (tmp_path / "schools.csv").write_text(
            "学校代码,学校名称,区县,乡镇,办学类型,办学性质\nS1,甲,城中区,城中街道,小学,公办\n", encoding="utf-8"
        )
        (tmp_path / "audit.yaml").write_text(
            "name: 测试\nas_of: 2025-12-01\nregion: 柳州市\npack: [core]\n", encoding="utf-8"
        )
        code, out, _ = run(capsys, str(tmp_path))
        assert code == 2 and "audit.yaml:4:1: pack: 未知字段" in out

    @pytest.mark.parametrize(
        ("lines", "said"),
        [
            ('packs: [core]\nparams:\n  large_min: "56"\n', "audit.yaml:6:3: params.large_min: 类型应为数值"),
            ("packs: [core]\nparams:\n  nosuch: 1\n", "audit.yaml:6:3: params.nosuch: 所选规则包没有参数“nosuch”"),
            ("packs: [core, nosuch]\n", "找不到规则包“nosuch”"),
        ],
    )
    def test_audit_yaml_is_read_against_its_packs_as_an_audit_reads_it(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: str, said: str
    ) -> None:
        """check said 校验通过 for a folder that audit then refused for its params or packs (a red-team
        pass); both now give the same located error, exit 2."""
        (tmp_path / "schools.csv").write_text(
            "学校代码,学校名称,区县,乡镇,办学类型,办学性质\nS1,甲,城中区,城中街道,小学,公办\n", encoding="utf-8"
        )
        (tmp_path / "audit.yaml").write_text(
            "name: 测试\nas_of: 2025-12-01\nregion: 柳州市\n" + lines, encoding="utf-8"
        )
        code, out, _ = run(capsys, str(tmp_path))
        assert code == 2 and said in out
        assert main(["audit", str(tmp_path), "--out", str(tmp_path.parent / "out"), "--quiet"]) == 2
        assert said in capsys.readouterr().err


class TestHostileInput:
    def test_not_a_workbook(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A file named .xlsx that is no zip: exit 2, located Chinese message, no copy, no traceback."""
        bad = tmp_path / "填报.xlsx"
        bad.write_bytes(b"PK\x03\x04 not really a workbook")
        code, out, err = run(capsys, str(bad))
        assert code == 2 and "填报.xlsx:1: 无法读取 Excel 文件：不是有效的 xlsx（zip）文件" in out
        assert "未生成 填报.xlsx 的标注副本：工作簿本身无法读取" in out
        assert "Traceback" not in out + err and sorted(p.name for p in tmp_path.iterdir()) == ["填报.xlsx"]

    def test_truncated_workbook(self, template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A workbook cut short (a download interrupted): exit 2, located, no traceback."""
        bad = tmp_path / "填报.xlsx"
        bad.write_bytes(template[: len(template) // 2])
        code, out, err = run(capsys, str(bad))
        assert code == 2 and "填报.xlsx:1: 无法读取 Excel 文件" in out and "Traceback" not in out + err

    def test_zip_bomb(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A part that inflates far beyond its compressed size is refused before anything parses it."""
        bad = tmp_path / "填报.xlsx"
        with zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("xl/workbook.xml", "<workbook/>")
            archive.writestr("xl/worksheets/sheet1.xml", b" " * (8 << 20))
        code, out, err = run(capsys, str(bad))
        assert code == 2 and "疑似压缩炸弹" in out and "Traceback" not in out + err

    def test_oversized_file(self, template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """The folder's size limit applies to `check` as to `audit` (lowered in its audit.yaml)."""
        (tmp_path / "audit.yaml").write_text(
            "name: 测试\nas_of: 2025-12-01\nregion: 柳州市\nlimits:\n  file_bytes: 10000\n", encoding="utf-8"
        )
        (tmp_path / "填报.xlsx").write_bytes(template)
        code, out, err = run(capsys, str(tmp_path))
        assert code == 2 and f"填报.xlsx: 文件过大（{len(template)} 字节，上限 10000 字节）" in out
        assert "limits.file_bytes" in out and "Traceback" not in out + err

    def test_neither_folder_nor_data_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A path that does not exist, or a file of another kind, is a usage error (exit 2)."""
        assert run(capsys, str(tmp_path / "nothing.xlsx"))[0] == 2
        (tmp_path / "note.txt").write_text("hello", encoding="utf-8")
        code, _, err = run(capsys, str(tmp_path / "note.txt"))
        assert code == 2 and "不是 .xlsx 或 .csv 文件" in err


def test_exit_codes_are_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`inspector check --help` says what 0 and 2 mean."""
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = capsys.readouterr().out
    assert "0    没有错误" in out and "2    有错误" in out
