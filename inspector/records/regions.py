"""The divisions (区县) of the region an audit covers, with the short names people write.

Statistics are published under short names (融水县, 三江县) as often as under the full ones
(融水苗族自治县). An audit reads every county name through its region's `Divisions`: a known
alias becomes the full name, and an unknown name is an error with the closest division
suggested. Liuzhou's ten divisions are built in; another region lists its own in audit.yaml:

    divisions:
      - {name: 融水苗族自治县, aliases: [融水县, 融水]}
      - {name: 城中区}

A region with neither is read as before: the county names are the ones the data uses.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class DivisionSpec(BaseModel):
    """One division as audit.yaml declares it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    aliases: tuple[str, ...] = ()
    code: str | None = Field(default=None, pattern=r"^\d{6}$")


@dataclass(frozen=True)
class Divisions:
    """A region's divisions in their official order, and every spelling of each."""

    region: str
    names: tuple[str, ...]
    spellings: Mapping[str, str]  # full name or alias → full name
    codes: Mapping[str, str]  # full name → 行政区划代码, where known

    def canonical(self, name: str) -> str | None:
        """The full name of a division written as `name`, or None if it is none of them."""
        return self.spellings.get(name.strip())

    def suggestion(self, name: str) -> str | None:
        """The division `name` most likely means, for an error message."""
        text = name.strip()
        for spelling, full in self.spellings.items():  # 融水苗族县, 融水自治县 …: a shared stem
            if len(text) >= 2 and (spelling.startswith(text[:2]) and full.startswith(text[:2])):
                return full
        close = difflib.get_close_matches(text, list(self.spellings), n=1, cutoff=0.5)
        return self.spellings[close[0]] if close else None

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def divisions(region: str, specs: Iterable[DivisionSpec]) -> Divisions:
    """Divisions from declarations (audit.yaml's `divisions:`)."""
    names: list[str] = []
    spellings: dict[str, str] = {}
    codes: dict[str, str] = {}
    for spec in specs:
        names.append(spec.name)
        for spelling in (spec.name, *spec.aliases):
            spellings.setdefault(spelling, spec.name)
        if spec.code:
            codes[spec.name] = spec.code
    return Divisions(region, tuple(names), spellings, codes)


# 柳州市辖 5 区 3 县 2 自治县（《中华人民共和国行政区划代码》GB/T 2260，2024 年版）
LIUZHOU = divisions(
    "柳州市",
    (
        DivisionSpec(name="城中区", code="450202"),
        DivisionSpec(name="鱼峰区", code="450203"),
        DivisionSpec(name="柳南区", code="450204"),
        DivisionSpec(name="柳北区", code="450205"),
        DivisionSpec(name="柳江区", aliases=("柳江县",), code="450206"),  # 柳江县 until 2016
        DivisionSpec(name="柳城县", code="450222"),
        DivisionSpec(name="鹿寨县", code="450223"),
        DivisionSpec(name="融安县", code="450224"),
        DivisionSpec(name="融水苗族自治县", aliases=("融水县", "融水"), code="450225"),
        DivisionSpec(name="三江侗族自治县", aliases=("三江县", "三江"), code="450226"),
    ),
)

BUILT_IN: Mapping[str, Divisions] = {"柳州市": LIUZHOU, "柳州": LIUZHOU}


def region_divisions(region: str, specs: Iterable[DivisionSpec] | None) -> Divisions | None:
    """The divisions an audit of `region` reads county names against: audit.yaml's own list,
    else the built-in one for the region, else None (names are taken as the data writes them)."""
    declared = tuple(specs or ())
    if declared:
        return divisions(region, declared)
    return BUILT_IN.get(region.strip())
