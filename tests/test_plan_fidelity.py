"""The plan's words, read as written: ranges, additions since 2021 and the requirements added for issue 11.

Each rule with a numeric boundary is run through the real indicators and engine on inputs drawn around it
by hypothesis, and its verdict must equal the one computed here from the rule's text in exact arithmetic
(the pattern of tests/test_exact_thresholds.py, whose helpers build the tables).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from inspector.cli import main
from inspector.rules.packs import DEFAULT_RULES_DIR

CASE = DEFAULT_RULES_DIR / "plan" / "cases" / "fidelity-2025"


class TestDesignationYear:
    def test_a_bad_year_is_a_located_error(self, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
        """示范认定年份 that is not a whole year, or not a plausible one, stops the audit at its row and column."""
        folder = tmp_path / "case"
        shutil.copytree(CASE, folder)
        path = folder / "schools.csv"
        text = path.read_text(encoding="utf-8")
        text = text.replace("自治区级,2021,", "自治区级,2021年3月,").replace("国家级,2026,", "国家级,1902,")
        path.write_text(text, encoding="utf-8")
        assert main(["audit", str(folder), "--out", str(tmp_path / "out"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "schools.csv:13: 示范认定年份: 应为整数：“2021年3月”" in err
        assert "schools.csv:17: 示范认定年份: 数值“1902”小于合理下限 1980年" in err


# -- property tests: verdicts at the new boundaries against the rules' text in exact arithmetic -------------

import math  # noqa: E402
from fractions import Fraction  # noqa: E402

import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from inspector.rules.compiler import RuleBook, compile_rulebook, effective_params  # noqa: E402
from inspector.rules.packs import load_packs  # noqa: E402
from test_exact_thresholds import AS_OF, EXAMPLES, _dataset, _school, verdict  # noqa: E402

PACKS = ["core", "plan", "quality-balance", "preschool", "safety"]


@pytest.fixture(scope="module")
def book() -> RuleBook:
    packs = load_packs(PACKS)
    params, _ = effective_params(packs, {}, 2025)
    return compile_rulebook(packs, as_of=AS_OF, params=params, target_year=2025)


def _city(**values: object) -> list[dict[str, object]]:
    return [{"year": AS_OF.year, **values}]


class TestRangeUpperEnd:
    @EXAMPLES
    @given(founded=st.integers(0, 12))
    def test_founding_more_than_three_universities_is_no_failure(self, book: RuleBook, founded: int) -> None:
        """表一 序号12 “2-3” is 预期性: fewer than 2 fails, 2, 3, 4 or more pass."""
        dataset = _dataset(schools=[_school("P1", "primary")], city_stats=_city(new_universities=founded))
        assert verdict(book, "plan.t1-12", "柳州市", dataset) == ("fail" if founded < 2 else "pass")


class TestAdditionsSince2021:
    @EXAMPLES
    @given(years=st.lists(st.one_of(st.none(), st.integers(2015, 2027)), min_size=0, max_size=6), levels=st.data())
    def test_demo_schools_count_designations_from_2021_to_the_audit_year(
        self, book: RuleBook, years: list[int | None], levels: st.DataObject
    ) -> None:
        """建立自治区示范性中职 3 所: 自治区级+ 中职 designated 2021–2025 count; a blank year is either; the verdict
        is decided only when every filling of the blanks agrees; a city with no 中职 in the data is a data gap (a
        count over no rows), not a fail on 0."""
        schools = [_school("P1", "primary")]
        certain = unknown = 0
        for i, year in enumerate(years):
            level = levels.draw(st.sampled_from(["region", "national", "city"]))
            schools.append(_school(f"V{i}", "vocational", demo_level=level, demo_year=year))
            if level in ("region", "national"):
                if year is None:
                    unknown += 1
                elif 2021 <= year <= AS_OF.year:
                    certain += 1
        low, high = certain, certain + unknown
        expected = "gap" if not years else "fail" if high < 3 else "pass" if low >= 3 else "gap"
        assert verdict(book, "plan.vocational-demo-schools", "柳州市", _dataset(schools=schools)) == expected

    @EXAMPLES
    @given(built=st.integers(0, 5))
    def test_practice_base_needs_one_built_since_2021(self, book: RuleBook, built: int) -> None:
        dataset = _dataset(schools=[_school("P1", "primary")], city_stats=_city(practice_bases_new=built))
        assert verdict(book, "plan.practice-base", "柳州市", dataset) == ("fail" if built < 1 else "pass")


class TestMigrantPlaces:
    @EXAMPLES
    @given(total=st.integers(1, 5000), data=st.data())
    def test_eighty_five_percent_in_public_and_bought_places(
        self, book: RuleBook, total: int, data: st.DataObject
    ) -> None:
        """(public + bought) / total ≥ 17/20 passes, exactly 85 % included; a blank bought count passes only a
        county whose public share alone reaches 85 % and leaves the rest undecided."""
        boundary = math.ceil(Fraction(17, 20) * total)
        placed = data.draw(st.integers(max(0, boundary - 2), min(total, boundary + 2)))
        bought = data.draw(st.one_of(st.none(), st.integers(0, placed)))
        public = placed - (bought or 0) if bought is not None else data.draw(st.integers(0, placed))
        stats = [
            {
                "county": "城中区",
                "year": AS_OF.year,
                "migrant_children": total,
                "migrant_children_public": public,
                "migrant_children_purchased": bought,
            }
        ]
        dataset = _dataset(schools=[_school("P1", "primary")], county_stats=stats)
        if bought is not None:
            expected = "fail" if Fraction(public + bought, total) < Fraction(17, 20) else "pass"
        else:
            expected = "pass" if Fraction(public, total) >= Fraction(17, 20) else "gap"
        assert verdict(book, "balance.migrant-public-share", "城中区", dataset) == expected

    def test_a_county_without_migrant_children_is_not_judged(self, book: RuleBook) -> None:
        stats = [
            {
                "county": "城中区",
                "year": AS_OF.year,
                "migrant_children": 0,
                "migrant_children_public": 0,
                "migrant_children_purchased": 0,
            }
        ]
        dataset = _dataset(schools=[_school("P1", "primary")], county_stats=stats)
        assert verdict(book, "balance.migrant-public-share", "城中区", dataset) is None


class TestFundingStandard:
    @EXAMPLES
    @given(
        standard_fen=st.integers(1, 2_000_000),
        offset=st.integers(-3, 3),
        ownership=st.sampled_from(["public", "private"]),
    )
    def test_per_pupil_funding_to_the_fen(self, book: RuleBook, standard_fen: int, offset: int, ownership: str) -> None:
        """A public school's 生均财政拨款 below its standard fails, equal passes, to the fen; 民办 is out of scope."""
        actual_fen = max(0, standard_fen + offset)
        dataset = _dataset(
            schools=[_school("P1", "primary", ownership=ownership)],
            facilities=[
                {
                    "school_id": "P1",
                    "funding_per_pupil": Fraction(actual_fen, 100),
                    "funding_standard": Fraction(standard_fen, 100),
                }
            ],
        )
        expected = None if ownership == "private" else "fail" if actual_fen < standard_fen else "pass"
        assert verdict(book, "plan.funding-standard", "P1", dataset) == expected


