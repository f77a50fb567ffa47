"""The "Schedule a lesson" page, `/staff/sessions/new`: a form that posts to itself.

The class is picked from the school's classes and groups, the other adults by name from its
staff (those who may be in a room), the date and time are the school's own clock, and the
length is in minutes. The page names the policy's limits (the longest lesson, the school day,
how many adults must be in the room) and the server enforces them: every problem comes back as
a GOV.UK-style error summary with the form as it was filled in, and nothing is saved. A forged
form (a class or a member of staff of another school) is refused the same way. On success the
browser goes to the new lesson's page.

The use case is `timetable.schedule`, the same one `POST /api/sessions` uses; this page checks
the form first (with the same pure rules of `scheduling`) so each problem has its own words in
English and Welsh, and falls back to the use case's own words for anything it did not foresee.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_time
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeclass.app import scheduling, staff_roles, timetable
from safeclass.app.identity import STAFF_COOKIE, StaffIdentity, csrf_token
from safeclass.app.school_records import NotInSchoolError
from safeclass.core import SessionKind
from safeclass.policy import Policy
from safeclass.web import i18n
from safeclass.web.deps import AllowedStaff, services_of
from safeclass.web.render import render
from safeclass.web.staff_words import role_words

router = APIRouter(include_in_schema=False)

NEW_SESSION = "/staff/sessions/new"
FIELDS = ("class_id", "title", "date", "time", "minutes")
MAX_TITLE = 200
MAX_AGENDA = 2000  # as the API's


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Choices:
    """What the form offers, from the school's records and policy."""

    policy: Policy
    classes: list[Option]
    colleagues: list[Option]


def session_page(session_id: str) -> str:
    return f"/staff/sessions/{session_id}"


@router.get(NEW_SESSION, response_class=HTMLResponse)
async def new_session(request: Request, staff: AllowedStaff) -> HTMLResponse:
    """The empty form (teachers, heads and the office: `schedule_sessions`); `?class_id=` (from a
    class list's page) picks that class."""
    choices = await _choices(request, staff)
    asked = request.query_params.get("class_id", "")
    picked = asked if asked in {c.value for c in choices.classes} else ""
    values = {"minutes": "30", "class_id": picked}
    return _page(request, staff, choices, values=values, chosen=set(), errors=[])


@router.post(NEW_SESSION, response_class=HTMLResponse)
async def schedule_session(request: Request, staff: AllowedStaff) -> Response:
    """Schedule the lesson, then go to its page; or the form again with what is wrong."""
    form = await request.form()
    values = {name: " ".join(str(form.get(name, "")).split()) for name in FIELDS}
    # the agenda keeps its lines (a list of what the lesson covers)
    values["agenda"] = str(form.get("agenda", "")).replace("\r\n", "\n").strip()
    chosen = {str(v) for v in form.getlist("staff_ids")}
    choices = await _choices(request, staff)
    services = services_of(request)
    errors, starts_at, minutes = _problems(values, chosen, choices, services.clock.now())
    if not errors and starts_at is not None and minutes is not None:
        new = timetable.SessionRequest(
            kind=SessionKind.CLASS,
            title=values["title"],
            starts_at=starts_at,
            minutes=minutes,
            class_id=values["class_id"],
            staff_ids=tuple(sorted(chosen)),
            agenda=values["agenda"],
        )
        try:
            session_id = await timetable.schedule(
                services.timetable, staff, new, services.clock.now()
            )
        except scheduling.ScheduleRefusedError as exc:
            errors = [("date", reason) for reason in exc.reasons]  # words it did not foresee
        except (NotInSchoolError, timetable.NotPermittedError):
            errors = [("staff", "staff_unknown")]
        else:
            return RedirectResponse(session_page(session_id), status_code=303)
    return _page(request, staff, choices, values=values, chosen=chosen, errors=errors, status=422)


