"""Deterministic synthetic audit folders for Liuzhou, with an independent oracle of their findings.

The generator builds schools, classes, teachers and safety rows in memory from ``random.Random(seed)``,
plants boundary cases for every rule of the core pack, computes the expected findings from the rows
themselves (:mod:`synthetic.oracle`, a second implementation of the rules, sharing no code with the engine)
and writes the audit folder (:mod:`synthetic.folder`) plus ``expected.yaml``. Only the standard library,
openpyxl and pyyaml are used.

With ``--packs all`` (the default at case scale) :mod:`synthetic.packs` then adds what
the plan, quality-balance, preschool and safety packs read (the new columns of schools, teachers and
safety; facilities, county and city statistics) and plants a failing and a passing entity for each of
their rules, written to ``planted.yaml``; audit.yaml then selects all five packs. The oracle runs on the
final rows either way. Those plants are built for the case scale; a seed whose kindergartens leave no
room for them (2026 is one) stops with a PlantError that says which: use another seed or ``--packs core``.

Usage::

    PYTHONPATH=tests python -m synthetic.city OUT_DIR --scale {case,city,province} [--seed N]
        [--format {mixed,csv}] [--as-of 2025-12-01] [--no-sets] [--packs {core,all}]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from .folder import LAYOUTS, audit_document, planted_document, planted_yaml, write_records, write_yaml
from .model import (
    COMPULSORY,
    HIGH_SCHOOLS,
    KINDERGARTEN_STANDARD,
    PE_ART,
    SAFETY_ITEMS,
    Dataset,
    Plant,
    PlantError,
    Safety,
    School,
    SchoolClass,
    Teacher,
)
from .names import COUNTIES, DEGREES, NEW_HIRE_DEGREES, SECONDARY_DEGREES, SUBJECTS, County, PersonNamer, SchoolNamer
from .oracle import check_plants, compute_expected, expected_document
from .packs import extend

__all__ = ["SCALES", "ScaleSpec", "build_dataset", "generate", "main", "write_folder"]

TYPE_SHARE = {
    "kindergarten": 35,
    "primary": 40,
    "junior": 10,
    "nine_year": 5,
    "complete_secondary": 2,
    "senior": 2,
    "twelve_year": 1,
    "vocational": 3,
    "special": 2,
}
PRIVATE_SHARE = {
    "kindergarten": 0.55,
    "primary": 0.05,
    "junior": 0.08,
    "nine_year": 0.15,
    "complete_secondary": 0.1,
    "senior": 0.15,
    "twelve_year": 0.6,
    "vocational": 0.15,
    "special": 0.0,
}
MEAN_CLASSES = {
    "kindergarten": 6,
    "primary": 16,
    "junior": 18,
    "nine_year": 22,
    "complete_secondary": 36,
    "senior": 40,
    "twelve_year": 48,
    "vocational": 30,
    "special": 6,
}
MIN_CLASSES = {
    "kindergarten": 1,
    "primary": 1,
    "junior": 3,
    "nine_year": 9,
    "complete_secondary": 6,
    "senior": 3,
    "twelve_year": 12,
    "vocational": 3,
    "special": 1,
}
TEACHERS_PER_CLASS = {
    "kindergarten": 2.0,
    "primary": 1.8,
    "junior": 2.2,
    "nine_year": 2.0,
    "complete_secondary": 2.4,
    "senior": 2.4,
    "twelve_year": 2.3,
    "vocational": 2.5,
    "special": 2.6,
}
GUARDS = {"kindergarten": (1, 2), "primary": (1, 4), "special": (1, 3)}  # other types: (2, 8)
KINDERGARTEN_GRADES = ("小班", "中班", "大班", "混合班")
NUMBERED_GRADES = {
    "primary": (1, 6),
    "junior": (7, 9),
    "nine_year": (1, 9),
    "complete_secondary": (7, 12),
    "senior": (10, 12),
    "twelve_year": (1, 12),
    "vocational": (10, 12),
    "special": (1, 9),
}


# Role of each county in teachers.new-pe-art-share; every other county is comfortably above 15%.
COUNTY_ROLES = {"城中区": "none", "鹿寨县": "exact", "融安县": "below", "融水苗族自治县": "low"}


@dataclass(frozen=True)
class ScaleSpec:
    """Exact sizes of one scale and how many rounds of boundary cases it plants."""

    schools: int
    classes: int
    teachers: int
    rounds: int
    county_copies: int


SCALES: dict[str, ScaleSpec] = {
    "case": ScaleSpec(schools=320, classes=4_800, teachers=9_100, rounds=1, county_copies=1),
    "city": ScaleSpec(schools=1_500, classes=25_000, teachers=50_000, rounds=5, county_copies=1),
    "province": ScaleSpec(schools=20_000, classes=330_000, teachers=630_000, rounds=60, county_copies=10),
}


T = TypeVar("T")


class _Picker(Generic[T]):
    """Hands out distinct items of a pool in a seeded random order."""

    def __init__(self, rng: random.Random, items: Iterable[T], what: str) -> None:
        self._items = list(items)
        self._what = what
        rng.shuffle(self._items)

    def take(self, accept: Callable[[T], bool] | None = None) -> T:
        for i in range(len(self._items) - 1, -1, -1):
            if accept is None or accept(self._items[i]):
                return self._items.pop(i)
        raise PlantError(f"no {self._what} left to plant a case in")


def _allocate(weights: Sequence[float], minimum: Sequence[int], total: int) -> list[int]:
    """Split `total` into integers, each at least its minimum, the rest by weight (largest remainder)."""
    spare = total - sum(minimum)
    if spare < 0:
        raise ValueError(f"cannot split {total} with minimums summing to {sum(minimum)}")
    unit = spare / sum(weights)
    shares = [w * unit for w in weights]
    counts = [m + int(s) for m, s in zip(minimum, shares)]
    by_remainder = sorted(range(len(shares)), key=lambda i: (int(shares[i]) - shares[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


class _LicenceBook:
    """Issues licence numbers that are unique after normalisation (one sequence per issuing prefix)."""

    def __init__(self) -> None:
        self._seq: dict[str, int] = defaultdict(int)

    def next_seq(self, prefix: str) -> int:
        self._seq[prefix] += 1
        return self._seq[prefix]

    def issue(self, rng: random.Random, prefix: str, year: int) -> str:
        left, right = ("（", "）") if rng.random() < 0.6 else ("(", ")")
        return f"{prefix}教幼证字{left}{rng.randint(year - 9, year - 1)}{right}第{self.next_seq(prefix):03d}号"


def _counties(copies: int) -> list[County]:
    if copies == 1:
        return list(COUNTIES)
    return [c if k == 1 else replace(c, name=f"{c.name}{k}") for c in COUNTIES for k in range(1, copies + 1)]


def _role(county: County) -> str:
    base = next(c.name for c in COUNTIES if county.name.startswith(c.name))
    return COUNTY_ROLES.get(base, "above")


def _make_schools(
    rng: random.Random, spec: ScaleSpec, counties: list[County], as_of: date, licences: _LicenceBook
) -> list[School]:
    """Schools with a realistic type mix over the counties; a few kindergartens unlicensed or expired."""
    types = [
        t for t, n in zip(TYPE_SHARE, _allocate(list(TYPE_SHARE.values()), [0] * 9, spec.schools)) for _ in range(n)
    ]
    where = [
        c
        for c, n in zip(counties, _allocate([c.weight for c in counties], [1] * len(counties), spec.schools))
        for _ in range(n)
    ]
    rng.shuffle(types)
    rng.shuffle(where)
    for county in counties:  # the 'below' county needs a high school for its senior-PE trap
        if _role(county) == "below" and not any(w is county and t in HIGH_SCHOOLS for w, t in zip(where, types)):
            donor = next(i for i, t in enumerate(types) if t in HIGH_SCHOOLS and _role(where[i]) != "below")
            where[donor] = county
    namer, serial = SchoolNamer(rng), defaultdict(int)
    schools = []
    for stype, county in zip(types, where):
        serial[county.code] += rng.randint(1, 2)
        seat_only = stype in HIGH_SCHOOLS or stype in ("vocational", "special")
        township = county.seat if seat_only and not county.is_district else rng.choice(county.townships)
        ownership = "private" if rng.random() < PRIVATE_SHARE[stype] else "public"
        school = School(
            f"{county.code}{serial[county.code]:04d}",
            namer.name(county, township, stype, ownership == "private"),
            county.name,
            township,
            stype,
            ownership,
        )
        if stype == "kindergarten" and rng.random() >= 0.01:
            school.license_no = licences.issue(rng, county.licence_prefix, as_of.year)
            days = -rng.randint(2, 900) if rng.random() < 0.02 else rng.randint(30, 5 * 365)
            school.license_valid_until = as_of + timedelta(days=days)
        schools.append(school)
    return sorted(schools, key=lambda s: s.school_id)


def _grades(rng: random.Random, stype: str, n: int) -> list[str]:
    if stype == "kindergarten":
        if n <= 2:
            return ["混合班"] * n
        grades = [KINDERGARTEN_GRADES[i % 3] for i in range(n)]
        if n >= 4 and rng.random() < 0.1:
            grades[-1] = "混合班"
        return sorted(grades, key=KINDERGARTEN_GRADES.index)
    low, high = NUMBERED_GRADES[stype]
    span = high - low + 1
    return [str(g) for g in sorted(low + i % span for i in range(n))]


def _class_size(rng: random.Random, stype: str, grade: str, n_classes: int) -> int:
    """Typical sizes well within the limits, with a thin tail of large and super-large classes."""
    if stype == "kindergarten":
        standard = KINDERGARTEN_STANDARD[grade]
        return standard + rng.randint(1, 5) if rng.random() < 0.02 else rng.randint(standard - 10, standard)
    if stype == "special":
        return rng.randint(6, 14)
    if stype == "vocational":
        return rng.randint(53, 68) if rng.random() < 0.1 else rng.randint(30, 52)
    number, r = int(grade), rng.random()
    if r < 0.0004:
        return rng.randint(66, 72)
    if r < (0.0064 if number >= 10 else 0.0014):
        return rng.randint(56, 65)
    if number <= 6:
        return rng.randint(15, 32) if n_classes <= 6 else rng.randint(33, 45)
    return rng.randint(38, 50) if number <= 9 else rng.randint(42, 54)


def _make_classes(rng: random.Random, spec: ScaleSpec, schools: list[School]) -> list[SchoolClass]:
    weights = [MEAN_CLASSES[s.type] * rng.uniform(0.4, 1.6) for s in schools]
    counts = _allocate(weights, [MIN_CLASSES[s.type] for s in schools], spec.classes)
    people, classes = PersonNamer(rng), []
    for school, n in zip(schools, counts):
        for i, grade in enumerate(_grades(rng, school.type, n), start=1):
            classes.append(
                SchoolClass(
                    f"{school.school_id}-{i:03d}",
                    school.school_id,
                    grade,
                    _class_size(rng, school.type, grade, n),
                    people.name(),
                )
            )
    return classes


def _make_teachers(
    rng: random.Random, spec: ScaleSpec, schools: list[School], classes: list[SchoolClass], as_of: date
) -> list[Teacher]:
    """Teachers proportional to classes; compulsory schools get no as_of-year hires yet (see _control_new_hires)."""
    per_school: dict[str, int] = defaultdict(int)
    for c in classes:
        per_school[c.school_id] += 1
    weights = [per_school[s.school_id] * TEACHERS_PER_CLASS[s.type] * rng.uniform(0.9, 1.1) for s in schools]
    counts = _allocate(weights, [1] * len(schools), spec.teachers)
    years = tuple(y for y in range(1990, as_of.year) for _ in range(4 + (y - 1990) // 3))
    teachers, serial = [], 0
    for school, n in zip(schools, counts):
        subjects, compulsory = SUBJECTS[school.type], school.type in COMPULSORY
        degrees = DEGREES.get(school.type, SECONDARY_DEGREES)
        for _ in range(n):
            serial += 1
            new = not compulsory and rng.random() < 0.05
            r = rng.random()
            teachers.append(
                Teacher(
                    f"T{serial:07d}",
                    school.school_id,
                    rng.choice(subjects),
                    as_of.year if new else rng.choice(years),
                    r >= 0.04,  # 专任 written out: a blank would be unknown (r stays drawn: the same data as before)
                    rng.random() < 0.97,
                    rng.choice(NEW_HIRE_DEGREES if new else degrees),
                )
            )
    return teachers


def _make_safety(rng: random.Random, schools: list[School]) -> dict[str, Safety]:
    """One row per school except a few; each item missing in a small share of schools."""
    rows = {}
    for s in schools:
        if rng.random() < (0.3 if s.type == "vocational" else 0.015):
            continue
        low, high = GUARDS.get(s.type, (2, 8))
        guards = 0 if rng.random() < 0.01 else rng.randint(low, high)
        rows[s.school_id] = Safety(
            s.school_id, rng.random() >= 0.01, guards, rng.random() >= 0.02, rng.random() >= 0.02, rng.random() >= 0.03
        )
    return rows


def _new_hire_plan(rng: random.Random, role: str, eligible: int) -> tuple[int, int]:
    """How many new compulsory-school hires a county gets, and how many of them teach PE or art."""
    if role == "none":
        return 0, 0
    n = max(20, round(eligible * 0.045))
    if role == "exact":
        n = 20 * round(n / 20)
        return n, 3 * n // 20
    if role == "below":  # (3m + 1) of (20m + 7) lies in [14 %, 15 %) for every m >= 1
        m = max(1, round((n - 7) / 20))
        return 20 * m + 7, 3 * m + 1
    if role == "low":
        return n, round(n * 0.08)
    return n, round(n * rng.uniform(0.2, 0.3))


def _other_subject(rng: random.Random, stype: str) -> str:
    while (subject := rng.choice(SUBJECTS[stype])) in PE_ART:
        pass
    return subject


def _control_new_hires(rng: random.Random, ds: Dataset) -> None:
    """Turn chosen compulsory-school teachers into as_of-year hires so each county hits its planned share."""
    year, stype = ds.as_of.year, {s.school_id: s.type for s in ds.schools}
    county_of = {s.school_id: s.county for s in ds.schools}
    compulsory: dict[str, list[Teacher]] = defaultdict(list)
    high: dict[str, list[Teacher]] = defaultdict(list)
    for t in ds.teachers:
        kind = stype[t.school_id]
        if kind in COMPULSORY and t.full_time is True:
            compulsory[county_of[t.school_id]].append(t)
        elif kind in HIGH_SCHOOLS:
            high[county_of[t.school_id]].append(t)
    for county in ds.counties:
        role, pool = _role(county), compulsory[county.name]
        n, k = _new_hire_plan(rng, role, len(pool))
        if n + 2 > len(pool):
            raise PlantError(f"{county.name} has only {len(pool)} compulsory-school teachers")
        picked = rng.sample(pool, n + 2)
        for i, t in enumerate(picked[:n]):
            kind = stype[t.school_id]
            pe = ("体育与健康", "音乐", "美术") if kind == "junior" else ("体育", "体育与健康", "音乐", "美术", "艺术")
            t.hire_year, t.degree = year, rng.choice(NEW_HIRE_DEGREES)
            t.subject = rng.choice(pe) if i < k else _other_subject(rng, kind)
        if role == "exact":  # every new hire 专任: one fewer would tip this county below 15 %
            for t in picked[:n]:
                t.full_time = True
        if role in ("below", "none"):  # part-time new hires must not count
            for t in picked[n:]:
                t.hire_year, t.full_time, t.subject = year, False, "体育" if role == "below" else "语文"
        if role == "below":  # nor must new PE teachers at high schools
            for t in rng.sample(high[county.name], 2):
                t.hire_year, t.full_time, t.subject = year, True, "体育与健康"
        outcome = "fail" if n and 20 * k < 3 * n else "pass"
        ds.plants.append(Plant("teachers.new-pe-art-share", county.name, outcome, f"{role}: {k} of {n}"))


def _plant_classes(
    rng: random.Random,
    ds: Dataset,
    regular: _Picker[SchoolClass],
    kindergarten: _Picker[SchoolClass],
    special: _Picker[SchoolClass],
    vocational: _Picker[School],
    by_school: dict[str, list[SchoolClass]],
) -> None:
    large, huge, kg = "class-size.large", "class-size.super-large", "class-size.kindergarten"

    def expect(c: SchoolClass, rule: str, outcome: str, note: str) -> None:
        ds.plants.append(Plant(rule, c.class_id, outcome, note))

    for size in (55, 56, 65, 66, 71, 76, 83):
        c = regular.take()
        c.size = size
        expect(c, large, "fail" if 56 <= size <= 65 else "pass", f"class of {size}")
        expect(c, huge, "fail" if size >= 66 else "pass", f"class of {size}")
    school = vocational.take()
    for c, size in zip(by_school[school.school_id], (56, 70)):
        c.size = size
        expect(c, large, "pass", f"vocational class of {size}")
        expect(c, huge, "pass", f"vocational class of {size}")
    c = special.take()
    c.size = 58
    expect(c, large, "fail", "special-school class of 58")
    plans = [(g, s, "pass") for g, s in KINDERGARTEN_STANDARD.items()]
    plans += [(g, s + 1, "fail") for g, s in KINDERGARTEN_STANDARD.items()] + [("大班", 70, "fail")]
    for grade, size, outcome in plans:
        c = kindergarten.take()
        c.grade, c.size = grade, size
        expect(c, kg, outcome, f"kindergarten {grade} of {size}")
        expect(c, large, "pass", f"kindergarten {grade} of {size}")
        expect(c, huge, "pass", f"kindergarten {grade} of {size}")


def _to_fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


def _plant_licences(rng: random.Random, ds: Dataset, kindergartens: _Picker[School], book: _LicenceBook) -> None:
    as_of, year = ds.as_of, ds.as_of.year

    def take(ownership: str, licence: str | None, valid: date | None, plants: dict[str, str], note: str) -> None:
        school = kindergartens.take(lambda s: s.ownership == ownership)
        county = next(c for c in ds.counties if c.name == school.county)
        school.license_no = book.issue(rng, county.licence_prefix, year) if licence is None else licence
        school.license_valid_until = valid
        for rule in ("kindergarten.unlicensed", "kindergarten.license-expired", "kindergarten.license-shared"):
            ds.plants.append(Plant(rule, school.school_id, plants.get(rule, "pass"), note))

    future = as_of + timedelta(days=rng.randint(200, 1500))
    for ownership in ("private", "private", "public"):
        take(ownership, "", None, {"kindergarten.unlicensed": "fail"}, "no licence")
    expired = {"kindergarten.license-expired": "fail"}
    take("private", None, as_of - timedelta(days=1), expired, "valid until the day before as_of")
    take("public", None, as_of - timedelta(days=400), expired, "expired over a year ago")
    take("public", None, as_of, {}, "valid until as_of itself")
    take("private", None, None, {"kindergarten.license-expired": "not_evaluated"}, "licence without a date")
    shared = {"kindergarten.license-shared": "fail"}
    issued, seq = rng.randint(2015, year - 1), book.next_seq("柳")
    for ownership, licence in (
        ("private", f"柳教幼证字（{issued}）第{seq:03d}号"),
        ("private", f"柳教幼证字({issued})第{seq:03d}号 "),
    ):
        take(ownership, licence, future, shared, "licence shared by two")
    issued, seq = rng.randint(2015, year - 1), book.next_seq("柳")
    for ownership, licence in (
        ("private", f"柳教幼证字（{issued}）第A{seq:02d}号"),
        ("public", f"柳教幼证字 ({issued}) 第a{seq:02d}号"),
        ("private", f"柳教幼证字（{_to_fullwidth(str(issued))}）第{_to_fullwidth(f'A{seq:02d}')}号"),
    ):
        take(ownership, licence, future, shared, "licence shared by three")


def _plant_safety(
    rng: random.Random, ds: Dataset, rows: _Picker[Safety], vocational: _Picker[School], round_no: int
) -> None:
    types = {s.school_id: s.type for s in ds.schools}

    def planted(row: Safety, note: str, **values: Any) -> None:
        row.closed_management = row.one_key_alarm = row.video_linked_police = row.escort_post = True
        row.full_time_guards = rng.randint(2, 4)
        for name, value in values.items():
            setattr(row, name, value)
        for rule, item in SAFETY_ITEMS:
            value = getattr(row, item)
            outcome = "not_evaluated" if value is None else "fail" if value in (False, 0) else "pass"
            ds.plants.append(Plant(rule, row.school_id, outcome, note))
        ds.plants.append(Plant("safety.record-missing", row.school_id, "pass", note))

    planted(
        rows.take(), "several items missing", closed_management=False, one_key_alarm=False, video_linked_police=False
    )
    planted(rows.take(), "no guard", full_time_guards=0)
    planted(rows.take(), "exactly one guard", full_time_guards=1)
    for _, item in SAFETY_ITEMS:
        for _ in range(2):
            planted(rows.take(), f"{item} missing", **{item: 0 if item == "full_time_guards" else False})
    item = SAFETY_ITEMS[round_no % len(SAFETY_ITEMS)][1]
    planted(rows.take(), f"{item} left blank", **{item: None})
    for wanted in ("kindergarten", "primary", None):
        row = rows.take(lambda r, wanted=wanted: wanted is None or types[r.school_id] == wanted)
        del ds.safety[row.school_id]
        ds.plants.append(Plant("safety.record-missing", row.school_id, "fail", "no safety row"))
    school = vocational.take()
    ds.safety.pop(school.school_id, None)
    ds.plants.append(Plant("safety.record-missing", school.school_id, "pass", "vocational without a row"))
    school = vocational.take()
    ds.safety[school.school_id] = Safety(school.school_id, False, 0, False, False, False)
    for rule, _ in SAFETY_ITEMS:
        ds.plants.append(Plant(rule, school.school_id, "pass", "vocational with every item missing"))


def _plant(rng: random.Random, ds: Dataset, rounds: int, book: _LicenceBook) -> None:
    """Plant `rounds` sets of boundary cases, each in rows no earlier plant has touched."""
    stype = {s.school_id: s.type for s in ds.schools}
    by_school: dict[str, list[SchoolClass]] = defaultdict(list)
    for c in ds.classes:
        by_school[c.school_id].append(c)

    def classes_of(*types: str) -> _Picker[SchoolClass]:
        return _Picker(rng, (c for c in ds.classes if stype[c.school_id] in types), f"{types[0]} class")

    regular = classes_of(*COMPULSORY, *HIGH_SCHOOLS)
    kg_classes, special = classes_of("kindergarten"), classes_of("special")
    vocational = _Picker(rng, (s for s in ds.schools if s.type == "vocational"), "vocational school")
    kindergartens = _Picker(rng, (s for s in ds.schools if s.type == "kindergarten"), "kindergarten")
    rows = _Picker(rng, (r for r in ds.safety.values() if stype[r.school_id] != "vocational"), "safety row")
    for round_no in range(rounds):
        _plant_classes(rng, ds, regular, kg_classes, special, vocational, by_school)
        _plant_licences(rng, ds, kindergartens, book)
        _plant_safety(rng, ds, rows, vocational, round_no)


def build_dataset(
    scale: str = "case", seed: int = 2025, as_of: date = date(2025, 12, 1), extended: bool | None = None
) -> Dataset:
    """Generate every row of a synthetic audit in memory, boundary cases planted. `extended` (default: at
    case scale only) adds what the plan, quality-balance, preschool and safety packs read, with their
    planted cases (:mod:`synthetic.packs`), from a random stream of its own."""
    spec = SCALES[scale]
    rng, book, counties = random.Random(seed), _LicenceBook(), _counties(spec.county_copies)
    schools = _make_schools(rng, spec, counties, as_of, book)
    classes = _make_classes(rng, spec, schools)
    teachers = _make_teachers(rng, spec, schools, classes, as_of)
    ds = Dataset(scale, seed, as_of, counties, schools, classes, teachers, _make_safety(rng, schools))
    _control_new_hires(rng, ds)
    _plant(rng, ds, spec.rounds, book)
    if scale == "case" if extended is None else extended:
        ds.extended = True
        ds.pack_plants = extend(ds)
    return ds


def generate(
    out_dir: Path,
    scale: str = "case",
    seed: int = 2025,
    fmt: str = "mixed",
    as_of: date = date(2025, 12, 1),
    with_sets: bool = True,
    extended: bool | None = None,
) -> dict[str, Any]:
    """Write a synthetic audit folder and its expected.yaml (and, extended, planted.yaml); return the
    expected-findings document of the core pack."""
    return _generate(Path(out_dir), scale, seed, fmt, as_of, with_sets, extended)[0]


def _generate(
    out_dir: Path, scale: str, seed: int, fmt: str, as_of: date, with_sets: bool, extended: bool | None = None
) -> tuple[dict[str, Any], dict[str, int]]:
    if scale not in SCALES or fmt not in LAYOUTS:
        raise ValueError(f"unknown scale {scale!r} or format {fmt!r}")
    return _write(build_dataset(scale, seed, as_of, extended), Path(out_dir), fmt, with_sets)


def write_folder(ds: Dataset, out_dir: Path, fmt: str = "mixed", with_sets: bool = True) -> dict[str, Any]:
    """Write the audit folder of rows `build_dataset` built (what `generate` writes for them), leaving
    `ds` as it was; return the expected-findings document of the core pack."""
    if fmt not in LAYOUTS:
        raise ValueError(f"unknown format {fmt!r}")
    return _write(ds, Path(out_dir), fmt, with_sets)[0]


def _write(ds: Dataset, out_dir: Path, fmt: str, with_sets: bool) -> tuple[dict[str, Any], dict[str, int]]:
    scale, seed, as_of = ds.scale, ds.seed, ds.as_of
    results = compute_expected(ds)
    check_plants(ds.plants, results)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_yaml(out_dir / "audit.yaml", audit_document(ds, scale))
    write_records(ds, out_dir, fmt)
    document = expected_document(results, as_of, scale, with_sets)
    command = (
        f"PYTHONPATH=tests python -m synthetic.city OUT_DIR --scale {scale} --seed {seed} --format {fmt}"
        f" --as-of {as_of.isoformat()}{'' if with_sets else ' --no-sets'}"
    )
    comment = (
        f"# Expected findings of the core rule pack, computed by synthetic.oracle (independent oracle).\n# {command}\n"
    )
    write_yaml(out_dir / "expected.yaml", document, comment, flow=False)
    (out_dir / "planted.yaml").unlink(missing_ok=True)
    rows = {
        "schools": len(ds.schools),
        "classes": len(ds.classes),
        "teachers": len(ds.teachers),
        "safety": len(ds.safety),
    }
    if ds.extended:
        comment = (
            "# Planted verdicts of the plan, quality-balance, preschool and safety packs on this case, built by\n"
            "# synthetic.packs from the rules' text and checked against the rows by its own\n"
            "# arithmetic before anything was written (never taken from the engine). `absent`: outside the rule's\n"
            "# scope (in none of its sets). `city_rules`: the verdict each case (2022, 2025) is built to show on\n"
            "# the rules whose one entity is the city; `skipped`: no target for this case's year.\n"
            f"# {command}\n"
        )
        (out_dir / "planted.yaml").write_text(comment + planted_yaml(planted_document(ds)), encoding="utf-8")
        rows.update(
            {"facilities": len(ds.facilities), "county_stats": len(ds.county_stats), "city_stats": len(ds.city_stats)}
        )
    return document, rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; prints rows per file, seconds taken and counts per rule."""
    parser = argparse.ArgumentParser(
        prog="PYTHONPATH=tests python -m synthetic.city",
        description="Write a synthetic Liuzhou audit folder and its expected findings.",
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--scale", choices=list(SCALES), default="case")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--format", dest="fmt", choices=list(LAYOUTS), default="mixed")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2025, 12, 1))
    parser.add_argument("--no-sets", dest="with_sets", action="store_false", help="write counts without id lists")
    parser.add_argument(
        "--packs",
        choices=("core", "all"),
        default=None,
        help="core: the core pack's data only; all: also what the other four packs read, with their "
        "planted cases (default: all at case scale, core otherwise)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    extended = None if args.packs is None else args.packs == "all"
    document, rows = _generate(args.out_dir, args.scale, args.seed, args.fmt, args.as_of, args.with_sets, extended)
    print(f"wrote {args.out_dir} ({args.scale}, {args.fmt}) in {time.perf_counter() - started:.1f} s")
    for kind, count in rows.items():
        print(f"  {kind:<30} {count:>7} rows")
    for rule, entry in document["rules"].items():
        print(f"  {rule:<30} {entry['count']:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
