"""HTML pieces repeated for every finding, built in Python and used as filters by the templates.

A province's report shows thousands of findings several times (a school's table, the list, the
traces), and in a template each of them costs a macro call, a context and an escape per piece
(three quarters of the time of rendering the reports). Here each piece is one function; every
value from the data goes through markupsafe's `escape`, exactly as autoescaping does, so the
pages are the same bytes as when the templates built these pieces themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup

try:  # the function markupsafe's `escape` calls: its C version, as markupsafe itself chooses
    from markupsafe._speedups import _escape_inner as _escape_text
except ImportError:  # pragma: no cover - markupsafe built without its C extension
    from markupsafe._native import _escape_inner as _escape_text

from .format import AREA_LABELS, SEVERITY_LABELS, change_text, date_cn, evidence_groups, threshold_text, waiver_items
from .names import slug
from .view import SEVERITIES

__all__ = [
    "evidence_items",
    "finding_ids",
    "finding_table",
    "list_row",
    "notice_item",
    "observed_html",
    "sev",
    "severity_counts",
    "tags",
    "thresholds_html",
    "trace_article",
    "waiver_html",
]


def _e(value: object) -> str:
    """`value` as autoescaping shows it: markup as it is, anything else as text with `&<>'"`
    replaced by the entities markupsafe uses: its `escape` without building a Markup object (a
    province's pages escape half a million values; markupsafe's own C function, where five
    `str.replace` calls took 0.08 s more)."""
    if type(value) is not str:
        if hasattr(value, "__html__"):
            return str(value.__html__())
        value = str(value)
    return _escape_text(value)


def finding_ids(findings: Iterable[Mapping[str, Any]]) -> Markup:
    """The findings' ids, separated by 、."""
    return Markup("、".join(_e(f["id"]) for f in findings))


def sev(severity: str) -> Markup:
    """A severity as its coloured badge."""
    return Markup(f'<span class="sev sev-{_e(severity)}">{_e(SEVERITY_LABELS[severity])}</span>')


def tags(finding: Mapping[str, Any]) -> Markup:
    """A finding's re-inspection tag (新发现, 复发 …) and waiver tag, each only where it applies."""
    text = ""
    change = change_text(finding)
    if change:
        text = f'<span class="tag tag-{_e(finding["change"])}">{_e(change)}</span>'
    if finding.get("waiver"):
        text += '<span class="tag tag-waived">已豁免</span>'
    elif finding.get("expired_waiver"):
        text += '<span class="tag tag-expired">豁免已过期</span>'
    return Markup(text)


_TABLE_HEAD = """<table class="findings">
  <thead>
    <tr>
      <th class="c-sev">严重程度</th>
      <th>问题</th>
      <th>整改要求</th>
      <th class="c-resp">责任主体</th>
      <th class="c-date">整改期限</th>
      <th class="c-id">追溯</th>
    </tr>
  </thead>
  <tbody>
"""


def finding_table(findings: Iterable[Mapping[str, Any]], trace_link: Callable[[Mapping[str, Any]], str]) -> Markup:
    """A findings table (a school's, a county's own): severity, problem, what to do, who, by when
    and the link to the trace (`trace_link(finding)`, markup)."""
    parts = [_TABLE_HEAD]
    for f in findings:
        rectification = f["rectification"]
        parts.append(
            "    <tr>\n"
            f'      <td class="c-sev">{sev(f["severity"])}</td>\n'
            f"      <td>{_e(f['message'])} {tags(f)}</td>\n"
            f"      <td>{_e(rectification['action'])}</td>\n"
            f'      <td class="c-resp">{_e(rectification["responsible"])}</td>\n'
            f'      <td class="c-date">{_e(rectification["deadline"])}</td>\n'
            f'      <td class="c-id">{trace_link(f)}</td>\n'
            "    </tr>\n"
        )
    parts.append("  </tbody>\n</table>")
    return Markup("".join(parts))