class TestGuardBands:
    @EXAMPLES
    @given(
        pupils=st.sampled_from([1, 99, 100, 101, 998, 999, 1000, 1001, 1499, 1500, 1999, 2000, 2600])
        | st.integers(1, 4000),
        guards=st.integers(0, 8),
    )
    def test_guards_required_by_enrolment(self, book: RuleBook, pupils: int, guards: int) -> None:
        """GB/T 29315-2022 as restated: “100人以下” 1 (100 included), then 2 up to 999, 3 from 1000 and one more per
        full 500 above it."""
        required = 1 if pupils <= 100 else 2 if pupils < 1000 else 3 + (pupils - 1000) // 500
        dataset = _dataset(
            schools=[_school("S1", "primary", enrolment=pupils)],
            safety=[{"school_id": "S1", "full_time_guards": guards}],
        )
        assert verdict(book, "safety.guards-by-enrolment", "S1", dataset) == ("fail" if guards < required else "pass")


class TestPsychTeachers:
    @EXAMPLES
    @given(
        count=st.one_of(st.none(), st.integers(0, 4)), kind=st.sampled_from(["kindergarten", "primary", "vocational"])
    )
    def test_at_least_one_in_every_school_but_kindergartens(self, book: RuleBook, count: int | None, kind: str) -> None:
        dataset = _dataset(schools=[_school("S1", kind)], facilities=[{"school_id": "S1", "psych_teachers": count}])
        expected = None if kind == "kindergarten" else "gap" if count is None else "fail" if count < 1 else "pass"
        assert verdict(book, "plan.psych-teachers", "S1", dataset) == expected
