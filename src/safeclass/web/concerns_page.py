"""Safeguarding concerns for staff (C16): the DSL's page, one concern's record, a pupil's
chronology, the exports for CPOMS and MyConcern, and the form to raise one after a lesson.

- `GET /staff/concerns` (read_concerns): open concerns first, each with its pupils, category,
  when, by whom and its status; the export of a date range.
- `GET /staff/concerns/{id}`: the account and everything added since, in order, with "Mark as
  read" (read_concerns), "Add to this concern" and "Record an action taken". Who may read it is
  the one rule (`staff_roles.may_read_concern`): the DSL and the one who wrote it; anyone else
  is answered "not found", as for a concern that does not exist.
- `POST /staff/concerns/{id}/entries`: an addition or an action taken (a new entry; no route
  ever changes what was written). `POST .../read`: the DSL marks it read (an entry too).
- `GET /staff/pupils/{pupil}/concerns`: the pupil's chronology, in the order things happened.
- `GET /staff/concerns/export.csv|pdf?from=&to=`, `GET /staff/concerns/{id}/export.csv|pdf`.
- `GET|POST /staff/sessions/{session}/concerns/new` (raise_concerns, for staff who reach the
  session): a concern written afterwards, about pupils of that session's list.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeclass.app import concerns, staff_roles
from safeclass.app.identity import STAFF_COOKIE, StaffIdentity, csrf_token
from safeclass.app.reports.concerns_export import concerns_csv, concerns_pdf, gather
from safeclass.app.staff_roles import Capability
from safeclass.bootstrap import Services
from safeclass.policy import Policy
from safeclass.web import i18n
from safeclass.web.deps import AllowedSession, AllowedStaff, services_of
from safeclass.web.render import render
from safeclass.web.room_words import N_

router = APIRouter(include_in_schema=False)

LIST = "/staff/concerns"
EXPORT_CSV = f"{LIST}/export.csv"
EXPORT_PDF = f"{LIST}/export.pdf"
ONE = f"{LIST}/{{concern_id}}"
ONE_CSV = f"{ONE}/export.csv"
ONE_PDF = f"{ONE}/export.pdf"
ENTRIES = f"{ONE}/entries"
READ = f"{ONE}/read"
CHRONOLOGY = "/staff/pupils/{pupil_id}/concerns"
RAISE = "/staff/sessions/{session_id}/concerns/new"
NOT_FOUND = "No such concern"
# The policy's default categories (policy/model.py), marked for the catalogue: a school that
# keeps them reads them in Welsh too; its own categories are shown as it wrote them.
CATEGORY_WORDS = (
    N_("Physical abuse"),
    N_("Emotional abuse"),
    N_("Sexual abuse"),
    N_("Neglect"),
    N_("Child-on-child abuse"),
    N_("Online safety"),
    N_("Mental health or self-harm"),
    N_("Domestic abuse"),
    N_("Exploitation (criminal or sexual)"),
    N_("Radicalisation (Prevent)"),
    N_("Other"),
)


@dataclass(frozen=True, slots=True)
class Line:
    """A concern in the DSL's list, in the page's words."""

    id: str
    pupils: str
    category: str
    when: str
    by: str
    status: str


async def _policy(services: Services, school_id: str) -> Policy:
    async with services.engine.connect() as conn:
        return await services.records.current_policy(conn, school_id)


def _words(when: dt.datetime | None, zone: ZoneInfo, language: str) -> str:
    if when is None:
        return ""
    return format_datetime(when.astimezone(zone), "EEE d MMM y, HH:mm", locale=language)


async def readable(
    services: Services, staff: StaffIdentity, concern_id: str
) -> concerns.ConcernRecord:
    """The concern, if this member of staff may read it (the one rule); else 404, as for one
    that does not exist, so an id teaches nothing."""
    found = await concerns.load(services.concerns, staff.school_id, concern_id)
    if found is None or not concerns.may_read(staff.role, staff.staff_id, found):
        raise HTTPException(404, NOT_FOUND)
    return found


def _category(gettext: Any, category: str) -> str:
    return str(gettext(category) if category else gettext("Not given"))


@router.get(LIST, response_class=HTMLResponse)
async def concerns_list(request: Request, staff: AllowedStaff) -> HTMLResponse:
    """The DSL's concerns: open ones first, then those read."""
    services = services_of(request)
    language = i18n.language_of(request)
    gettext = i18n.translations(language).gettext
    zone = ZoneInfo((await _policy(services, staff.school_id)).school.timezone)
    found = concerns.listed(await concerns.load_many(services.concerns, staff.school_id))
    lines = [
        Line(
            c.id,
            ", ".join(p.name for p in c.pupils) or gettext("Not about one pupil"),
            _category(gettext, c.category),
            _words(c.happened_at, zone, language),
            c.raised_by_name,
            c.status,
        )
        for c in found
    ]
    today = services.clock.now().astimezone(zone).date()
    return render(
        request,
        "concerns.html",
        open_lines=[c for c in lines if c.status == concerns.OPEN],
        read_lines=[c for c in lines if c.status != concerns.OPEN],
        export_from=(today - dt.timedelta(days=30)).isoformat(),
        export_to=today.isoformat(),
    )


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


