"""A lesson's page for staff, `/staff/sessions/{id}`, and what it does.

The page shows when the lesson is, who is on it (and whether that meets the policy's adults),
the class list with each pupil's consent in words and the state of their family's link, the
Join button while the room is open, and the register to download (CSV, PDF) once it has ended.
Each button is shown only to those the route table lets use it (`route_access`), and the routes
check again:

- `POST .../links/send`: send every family their link by email (or the messaging platform),
  where the server has one set up; families with no email address are told apart.
- `POST .../links/{pupil}/new`: a new link for one family, shown once on a page of its own to
  copy, with the invitation letter to print (for families with no email). A link's token is
  never stored, so this is the only way to see one, and making it stops the old link: the page
  that shows it is the one place a token is ever shown, it is `no-store`, and nothing logs it.
- `POST .../links/{pupil}/stop`: stop a family's link at once, and close any device it opened.
- `GET .../register.csv`, `.pdf`: the attendance register (C14) from the room's log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeclass.app import invitations, resources, route_access, staff_roles, timetable
from safeclass.app.delivery import Letter
from safeclass.app.family_consent import withdrawn_by_link
from safeclass.app.family_reports import FamilyReport, reports_for
from safeclass.app.identity import STAFF_COOKIE, csrf_token
from safeclass.app.reports import register_csv, register_pdf
from safeclass.app.reports.loading import session_report
from safeclass.app.school_records import StoredSession
from safeclass.app.staff_roles import Capability
from safeclass.app.undelivered import waiting_notices
from safeclass.bootstrap import Services
from safeclass.web import i18n, room_words
from safeclass.web.deps import AllowedSession, services_of
from safeclass.web.render import not_now, render
from safeclass.web.staff_pages import session_line
from safeclass.web.staff_words import consent_words, role_words, short_when, withdrawn_words
from safeclass.web.stopped_links import close_devices, stop_family_link

router = APIRouter(include_in_schema=False)

PAGE = "/staff/sessions/{session_id}"
SEND = f"{PAGE}/links/send"
NEW_LINK = f"{PAGE}/links/{{pupil_id}}/new"
STOP_LINK = f"{PAGE}/links/{{pupil_id}}/stop"
REGISTER_CSV = f"{PAGE}/register.csv"
REGISTER_PDF = f"{PAGE}/register.pdf"
PAGE_CHANNEL = "page"  # the letter shown on the page, to copy or print
_UNSAFE = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True, slots=True)
class PupilRow:
    id: str
    name: str
    takes_part: bool
    consent_words: str
    link: str  # not_taking_part, not_sent, sent, withdrawn, expired
    has_email: bool


@dataclass(frozen=True, slots=True)
class ToldLine:
    """What one family told the school (C23), as the lesson's page shows it."""

    name: str
    reason: str  # a ReportReason value; the template words it
    message: str
    at: str  # when, in the school's time: "09:30", or "Mon 23 Nov, 18:05" another day


@dataclass(frozen=True, slots=True)
class Colleague:
    name: str
    role: str


def _page_of(session_id: str, **query: str) -> str:
    tail = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/staff/sessions/{session_id}" + (f"?{tail}" if tail else "")


