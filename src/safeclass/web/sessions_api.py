"""`/api/sessions`: staff schedule, change and cancel sessions, add staff, send links (C1, C2).

JSON in and out, every route for signed-in staff only, checked by its row in
`app/route_access.py` (`deps.allowed_staff`, `deps.allowed_session`; the CSRF token on every
request that changes something): a session is reached only through `deps.access_session`, so
another school's session, one a teacher or assistant is not on and one that does not exist are
all `404 No such session`. A refusal says why in the school's words, e.g.
`422 Sessions must be inside the school day, 08:30–15:30 Monday to Friday (CRO-05)`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, NoReturn

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from safeclass.app import invitations, timetable
from safeclass.app.identity import StaffIdentity
from safeclass.app.scheduling import ScheduleRefusedError
from safeclass.app.school_records import NotInSchoolError, RecordsError, SessionNotFoundError
from safeclass.bootstrap import Services
from safeclass.core import SessionKind
from safeclass.web.deps import AllowedSession, AllowedStaff, services_of
from safeclass.web.stopped_links import close_devices, stop_family_link

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionIn(_In):
    kind: SessionKind
    title: str = Field(min_length=1, max_length=200)
    starts_at: dt.datetime = Field(description="ISO 8601; without a zone, the school's time")
    minutes: int = Field(ge=1, le=24 * 60)
    class_id: str | None = Field(default=None, description="a class or group of the school")
    pupil_ids: list[str] = Field(default=[], description="when empty, the class's pupils")
    staff_ids: list[str] = Field(default=[], description="more staff (CLA-03)")
    agenda: str = Field(default="", max_length=2000)


class SessionChangeIn(_In):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    starts_at: dt.datetime | None = None
    minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    staff_ids: list[str] | None = Field(default=None, description="replaces the session's staff")
    agenda: str | None = Field(default=None, max_length=2000)


class StaffIn(_In):
    staff_ids: list[str] = Field(min_length=1)


class SendIn(_In):
    pupil_id: str | None = Field(default=None, description="one pupil: always a new link")
    resend: bool = Field(default=False, description="new links for everyone (old ones stop)")


class StaffOut(BaseModel):
    id: str
    name: str
    role: str


class PupilOut(BaseModel):
    id: str
    shown_name: str
    consent: str
    link: str = Field(description="not_taking_part, not_sent, sent, withdrawn or expired")
    link_sent_at: dt.datetime | None


class SessionSummaryOut(BaseModel):
    id: str
    kind: str
    title: str
    starts_at: dt.datetime
    minutes: int
    when: str = Field(description="in words, in the school's time zone")
    status: str
    pupils_expected: int


class SessionOut(SessionSummaryOut):
    class_id: str | None
    agenda: str
    policy_version: int
    staff: list[StaffOut]
    pupils: list[PupilOut]
    warnings: list[str]


class SendResultOut(BaseModel):
    pupil_id: str
    shown_name: str
    status: str
    detail: str
    channels: list[str]


class SendOut(BaseModel):
    sent: int
    results: list[SendResultOut]


class CancelOut(BaseModel):
    id: str
    status: str
    parents_told: int


class RevokeOut(BaseModel):
    pupil_id: str
    devices_closed: int


# -- routes ------------------------------------------------------------------------------------


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(body: SessionIn, staff: AllowedStaff, request: Request) -> SessionOut:
    """Schedule a session inside the school day (CRO-05); teachers, heads and admins."""
    services = services_of(request)
    now = services.clock.now()
    new = timetable.SessionRequest(
        kind=body.kind,
        title=body.title,
        starts_at=body.starts_at,
        minutes=body.minutes,
        class_id=body.class_id,
        pupil_ids=tuple(body.pupil_ids),
        staff_ids=tuple(body.staff_ids),
        agenda=body.agenda,
    )
    try:
        session_id = await timetable.schedule(services.timetable, staff, new, now)
    except Exception as exc:
        _refuse(exc)
    return await _detail(services, staff, session_id)


@router.get("")
async def list_sessions(
    staff: AllowedStaff,
    request: Request,
    since: Annotated[
        dt.datetime | None, Query(description="from this time (default: 24 hours ago)")
    ] = None,
) -> list[SessionSummaryOut]:
    """The sessions the caller reaches (those they are on, or with `see_any_session` all of the
    school's), soonest first."""
    services = services_of(request)
    since = since or services.clock.now() - dt.timedelta(days=1)
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    found = await timetable.list_sessions(services.timetable, staff, since=since)
    return [_summary_out(s) for s in found]


@router.get("/{session_id}")
async def get_session(session_id: str, access: AllowedSession, request: Request) -> SessionOut:
    return await _detail(services_of(request), access.staff, session_id)


@router.patch("/{session_id}")
async def change_session(
    session_id: str, body: SessionChangeIn, access: AllowedSession, request: Request
) -> SessionOut:
    """Change the time, title, agenda or staff before the session opens."""
    services, staff = services_of(request), access.staff
    changes = timetable.SessionChange(
        title=body.title,
        starts_at=body.starts_at,
        minutes=body.minutes,
        staff_ids=tuple(body.staff_ids) if body.staff_ids is not None else None,
        agenda=body.agenda,
    )
    try:
        await timetable.change(services.timetable, staff, session_id, changes, services.clock.now())
    except Exception as exc:
        _refuse(exc)
    return await _detail(services, staff, session_id)


@router.post("/{session_id}/cancel")
async def cancel_session(session_id: str, access: AllowedSession, request: Request) -> CancelOut:
    """Cancel before it opens: every link stops working and the parents are told."""
    services, staff = services_of(request), access.staff
    try:
        done = await timetable.cancel(services.timetable, staff, session_id, services.clock.now())
    except Exception as exc:
        _refuse(exc)
    await close_devices(services, done.revoked_passes)
    if done.parents_told and services.outbox is not None:
        services.outbox.wake()  # the parents' notices are on record: they go now
    return CancelOut(id=session_id, status="cancelled", parents_told=done.parents_told)


@router.post("/{session_id}/staff")
async def add_staff(
    session_id: str, body: StaffIn, access: AllowedSession, request: Request
) -> SessionOut:
    """Add more staff to a session (CLA-03)."""
    services, staff = services_of(request), access.staff
    try:
        await timetable.add_staff(services.timetable, staff, session_id, body.staff_ids)
    except Exception as exc:
        _refuse(exc)
    return await _detail(services, staff, session_id)


@router.post("/{session_id}/invitations/send")
async def send_invitations(
    session_id: str, access: AllowedSession, request: Request, body: SendIn | None = None
) -> SendOut:
    """Send each pupil's own link (C2) by email and/or the messaging platform's webhook.

    With no body: to every pupil not yet sent one. `resend`: new links for all. `pupil_id`: a
    new link for that pupil alone. A new link stops the old one and every device it opened.
    """
    services = services_of(request)
    body = body or SendIn()
    try:
        report = await invitations.send_invitations(
            services.invitations,
            school_id=access.session.school_id,
            session_id=session_id,
            channels=services.channels,
            public_url=services.settings.public_url,
            now=services.clock.now(),
            pupil_id=body.pupil_id,
            resend=body.resend,
        )
    except Exception as exc:
        _refuse(exc)
    await close_devices(services, report.revoked_passes)
    results = [
        SendResultOut(
            pupil_id=r.pupil_id,
            shown_name=r.shown_name,
            status=r.status.value,
            detail=r.detail,
            channels=list(r.channels),
        )
        for r in report.results
    ]
    return SendOut(sent=sum(r.status == "sent" for r in results), results=results)


@router.post("/{session_id}/invitations/{pupil_id}/revoke")
async def revoke_invitation(
    session_id: str, pupil_id: str, access: AllowedSession, request: Request
) -> RevokeOut:
    """Stop a pupil's link at once, and close any device it opened."""
    services = services_of(request)
    try:
        closed = await stop_family_link(services, access.session.school_id, session_id, pupil_id)
    except Exception as exc:
        _refuse(exc)
    return RevokeOut(pupil_id=pupil_id, devices_closed=closed)


# -- helpers -----------------------------------------------------------------------------------


def _refuse(exc: Exception) -> NoReturn:
    """The answer for a use case's refusal; anything unexpected goes on up (a 500, logged)."""
    if isinstance(exc, ScheduleRefusedError):
        raise HTTPException(422, {"message": str(exc), "reasons": list(exc.reasons)}) from exc
    if isinstance(exc, timetable.NotPermittedError):
        raise HTTPException(403, str(exc)) from exc
    if isinstance(exc, SessionNotFoundError):
        raise HTTPException(404, "No such session") from exc
    if isinstance(exc, invitations.NotOnSessionError):
        raise HTTPException(404, "That pupil has no link for this session") from exc
    if isinstance(exc, NotInSchoolError):
        raise HTTPException(404, str(exc).capitalize()) from exc
    if isinstance(exc, timetable.SessionStateError | invitations.SessionClosedError):
        raise HTTPException(409, str(exc)) from exc
    if isinstance(exc, invitations.NoChannelError):
        raise HTTPException(503, str(exc)) from exc
    if isinstance(exc, RecordsError):
        raise HTTPException(422, str(exc)) from exc
    raise exc


async def _detail(services: Services, staff: StaffIdentity, session_id: str) -> SessionOut:
    try:
        found = await timetable.session_detail(
            services.timetable, staff, session_id, services.clock.now()
        )
    except Exception as exc:
        _refuse(exc)
    return SessionOut(
        **_summary_out(found.summary).model_dump(),
        class_id=found.class_id,
        agenda=found.agenda,
        policy_version=found.policy_version,
        staff=[StaffOut(id=s.id, name=s.name, role=s.role) for s in found.staff],
        pupils=[
            PupilOut(
                id=p.id,
                shown_name=p.shown_name,
                consent=p.consent,
                link=p.link,
                link_sent_at=p.link_sent_at,
            )
            for p in found.pupils
        ],
        warnings=found.warnings,
    )


def _summary_out(s: timetable.SessionSummary) -> SessionSummaryOut:
    return SessionSummaryOut(
        id=s.id,
        kind=s.kind,
        title=s.title,
        starts_at=s.starts_at,
        minutes=s.minutes,
        when=s.when,
        status=s.status,
        pupils_expected=s.pupils,
    )
