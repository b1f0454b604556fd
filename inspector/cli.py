"""The `inspector` command line."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import functools
import os
import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .errors import InspectorError, Problem, UsageError
from .heap import collector_off, keep_to_the_end, kept_to_the_end
from .output.atomic import SetWriter, check_publishable
from .output.paths import check_out_dir, child
from .rules.packs import DEFAULT_RULES_DIR
from .rules.spec import SEVERITY_LABELS, SEVERITY_ORDER

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2  # InspectorError.exit_code: bad input, bad rules, a bad command line
EXIT_ENGINE = 3  # EngineError.exit_code
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
SUMMARY_LINES = 20  # input errors and hints the summary lists; the others are counted and left to findings.json

EXIT_CODES = f"""\
退出码：
  {EXIT_OK}    完成（发现的问题是审核结果，不是错误）
  {EXIT_FINDINGS}    audit/reinspect 的 --fail-on：存在该严重程度及以上、未豁免的问题；
       rules coverage、rules test、verify、ledger verify：发现缺失或不一致
  {EXIT_USAGE}    输入数据、audit.yaml、waivers.yaml、规则包或命令行有误（逐处列出“文件:行:列: 字段: 原因”），
       超出大小限制，或文件无法读写（列出路径与原因）；check：数据有错误；
       explain、report、history、reinspect、verify 读取的 findings.json 不是 JSON、缺少字段、类型不对
       或格式版本更新（逐处列出位置，如 findings[3].severity）
  {EXIT_ENGINE}    规则引擎出错（可加 --workers 1 重新运行以查看原因）
  {EXIT_INTERNAL}   内部错误（程序缺陷）：请用 inspector --debug 加同样的参数重新运行，把完整输出报告给维护者
  {EXIT_INTERRUPTED}  被中断（Ctrl-C）
大小限制（文件大小、YAML 的值个数与嵌套层数、表达式与模板）见 README 的“Limits”一节；
可在 audit.yaml 的 limits: 中调低或在上限内调高。"""

CHECK_EXIT_CODES = f"""\
退出码：
  {EXIT_OK}    没有错误：数据可以直接审核
  {EXIT_USAGE}    有错误（逐处列出“文件:行: 列: 原因”），或输入无法读取、超出大小限制，或命令行有误
  {EXIT_INTERNAL}   内部错误（程序缺陷）：请用 inspector --debug 加同样的参数重新运行，把完整输出报告给维护者
  {EXIT_INTERRUPTED}  被中断（Ctrl-C）"""

# argparse's own messages, in the user's words (the rest of the message is kept as argparse wrote it)
_ARGPARSE_MESSAGES: tuple[tuple[str, str], ...] = (
    (r"the following arguments are required: (.*)", r"缺少必需的参数：\1"),
    (r"unrecognized arguments: (.*)", r"无法识别的参数：\1"),
    (r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)", r"参数 \1：无效的选项 \2（可选：\3）"),
    (r"invalid choice: (.*) \(choose from (.*)\)", r"无效的选项 \1（可选：\2）"),
    (r"argument (\S+): expected one argument", r"参数 \1 需要一个值"),
    (r"argument (\S+): expected at least one argument", r"参数 \1 至少需要一个值"),
    (r"argument (\S+): invalid (\S+) value: (.*)", r"参数 \1 的值无效：\3"),
    (r"argument (\S+): not allowed with argument (.*)", r"参数 \1 不能与 \2 同时使用"),
    (r"ambiguous option: (\S+) could match (.*)", r"选项 \1 有歧义，可能是：\2"),
    (r"argument (\S+): (.*)", r"参数 \1：\2"),
)


class _Formatter(argparse.HelpFormatter):
    """Help in Chinese: the usage line's prefix, and text whose lines are kept (the exit codes)."""

    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = text.splitlines()
        return "\n".join(
            textwrap.fill(
                line, width, initial_indent=indent, subsequent_indent=indent + " " * (len(line) - len(line.lstrip()))
            )
            if line.strip()
            else ""
            for line in lines
        )


class _Parser(argparse.ArgumentParser):
    """argparse with its headings, help option and error messages in Chinese."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示此帮助并退出")

    def error(self, message: str) -> NoReturn:
        for pattern, replacement in _ARGPARSE_MESSAGES:
            translated, count = re.subn(pattern, replacement, message, count=1)
            if count:
                message = translated
                break
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}：错误：{message}\n")


def _os_reason(exc: OSError) -> str:
    """An operating-system error in the user's words."""
    reasons = {
        errno.ENOENT: "文件或文件夹不存在",
        errno.EACCES: "没有权限",
        errno.EPERM: "没有权限",
        errno.ENOSPC: "磁盘空间不足",
        errno.EROFS: "文件系统只读",
        errno.EISDIR: "这是文件夹，不是文件",
        errno.ENOTDIR: "路径中有一段不是文件夹",
        errno.EEXIST: "已有同名的文件或文件夹（路径中的这一段应为文件夹？）",
        errno.ENAMETOOLONG: "名称过长",
        errno.ENOTEMPTY: "文件夹不是空的",
        errno.EBUSY: "正被占用（或是挂载点）",
        errno.EXDEV: "不能跨文件系统移动",
        errno.EDQUOT: "超出磁盘配额",
        errno.EMFILE: "打开的文件过多",
        errno.ELOOP: "符号链接层数过多",
    }
    return reasons.get(exc.errno or 0) or (exc.strerror or str(exc))