async def _choices(request: Request, staff: StaffIdentity) -> Choices:
    services = services_of(request)
    gettext = i18n.translations(i18n.language_of(request))
    async with services.engine.connect() as conn:
        policy = await services.records.current_policy(conn, staff.school_id)
        classes = await services.records.list_classes(conn, staff.school_id)
        colleagues = await services.records.staff_by_role(conn, staff.school_id)
    return Choices(
        policy=policy,
        classes=[Option(c.id, c.name) for c in classes],
        colleagues=[
            Option(s.id, f"{s.name} ({role_words(gettext, s.role.value)})")
            for s in colleagues
            if s.id != staff.staff_id and s.role.value in staff_roles.SESSION_ROLES
        ],
    )


def _problems(
    values: dict[str, str], chosen: set[str], choices: Choices, now: dt.datetime
) -> tuple[list[tuple[str, str]], dt.datetime | None, int | None]:
    """(field, code) for each problem, and the start and length when they could be read."""
    errors: list[tuple[str, str]] = []
    policy = choices.policy
    if not values["class_id"]:
        errors.append(("class_id", "class_missing"))
    elif values["class_id"] not in {c.value for c in choices.classes}:
        errors.append(("class_id", "class_unknown"))
    if not values["title"]:
        errors.append(("title", "title_missing"))
    elif len(values["title"]) > MAX_TITLE:
        errors.append(("title", "title_long"))
    day = _date(values["date"])
    if day is None:
        errors.append(("date", "date_missing" if not values["date"] else "date_bad"))
    start = _time(values["time"])
    if start is None:
        errors.append(("time", "time_missing" if not values["time"] else "time_bad"))
    minutes: int | None = None
    if not values["minutes"]:
        errors.append(("minutes", "minutes_missing"))
    elif not values["minutes"].isdigit() or int(values["minutes"]) < 1:
        errors.append(("minutes", "minutes_bad"))
    else:
        minutes = int(values["minutes"])
        if minutes > policy.timing.max_minutes:
            errors.append(("minutes", "minutes_over"))
    if len(values.get("agenda", "")) > MAX_AGENDA:
        errors.append(("agenda", "agenda_long"))
    if chosen - {c.value for c in choices.colleagues}:
        errors.append(("staff", "staff_unknown"))
    starts_at = None
    if day is not None and start is not None:
        starts_at = dt.datetime.combine(day, start, tzinfo=ZoneInfo(policy.school.timezone))
        if starts_at <= now:
            errors.append(("date", "past"))
        elif minutes is not None and not scheduling.inside_school_day(policy, starts_at, minutes):
            errors.append(("time", "outside_day"))
    return errors, starts_at, minutes


def _date(text: str) -> dt.date | None:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):  # the date field's value, or typed by hand
        try:
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 (a day)
        except ValueError:
            continue
    return None


def _time(text: str) -> dt.time | None:
    for pattern in ("%H:%M", "%H.%M", "%H:%M:%S"):
        try:
            return dt.datetime.strptime(text, pattern).time()  # noqa: DTZ007 (the school's)
        except ValueError:
            continue
    return None


def _page(
    request: Request,
    staff: StaffIdentity,
    choices: Choices,
    *,
    values: dict[str, str],
    chosen: set[str],
    errors: list[tuple[str, str]],
    status: int = 200,
) -> HTMLResponse:
    policy = choices.policy
    language = i18n.language_of(request)
    day = policy.school_day
    return render(
        request,
        "schedule.html",
        status=status,
        csrf_token=csrf_token(request.cookies.get(STAFF_COOKIE, "")),
        classes=choices.classes,
        colleagues=choices.colleagues,
        values={name: values.get(name, "") for name in (*FIELDS, "agenda")},
        chosen=chosen,
        errors=errors,
        field_errors=dict(reversed(errors)),
        max_minutes=policy.timing.max_minutes,
        min_staff=policy.min_staff_for(False),
        day_starts=format_time(day.starts, "HH:mm", locale=language),
        day_ends=format_time(day.ends, "HH:mm", locale=language),
        leads_it=staff.role == staff_roles.TEACHER,
    )