def list_row(row: Mapping[str, Any], trace_link: Callable[[Mapping[str, Any]], str]) -> Markup:
    """A row of the 整改清单 table (`rectification.list_rows`), filterable by county and severity."""
    finding = row["finding"]
    return Markup(
        f'<tr data-county="{_e(row["county"])}" data-severity="{_e(row["severity"])}">\n'
        f'        <td class="num">{_e(row["number"])}</td>\n'
        f"        <td>{_e(row['county'])}</td>\n"
        f"        <td>{_e(row['school'])}</td>\n"
        f"        <td>{_e(row['message'])} {tags(finding)}</td>\n"
        f'        <td class="c-sev" data-sort="{_e(row["severity_rank"])}">{sev(row["severity"])}</td>\n'
        f"        <td>{_e(row['basis'])}</td>\n"
        f"        <td>{_e(row['action'])}</td>\n"
        f"        <td>{_e(row['responsible'])}</td>\n"
        f'        <td class="c-date">{_e(row["deadline"].isoformat())}</td>\n'
        f'        <td class="c-id">{trace_link(finding)}</td>\n'
        "      </tr>"
    )


def observed_html(observed: Sequence[Mapping[str, Any]]) -> Markup:
    """A trace's observed values: label, field and value of each."""
    if not observed:
        return Markup("（无：条件只判断记录有无）")
    return Markup(
        "；".join(f"{_e(o['label'])}（<code>{_e(o['field'])}</code>）= <b>{_e(o['text'])}</b>" for o in observed)
    )


def thresholds_html(thresholds: Sequence[Mapping[str, Any]]) -> Markup:
    """A trace's thresholds: label, parameter and value of each."""
    if not thresholds:
        return Markup("（无）")
    return Markup(
        "；".join(
            f"{_e(t['label'])}（<code>{_e(t['param'])}</code>）= <b>{_e(threshold_text(t))}</b>" for t in thresholds
        )
    )


def evidence_items(evidence: Sequence[Mapping[str, Any]]) -> list[Markup]:
    """A trace's input rows as list items: file, rows and role, and the values shown from them."""
    items = []
    for group in evidence_groups(evidence):
        text = f"<li><code>{_e(group['file'])}</code> 第 {_e('、'.join(map(str, group['rows'])))} 行〔{_e(group['role'])}〕"
        if group["values"]:
            shown = "，".join(f"{_e(k)}={_e(v)}" for k, v in group["values"].items())
            text += f'<span class="values">{shown}</span>'
        items.append(Markup(text + "</li>"))
    return items


def waiver_html(waiver: Any) -> Markup:
    """A waiver's labelled fields (理由：…；批准文号：…)."""
    return Markup("；".join(f"{_e(k)}：{_e(v)}" for k, v in waiver_items(waiver)))