def _packs(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为整数：{value}") from None


def build_parser(today: dt.date | None = None) -> argparse.ArgumentParser:
    """The command line; `inspector --help` ends with the exit codes. `--today` options default
    to `today` (the day it is built, by default)."""
    today = today or dt.date.today()
    parser = _Parser(
        prog="inspector",
        description="教育督导规则引擎：按规则包审核学校数据，输出问题与整改清单。",
        epilog=EXIT_CODES,
    )
    parser.add_argument("--debug", action="store_true", help="出错时显示完整的内部调用栈")
    commands = parser.add_subparsers(dest="command", required=True, metavar="命令")

    audit = commands.add_parser(
        "audit",
        help="审核一个督导数据文件夹",
        description="审核一个督导数据文件夹，输出问题清单与整改清单。"
        "输出作为一个整体写入输出文件夹（替换上一次的结果；文件夹中不能有 inspector 以外的文件）。",
        epilog=EXIT_CODES,
    )
    audit.add_argument("folder", type=Path, help="督导数据文件夹（含 audit.yaml）")
    audit.add_argument("--out", type=Path, help="输出文件夹（默认 out/<文件夹名>）")
    audit.add_argument("--packs", type=_packs, help="规则包，逗号分隔（默认取 audit.yaml 中的 packs）")
    audit.add_argument("--keep-going", action="store_true", help="跳过有误的行继续审核，并在所有输出中列出被拒绝的行")
    audit.add_argument("--fail-on", choices=list(SEVERITY_ORDER), help="存在该严重程度及以上的问题时以退出码 1 结束")
    audit.add_argument("--rules", type=Path, default=DEFAULT_RULES_DIR, help="规则包所在目录")
    audit.add_argument("--quiet", action="store_true", help="不显示进度")
    audit.add_argument(
        "--workers",
        type=_integer,
        help="规则评估的进程数（默认：大规模数据按 CPU 核数；1 至 CPU 核数的 4 倍；为 1 时报告也只在本进程中生成）",
    )
    audit.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="在 Dask 集群上按区县分区评估：tcp://主机:端口 连接已有集群，local 在本机启动一个（进程数取 --workers，默认 2）",
    )
    audit.set_defaults(handler=_audit)

    explain = commands.add_parser(
        "explain", help="说明一条问题为何成立", description="说明一条问题：规则、依据、条件、观测值、阈值和输入行。"
    )
    explain.add_argument("finding_id", help="问题编号（如 F-1a2b3c4d5e6f7a8b，可只写前几位）")
    explain.add_argument("--in", dest="out_dir", type=Path, required=True, help="审核输出文件夹（含 findings.json）")
    explain.add_argument("--format", choices=("text", "json"), default="text")
    explain.set_defaults(handler=_explain)

    report = commands.add_parser(
        "report",
        help="根据审核结果重新生成报告，或生成区县版",
        description="根据审核输出文件夹中的 findings.json 生成报告（report.html、rectification.xlsx、整改通知书等）；"
        "用 --county 生成只含一个区县的区县版，用 --all-counties 一次生成每个区县的区县版（没有问题的区县也有）。",
    )
    report.add_argument("out_dir", type=Path, help="审核输出文件夹（含 findings.json）")
    editions = report.add_mutually_exclusive_group()
    editions.add_argument("--county", help="只含该区县的区县版（全称或简称，如 融水苗族自治县、融水县）")
    editions.add_argument(
        "--all-counties",
        action="store_true",
        help="每个区县一个区县版（区域的全部区县，已知区县名单时按名单），各在一个子文件夹，整体写入",
    )
    report.add_argument(
        "--out",
        type=Path,
        help="报告输出文件夹（默认：全市版写回审核输出文件夹，区县版写入其下 counties/<区县>，"
        "--all-counties 写入其下 counties/）",
    )
    report.add_argument("--quiet", action="store_true", help="不显示进度")
    report.set_defaults(handler=_report)

    template = commands.add_parser(
        "template",
        help="生成数据填报模板（Excel 工作簿）",
        description="生成供学校填报的 Excel 工作簿：所选规则包读取的每个数据表一个工作表（含统计表），中文表头与单位、"
        "示例行、选项下拉框（含区域的区县）、数字格式与合理范围校验，另有“说明”表列出每一列及读取它的规则。"
        "填好的工作簿可直接放入督导数据文件夹，或先用 inspector check 校验。",
        epilog=EXIT_CODES,
    )
    template.add_argument("--packs", type=_packs, help="规则包，逗号分隔（默认：--config 中的 packs，否则全部规则包）")
    template.add_argument("--region", help="区域，决定“区县”的下拉选项（默认：--config 中的 region，否则 柳州市）")
    template.add_argument(
        "--config", type=Path, metavar="AUDIT_YAML", help="取用一个 audit.yaml 的 region、divisions（区县名单）和 packs"
    )
    template.add_argument("--rules", type=Path, default=DEFAULT_RULES_DIR, help="规则包所在目录")
    template.add_argument("--out", type=Path, default=Path("填报模板.xlsx"), help="输出的工作簿（默认 填报模板.xlsx）")
    template.add_argument("--force", action="store_true", help="覆盖已有的同名文件（默认不覆盖，以免覆盖已填好的数据）")
    template.set_defaults(handler=_template)

    check = commands.add_parser(
        "check",
        help="校验填好的工作簿或督导数据文件夹（不审核）",
        description="用与 inspector audit 相同的读取与校验规则载入数据，但不审核：一次列出全部错误"
        "（“文件:行: 列: 原因”）。对工作簿，另存一份副本，出错的单元格标红并以批注说明原因，首个工作表“校验结果”列出全部错误；"
        "输入文件从不改动。",
        epilog=CHECK_EXIT_CODES,
    )
    check.add_argument(
        "path", type=Path, metavar="FOLDER_OR_WORKBOOK", help="督导数据文件夹，或一个 .xlsx / .csv 数据文件"
    )
    check.add_argument(
        "--out",
        type=Path,
        help="标注副本：对工作簿为输出文件（默认与输入同一文件夹的 <文件名>-校验结果.xlsx）；"
        "对文件夹为存放各工作簿标注副本的文件夹（不给则只列出错误）",
    )
    check.add_argument(
        "--rules", type=Path, default=DEFAULT_RULES_DIR, help="规则包所在目录（核对 audit.yaml 的 packs 与 params）"
    )
    check.set_defaults(handler=_check)

    _history_parsers(commands, today)
    _web_parsers(commands, today)

    rules = commands.add_parser("rules", help="查看和检查规则包")
    rules.add_argument("--rules", type=Path, default=DEFAULT_RULES_DIR, help="规则包所在目录")
    rule_commands = rules.add_subparsers(dest="rules_command", required=True, metavar="子命令")
    listing = rule_commands.add_parser("list", help="列出规则")
    listing.add_argument("--packs", type=_packs, help="规则包，逗号分隔（默认全部）")
    listing.set_defaults(handler=_rules_list)
    show = rule_commands.add_parser("show", help="显示一条规则的全部内容")
    show.add_argument("rule_id")
    show.set_defaults(handler=_rules_show)
    lint = rule_commands.add_parser("lint", help="检查全部规则包（结构、表达式、模板、参数、重复 id）")
    lint.set_defaults(handler=_rules_lint)
    fields = rule_commands.add_parser("fields", help="列出规则可用的字段（按对象类型）")
    fields.add_argument(
        "kind", nargs="?", help="对象类型：class、school、school_stage、teacher、township、county、county_metric、city"
    )
    fields.set_defaults(handler=_rules_fields)
    cover = rule_commands.add_parser("coverage", help="规划需求清单的覆盖情况（已检查 / 不可检查 / 缺少规则）")
    cover.set_defaults(handler=_rules_coverage)
    test = rule_commands.add_parser("test", help="运行规则包自带的用例，核对每条规则的问题、通过与未评估对象")
    test.add_argument("pack")
    test.set_defaults(handler=_rules_test)
    return parser


