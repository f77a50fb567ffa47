"""Plain-English wording for policy values (dates, days, counts), shared by explain and diff.

A head teacher reads these sentences against a paper protocol, so dates are written out
("4 January 2022") and never depend on the server's locale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from safeclass.policy.model import WEEKDAY_ORDER, Weekday

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

DAY_NAMES: dict[Weekday, str] = {
    Weekday.MON: "Monday",
    Weekday.TUE: "Tuesday",
    Weekday.WED: "Wednesday",
    Weekday.THU: "Thursday",
    Weekday.FRI: "Friday",
    Weekday.SAT: "Saturday",
    Weekday.SUN: "Sunday",
}

_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def long_date(day: dt.date) -> str:
    """'4 January 2022', whatever the locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def clock(time: dt.time) -> str:
    """'08:30' (seconds are never part of a school timetable)."""
    return f"{time:%H:%M}"


def number_word(n: int) -> str:
    """'two' for 2; digits from ten up."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


def count(n: int, noun: str) -> str:
    """'1 minute', '5 minutes'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def and_list(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def days(chosen: Iterable[Weekday], through: str = " to ") -> str:
    """'Monday to Friday' for a run of three or more days, else 'Monday and Wednesday'."""
    picked = sorted(set(chosen), key=WEEKDAY_ORDER.index)
    if not picked:
        return "no days"
    positions = [WEEKDAY_ORDER.index(d) for d in picked]
    consecutive = positions == list(range(positions[0], positions[0] + len(positions)))
    if len(picked) >= 3 and consecutive:
        return f"{DAY_NAMES[picked[0]]}{through}{DAY_NAMES[picked[-1]]}"
    return and_list([DAY_NAMES[d] for d in picked])


def words(value: str) -> str:
    """A setting's value as words: 'off_until_allowed' -> 'off until allowed'."""
    return value.replace("_", " ")
