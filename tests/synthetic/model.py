"""The rows of a synthetic audit, and what the core generator, the packs' plants and the oracle share.

:mod:`synthetic.city` builds the core rows (schools, classes, teachers, safety), :mod:`synthetic.packs`
fills in the columns and kinds the other packs read; both plant cases (:class:`Plant`, :class:`PackPlant`)
and raise :class:`PlantError` when one does not land.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, NamedTuple

from .names import County

__all__ = [
    "COMPULSORY",
    "HIGH_SCHOOLS",
    "KINDERGARTEN_STANDARD",
    "PE_ART",
    "RATE_COLUMNS",
    "SAFETY_ITEMS",
    "STAT_COLUMNS",
    "Dataset",
    "Facilities",
    "PackPlant",
    "Plant",
    "PlantError",
    "Safety",
    "School",
    "SchoolClass",
    "Stats",
    "Teacher",
]

COMPULSORY = frozenset({"primary", "junior", "nine_year"})
HIGH_SCHOOLS = frozenset({"complete_secondary", "senior", "twelve_year"})
PE_ART = frozenset({"体育", "体育与健康", "音乐", "美术", "艺术"})
KINDERGARTEN_STANDARD = {"小班": 25, "中班": 30, "大班": 35, "混合班": 30}
# the core pack's safety rules and the column each reads
SAFETY_ITEMS: tuple[tuple[str, str], ...] = (
    ("safety.closed-management", "closed_management"),
    ("safety.guards", "full_time_guards"),
    ("safety.alarm-linked", "one_key_alarm"),
    ("safety.video-linked", "video_linked_police"),
    ("safety.escort-post", "escort_post"),
)


# -- the core pack's rows ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class School:
    school_id: str
    name: str
    county: str
    township: str
    type: str
    ownership: str
    license_no: str = ""
    license_valid_until: date | None = None
    # read by the plan, quality-balance, preschool and safety packs (filled by packs.extend)
    urban_rural: str | None = None
    inclusive: bool | None = None
    township_center: bool | None = None
    demo_level: str | None = None
    star_level: int | None = None
    health_promoting: bool | None = None
    boarding: bool | None = None
    enrolment: int | None = None
    health_vice_principal: bool | None = None
    subject_bases: int | None = None
    demo_year: int | None = None
    labour_course: bool | None = None
    unified_textbooks: bool | None = None
    new_curriculum: bool | None = None


@dataclass(slots=True)
class SchoolClass:
    class_id: str
    school_id: str
    grade: str
    size: int
    head_teacher: str


@dataclass(slots=True)
class Teacher:
    teacher_id: str
    school_id: str
    subject: str
    hire_year: int
    full_time: bool | None  # None is a blank cell: unknown, never read as 专任
    has_certificate: bool | None
    degree: str
    title: str | None = None
    backbone_level: str | None = None
    dual_qualified: bool | None = None
    preschool_major: bool | None = None
    training_hours_5y: int | None = None
    rotated_this_year: bool | None = None
    is_principal: bool | None = None


@dataclass(slots=True)
class Safety:
    school_id: str
    closed_management: bool | None
    full_time_guards: int | None
    one_key_alarm: bool | None
    video_linked_police: bool | None
    escort_post: bool | None
    anti_ramming: bool | None = None
    video_retention_days: int | None = None


# -- the rows only the other packs read ---------------------------------------------------------------------------


@dataclass(slots=True)
class Facilities:
    school_id: str
    teaching_area: float | None = None
    sports_area: float | None = None
    equipment_value: int | None = None
    multimedia_rooms: int | None = None
    music_rooms: int | None = None
    music_room_area: float | None = None
    art_rooms: int | None = None
    art_room_area: float | None = None
    counseling_room: bool | None = None
    doctors: int | None = None
    daily_pe_minutes: int | None = None
    art_course_rate: Fraction | None = None
    safety_education_rate: Fraction | None = None
    psych_teachers: int | None = None
    funding_per_pupil: Fraction | None = None
    funding_standard: Fraction | None = None


STAT_COLUMNS: tuple[str, ...] = (
    "preschool_gross_enrolment",
    "compulsory_retention",
    "senior_gross_enrolment",
    "disabled_enrolment",
    "fitness_good_rate",
    "satisfaction",
    "safety_education_rate",
    "teacher_avg_pay",
    "civil_servant_avg_pay",
    "edu_budget",
    "edu_budget_per_student",
    "gdp",
    "fiscal_edu_funds",
    "migrant_children",
    "migrant_children_public",
    "preschool_assessment_passed",
    "balance_assessment_passed",
    "preschool_inspected",
    "migrant_eligible_applicants",
    "migrant_eligible_admitted",
    "preschool_nonstaff_pay",
    "preschool_staff_pay",
    "dropouts",
    "migrant_children_purchased",
)
CITY_ONLY_COLUMNS: tuple[str, ...] = (
    "subject_bases",
    "skill_awards",
    "new_universities",
    "avg_schooling_years",
    "research_awards_basic",
    "research_awards_vocational",
    "practice_bases_new",
)
RATE_COLUMNS = frozenset(STAT_COLUMNS[:7])


@dataclass(slots=True)
class Stats:
    """One row of county_stats (county set) or city_stats (county None): values by canonical column."""

    county: str | None
    year: int
    values: dict[str, Any] = field(default_factory=dict)


# -- planted cases and the whole audit ----------------------------------------------------------------------------


class Plant(NamedTuple):
    """What a planted case must yield: 'fail', 'pass' or 'not_evaluated' for one rule and entity."""

    rule: str
    entity: str
    outcome: str
    note: str


class PackPlant(NamedTuple):
    """A planted verdict: `rule` on `entity` must be `outcome` ('fail', 'pass' or 'absent': outside the rule's
    scope, in none of its sets); `check` recomputes it from the final rows by the rule's arithmetic."""

    rule: str
    entity: str
    outcome: str
    note: str
    check: Callable[[], str]


class PlantError(AssertionError):
    """A planted case did not land where intended, or there was no row left to plant it in."""


@dataclass
class Dataset:
    """All rows of one synthetic audit, plus the planted cases and what each must yield."""

    scale: str
    seed: int
    as_of: date
    counties: list[County]
    schools: list[School]
    classes: list[SchoolClass]
    teachers: list[Teacher]
    safety: dict[str, Safety]
    plants: list[Plant] = field(default_factory=list)
    # the other packs' data (packs.extend): empty for a core-only folder
    extended: bool = False
    facilities: dict[str, Facilities] = field(default_factory=dict)
    county_stats: list[Stats] = field(default_factory=list)
    city_stats: list[Stats] = field(default_factory=list)
    pack_plants: list[PackPlant] = field(default_factory=list)