def _day(value: str) -> dt.date:
    from .limits import AS_OF_EARLIEST, AS_OF_LATEST

    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应写作 YYYY-MM-DD：{value}") from None
    if not AS_OF_EARLIEST <= day <= AS_OF_LATEST:
        raise argparse.ArgumentTypeError(f"日期 {value} 不在允许范围内（{AS_OF_EARLIEST} 至 {AS_OF_LATEST}）")
    return day


def _history_parsers(commands: argparse._SubParsersAction, today: dt.date) -> None:  # type: ignore[type-arg]
    """reinspect, ledger, verify and history: the audit history and the rectification ledger."""
    from .history.location import DEFAULT_DB, DEFAULT_LIFECYCLE, parse_db

    # `ledger`'s subcommands repeat its options with no default of their own, so that
    # `inspector ledger --db X update …` and `inspector ledger update … --db X` mean the same
    def db_option(parser: argparse.ArgumentParser, sub: bool = False) -> None:
        parser.add_argument(
            "--db",
            type=parse_db,
            default=argparse.SUPPRESS if sub else DEFAULT_DB,
            help="历史库：SQLite 文件（默认当前文件夹下的 inspector.sqlite），"
            "或数据库地址（sqlite:///路径、postgresql+psycopg://用户:密码@主机:端口/数据库）",
        )

    def today_option(parser: argparse.ArgumentParser, sub: bool = False) -> None:
        parser.add_argument(
            "--today",
            type=_day,
            default=argparse.SUPPRESS if sub else today,
            help="按哪一天处理（YYYY-MM-DD，默认今天）",
        )

    def lifecycle_option(parser: argparse.ArgumentParser, sub: bool = False) -> None:
        parser.add_argument(
            "--lifecycle",
            type=Path,
            default=argparse.SUPPRESS if sub else DEFAULT_LIFECYCLE,
            help="整改台账生命周期文件（默认 rules/lifecycle.yaml）",
        )

    reinspect = commands.add_parser(
        "reinspect",
        help="复查：审核新数据，并与上一次审核对比（新发现、仍存在、已整改、复发）",
        description="复查：审核新的督导数据文件夹，与上一次审核（输出文件夹或历史库中的审核编号）对比，"
        "标出每项问题是新发现、仍存在还是复发，列出已整改和无法核实的问题，并更新历史库和整改台账。",
    )
    reinspect.add_argument("folder", type=Path, help="新的督导数据文件夹（含 audit.yaml）")
    reinspect.add_argument(
        "--against", required=True, help="上一次审核：其输出文件夹（含 findings.json），或历史库中的审核编号"
    )
    reinspect.add_argument("--out", type=Path, help="输出文件夹（默认 out/<文件夹名>）")
    reinspect.add_argument("--packs", type=_packs, help="规则包，逗号分隔（默认取 audit.yaml 中的 packs）")
    reinspect.add_argument("--keep-going", action="store_true", help="跳过有误的行继续审核")
    reinspect.add_argument("--rules", type=Path, default=DEFAULT_RULES_DIR, help="规则包所在目录")
    reinspect.add_argument("--workers", type=_integer, help="规则评估的进程数（1 至 CPU 核数的 4 倍）")
    reinspect.add_argument("--quiet", action="store_true", help="不显示进度")
    db_option(reinspect)
    today_option(reinspect)
    lifecycle_option(reinspect)
    reinspect.set_defaults(handler=_reinspect)

    ledger = commands.add_parser(
        "ledger",
        help="整改台账：列出、变更状态、查看记录、校验",
        description="整改台账：不带子命令时列出台账事项（可按区县、学校、状态筛选）；先按 --today 执行到期的自动流转（逾期督办等）。",
    )
    db_option(ledger)
    today_option(ledger)
    lifecycle_option(ledger)
    ledger.add_argument("--county", help="只列该区县")
    ledger.add_argument("--school", help="只列该学校（学校代码或名称中的文字）")
    ledger.add_argument(
        "--state", action="append", default=[], help="只列该状态（待整改、整改中、待复查、已销号、逾期、暂缓；可重复）"
    )
    ledger.add_argument("--format", choices=("text", "json"), default="text")
    ledger.set_defaults(handler=_ledger_list)
    ledger_commands = ledger.add_subparsers(dest="ledger_command", metavar="子命令")
    update = ledger_commands.add_parser(
        "update",
        help="变更一项的状态",
        description="变更一项台账事项的状态；生命周期不允许的变更会被拒绝，并列出当前允许的变更。",
    )
    update.add_argument("finding_id", help="问题编号（可只写前几位）")
    update.add_argument("--to", required=True, help="新状态（如 整改中、待复查、已销号）")
    update.add_argument("--by", required=True, help="变更人（姓名与单位）")
    update.add_argument("--note", required=True, help="变更理由或依据（如整改方案文号）")
    db_option(update, sub=True)
    today_option(update, sub=True)
    lifecycle_option(update, sub=True)
    update.set_defaults(handler=_ledger_update)
    show = ledger_commands.add_parser("show", help="查看一项的状态、各次审核结果和全部事件")
    show.add_argument("finding_id")
    show.add_argument("--format", choices=("text", "json"), default=argparse.SUPPRESS)
    db_option(show, sub=True)
    lifecycle_option(show, sub=True)
    show.set_defaults(handler=_ledger_show)
    check = ledger_commands.add_parser("verify", help="校验台账事件的哈希链（事件被修改或删除时以退出码 1 结束）")
    check.add_argument(
        "--head", help="另行保存的末尾哈希（inspector ledger head 的输出，至少前 12 位）：不符时以退出码 1 结束"
    )
    db_option(check, sub=True)
    lifecycle_option(check, sub=True)
    check.set_defaults(handler=_ledger_verify)
    head = ledger_commands.add_parser(
        "head",
        help="输出台账的末尾哈希，供另行保存，日后用 inspector verify --head 核对",
        description="校验台账后输出其末尾哈希（最后一条事件的哈希）。把它保存在历史库之外（如督导记录中），"
        "日后用 inspector verify --head 哈希 核对：台账被改写或截断时以退出码 1 结束。",
    )
    db_option(head, sub=True)
    lifecycle_option(head, sub=True)
    head.set_defaults(handler=_ledger_head)

    verify = commands.add_parser(
        "verify",
        help="校验历史库：重算审核的输入、规则包和输出的 sha256，并校验台账哈希链",
        description="重算历史库中审核的输入、规则包和输出文件的 sha256，与导入时的记录比对；并逐条校验整改台账事件的哈希链。"
        "发现不一致时以退出码 1 结束。",
    )
    verify.add_argument("audit_id", nargs="?", help="审核编号（可只写前几位；默认全部审核）")
    verify.add_argument(
        "--head", help="另行保存的台账末尾哈希（inspector ledger head 的输出，至少前 12 位）：不符时以退出码 1 结束"
    )
    db_option(verify)
    lifecycle_option(verify)
    verify.set_defaults(handler=_verify)

    history = commands.add_parser("history", help="历史库：导入审核、列出审核、指标趋势")
    history_commands = history.add_subparsers(dest="history_command", required=True, metavar="子命令")
    imp = history_commands.add_parser("import", help="把一次审核的输出文件夹导入历史库（重复导入不会重复记录）")
    imp.add_argument("out_dir", type=Path, help="审核输出文件夹（含 findings.json）")
    imp.add_argument("--source", type=Path, help="该审核的数据文件夹（记录后 verify 可复核输入文件）")
    imp.add_argument("--rules", type=Path, default=DEFAULT_RULES_DIR, help="该审核所用规则包的目录")
    db_option(imp)
    today_option(imp)
    lifecycle_option(imp)
    imp.set_defaults(handler=_history_import)
    listing = history_commands.add_parser("list", help="列出历史库中的审核")
    db_option(listing)
    listing.set_defaults(handler=_history_list)
    trends = history_commands.add_parser("trends", help="各区县指标值的历年变化")
    trends.add_argument("--rule", help="只列该规则")
    trends.add_argument("--county", help="只列该区县")
    db_option(trends)
    trends.set_defaults(handler=_history_trends)