@router.get(PAGE, response_class=HTMLResponse)
async def session_page(session_id: str, access: AllowedSession, request: Request) -> HTMLResponse:
    """The lesson, its staff, its class list with consent and links, Join, the register."""
    services, staff, stored = services_of(request), access.staff, access.session
    now = services.clock.now()
    language = i18n.language_of(request)
    gettext = i18n.translations(language)
    detail = await timetable.session_detail(services.timetable, staff, session_id, now)
    zone = ZoneInfo(stored.policy.school.timezone)
    line = session_line(detail.summary, now, zone, language)
    emails = await _with_email(services, stored, [p.id for p in detail.pupils])
    basis = stored.policy.consent.basis
    day = detail.summary.starts_at.astimezone(zone).date()
    withdrawn = await withdrawn_by_link(
        services.family_consent, stored.school_id, [p.id for p in detail.pupils]
    )
    pupils = []
    for p in detail.pupils:
        takes_part, words = consent_words(gettext, p.consent, basis)
        if p.id in withdrawn:  # the family, through their link (C23): and when
            words = withdrawn_words(gettext, short_when(withdrawn[p.id], zone, language, day))
        pupils.append(PupilRow(p.id, p.shown_name, takes_part, words, p.link, p.id in emails))
    names = {p.id: p.shown_name for p in detail.pupils}
    found = await reports_for(services.family_reports, stored.school_id, session_id)
    async with services.engine.connect() as conn:
        waiting = await waiting_notices(
            services.deliveries, conn, session_id, now, can_deliver=services.delivers
        )
        kept = await services.resources.resources_of(conn, session_id)
    told = [_told_line(r, names, zone, day, language) for r in found]
    needed = stored.policy.min_staff_for(stored.plan.kind.value == "one_to_one")
    open_for_links = line.state in ("soon", "now")
    return render(
        request,
        "session.html",
        csrf_token=csrf_token(request.cookies.get(STAFF_COOKIE, "")),
        session=line,
        date=format_date(
            detail.summary.starts_at.astimezone(zone), "EEEE d MMMM y", locale=language
        ),
        agenda=detail.agenda,
        class_id=detail.class_id,
        colleagues=[Colleague(s.name, role_words(gettext, s.role)) for s in detail.staff],
        needed=needed,
        pupils=pupils,
        told=told,
        not_told=[(names.get(w.pupil_id, "") if w.pupil_id else "", w.kind) for w in waiting],
        told_by_pupil={
            p.id: [t for r, t in zip(found, told, strict=True) if r.pupil_id == p.id]
            for p in pupils
        },
        taking_part=sum(p.takes_part for p in pupils),
        links_live=open_for_links,
        may_send=open_for_links and staff_roles.may(staff.role, Capability.SCHEDULE_SESSIONS),
        may_stop=open_for_links and staff_roles.may(staff.role, Capability.REVOKE_LINKS),
        email_set_up=_email_set_up(services),
        may_join=line.joinable
        and staff_roles.may_join_room(staff.role, staff.staff_id in stored.staff_ids),
        register_ready=_register_ready(stored, now),
        may_read_register=staff_roles.may(staff.role, Capability.READ_REGISTERS),
        may_raise_concern=staff_roles.may(staff.role, Capability.RAISE_CONCERNS),
        # the compliance report, once the lesson has ended (web/compliance_page.py)
        may_read_compliance=route_access.rule_for("GET", f"{PAGE}/compliance").allows(staff.role),
        # the lesson's resources (resources_page.py): shown, and added or removed by schedulers
        resources=[_resource_line(r, language) for r in kept],
        may_add_resources=staff_roles.may(staff.role, Capability.SCHEDULE_SESSIONS)
        and stored.status not in ("cancelled", "ended"),
        max_mb=resources.MAX_BYTES // (1024 * 1024),
        values={"kind": "", "title": "", "url": ""},
        field_errors={},
        done=request.query_params.get("done", ""),
        done_count=_count(request.query_params.get("n", "")),
        done_without=_count(request.query_params.get("without", "")),
        done_pupil=next((p.name for p in pupils if p.id == request.query_params.get("pupil")), ""),
    )


@router.post(SEND, response_class=HTMLResponse)
async def send_links(session_id: str, access: AllowedSession, request: Request) -> Response:
    """Email each family not yet sent their link (where email is set up on this server)."""
    services = services_of(request)
    channels = [c for c in services.channels if c.name != "letters"]
    if not channels:
        return _problem(request, "no_email")
    try:
        report = await invitations.send_invitations(
            services.invitations,
            school_id=access.session.school_id,
            session_id=session_id,
            channels=channels,
            public_url=services.settings.public_url,
            now=services.clock.now(),
        )
    except invitations.SessionClosedError:
        return _problem(request, "closed")
    await close_devices(services, report.revoked_passes)
    sent = sum(r.status is invitations.SendStatus.SENT for r in report.results)
    without = sum(r.status is invitations.SendStatus.NOT_SENT for r in report.results)
    return RedirectResponse(
        _page_of(session_id, done="sent", n=str(sent), without=str(without)), status_code=303
    )


