"""An example value for every column of the data contract, as a school would type it.

The entry workbook shows them in its example row (`示例：45`); a test loads every one through the
loader's own parsers, so an example is always a valid value of its column.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..records.schema import Column

__all__ = ["example"]

_BY_NAME: Mapping[str, str] = {
    "school_id": "4502020001",
    "name": "柳州市示例小学",
    "county": "城中区",
    "township": "城中街道",
    "type": "小学",
    "ownership": "公办",
    "license_no": "教民145020270000001号",
    "license_valid_until": "2027-08-31",
    "star_level": "0",
    "enrolment": "1200",
    "subject_bases": "1",
    "class_id": "4502020001-0301",
    "grade": "3",
    "size": "45",
    "teacher_id": "4502020001-T001",
    "subject": "体育",
    "degree": "本科",
    "title": "中级",
    "backbone_level": "县级",
    "hire_year": "2018",
    "training_hours_5y": "360",
    "full_time_guards": "2",
    "video_retention_days": "90",
    "teaching_area": "5600.00",
    "sports_area": "8200.00",
    "equipment_value": "3200000.00",
    "multimedia_rooms": "24",
    "music_rooms": "2",
    "music_room_area": "96.00",
    "art_rooms": "2",
    "art_room_area": "90.00",
    "doctors": "1",
    "daily_pe_minutes": "60",
    "year": "2025",
    "preschool_gross_enrolment": "92.5%",
    "senior_gross_enrolment": "93.5%",
    "teacher_avg_pay": "98000.00",
    "civil_servant_avg_pay": "96000.00",
    "edu_budget": "350000.00",
    "edu_budget_per_student": "15000.00",
    "gdp": "35000000.00",
    "fiscal_edu_funds": "1200000.00",
    "migrant_children": "52000",
    "migrant_children_public": "45000",
    "migrant_eligible_applicants": "8000",
    "migrant_eligible_admitted": "7950",
    "preschool_nonstaff_pay": "48000.00",
    "preschool_staff_pay": "86000.00",
    "dropouts": "0",
    "skill_awards": "30",
    "new_universities": "1",
    "avg_schooling_years": "11.20",
    "research_awards_basic": "12",
    "research_awards_vocational": "6",
}

_BY_TYPE: Mapping[str, str] = {"text": "示例", "bool": "是", "date": "2025-12-31", "rate": "95%", "grade": "3"}


def example(column: Column, county: str | None = None) -> str:
    """The example of `column` (the county column's is the region's first division, when known)."""
    if column.name == "county" and county:
        return county
    if column.name in _BY_NAME:
        return _BY_NAME[column.name]
    if column.enum:
        return next(iter(column.enum.values()))
    if column.type in _BY_TYPE:
        return _BY_TYPE[column.type]
    low, high = column.bounds
    value = 1 if low is None or low <= 1 else low
    if high is not None and value > high:
        value = high
    return f"{value:.{column.places}f}" if column.places else str(int(value))