def _web_parsers(commands: argparse._SubParsersAction, today: dt.date) -> None:  # type: ignore[type-arg]
    """serve, users and runs: the review and rectification web application."""
    from .history.location import DEFAULT_DB, parse_db

    def db_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--db",
            type=parse_db,
            default=DEFAULT_DB,
            help="历史库：SQLite 文件（默认 inspector.sqlite）或数据库地址（postgresql+psycopg://用户:密码@主机:端口/数据库）",
        )

    serve = commands.add_parser(
        "serve",
        help="启动督导整改网页平台",
        description="启动督导整改网页平台（督学、区县、学校、审计、管理员）；启动时建立或升级历史库。"
        "Cookie 只经 HTTPS 或本机地址（127.0.0.1、localhost）发送：对外服务请置于 HTTPS 之后。",
    )
    db_option(serve)
    serve.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    serve.add_argument("--port", type=_integer, default=8000, help="端口（默认 8000；0：由系统选一个空闲端口）")
    serve.add_argument(
        "--evidence-dir", type=Path, help="整改材料的存放文件夹（默认：SQLite 历史库旁的 <库名>.evidence）"
    )
    serve.add_argument(
        "--demo", type=Path, metavar="OUT", help="演示：导入该审核输出文件夹，并为每个角色建立一个账号，打印一次性密码"
    )
    serve.add_argument("--source", type=Path, metavar="FOLDER", help="与 --demo 同用：该审核的数据文件夹（供学校自查）")
    serve.add_argument("--today", type=_day, help=argparse.SUPPRESS)
    serve.set_defaults(handler=_serve)

    users = commands.add_parser("users", help="网页平台的账号")
    user_commands = users.add_subparsers(dest="users_command", required=True, metavar="子命令")
    add = user_commands.add_parser(
        "add",
        help="新建账号（密码从标准输入读取）",
        description="新建网页平台账号；密码从标准输入读取一行（至少 10 个字符），不出现在命令行和日志中。",
    )
    add.add_argument("name", help="用户名")
    add.add_argument(
        "--role", required=True, choices=["admin", "inspector", "county", "school", "auditor"], help="角色"
    )
    add.add_argument("--county", help="区县账号所属区县（如 柳北区）")
    add.add_argument("--school", help="学校账号所属学校（学校代码）")
    add.add_argument("--display-name", help="显示的姓名或单位（默认同用户名）")
    db_option(add)
    add.set_defaults(handler=_users_add)

    runs = commands.add_parser("runs", help="网页平台的审核批次")
    run_commands = runs.add_subparsers(dest="runs_command", required=True, metavar="子命令")
    imp = run_commands.add_parser("import", help="导入一次审核的输出文件夹（与网页上的导入相同）")
    imp.add_argument("out_dir", type=Path, help="inspector audit 的输出文件夹（含 findings.json）")
    db_option(imp)
    imp.add_argument("--source", type=Path, help="该审核的数据文件夹（核对其 sha256 后记录；学校自查以它为基础）")
    imp.add_argument("--today", type=_day, default=today, help="按哪一天记录（YYYY-MM-DD，默认今天）")
    imp.set_defaults(handler=_runs_import)


