"""audit.yaml's `issuer:`, which findings.json carries for the reports: a module of its own, so
that reading findings.json does not bring in the reading of audit.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..text import no_control_characters


class Issuer(BaseModel):
    """Who issues the audit's notices and reports (audit.yaml `issuer:`); every key is optional and
    what is left out keeps the default wording (the office `{region}教育督导`, a number `2025-学校代码`,
    no contact line)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    office: str | None = Field(default=None, min_length=1, max_length=100)  # 发文机关
    document_prefix: str | None = Field(default=None, min_length=1, max_length=30)  # 文号的机关代字，如 柳教督
    contact: str | None = Field(default=None, min_length=1, max_length=200)  # 联系方式
    address: str | None = Field(default=None, min_length=1, max_length=200)  # 通讯地址

    @field_validator("office", "document_prefix", "contact", "address")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        # a line break would reflow the printed notice's header; other control characters are refused too
        if value is None:
            return None
        if "\n" in value or "\r" in value or "\t" in value:
            raise ValueError("不能含有换行或制表符")
        if not value.strip():
            raise ValueError("不能为空白")
        return no_control_characters(value.strip())
