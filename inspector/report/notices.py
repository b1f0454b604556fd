"""整改通知书: a printable notice per school with findings, gathered in one file per county,
`notices/<county>.html`, each school's notice on pages of its own (`#<school code>`).

One file per county: that is what a county prints and forwards to its schools, and a province's
5,000 notices as files of their own were hard to browse and slow to create (on this project's
test machine each new file costs 0.2–0.5 ms of the kernel's time: about 1.5 s of a province audit).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jinja2

from .issuer import issuer_of
from .names import area_name
from .view import School, schools_of

__all__ = ["NOTICES_DIR", "iter_notices", "notice_file", "notice_link", "render_notices"]

NOTICES_DIR = "notices"


def notice_file(county: str) -> str:
    """A county's notices, relative to the output folder (named like its traces page)."""
    return f"{NOTICES_DIR}/{area_name(county)}.html"


def notice_link(school: School) -> str:
    """A school's notice within its county's file (the link from report.html)."""
    return f"{notice_file(school.county)}#{school.slug}"


def render_notices(
    document: Mapping[str, Any],
    source_sha256: str,
    env: jinja2.Environment,
    *,
    schools: Sequence[School] | None = None,
) -> dict[str, bytes]:
    """Notices files by relative path (`iter_notices`, held)."""
    return dict(iter_notices(document, source_sha256, env, schools=schools))


def iter_notices(
    document: Mapping[str, Any],
    source_sha256: str,
    env: jinja2.Environment,
    *,
    schools: Sequence[School] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Each county's notices file as (relative path, bytes), one at a time: its schools by code,
    each anchored by its slug (unique, even without regard to case, among the document's schools:
    `names.unique_slugs`). `schools` is `schools_of(document["findings"])`, or some of them, where
    the caller has it already."""
    template = env.get_template("notices.html.j2")
    issuer = issuer_of(document["audit"])
    counties: dict[str, list[School]] = {}
    for school in schools if schools is not None else schools_of(document["findings"]):
        counties.setdefault(school.county, []).append(school)
    for county, group in counties.items():
        yield (
            notice_file(county),
            template.render(
                audit=document["audit"],
                issuer=issuer,
                county=county,
                notices=[
                    (
                        school,
                        [f for f in school.findings if not f.get("waiver")],
                        [f for f in school.findings if f.get("waiver")],
                    )
                    for school in group
                ],
                source_sha256=source_sha256,
            ).encode("utf-8"),
        )