def _serve(args: argparse.Namespace) -> int:
    from .web.serve import demo, run_server
    from .web.settings import Settings

    overrides: dict[str, Any] = {}
    if args.evidence_dir is not None:
        overrides["evidence_dir"] = args.evidence_dir
    if args.today is not None:
        day = args.today
        overrides["today"] = lambda: day
    settings = Settings.for_db(args.db, **overrides)
    if args.demo is not None:
        print("\n".join(demo(args.db, args.demo, args.today or dt.date.today(), args.source)), flush=True)
    run_server(settings, args.host, args.port, lambda line: print(line, flush=True))
    return 0


def _users_add(args: argparse.Namespace) -> int:
    from .web.serve import add_user

    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise UsageError("请从标准输入提供密码（一行）")
    print(
        add_user(
            args.db,
            args.name,
            password,
            args.role,
            county=args.county,
            school=args.school,
            display_name=args.display_name,
        )
    )
    return 0


def _runs_import(args: argparse.Namespace) -> int:
    from .web.serve import import_command

    print(import_command(args.db, args.out_dir, args.today, args.source))
    return 0


def _reinspect(args: argparse.Namespace) -> int:
    from .history.commands import reinspect, render_reinspect
    from .progress import progress_printer
    from .workers import requested_workers

    out_dir = args.out or Path("out") / args.folder.resolve().name
    check_publishable(out_dir, inputs=[args.folder])  # before the audit's work, not after it
    workers = requested_workers(args.workers, os.environ)
    with progress_printer(enabled=not args.quiet) as progress:
        report, lifecycle = reinspect(
            args.db,
            args.folder,
            args.against,
            out_dir,
            today=args.today,
            packs=args.packs,
            rules_dir=args.rules,
            keep_going=args.keep_going,
            workers=workers,
            progress=progress,
            lifecycle_path=args.lifecycle,
        )
    print(render_reinspect(report, lifecycle))
    return 0


def _ledger_list(args: argparse.Namespace) -> int:
    from .history.commands import ledger_list

    print(
        ledger_list(
            args.db,
            today=args.today,
            county=args.county,
            school=args.school,
            states=args.state,
            fmt=args.format,
            lifecycle_path=args.lifecycle,
        )
    )
    return 0


def _ledger_update(args: argparse.Namespace) -> int:
    from .history.commands import ledger_update

    print(
        ledger_update(
            args.db,
            args.finding_id,
            to=args.to,
            by=args.by,
            note=args.note,
            today=args.today,
            lifecycle_path=args.lifecycle,
        )
    )
    return 0


