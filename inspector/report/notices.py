"""整改通知书: one printable notice per school with findings, `notices/<school code>.html`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jinja2

from .issuer import issuer_of
from .view import School, schools_of

__all__ = ["NOTICES_DIR", "render_notices"]

NOTICES_DIR = "notices"


def render_notices(
    document: Mapping[str, Any],
    source_sha256: str,
    env: jinja2.Environment,
    *,
    schools: Sequence[School] | None = None,
) -> dict[str, bytes]:
    """Notices by relative path; a school's file is named by its code, made safe and unique (even
    without regard to case) among the document's schools by `names.unique_slugs`. `schools` is
    `schools_of(document["findings"])` where the caller has it already."""
    template = env.get_template("notice.html.j2")
    issuer = issuer_of(document["audit"])
    files: dict[str, bytes] = {}
    for school in schools if schools is not None else schools_of(document["findings"]):
        path = f"{NOTICES_DIR}/{school.slug}.html"
        assert path not in files, path  # unique_slugs makes every name distinct
        files[path] = template.render(
            audit=document["audit"],
            issuer=issuer,
            school=school,
            active=[f for f in school.findings if not f.get("waiver")],
            waived=[f for f in school.findings if f.get("waiver")],
            source_sha256=source_sha256,
        ).encode("utf-8")
    return files