async def _range(request: Request, staff: StaffIdentity) -> tuple[Any, str, str]:
    """The concerns recorded in the asked range (the school's days, both included)."""
    services = services_of(request)
    policy = await _policy(services, staff.school_id)
    zone = ZoneInfo(policy.school.timezone)
    today = services.clock.now().astimezone(zone).date()
    first = _day(request.query_params.get("from")) or today - dt.timedelta(days=30)
    last = _day(request.query_params.get("to")) or today
    start = dt.datetime.combine(first, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    records = [
        c
        for c in await concerns.load_many(services.concerns, staff.school_id)
        if start <= c.raised_at < end
    ]
    records.sort(key=lambda c: c.raised_at)
    exported = await gather(services.records, services.event_log, records, policy.school.timezone)
    return exported, policy.school.name, f"{first.isoformat()}-to-{last.isoformat()}"


def _download(name: str, extension: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="concerns-{name}.{extension}"',
        "Cache-Control": "no-store",
    }


@router.get(EXPORT_CSV)
async def export_range_csv(request: Request, staff: AllowedStaff) -> Response:
    """The concerns recorded between two dates, for CPOMS or MyConcern (CSV)."""
    exported, _, name = await _range(request, staff)
    return Response(
        concerns_csv(exported).encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers=_download(name, "csv"),
    )


@router.get(EXPORT_PDF)
async def export_range_pdf(request: Request, staff: AllowedStaff) -> Response:
    """The same, as a PDF to keep."""
    exported, school, name = await _range(request, staff)
    body = await asyncio.to_thread(
        concerns_pdf, exported, school, f"Safeguarding concerns, {name.replace('-to-', ' to ')}"
    )
    return Response(body, media_type="application/pdf", headers=_download(name, "pdf"))


@router.get(ONE, response_class=HTMLResponse)
async def concern_page(concern_id: str, request: Request, staff: AllowedStaff) -> HTMLResponse:
    """One concern's record: the account, then everything added, in the order written."""
    services = services_of(request)
    found = await readable(services, staff, concern_id)
    language = i18n.language_of(request)
    gettext = i18n.translations(language).gettext
    zone = ZoneInfo((await _policy(services, staff.school_id)).school.timezone)
    is_dsl = staff_roles.may(staff.role, Capability.READ_CONCERNS)
    read = found.read_entry
    return render(
        request,
        "concern.html",
        csrf_token=csrf_token(request.cookies.get(STAFF_COOKIE, "")),
        concern=found,
        category=_category(gettext, found.category),
        pupils=found.pupils,
        happened=_words(found.happened_at, zone, language),
        recorded=_words(found.raised_at, zone, language),
        backdated=found.happened_at < found.raised_at,
        entries=[
            (e, _words(e.at, zone, language), _words(e.happened_at, zone, language))
            for e in found.added
        ],
        read_by=read.by_name if read else "",
        read_at=_words(read.at, zone, language) if read else "",
        alerted=_words(found.alerted_at, zone, language),
        may_mark_read=is_dsl and read is None,
        is_dsl=is_dsl,
        done=request.query_params.get("done", ""),
        error=request.query_params.get("error", ""),
        # the alert is only promised where it can be sent (else: tell the DSL yourself)
        email_set_up=services.outbox is not None,
    )


@router.post(ENTRIES)
async def add_to_concern(concern_id: str, request: Request, staff: AllowedStaff) -> Response:
    """Add to a concern, or record an action taken: a new entry, chained; nothing changes."""
    services = services_of(request)
    await readable(services, staff, concern_id)
    form = await request.form()
    kind = str(form.get("kind", ""))
    text = str(form.get("text", ""))
    if kind not in concerns.ADDED_KINDS:
        raise HTTPException(400, "Choose an addition or an action taken")
    if not text.strip() or len(text.strip()) > concerns.MAX_TEXT:
        return RedirectResponse(f"/staff/concerns/{concern_id}?error={kind}#{kind}", 303)
    await concerns.add_entry(
        services.concerns,
        services.concern_key,
        school_id=staff.school_id,
        concern_id=concern_id,
        kind=kind,
        text=text,
        by=staff.staff_id,
        by_name=staff.name,
        now=services.clock.now(),
    )
    return RedirectResponse(f"/staff/concerns/{concern_id}?done={kind}", 303)


@router.post(READ)
async def mark_read(concern_id: str, request: Request, staff: AllowedStaff) -> Response:
    """The DSL has read it: an entry saying who and when (once)."""
    services = services_of(request)
    found = await readable(services, staff, concern_id)
    if found.read_entry is None:
        await concerns.add_entry(
            services.concerns,
            services.concern_key,
            school_id=staff.school_id,
            concern_id=concern_id,
            kind=concerns.READ,
            text="",
            by=staff.staff_id,
            by_name=staff.name,
            now=services.clock.now(),
        )
    return RedirectResponse(f"/staff/concerns/{concern_id}?done=read", 303)


async def _one_exported(request: Request, staff: StaffIdentity, concern_id: str) -> Any:
    services = services_of(request)
    found = await readable(services, staff, concern_id)
    policy = await _policy(services, staff.school_id)
    return await gather(
        services.records, services.event_log, [found], policy.school.timezone
    ), policy.school.name


@router.get(ONE_CSV)
async def export_one_csv(concern_id: str, request: Request, staff: AllowedStaff) -> Response:
    """One concern for CPOMS or MyConcern (CSV)."""
    exported, _ = await _one_exported(request, staff, concern_id)
    return Response(
        concerns_csv(exported).encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers=_download(concern_id[:8], "csv"),
    )


@router.get(ONE_PDF)
async def export_one_pdf(concern_id: str, request: Request, staff: AllowedStaff) -> Response:
    """One concern as a PDF to keep."""
    exported, school = await _one_exported(request, staff, concern_id)
    body = await asyncio.to_thread(concerns_pdf, exported, school, "Safeguarding concern")
    return Response(body, media_type="application/pdf", headers=_download(concern_id[:8], "pdf"))


@router.get(CHRONOLOGY, response_class=HTMLResponse)
async def chronology_page(pupil_id: str, request: Request, staff: AllowedStaff) -> HTMLResponse:
    """Everything on record about one pupil's concerns, in the order it happened."""
    services = services_of(request)
    pupil = await concerns.pupil_name(services.concerns, staff.school_id, pupil_id)
    if pupil is None:
        raise HTTPException(404, "No such pupil")
    language = i18n.language_of(request)
    gettext = i18n.translations(language).gettext
    zone = ZoneInfo((await _policy(services, staff.school_id)).school.timezone)
    lines = await concerns.chronology(services.concerns, staff.school_id, pupil_id)
    return render(
        request,
        "chronology.html",
        pupil=pupil,
        lines=[
            (
                line,
                _words(line.when, zone, language),
                _words(line.recorded_at, zone, language),
                _category(gettext, line.category),
            )
            for line in lines
        ],
    )


# -- raising a concern after the lesson ----------------------------------------------------------


def _raise_form(
    request: Request,
    access: Any,
    *,
    errors: list[tuple[str, str]] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    stored = access.session
    errors = errors or []
    return render(
        request,
        "concern_new.html",
        status=status,
        csrf_token=csrf_token(request.cookies.get(STAFF_COOKIE, "")),
        session_id=stored.plan.session_id,
        title=stored.plan.title,
        pupils=sorted(stored.plan.expected.values(), key=lambda p: p.shown_name),
        categories=stored.policy.concerns.categories,
        errors=errors,
        field_errors=dict(reversed(errors)),
        values=values or {"pupils": [], "category": "", "account": "", "date": "", "time": ""},
    )


@router.get(RAISE, response_class=HTMLResponse)
async def raise_form(session_id: str, access: AllowedSession, request: Request) -> HTMLResponse:
    """The form to write a concern about pupils of this lesson, after it."""
    return _raise_form(request, access)


def _when(date: str, time: str, zone: ZoneInfo) -> dt.datetime | str | None:
    """The time it happened from the form (None: now), or an error code."""
    if not date and not time:
        return None
    try:
        day = dt.date.fromisoformat(date)
        clock = dt.time.fromisoformat(time) if time else dt.time(0)
    except ValueError:
        return "when_bad"
    return dt.datetime.combine(day, clock, tzinfo=zone).astimezone(dt.UTC)


@router.post(RAISE, response_class=HTMLResponse)
async def raise_afterwards(session_id: str, access: AllowedSession, request: Request) -> Response:
    """Write the concern and alert the DSL at once (one transaction); then show the writer
    their concern's record."""
    services, staff, stored = services_of(request), access.staff, access.session
    form = await request.form()
    pupils = [str(p) for p in form.getlist("pupils")]
    text = {name: str(form.get(name, "")) for name in ("category", "account", "date", "time")}
    values: dict[str, Any] = {"pupils": pupils, **text}
    zone = ZoneInfo(stored.policy.school.timezone)
    now = services.clock.now()
    when = _when(text["date"], text["time"], zone)
    errors: list[tuple[str, str]] = []
    if isinstance(when, str):
        errors.append(("date", when))
        when = None
    errors[:0] = concerns.account_problems(
        pupils=pupils,
        allowed_pupils=list(stored.plan.expected),
        category=text["category"],
        categories=stored.policy.concerns.categories,
        account=text["account"],
        happened_at=when,
        now=now,
    )
    if errors:
        return _raise_form(request, access, errors=errors, values=values, status=400)
    concern_id = await concerns.raise_afterwards(
        services.concerns,
        services.concern_key,
        school_id=stored.school_id,
        session_id=session_id,
        session_title=stored.plan.title,
        timezone=stored.policy.school.timezone,
        pupils=pupils,
        category=text["category"],
        account=text["account"],
        happened_at=when,
        by=staff.staff_id,
        by_name=staff.name,
        keep_to_age=stored.policy.retention.concerns_until_pupil_age,
        now=now,
        alerts=services.alerts,
        public_url=services.settings.public_url,
    )
    if services.outbox is not None:
        services.outbox.wake()  # on record: the DSL hears now, not at the next poll
    return RedirectResponse(f"/staff/concerns/{concern_id}?done=raised", 303)