def _ledger_show(args: argparse.Namespace) -> int:
    from .history.commands import ledger_show

    print(ledger_show(args.db, args.finding_id, fmt=args.format, lifecycle_path=args.lifecycle))
    return 0


def _ledger_verify(args: argparse.Namespace) -> int:
    from .history.commands import verify

    text, ok = verify(args.db, ledger_only=True, lifecycle_path=args.lifecycle, head=args.head)
    print(text)
    return 0 if ok else EXIT_FINDINGS


def _ledger_head(args: argparse.Namespace) -> int:
    from .history.commands import ledger_head

    print(ledger_head(args.db, lifecycle_path=args.lifecycle))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from .history.commands import verify

    text, ok = verify(args.db, args.audit_id, lifecycle_path=args.lifecycle, head=args.head)
    print(text)
    return 0 if ok else EXIT_FINDINGS


def _history_import(args: argparse.Namespace) -> int:
    from .history.commands import import_audit, render_import

    report, lifecycle = import_audit(
        args.db, args.out_dir, today=args.today, source=args.source, rules_dir=args.rules, lifecycle_path=args.lifecycle
    )
    print(render_import(report, lifecycle))
    return 0


def _history_list(args: argparse.Namespace) -> int:
    from .history.commands import list_audits

    print(list_audits(args.db))
    return 0


def _history_trends(args: argparse.Namespace) -> int:
    from .history.commands import trends_text

    print(trends_text(args.db, rule=args.rule, county=args.county))
    return 0


def _audit(args: argparse.Namespace) -> int:
    from .audit import run_audit
    from .progress import progress_printer
    from .publish import write_outputs
    from .workers import requested_workers

    out_dir = args.out or Path("out") / args.folder.resolve().name
    check_publishable(out_dir, inputs=[args.folder])  # before the audit's work, not after it
    workers = requested_workers(args.workers, os.environ)
    with progress_printer(enabled=not args.quiet) as progress:
        result = run_audit(
            args.folder,
            packs=args.packs,
            keep_going=args.keep_going,
            rules_dir=args.rules,
            progress=progress,
            workers=workers,
            dask=args.dask,
        )
        written = write_outputs(
            result, out_dir, keep_going=args.keep_going, progress=progress, release=True, workers=workers
        )
    _print_summary(result, out_dir, written)
    _leave(result)
    if args.fail_on:
        limit = SEVERITY_ORDER[args.fail_on]
        waived = result.waivers.applied if result.waivers is not None else {}
        # a finding under a valid waiver (暂缓) is not a reason to fail the run
        if any(SEVERITY_ORDER[f.severity] <= limit and f.id not in waived for f in result.findings):
            return EXIT_FINDINGS
    return 0


def _print_summary(result: object, out_dir: Path, written: dict[str, Path]) -> None:
    from .audit import AuditResult

    assert isinstance(result, AuditResult)
    counts = {s: 0 for s in SEVERITY_ORDER}
    for finding in result.findings:
        counts[finding.severity] += 1
    rows = result.dataset.inputs
    print(f"审核完成：{result.config.name}（基准日 {result.config.as_of}）")
    print(
        f"  输入：读取 {sum(i.rows_read for i in rows)} 行，载入 {sum(i.rows_loaded for i in rows)} 行，拒绝 {sum(i.rows_rejected for i in rows)} 行"
    )
    if result.rejected:
        print(f"  注意：{len(result.rejected)} 处输入错误，相关行未参与审核：")
        for problem in result.rejected[:SUMMARY_LINES]:
            print(f"    {problem}")
        if len(result.rejected) > SUMMARY_LINES:
            print(f"    …… 其余 {len(result.rejected) - SUMMARY_LINES} 处见 findings.json 的 rejected_rows")
    print(
        f"  问题：共 {len(result.findings)} 项（"
        + "，".join(f"{SEVERITY_LABELS[s]} {n}" for s, n in counts.items())
        + "）"
    )
    skipped = [o for o in result.outcomes.values() if not o.evaluated]
    for outcome in skipped:
        print(f"  未评估：{outcome.rule.id}（{outcome.skipped_reason}）")
    if result.gaps:
        print(f"  数据缺失：{len(result.gaps)} 个对象未能评估，见 findings.json 的 data_gaps")
    warnings = result.dataset.warnings
    for warning in warnings[:SUMMARY_LINES]:
        print(f"  提示：{warning}")
    if len(warnings) > SUMMARY_LINES:
        print(f"    …… 其余 {len(warnings) - SUMMARY_LINES} 条提示见 findings.json 的 audit.warnings")
    if result.waivers is not None:
        from .waivers import summary_lines

        print("\n".join(summary_lines(result.waivers)))
    print(f"  输出：{out_dir}/（" + "、".join(sorted(written)) + "）")


def _explain(args: argparse.Namespace) -> int:
    from .explain import explain

    print(explain(args.out_dir, args.finding_id, args.format))
    return 0


