"""County names read through the region's divisions: full names, short names, suggestions."""

from __future__ import annotations

import pytest

from inspector.records.regions import LIUZHOU, DivisionSpec, region_divisions


@pytest.mark.parametrize(
    ("written", "full"),
    [
        ("融水县", "融水苗族自治县"),
        ("融水", "融水苗族自治县"),
        ("三江县", "三江侗族自治县"),
        ("柳江县", "柳江区"),
        (" 柳北区 ", "柳北区"),
        ("融水苗族自治县", "融水苗族自治县"),
    ],
)
def test_short_and_former_names_read_as_the_full_name(written: str, full: str) -> None:
    assert LIUZHOU.canonical(written) == full


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("融水苗族县", "融水苗族自治县"),
        ("三江自治县", "三江侗族自治县"),
        ("柳北", "柳北区"),
        ("鹿寨", "鹿寨县"),
    ],
)
def test_an_unknown_name_gets_the_division_it_most_likely_means(written: str, meant: str) -> None:
    assert LIUZHOU.canonical(written) is None
    assert LIUZHOU.suggestion(written) == meant


def test_a_name_of_another_city_has_no_suggestion() -> None:
    assert LIUZHOU.suggestion("南宁市青秀区") is None


def test_liuzhou_has_ten_divisions_in_official_order_with_their_codes() -> None:
    assert len(LIUZHOU) == 10
    assert list(LIUZHOU)[:2] == ["城中区", "鱼峰区"] and list(LIUZHOU)[-1] == "三江侗族自治县"
    assert LIUZHOU.codes["融水苗族自治县"] == "450225"


def test_declared_divisions_replace_the_built_in_list() -> None:
    declared = region_divisions("柳州市", [DivisionSpec(name="甲县", aliases=("甲",))])
    assert declared is not None and list(declared) == ["甲县"] and declared.canonical("甲") == "甲县"
    assert region_divisions("某某市", None) is None
    assert region_divisions("柳州市", None) is LIUZHOU
