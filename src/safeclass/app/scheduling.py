"""Scheduling inside the school's rules (C1): pure checks, no I/O.

`schedule_problems` is a pure function over the policy and the request, like the room's
`decide`: it returns every reason a session cannot be scheduled, each citing the clause it
protects ("Sessions must be inside the school day, 08:30–15:30 Monday to Friday (CRO-05)").
The use cases that read and write the store are in `timetable.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from safeclass.core import SessionKind
from safeclass.policy import Policy
from safeclass.policy.clauses import clause_for
from safeclass.policy.model import WEEKDAY_ORDER, SchoolDay

# CRO-05 is the one protocol clause about the school day; every school's window is that rule.
SCHOOL_DAY_CLAUSE = "CRO-05"
_DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class ScheduleRefusedError(ValueError):
    """The request breaks the school's rules; `reasons` says how, each citing its clause."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__(" ".join(self.reasons))


# -- the pure checks ---------------------------------------------------------------------------


def school_day_text(day: SchoolDay) -> str:
    """The window in words: "08:30–15:30 Monday to Friday"."""
    return f"{day.starts:%H:%M}–{day.ends:%H:%M} {_days_text(day)}"


def _days_text(day: SchoolDay) -> str:
    idx = sorted(WEEKDAY_ORDER.index(d) for d in day.days)
    names = [_DAY_NAMES[i] for i in idx]
    if len(idx) >= 3 and idx == list(range(idx[0], idx[-1] + 1)):
        return f"{names[0]} to {names[-1]}"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def local_time(policy: Policy, when: dt.datetime) -> dt.datetime:
    return when.astimezone(ZoneInfo(policy.school.timezone))


def when_text(policy: Policy, starts_at: dt.datetime, minutes: int) -> str:
    """ "Tuesday 24 November, 10:00–10:30" in the school's own time zone."""
    start = local_time(policy, starts_at)
    end = local_time(policy, starts_at + dt.timedelta(minutes=minutes))
    return f"{_DAY_NAMES[start.weekday()]} {start.day} {start:%B}, {start:%H:%M}–{end:%H:%M}"


def inside_school_day(policy: Policy, starts_at: dt.datetime, minutes: int) -> bool:
    day = policy.school_day
    start = local_time(policy, starts_at)
    end = local_time(policy, starts_at + dt.timedelta(minutes=minutes))
    return (
        WEEKDAY_ORDER[start.weekday()] in day.days
        and start.time() >= day.starts
        and end.date() == start.date()
        and end.time() <= day.ends
    )


def schedule_problems(
    policy: Policy,
    *,
    kind: SessionKind,
    starts_at: dt.datetime,
    minutes: int,
    pupils: int,
    now: dt.datetime,
) -> list[str]:
    """Every reason this session cannot be scheduled under `policy` (empty: it can)."""
    key = policy.school.key
    problems: list[str] = []
    if starts_at <= now:
        problems.append("A session cannot start in the past")
    if minutes < 1:
        problems.append("A session must last at least one minute")
    elif minutes > policy.timing.max_minutes:
        problems.append(
            f"Sessions can be at most {policy.timing.max_minutes} minutes long "
            f"({clause_for(key, 'DURATION')})"
        )
    if minutes >= 1 and not inside_school_day(policy, starts_at, minutes):
        problems.append(
            f"Sessions must be inside the school day, {school_day_text(policy.school_day)} "
            f"({SCHOOL_DAY_CLAUSE}); this one would run {when_text(policy, starts_at, minutes)}"
        )
    if kind is SessionKind.ONE_TO_ONE:
        if not policy.one_to_one.allowed:
            problems.append(
                "1-to-1 sessions are not allowed in this school's policy "
                f"({clause_for(key, 'ONE_TO_ONE')})"
            )
        elif pupils != 1:
            problems.append(f"A 1-to-1 session is for exactly one pupil, not {pupils}")
    elif pupils < 1:
        problems.append("A class or group session needs at least one pupil")
    return problems


def staffing_warnings(policy: Policy, kind: SessionKind, staff: int) -> list[str]:
    """Not refusals (staff may be added later, CLA-03), but what the room will wait for."""
    needed = policy.min_staff_for(kind is SessionKind.ONE_TO_ONE)
    if staff >= needed:
        return []
    return [
        f"{staff} of the {needed} staff this policy needs are on this session; pupils will "
        f"wait until {needed} are in the room ({clause_for(policy.school.key, 'TWO_ADULTS')})"
    ]


def clean_title(title: str) -> str:
    text = " ".join(title.split())
    if not text:
        raise ScheduleRefusedError(["A session needs a title"])
    if len(text) > 200:
        raise ScheduleRefusedError(["A title can be at most 200 characters"])
    return text


def aware(policy: Policy, when: dt.datetime) -> dt.datetime:
    """A time without a zone is read in the school's zone ("10:00" means 10:00 at school)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(policy.school.timezone))
    return when.astimezone(dt.UTC)