def _report(args: argparse.Namespace) -> int:
    from .progress import progress_printer
    from .report import ReportProcess, add_reports, county_document, load_source, resolve_county, write_reports

    document, sha256, source = load_source(args.out_dir)
    if args.all_counties:
        return _all_counties(args, document, sha256)
    county = resolve_county(document, args.county) if args.county else None
    # a county's name comes from the data: one path component, never `..` or a separator
    out = args.out or (child(args.out_dir / "counties", county) if county else args.out_dir)
    if county and check_out_dir(out) == args.out_dir.resolve():
        raise UsageError(
            "区县版不能写入审核输出文件夹本身（那里的 findings.json 含全市数据）：请用 --out 指定另一个文件夹"
        )
    check_publishable(out)
    with progress_printer(enabled=not args.quiet) as progress, ReportProcess(len(document["findings"])) as helper:

        def add(writer: SetWriter) -> None:
            helper.start(writer, source, sha256, county=county, rebuild=True)
            add_reports(writer, document, sha256, county=county, rebuild=True, shared=helper, progress=progress)

        files = write_reports(out, add)
    shown = county_document(document, county) if county else document
    notices = len({f["school_id"] for f in shown["findings"] if f.get("school_id") is not None})
    edition = f"区县版（{county}）" if county else "全市版"
    print(
        f"报告已生成：{edition}，{out}/（{'、'.join(sorted(n for n in files if '/' not in n))}，整改通知书 {notices} 份）"
    )
    return 0


def _all_counties(args: argparse.Namespace, document: dict[str, Any], sha256: str) -> int:
    """Every county's edition, one sub-folder each, published as one set (each sub-folder a set of
    its own, so `--county` can later replace one of them)."""
    from .output.atomic import nested_sets, publish_set
    from .output.paths import path_component
    from .progress import progress_printer
    from .report import county_document, county_names, render_reports

    out = args.out or args.out_dir / "counties"
    if check_out_dir(out) == args.out_dir.resolve():
        raise UsageError(
            "区县版不能写入审核输出文件夹本身（那里的 findings.json 含全市数据）：请用 --out 指定另一个文件夹"
        )
    names = county_names(document)
    if not names:
        raise UsageError("findings.json 中没有任何区县：无法生成区县版")
    check_publishable(out)
    with progress_printer(enabled=not args.quiet) as progress:
        editions: dict[str, dict[str, bytes]] = {}
        clean: list[str] = []
        for done, name in enumerate(names, start=1):
            edition = county_document(document, name)
            if not edition["summary"]["total"]:
                clean.append(name)
            editions[path_component(name)] = render_reports(edition, sha256, rebuild=True)
            progress("生成区县版", done, len(names))
        publish_set(out, nested_sets(editions), lambda done, total: progress("写入区县版", done, total))
    print(
        f"区县版已生成：{len(names)} 个区县，{out}/（{'、'.join(names)}）"
        + (f"；其中没有问题的：{'、'.join(clean)}" if clean else "")
    )
    return 0


def _template(args: argparse.Namespace) -> int:
    from .entry.columns import pack_reads
    from .entry.files import write_workbook
    from .entry.template import template_workbook
    from .records.config import load_config
    from .records.regions import region_divisions
    from .rules.packs import available_packs

    config = None
    if args.config is not None:
        folder = args.config if args.config.is_dir() else args.config.parent
        if not args.config.is_dir() and args.config.name != "audit.yaml":
            raise UsageError(f"--config 应为 audit.yaml 或其所在的文件夹：{args.config}")
        config = load_config(folder)
    packs = args.packs or (list(config.packs) if config else available_packs(args.rules))
    if not packs:
        raise UsageError(f"{args.rules} 中没有规则包（应为 <包名>/pack.yaml）")
    region = args.region or (config.region if config else "柳州市")
    divisions = region_divisions(region, config.divisions if config and region == config.region else None)
    reads = pack_reads(packs, args.rules)
    data = template_workbook(reads, region=region, divisions=divisions)
    write_workbook(args.out, data, replace=args.force)
    from .records.schema import RECORD_KINDS

    sheets = "、".join(RECORD_KINDS[kind].label for kind in reads.kinds)
    shown = (
        f"区县下拉选项 {len(divisions)} 个" if divisions else f"区域“{region}”没有内置的区县名单，区县列不设下拉选项"
    )
    print(f"已生成填报模板：{args.out}（工作表：{sheets}、说明；规则包：{'、'.join(reads.packs)}；{shown}）")
    return 0


def _check(args: argparse.Namespace) -> int:
    from .entry.check import check_path

    report = check_path(args.path, args.rules)
    for note in report.notes:
        print(f"注意：{note}")
    if report.ignored:
        print(f"未使用的文件：{'、'.join(report.ignored)}")
    rows = report.inputs
    print(
        f"读取 {sum(i.rows_read for i in rows)} 行，可载入 {sum(i.rows_loaded for i in rows)} 行，"
        f"有误 {sum(i.rows_rejected for i in rows)} 行（{len(rows)} 个数据表）"
    )
    if report.clean:
        empty = "（还没有任何数据行：示例行不计）" if not sum(i.rows_read for i in rows) else ""
        print(f"校验通过：没有发现错误。{empty}")
        return EXIT_OK
    print(f"发现 {len(report.problems)} 处错误：")
    for problem in report.problems:
        print(f"  {problem}")
    if args.path.is_dir():
        books = sorted(
            p
            for p in args.path.iterdir()
            if p.is_file() and p.suffix.lower() == ".xlsx" and not p.name.startswith((".", "~$"))
        )
        if args.out is None:
            if books:
                print("可加 --out 文件夹，得到标出错误单元格的工作簿副本。")
            return EXIT_USAGE
        folder = args.out.resolve()
        if folder == args.path.resolve() or args.path.resolve() in folder.parents:
            raise UsageError(f"--out {args.out} 在督导数据文件夹之中：标注副本会被当作数据读入，请另选文件夹")
        pairs = [(book, args.out / f"{book.stem}-校验结果.xlsx") for book in books]
    elif args.path.suffix.lower() == ".xlsx":
        pairs = [(args.path, args.out or args.path.with_name(f"{args.path.stem}-校验结果.xlsx"))]
    else:
        pairs = []
    for book, out in pairs:
        _write_marked(book, out, report.problems)
    return EXIT_USAGE