def trace_article(f: Mapping[str, Any]) -> Markup:
    """A finding's trace on its county's traces page: the object, the rule and its basis, scope
    and condition, observed values, thresholds, the input rows, the rectification, and any
    waiver or re-inspection change."""
    basis, rectification = f["basis"], f["rectification"]
    entity = f"{_e(AREA_LABELS.get(f['entity_type'], f['entity_type']))} {_e(f['entity_id'])}"
    if f["school_id"]:
        entity += f"（{_e(f['school_name'])}，学校代码 {_e(f['school_id'])}）"
    entity += f"，{_e(f['county'] or '全市')}"
    if f["township"]:
        entity += f" {_e(f['township'])}"
    scope = f"<dt>适用范围</dt><dd><code>{_e(f['scope'])}</code></dd>" if f["scope"] else ""
    evidence = "".join(f"          {item}\n" for item in evidence_items(f["evidence"]))
    notes = ""
    if f.get("waiver"):
        notes += f"<dt>豁免</dt><dd>已豁免：{waiver_html(f['waiver'])}</dd>"
    if f.get("expired_waiver"):
        notes += f"<dt>豁免</dt><dd>豁免已过期：{waiver_html(f['expired_waiver'])}</dd>"
    change = change_text(f)
    if change:
        notes += f"<dt>复查</dt><dd>{_e(change)}</dd>"
    back = f' · <a href="../report.html#school-{_e(slug(f["school_id"]))}">返回学校</a>' if f["school_id"] else ""
    return Markup(
        f'<article class="trace" id="trace-{_e(slug(f["id"]))}">\n'
        f"    <h4>{sev(f['severity'])} <code>{_e(f['id'])}</code> {_e(f['message'])} {tags(f)}</h4>\n"
        '    <dl class="kv">\n'
        f"      <dt>对象</dt><dd>{entity}</dd>\n"
        f'      <dt>规则</dt><dd><a href="../report.html#rule-{_e(slug(f["rule_id"]))}"><code>{_e(f["rule_id"])}</code></a>'
        f" v{_e(f['rule_version'])} {_e(f['rule_title'])}（规则包 {_e(f['pack'])} {_e(f['pack_version'])}）</dd>\n"
        f"      <dt>依据</dt><dd>{_e(basis['document'])} {_e(basis['section'])}：<q>{_e(basis['quote'])}</q></dd>\n"
        f"{scope}      <dt>问题条件</dt><dd><code>{_e(f['condition'])}</code></dd>\n"
        f"      <dt>观测值</dt><dd>{observed_html(f['observed'])}</dd>\n"
        f"      <dt>阈值</dt><dd>{thresholds_html(f['threshold'])}</dd>\n"
        "      <dt>输入行</dt>\n"
        "      <dd>\n"
        '        <ul class="evidence">\n'
        f"{evidence}"
        "        </ul>\n"
        "      </dd>\n"
        f"      <dt>整改</dt><dd>{_e(rectification['action'])}（责任主体：{_e(rectification['responsible'])}；"
        f"期限：{_e(date_cn(rectification['deadline']))}）</dd>\n"
        f"{notes}    </dl>\n"
        f'    <p class="back"><a href="../report.html#rectification">返回整改清单</a>{back}</p>\n'
        "  </article>"
    )


def severity_counts(counts: Mapping[str, int]) -> Markup:
    """严重 1 项，一般 2 项: the severities that occur, most serious first."""
    return Markup("，".join(f"{_e(SEVERITY_LABELS[s])} {_e(counts[s])} 项" for s in SEVERITIES if counts[s]))


def notice_item(f: Mapping[str, Any], number: int) -> Markup:
    """A problem on a school's notice: what, why, what to do, who, by when (and a lapsed waiver)."""
    basis, rectification = f["basis"], f["rectification"]
    change = change_text(f)
    tag = f'<span class="tag">{_e(change)}</span>' if change else ""
    lapsed = ""
    expired = f.get("expired_waiver")
    if expired:
        document_no = f"（{_e(expired['document_no'])}）" if expired.get("document_no") else ""
        lapsed = (
            f"      <tr><th>说明</th><td>原经{_e(expired.get('authority') or '有关部门')}批准暂缓整改{document_no}，"
            f"已于{_e(date_cn(expired.get('expires')))}到期，须按上述期限整改。</td></tr>\n"
        )
    return Markup(
        '<table class="item">\n'
        f'    <caption><span class="no">{number}</span>{_e(f["message"])}'
        f'<span class="sev sev-{_e(f["severity"])}">{_e(SEVERITY_LABELS[f["severity"]])}</span>{tag}</caption>\n'
        "    <tbody>\n"
        f"      <tr><th>依据</th><td>{_e(basis['document'])} {_e(basis['section'])}：<q>{_e(basis['quote'])}</q></td></tr>\n"
        f"      <tr><th>整改要求</th><td>{_e(rectification['action'])}</td></tr>\n"
        f"      <tr><th>责任主体</th><td>{_e(rectification['responsible'])}</td></tr>\n"
        f'      <tr><th>整改期限</th><td class="deadline">{_e(date_cn(rectification["deadline"]))}前</td></tr>\n'
        f"{lapsed}"
        "    </tbody>\n"
        "  </table>"
    )
