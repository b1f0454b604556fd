"""Who issues the notices and reports: audit.yaml's `issuer` as findings.json carries it, with the
wording the notices had before it could be set (发文机关 `{region}教育督导`, 编号 `2025-学校代码`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["IssuerView", "issuer_of"]


@dataclass(frozen=True)
class IssuerView:
    """The issuer as the templates show it; `configured` when audit.yaml named an office."""

    office: str
    configured: bool = False
    document_prefix: str | None = None
    contact: str | None = None
    address: str | None = None

    @property
    def number_label(self) -> str:
        return "文号" if self.document_prefix else "编号"

    def number(self, year: str, school_id: str) -> str:
        """A school's notice number: `柳教督〔2025〕学校代码号` with a prefix, else `2025-学校代码`."""
        if self.document_prefix:
            return f"{self.document_prefix}〔{year}〕{school_id}号"
        return f"{year}-{school_id}"


def _text(issuer: Mapping[str, Any], key: str) -> str | None:
    value = issuer.get(key)
    return value.strip() or None if isinstance(value, str) else None


def issuer_of(audit: Mapping[str, Any]) -> IssuerView:
    """The issuer of an audit (findings.json's `audit`), defaults filled in."""
    issuer = audit.get("issuer")
    issuer = issuer if isinstance(issuer, Mapping) else {}
    office = _text(issuer, "office")
    return IssuerView(
        office=office or f"{audit.get('region') or ''}教育督导",
        configured=office is not None,
        document_prefix=_text(issuer, "document_prefix"),
        contact=_text(issuer, "contact"),
        address=_text(issuer, "address"),
    )
