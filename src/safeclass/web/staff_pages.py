"""The first pages: the landing page `/`, the sign-in page `/sign-in`, and the staff home `/staff`.

`/sign-in`'s form posts to `POST /auth/login` (one door for signing in, with its Origin check
and limits); that route answers a browser's form with a redirect to `/staff`, or this page again
with a GOV.UK-style error summary (`sign_in_page`). `/staff` lists today's sessions of the
signed-in member of staff, as the sessions API's rules allow (teachers and assistants see the
sessions they are on), each with its time in words, a link to its page (`session_page`) and a
Join button; "Schedule a lesson" for those who may (`schedule_page`); the school's class lists
(`class_page`); and a sign-out button (a form that posts the CSRF token to `POST /auth/logout`).

A staff page (`/staff` and everything under it) asked for without a signed-in login, by a role
it is not for, or for something the caller does not reach, answers with a page in plain words,
not JSON (`page_refusal`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from safeclass.app import route_access, staff_roles, timetable
from safeclass.app.family_reports import families_reporting
from safeclass.app.identity import STAFF_COOKIE, csrf_token
from safeclass.app.undelivered import Undelivered, Why, count_undelivered
from safeclass.web import i18n
from safeclass.web.deps import CSRF_REFUSED, AllowedStaff, services_of
from safeclass.web.oversight_page import review_words
from safeclass.web.render import render

router = APIRouter(include_in_schema=False)

SIGN_IN = "/sign-in"
STAFF_HOME = "/staff"
# The staff's pages are /staff and everything under it: their refusals are pages.
STAFF_PAGES_PREFIX = "/staff/"


@router.get("/", response_class=HTMLResponse)
async def landing(request: Request) -> HTMLResponse:
    """What safeclass is; staff sign in here, families use the link the school sent."""
    return render(request, "landing.html")


@router.get(SIGN_IN, response_class=HTMLResponse)
async def sign_in(request: Request) -> HTMLResponse:
    """The sign-in form (it posts to `/auth/login`)."""
    return sign_in_page(request, signed_out=request.query_params.get("signed_out") == "1")


def sign_in_page(
    request: Request,
    *,
    errors: list[tuple[str, str]] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    wait_seconds: int = 0,
    signed_out: bool = False,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The sign-in page; `errors` are (field, code) pairs the template words (sign_in.html)."""
    errors = errors or []
    return render(
        request,
        "sign_in.html",
        status=status,
        headers=headers,
        errors=errors,
        field_errors=dict(reversed(errors)),  # a field shows its first error
        values=values or {},
        wait_minutes=max(1, -(-wait_seconds // 60)),
        signed_out=signed_out,
    )


@dataclass(frozen=True, slots=True)
class SessionLine:
    """One of today's sessions, as the staff home shows it."""

    id: str
    title: str
    times: str
    state: str  # soon, now, over, cancelled
    state_words: str
    pupils: int
    joinable: bool


@router.get(STAFF_HOME, response_class=HTMLResponse)
async def staff_home(request: Request, staff: AllowedStaff) -> HTMLResponse:
    """Today's sessions of the signed-in member of staff, with Join, and sign out."""
    services = services_of(request)
    now = services.clock.now()
    async with services.engine.connect() as conn:
        policy = await services.records.current_policy(conn, staff.school_id)
        classes = await services.records.list_classes(conn, staff.school_id)
        waiting = await count_undelivered(
            services.deliveries,
            conn,
            now,
            can_deliver=services.delivers,
            school_id=staff.school_id,
        )
    zone = ZoneInfo(policy.school.timezone)
    today = now.astimezone(zone).date()
    midnight = dt.datetime.combine(today, dt.time(0), tzinfo=zone)
    found = await timetable.list_sessions(services.timetable, staff, since=midnight)
    language = i18n.language_of(request)
    undelivered = undelivered_words(waiting, language)
    lines = [
        session_line(s, now, zone, language)
        for s in found
        if s.starts_at.astimezone(zone).date() == today
    ]
    # the head's view and the policy's review date (C19, CRO-17), for those who keep them
    oversees = staff_roles.may(staff.role, staff_roles.Capability.OVERSEE_SESSIONS)
    review_state, review_sentence = "", ""
    if oversees or staff_roles.may(staff.role, staff_roles.Capability.MANAGE_POLICY):
        state, review_sentence = review_words(policy, today, language)
        review_state = state.value
    # what families told the school about today's lessons, with the way to read it (C23)
    told = await families_reporting(services.family_reports, staff.school_id, [s.id for s in lines])
    return render(
        request,
        "staff_home.html",
        told=[(s, told[s.id]) for s in lines if s.id in told],
        told_families=sum(told.values()),
        staff_name=staff.name,
        csrf_token=csrf_token(request.cookies.get(STAFF_COOKIE, "")),
        today=format_date(today, "EEEE d MMMM y", locale=language),
        sessions=lines,
        classes=classes,
        may_schedule=staff_roles.may(staff.role, staff_roles.Capability.SCHEDULE_SESSIONS),
        may_read_concerns=staff_roles.may(staff.role, staff_roles.Capability.READ_CONCERNS),
        may_see_compliance=route_access.rule_for("GET", "/staff/compliance").allows(staff.role),
        undelivered=undelivered,
        oversees=oversees,
        review_state=review_state,
        review_sentence=review_sentence,
    )


def undelivered_words(waiting: Undelivered, language: str) -> list[str]:
    """The staff home's warning when alerts to the DSL or notices to parents wait undelivered
    (app/undelivered.py): how many, why, and what to do now. Empty when none wait."""
    n = waiting.dsl_alerts
    if waiting.why is None:
        return []
    ngettext = i18n.translations(language).ngettext
    gettext = i18n.translations(language).gettext
    families = []
    if waiting.parent_notices:
        families = [
            ngettext(
                "%(num)d message to a pupil's family has not been delivered.",
                "%(num)d messages to pupils' families have not been delivered.",
                waiting.parent_notices,
            )
            % {"num": waiting.parent_notices},
            gettext("The lesson's page says whose: tell the family yourself."),
        ]
    if not n:
        return families
    if waiting.why is Why.NO_CHANNEL:
        first = ngettext(
            "%(num)d alert to the safeguarding lead has not been delivered: email is not set up "
            "on this server.",
            "%(num)d alerts to the safeguarding lead have not been delivered: email is not set "
            "up on this server.",
            n,
        )
    elif waiting.why is Why.NO_DSL:
        first = ngettext(
            "%(num)d alert to the safeguarding lead has not been delivered: no member of staff "
            "has the safeguarding lead's role in safeclass.",
            "%(num)d alerts to the safeguarding lead have not been delivered: no member of staff "
            "has the safeguarding lead's role in safeclass.",
            n,
        )
    else:
        first = ngettext(
            "%(num)d alert to the safeguarding lead has not been delivered: the mail server did "
            "not take it.",
            "%(num)d alerts to the safeguarding lead have not been delivered: the mail server did "
            "not take them.",
            n,
        )
    return [first % {"num": n}, gettext("Tell the safeguarding lead yourself."), *families]


def session_line(
    s: timetable.SessionSummary, now: dt.datetime, zone: ZoneInfo, language: str
) -> SessionLine:
    """A session's times and state in words, in the page's language."""
    gettext = i18n.translations(language).gettext
    ngettext = i18n.translations(language).ngettext
    start, end = s.starts_at, s.starts_at + dt.timedelta(minutes=s.minutes)
    times = gettext("%(start)s to %(end)s") % {
        "start": format_time(start.astimezone(zone), "HH:mm", locale=language),
        "end": format_time(end.astimezone(zone), "HH:mm", locale=language),
    }
    if s.status == "cancelled":
        state, words = "cancelled", gettext("Cancelled")
    elif s.status == "ended" or now >= end:
        state, words = "over", gettext("Finished")
    elif now >= start:
        left = max(1, int((end - now).total_seconds() // 60))
        state = "now"
        words = ngettext("On now: %(num)d minute left", "On now: %(num)d minutes left", left) % {
            "num": left
        }
    else:
        wait = max(1, -(-int((start - now).total_seconds()) // 60))
        state = "soon"
        if wait < 120:
            words = ngettext("Starts in %(num)d minute", "Starts in %(num)d minutes", wait) % {
                "num": wait
            }
        else:
            hours = wait // 60
            words = ngettext("Starts in %(num)d hour", "Starts in %(num)d hours", hours) % {
                "num": hours
            }
    return SessionLine(
        id=s.id,
        title=s.title,
        times=times,
        state=state,
        state_words=words,
        pupils=s.pupils,
        joinable=state in ("soon", "now"),
    )


def is_staff_page(path: str) -> bool:
    return path == STAFF_HOME or path.startswith(STAFF_PAGES_PREFIX)


def page_refusal(request: Request, exc: StarletteHTTPException) -> Response | None:
    """A staff page's refusal as a page in plain words: "please sign in" with the way to sign
    in, "your account cannot do this", "not found" (None for anything else: the API's JSON
    answer stands)."""
    if not is_staff_page(request.url.path) or exc.status_code not in (401, 403, 404):
        return None
    gettext = i18n.translations(i18n.language_of(request)).gettext
    if exc.status_code == 401:
        return render(
            request,
            "problem.html",
            status=401,
            heading=gettext("Please sign in"),
            lines=[gettext("You need to sign in to see this page.")],
            action_href=SIGN_IN,
            action_text=gettext("Sign in"),
        )
    if exc.status_code == 403 and exc.detail == CSRF_REFUSED:
        heading = gettext("This form has expired")
        line = gettext("Go back, reload the page and try again.")
    elif exc.status_code == 403:
        heading = gettext("Your account cannot do this")
        line = gettext("Ask the head teacher or the school office if you need to.")
    else:
        heading = gettext("Not found")
        line = gettext("There is no such lesson, class or pupil, or it is not one of yours.")
    return render(
        request,
        "problem.html",
        status=exc.status_code,
        heading=heading,
        lines=[line],
        action_href=STAFF_HOME,
        action_text=gettext("Back to today's lessons"),
    )