class _OnThePage:
    """A letter channel that keeps the letter for this one answer (the page shows it)."""

    name = PAGE_CHANNEL

    def __init__(self) -> None:
        self.letter: Letter | None = None

    def reaches(self, letter: Letter) -> bool:
        return True

    async def deliver(self, letter: Letter) -> None:
        self.letter = letter


@router.post(NEW_LINK, response_class=HTMLResponse)
async def new_link(
    session_id: str, pupil_id: str, access: AllowedSession, request: Request
) -> Response:
    """A new link for one family, shown once to copy, with its letter to print; the old link
    (and every device it opened) stops."""
    services, stored = services_of(request), access.session
    pupil = stored.plan.expected.get(pupil_id)
    if pupil is None:
        raise HTTPException(404, "No such pupil on this session")
    if not invitations.takes_part(stored, pupil):
        return _problem(request, "not_taking_part")
    here = _OnThePage()
    # the server's letters folder, if that is its channel, keeps the newest letter too
    letters = [c for c in services.channels if c.name == "letters"]
    try:
        report = await invitations.send_invitations(
            services.invitations,
            school_id=stored.school_id,
            session_id=session_id,
            channels=[here, *letters],
            public_url=services.settings.public_url,
            now=services.clock.now(),
            pupil_id=pupil_id,
        )
    except invitations.SessionClosedError:
        return _problem(request, "closed")
    await close_devices(services, report.revoked_passes)
    if here.letter is None:
        return _problem(request, "closed")
    language = i18n.language_of(request)
    zone = ZoneInfo(stored.policy.school.timezone)
    letter = here.letter
    start = letter.starts_at.astimezone(zone)
    end = start + dt.timedelta(minutes=letter.minutes)
    times = [format_time(t, "HH:mm", locale=language) for t in (start, end)]
    return render(
        request,
        "family_link.html",
        session_id=session_id,
        title=stored.plan.title,
        name=pupil.shown_name,
        link=letter.link,
        # the letter in the page's language (a Welsh school prints it in Welsh)
        letter={
            "school": letter.school_name,
            "title": letter.session_title,
            "when": f"{format_date(start, 'EEEE d MMMM', locale=language)}, {times[0]}–{times[1]}",
            "link": letter.link,
            "report_link": letter.report_link,
            "rules": [room_words.translate(r, language) for r in letter.parent_expectations],
        },
        expires=format_date(here.letter.expires_at.astimezone(zone), "EEEE d MMMM", locale=language)
        + " "
        + here.letter.expires_at.astimezone(zone).strftime("%H:%M"),
        replaced=bool(report.revoked_passes),
    )


@router.post(STOP_LINK, response_class=HTMLResponse)
async def stop_link(
    session_id: str, pupil_id: str, access: AllowedSession, request: Request
) -> Response:
    """Stop one family's link at once (a leaked link), closing any device it opened."""
    services = services_of(request)
    try:
        await stop_family_link(services, access.session.school_id, session_id, pupil_id)
    except invitations.NotOnSessionError:
        raise HTTPException(404, "That pupil has no link for this session") from None
    return RedirectResponse(_page_of(session_id, done="stopped", pupil=pupil_id), status_code=303)


@router.get(REGISTER_CSV)
async def register_as_csv(session_id: str, access: AllowedSession, request: Request) -> Response:
    """The register for the school's attendance spreadsheet, once the lesson has ended."""
    services = services_of(request)
    if not _register_ready(access.session, services.clock.now()):
        return _problem(request, "register_not_ready")
    report = await session_report(
        services.engine,
        services.records,
        services.event_log,
        session_id,
        access.session.school_id,
        resources=services.resources,
        deliveries=services.deliveries,
    )
    return Response(
        # with a byte-order mark, as the CLI's file: Excel then shows "Siân", not "SiÃ¢n"
        register_csv(report.register).encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers=_download(access.session, "csv"),
    )


