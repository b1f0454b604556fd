"""整改通知书: one printable notice per school with findings, `notices/<county>/<school code>.html`.

A folder per county: that is what a county forwards to its schools, and a province's 5,000
notices (a national roll-up's 130,000) in one folder are hard to browse, and slow to create on
some file systems (here, 0.15 ms a file up to 2,000 files, 0.44 ms a file at 5,000)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jinja2

from .issuer import issuer_of
from .names import area_name
from .view import School, schools_of

__all__ = ["NOTICES_DIR", "iter_notices", "notice_path", "render_notices"]

NOTICES_DIR = "notices"


def notice_path(school: School) -> str:
    """A school's notice, relative to the output folder (and the link from report.html)."""
    return f"{NOTICES_DIR}/{area_name(school.county)}/{school.slug}.html"


def render_notices(
    document: Mapping[str, Any],
    source_sha256: str,
    env: jinja2.Environment,
    *,
    schools: Sequence[School] | None = None,
) -> dict[str, bytes]:
    """Notices by relative path (`iter_notices`, held)."""
    return dict(iter_notices(document, source_sha256, env, schools=schools))


def iter_notices(
    document: Mapping[str, Any],
    source_sha256: str,
    env: jinja2.Environment,
    *,
    schools: Sequence[School] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Each notice as (relative path, bytes), one at a time, in its county's folder; a school's file
    is named by its code, made safe and unique (even without regard to case) among the document's
    schools by `names.unique_slugs`. `schools` is `schools_of(document["findings"])` where the caller has it
    already."""
    template = env.get_template("notice.html.j2")
    issuer = issuer_of(document["audit"])
    seen: set[str] = set()
    for school in schools if schools is not None else schools_of(document["findings"]):
        path = notice_path(school)
        assert path not in seen, path  # unique_slugs makes every name distinct
        seen.add(path)
        yield (
            path,
            template.render(
                audit=document["audit"],
                issuer=issuer,
                school=school,
                active=[f for f in school.findings if not f.get("waiver")],
                waived=[f for f in school.findings if f.get("waiver")],
                source_sha256=source_sha256,
            ).encode("utf-8"),
        )
