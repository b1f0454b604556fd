"""audit.yaml and pack params: dates, years and numbers outside what makes sense are located errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from inspector.errors import DataError
from inspector.limits import AS_OF_EARLIEST, AS_OF_LATEST
from inspector.records.config import load_config
from inspector.rules.compiler import effective_params
from inspector.rules.packs import DEFAULT_RULES_DIR, load_packs
from inspector.rules.targets import Reading
from test_rule_packs import PACK_YAML, load_problems, located, one_rule

HEAD = "name: 测试督导\nas_of: {as_of}\nregion: 柳州市\npacks: [core]\n"


def config_problems(tmp_path: Path, text: str) -> list[tuple[int, str, str]]:
    folder = tmp_path / "audit"
    folder.mkdir(exist_ok=True)
    (folder / "audit.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as raised:
        load_config(folder)
    return [(p.line, p.field, p.message) for p in raised.value.problems]


class TestDates:
    @pytest.mark.parametrize("as_of", ["1970-01-01", "1979-12-31", "2101-01-01", "9999-12-31"])
    def test_an_implausible_as_of_is_located(self, tmp_path: Path, as_of: str) -> None:
        """Dates before 1980 or after 2100 crashed after partial outputs; now line 2, before any work."""
        ((line, field, message),) = config_problems(tmp_path, HEAD.format(as_of=as_of))
        assert (line, field) == (2, "as_of") and as_of in message and "范围" in message

    @pytest.mark.parametrize("as_of", [AS_OF_EARLIEST, AS_OF_LATEST])
    def test_the_ends_of_the_range_are_accepted(self, tmp_path: Path, as_of: dt.date) -> None:
        folder = tmp_path / "audit"
        folder.mkdir()
        (folder / "audit.yaml").write_text(HEAD.format(as_of=as_of.isoformat()), encoding="utf-8")
        assert load_config(folder).as_of == as_of

    @pytest.mark.parametrize("year, accepted", [(2022, True), (2025, True), (2030, True), (1900, False), (2200, False)])
    def test_target_year(self, tmp_path: Path, year: int, accepted: bool) -> None:
        """The plan's milestones and any year of the date range are accepted; others are located."""
        text = HEAD.format(as_of="2025-12-01") + f"target_year: {year}\n"
        if accepted:
            folder = tmp_path / "audit"
            folder.mkdir()
            (folder / "audit.yaml").write_text(text, encoding="utf-8")
            config = load_config(folder)
            assert Reading.of(config.as_of, config.target_year).milestone == year
        else:
            ((line, field, message),) = config_problems(tmp_path, text)
            assert (line, field) == (5, "target_year") and "2022 和 2025" in message


class TestParamValues:
    @pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN", "{小班: .nan}"])
    def test_non_finite_numbers_are_refused_in_audit_yaml(self, tmp_path: Path, value: str) -> None:
        """`.nan` made class-size.large pass every class and wrote NaN into findings.json."""
        text = HEAD.format(as_of="2025-12-01") + f"params:\n  large_min: {value}\n"
        ((line, field, message),) = config_problems(tmp_path, text)
        assert (line, field) == (6, "params.large_min") and ("NaN" in message or "无穷大" in message)

    def test_overrides_outside_the_declared_range_are_errors(self) -> None:
        """A negative class size or a share of 500% is refused with the allowed bound."""
        packs = load_packs(["core"], DEFAULT_RULES_DIR)
        _params, bad = effective_params(
            packs, {"large_min": -5, "min_new_pe_art_share": 5, "kindergarten_max": {"小班": 0}, "min_guards": 2}
        )
        assert dict(bad) == {
            "large_min": "取值 -5 小于允许的最小值 1",
            "min_new_pe_art_share": "取值 5 大于允许的最大值 1",
            "kindergarten_max": "“小班”的取值 0 小于允许的最小值 1",
        }

    def test_every_numeric_param_of_the_shipped_packs_declares_a_range(self) -> None:
        """Counts have a minimum, shares and rates lie within 0..1."""
        packs = load_packs(["core", "plan", "preschool", "quality-balance", "safety"], DEFAULT_RULES_DIR)
        for pack in packs:
            for name, spec in pack.spec.params.items():
                values = [spec.value] if spec.by_year is None else list(spec.by_year.values())
                numbers = [
                    v
                    for value in values
                    for v in (value.values() if isinstance(value, dict) else [value])
                    if isinstance(v, (int, float)) and not isinstance(v, bool)
                ]
                if not numbers:
                    continue
                assert spec.minimum is not None, (pack.id, name)
                if spec.unit == "比例":
                    assert (spec.minimum, spec.maximum) == (0, 1), (pack.id, name)


class TestPackParams:
    @pytest.mark.parametrize("value", [".nan", "-.inf"])
    def test_a_pack_param_cannot_be_non_finite(self, tmp_path: Path, value: str) -> None:
        pack_yaml = PACK_YAML.format(pack="p").replace("    value: 50\n", f"    value: {value}\n")
        (problem,) = load_problems(tmp_path, one_rule(), pack_yaml=pack_yaml)
        assert located(problem)[:2] == ("rules/p/pack.yaml", 6) and "参数值不能是" in problem.message

    def test_a_pack_value_outside_its_own_range(self, tmp_path: Path) -> None:
        pack_yaml = PACK_YAML.format(pack="p").replace("    unit: 人\n", "    unit: 人\n    minimum: 60\n", 1)
        (problem,) = load_problems(tmp_path, one_rule(), pack_yaml=pack_yaml)
        assert located(problem)[:2] == ("rules/p/pack.yaml", 5) and "小于允许的最小值 60" in problem.message

    def test_a_range_upside_down(self, tmp_path: Path) -> None:
        """A param whose minimum is above its maximum is refused at its line of pack.yaml (minimum may not
        exceed maximum)."""
        pack_yaml = PACK_YAML.format(pack="p").replace(
            "    unit: 人\n", "    unit: 人\n    minimum: 9\n    maximum: 1\n", 1
        )
        (problem,) = load_problems(tmp_path, one_rule(), pack_yaml=pack_yaml)
        assert located(problem)[:2] == ("rules/p/pack.yaml", 5) and "不能大于 maximum" in problem.message
