"""The scheduling rules (C1) as pure checks: the school day, the length, the kind of session."""

from __future__ import annotations

import datetime as dt

import pytest

from safeclass.app.scheduling import (
    ScheduleRefusedError,
    aware,
    clean_title,
    schedule_problems,
    school_day_text,
    staffing_warnings,
)
from safeclass.core import SessionKind
from safeclass.policy import Policy, load_preset
from safeclass.policy.model import SchoolDay, Weekday

TUESDAY = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)  # 10:00 in London (GMT)
BEFORE = TUESDAY - dt.timedelta(days=1)


def problems(
    policy: Policy | str = "claydon",
    *,
    at: dt.datetime = TUESDAY,
    minutes: int = 30,
    kind: SessionKind = SessionKind.CLASS,
    pupils: int = 20,
    now: dt.datetime = BEFORE,
) -> list[str]:
    pol = load_preset(policy) if isinstance(policy, str) else policy
    return schedule_problems(pol, kind=kind, starts_at=at, minutes=minutes, pupils=pupils, now=now)


# covers: C1, CLA-03
def test_a_class_session_inside_the_school_day_is_accepted():
    assert problems() == []


# covers: C1, CRO-05
def test_a_session_at_seven_in_the_evening_is_refused_with_the_school_day_and_its_clause():
    assert problems(at=TUESDAY.replace(hour=19)) == [
        "Sessions must be inside the school day, 08:30–15:30 Monday to Friday (CRO-05); "
        "this one would run Tuesday 24 November, 19:00–19:30"
    ]


# covers: C1, CRO-05
def test_a_session_on_saturday_is_refused():
    saturday = TUESDAY + dt.timedelta(days=4)
    assert problems(at=saturday) == [
        "Sessions must be inside the school day, 08:30–15:30 Monday to Friday (CRO-05); "
        "this one would run Saturday 28 November, 10:00–10:30"
    ]


# covers: C1, CRO-05
def test_a_session_must_end_inside_the_school_day_too():
    assert problems(at=TUESDAY.replace(hour=15, minute=15)) != []
    assert problems(at=TUESDAY.replace(hour=15, minute=0)) == []  # ends at 15:30 exactly
    assert problems(at=TUESDAY.replace(hour=8, minute=29)) != []


# covers: C1, CRO-05
def test_the_school_day_is_read_in_the_schools_time_zone_in_summer_time():
    june = dt.datetime(2026, 6, 2, 7, 45, tzinfo=dt.UTC)  # 08:45 in London (BST)
    early = june - dt.timedelta(days=1)
    assert problems(at=june, now=early) == []
    assert "16:00–16:30" in problems(at=june.replace(hour=15, minute=0), now=early)[0]


# covers: C1, CRO-05
def test_crofton_has_its_own_hours():
    assert school_day_text(load_preset("crofton").school_day) == "08:45–15:15 Monday to Friday"
    assert problems("crofton", at=TUESDAY.replace(hour=8, minute=30))[0].startswith(
        "Sessions must be inside the school day, 08:45–15:15 Monday to Friday (CRO-05)"
    )


# covers: C1
def test_a_school_day_of_scattered_days_is_listed_by_name():
    day = SchoolDay(days=(Weekday.FRI, Weekday.MON, Weekday.WED))
    assert school_day_text(day) == "08:30–15:30 Monday, Wednesday and Friday"
    assert school_day_text(SchoolDay(days=(Weekday.TUE,))) == "08:30–15:30 Tuesday"


# covers: C11, CLA-06
def test_a_session_longer_than_the_policy_allows_is_refused_with_the_clause():
    assert problems(minutes=45, at=TUESDAY.replace(hour=9)) == [
        "Sessions can be at most 30 minutes long (CLA-06)"
    ]
    assert problems("crofton", minutes=45, at=TUESDAY.replace(hour=9)) == []


# covers: C6, CLA-02
def test_a_one_to_one_is_refused_where_the_policy_forbids_it():
    assert problems(kind=SessionKind.ONE_TO_ONE, pupils=1) == [
        "1-to-1 sessions are not allowed in this school's policy (CLA-02)"
    ]


# covers: C6, WER-09
def test_a_one_to_one_is_for_exactly_one_pupil_where_it_is_allowed():
    assert problems("werrington", kind=SessionKind.ONE_TO_ONE, pupils=1) == []
    assert problems("werrington", kind=SessionKind.ONE_TO_ONE, pupils=2) == [
        "A 1-to-1 session is for exactly one pupil, not 2"
    ]


# covers: C1
def test_a_class_session_needs_a_pupil_and_a_future_start():
    assert problems(pupils=0) == ["A class or group session needs at least one pupil"]
    assert problems(now=TUESDAY) == ["A session cannot start in the past"]


# covers: C1, CRO-05
def test_every_reason_is_given_at_once():
    found = problems(at=TUESDAY.replace(hour=19), minutes=60, pupils=0)
    assert len(found) == 3


# covers: C1
def test_a_time_without_a_zone_means_the_schools_own_time():
    policy = load_preset("claydon")
    assert aware(policy, dt.datetime(2026, 6, 2, 10, 0)) == dt.datetime(
        2026, 6, 2, 9, 0, tzinfo=dt.UTC
    )
    assert aware(policy, TUESDAY) == TUESDAY


# covers: C1
def test_a_title_is_one_line_and_not_empty():
    assert clean_title("  Year 2\nMaths ") == "Year 2 Maths"
    with pytest.raises(ScheduleRefusedError, match="needs a title"):
        clean_title(" \n ")


# covers: C5, CLA-02, CLA-03
def test_too_few_staff_is_a_warning_not_a_refusal():
    policy = load_preset("claydon")
    assert staffing_warnings(policy, SessionKind.CLASS, 2) == []
    assert staffing_warnings(policy, SessionKind.CLASS, 1) == [
        "1 of the 2 staff this policy needs are on this session; pupils will wait until 2 "
        "are in the room (CLA-02)"
    ]