@router.get(REGISTER_PDF)
async def register_as_pdf(session_id: str, access: AllowedSession, request: Request) -> Response:
    """The register and timeline as a PDF to print or keep, once the lesson has ended."""
    services = services_of(request)
    if not _register_ready(access.session, services.clock.now()):
        return _problem(request, "register_not_ready")
    report = await session_report(
        services.engine,
        services.records,
        services.event_log,
        session_id,
        access.session.school_id,
        resources=services.resources,
        deliveries=services.deliveries,
    )
    body = await asyncio.to_thread(register_pdf, report.register, report.timeline)
    return Response(body, media_type="application/pdf", headers=_download(access.session, "pdf"))


# -- helpers -----------------------------------------------------------------------------------


def _told_line(
    report: FamilyReport, names: dict[str, str], zone: ZoneInfo, day: dt.date, language: str
) -> ToldLine:
    """A family's report in the page's words: the time alone when it came on the lesson's day."""
    at = short_when(report.created_at, zone, language, day)
    return ToldLine(names.get(report.pupil_id, "?"), report.reason, report.message, at)


@dataclass(frozen=True, slots=True)
class ResourceLine:
    id: str
    title: str
    url: str | None
    filename: str | None
    size: str  # "2.1 MB", "120 kB"
    added_by: str


def _resource_line(r: resources.Resource, language: str) -> ResourceLine:
    size = format_decimal((r.size_bytes or 0) / 1_000_000, "0.0", locale=language) + " MB"
    if (r.size_bytes or 0) < 1_000_000:
        size = format_decimal(max(1, round((r.size_bytes or 0) / 1000)), locale=language) + " kB"
    return ResourceLine(r.id, r.title, r.url, r.filename, size, r.added_by)


def _register_ready(stored: StoredSession, now: dt.datetime) -> bool:
    """The register is whole once the lesson has ended (or its planned end has passed)."""
    plan = stored.plan
    if stored.status == "cancelled":
        return False
    end = plan.starts_at + dt.timedelta(minutes=plan.minutes)
    return stored.status == "ended" or now >= end


def _download(stored: StoredSession, extension: str) -> dict[str, str]:
    zone = ZoneInfo(stored.policy.school.timezone)
    day = stored.plan.starts_at.astimezone(zone).date().isoformat()
    title = _UNSAFE.sub("-", stored.plan.title).strip("-").lower()[:60] or "lesson"
    return {
        "Content-Disposition": f'attachment; filename="register-{day}-{title}.{extension}"',
        "Cache-Control": "no-store",
    }


def _email_set_up(services: Services) -> bool:
    return any(c.name != "letters" for c in services.channels)


async def _with_email(services: Services, stored: StoredSession, pupil_ids: list[str]) -> set[str]:
    """Which of these pupils have a parent's email address on record (not the address)."""
    return await services.records.with_guardian_email(stored.school_id, pupil_ids)


def _count(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 6 else 0


def _problem(request: Request, code: str) -> HTMLResponse:
    """A refusal of a lesson's action, as a page in plain words with the way back."""
    gettext = i18n.translations(i18n.language_of(request)).gettext
    lines = {
        "no_email": gettext(
            "Email is not set up on this server. Make a new link for each family to copy or "
            "print instead."
        ),
        "closed": gettext("This lesson is over or cancelled, so no links can be made for it."),
        "not_taking_part": gettext(
            "This pupil does not take part in live lessons, so there is no link for them."
        ),
        "register_not_ready": gettext("The register is ready once the lesson has ended."),
    }
    return not_now(
        request,
        lines[code],
        _page_of(request.path_params["session_id"]),
        gettext("Back to the lesson"),
    )