def _write_marked(book: Path, out: Path, problems: Sequence[Problem]) -> None:
    """Write the marked copy of one workbook, or say why there is none."""
    from .entry.check import mark_workbook, markable, sheet_of
    from .entry.files import made_by, write_workbook

    own = [p for p in problems if sheet_of(p, book.name) is not None or p.file == book.name]
    if not own:
        return
    reason = markable(book, own)
    if reason is not None:
        print(f"未生成 {book.name} 的标注副本：{reason}。")
        return
    try:
        data = mark_workbook(book, own)
    except Exception as exc:  # noqa: BLE001  openpyxl on a workbook the loader could read: say so, never a traceback
        print(f"未生成 {book.name} 的标注副本：无法用 openpyxl 打开该工作簿（{type(exc).__name__}）。")
        return
    write_workbook(out, data, replace=out.is_file() and made_by(out), inputs=(book,))
    audit_folder = (out.resolve().parent / "audit.yaml").is_file()
    warning = "；它位于督导数据文件夹中，审核前请移走（否则同一数据出现两处）" if audit_folder else ""
    print(f"已生成标注副本：{out}（出错的单元格标红并附批注，首个工作表“校验结果”列出全部错误{warning}）")


def _rules_list(args: argparse.Namespace) -> int:
    from .catalog import list_rules

    print(list_rules(args.rules, args.packs))
    return 0


def _rules_show(args: argparse.Namespace) -> int:
    from .catalog import show_rule

    print(show_rule(args.rules, args.rule_id))
    return 0


def _rules_lint(args: argparse.Namespace) -> int:
    from .catalog import lint

    print(lint(args.rules))
    return 0


def _rules_fields(args: argparse.Namespace) -> int:
    from .catalog import list_fields

    print(list_fields(args.rules, args.kind))
    return 0


def _rules_coverage(args: argparse.Namespace) -> int:
    from .catalog import coverage

    text, ok = coverage(args.rules)
    print(text)
    return 0 if ok else EXIT_FINDINGS


def _rules_test(args: argparse.Namespace) -> int:
    from .catalog import run_pack_cases

    text, ok = run_pack_cases(args.rules, args.pack)
    print(text)
    return 0 if ok else EXIT_FINDINGS


@functools.lru_cache(maxsize=1)
def _parser_of(today: dt.date) -> argparse.ArgumentParser:
    """The command line built once per process and day: `--today` options default to the day it
    was built (parsing leaves a parser as it was, so one serves every `main` call of that day)."""
    return build_parser(today)


# set by `run` (the console script, `python -m inspector.cli`): this process runs one command, then exits
_ONE_COMMAND = False


def run() -> int:
    """The `inspector` command: `main` in a process of its own."""
    global _ONE_COMMAND
    _ONE_COMMAND = True
    return main()


def console() -> NoReturn:
    """The console script and `python -m inspector.cli`: `run`, then out. A batch command that
    ended (`_leave`) leaves without the interpreter's teardown, which freed its results object by
    object: a province audit's 0.03 s for the result, and 0.02–0.04 s of teardown. Its outputs are
    published and closed by then, and it opened no store (a command that did, exits as usual)."""
    code = _flushed(run())
    if kept_to_the_end():
        os._exit(code)
    sys.exit(code)


def _flushed(code: int) -> int:
    """`code` once what the command printed is written out; a reader that went away (`| head`)
    as `main` takes it, and output that cannot be written (a full disk) exit 2 with why, where
    Python's own shutdown made it exit 120 with a traceback."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as exc:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        with contextlib.suppress(OSError):
            print(
                f"无法写出命令的输出：{_os_reason(exc)}。请检查输出重定向到的文件与磁盘空间。",
                file=sys.stderr,
                flush=True,
            )
        return code or EXIT_USAGE
    return code


def _leave(result: object) -> None:
    """In a process of one command (`console`), `result` goes with the process instead of being
    freed when the command returns."""
    if _ONE_COMMAND:
        keep_to_the_end(result)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser_of(dt.date.today())
    args = parser.parse_args(argv)
    try:
        # a command runs without the cyclic collector, except the web server (`heap`)
        with contextlib.nullcontext() if args.handler is _serve else collector_off(to_the_end=_ONE_COMMAND):
            return int(args.handler(args))
    except InspectorError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`inspector rules list | head`): not an error; keep Python's
        # interpreter shutdown from complaining about the closed stdout
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        # a path that is a file, not a folder; no permission; a full disk: the user's to fix
        if args.debug:
            raise
        where = f"{exc.filename}：" if exc.filename else ""
        print(f"无法读写文件：{where}{_os_reason(exc)}。请检查路径、权限和磁盘空间。", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if args.debug:
            raise
        command = " ".join(sys.argv[1:]) if argv is None else " ".join(argv)
        print(
            f"内部错误（{type(exc).__name__}）：这是 inspector 的缺陷，不是您的数据问题。已发布的输出未被改动。\n"
            f"请用同样的参数加 --debug 重新运行（inspector --debug {command}），并把完整输出报告给维护者。",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    console()
