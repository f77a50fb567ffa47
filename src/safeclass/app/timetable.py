"""The timetable's use cases (C1): schedule, change, cancel, add staff, and staff's views.

Each checks the actor's role, reads and writes the store in one transaction and raises a typed
error the web layer turns into an answer. The rules themselves are the pure checks in
`scheduling.py`. A session is reached only as the role table allows (`staff_roles`: the
sessions the actor is on, or any of their school's with `see_any_session`): another school's
session, or one a teacher is not on, is "not found", exactly like one that does not exist. The
web layer checks the same first (`deps.access_session`); these checks keep the use cases safe
whoever calls them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store import pupil_records, school_records
from safeclass.adapters.store.sessions import SessionNotFoundError, create_session, load_session
from safeclass.adapters.store.tables import (
    Guardian,
    Invitation,
    Notification,
    Pupil,
    PupilPass,
    Session,
    SessionPupil,
    SessionStaff,
    Staff,
)
from safeclass.app import staff_roles
from safeclass.app.invitations import link_expiry, takes_part
from safeclass.app.scheduling import (
    ScheduleRefusedError,
    aware,
    clean_title,
    schedule_problems,
    staffing_warnings,
    when_text,
)
from safeclass.core import SessionKind
from safeclass.core.names import display_names
from safeclass.policy import Policy

ROOM_ROLES = staff_roles.SESSION_ROLES  # admins do not join rooms


class Actor(Protocol):
    """Who is asking: a signed-in member of staff (what `deps.current_staff` gives)."""

    @property
    def staff_id(self) -> str: ...
    @property
    def school_id(self) -> str: ...
    @property
    def role(self) -> str: ...


class NotPermittedError(PermissionError):
    """The actor's role may not do this."""


class SessionStateError(ValueError):
    """The session is past the point where this can be done (opened, cancelled, ended)."""


@dataclass(frozen=True, slots=True)
class SessionRequest:
    kind: SessionKind
    title: str
    starts_at: dt.datetime  # without a zone: the school's local time
    minutes: int
    class_id: str | None = None
    pupil_ids: tuple[str, ...] = ()  # when empty, the class's (or group's) pupils
    staff_ids: tuple[str, ...] = ()
    agenda: str = ""


@dataclass(frozen=True, slots=True)
class SessionChange:
    """What may change before a session opens; None leaves a field as it is."""

    title: str | None = None
    starts_at: dt.datetime | None = None
    minutes: int | None = None
    staff_ids: tuple[str, ...] | None = None
    agenda: str | None = None


@dataclass(frozen=True, slots=True)
class Cancelled:
    revoked_passes: list[str] = field(default_factory=list)
    parents_told: int = 0


def require_scheduler(actor: Actor) -> None:
    if not staff_roles.may(actor.role, staff_roles.Capability.SCHEDULE_SESSIONS):
        raise NotPermittedError(staff_roles.refusal(staff_roles.Capability.SCHEDULE_SESSIONS))


async def schedule(
    engine: AsyncEngine, actor: Actor, request: SessionRequest, now: dt.datetime
) -> str:
    """Save a session that keeps the school's rules; returns the new session's id."""
    require_scheduler(actor)
    school_id = actor.school_id
    async with engine.begin() as conn:
        version = await school_records.current_policy_version(conn, school_id)
        policy = version.load()
        title = clean_title(request.title)
        starts_at = aware(policy, request.starts_at)
        if request.class_id is not None:
            await school_records.class_in_school(conn, school_id, request.class_id)
        pupils = await _pupils_for(conn, school_id, policy, request)
        problems = schedule_problems(
            policy,
            kind=request.kind,
            starts_at=starts_at,
            minutes=request.minutes,
            pupils=len(pupils),
            now=now,
        )
        if problems:
            raise ScheduleRefusedError(problems)
        staff = list(dict.fromkeys(request.staff_ids))
        if actor.role == "teacher" and actor.staff_id not in staff:
            staff.insert(0, actor.staff_id)  # the teacher who schedules it leads it
        await _check_staff(conn, school_id, staff)
        return await create_session(
            conn,
            school_id=school_id,
            policy_version_id=version.id,
            kind=request.kind,
            title=title,
            starts_at=starts_at,
            minutes=request.minutes,
            pupils=pupils,
            staff_ids=staff,
            class_id=request.class_id,
            agenda=request.agenda.strip(),
            created_by=actor.staff_id,
        )


async def change(
    engine: AsyncEngine, actor: Actor, session_id: str, changes: SessionChange, now: dt.datetime
) -> None:
    """Change a session before it opens; a new time moves its links' expiry and tells parents."""
    require_scheduler(actor)
    async with engine.begin() as conn:
        row = await _session_row(conn, actor, session_id)
        _require_not_opened(row, now)
        policy = await _policy_of(conn, row)
        values: dict[str, object] = {}
        if changes.title is not None:
            values["title"] = clean_title(changes.title)
        if changes.agenda is not None:
            values["agenda"] = changes.agenda.strip()
        starts_at = aware(policy, changes.starts_at) if changes.starts_at else row.starts_at
        minutes = changes.minutes if changes.minutes is not None else row.minutes
        moved = starts_at != row.starts_at or minutes != row.minutes
        if moved:
            pupils = await conn.scalar(
                select(func.count())
                .select_from(SessionPupil)
                .where(SessionPupil.session_id == session_id)
            )
            problems = schedule_problems(
                policy,
                kind=SessionKind(row.kind),
                starts_at=starts_at,
                minutes=minutes,
                pupils=int(pupils or 0),
                now=now,
            )
            if problems:
                raise ScheduleRefusedError(problems)
            values.update(starts_at=starts_at, minutes=minutes)
        if changes.staff_ids is not None:
            staff = list(dict.fromkeys(changes.staff_ids))
            await _check_staff(conn, actor.school_id, staff)
            await conn.execute(delete(SessionStaff).where(SessionStaff.session_id == session_id))
            if staff:
                await conn.execute(
                    insert(SessionStaff), [{"session_id": session_id, "staff_id": s} for s in staff]
                )
        if values:
            await conn.execute(update(Session).where(Session.id == session_id).values(**values))
        if not moved:
            return
        expiry = link_expiry(starts_at, minutes, policy)
        for table in (Invitation, PupilPass):
            await conn.execute(
                update(table)
                .where(table.session_id == session_id, table.revoked_at.is_(None))
                .values(expires_at=expiry)
            )
        when = when_text(policy, starts_at, minutes)
        title = str(values.get("title", row.title))
        await _tell_parents(
            conn,
            row,
            now,
            kind="parent_session_moved",
            subject=f"[{policy.school.name}] {title} has moved to {when}",
            body=(
                "Dear parent or carer,\n\n"
                f"The live session {title} for {{name}} has moved to {when}.\n"
                "The link you were sent still works: open it a few minutes before the new "
                f"start.\n\n{policy.school.name}"
            ),
        )


async def cancel(engine: AsyncEngine, actor: Actor, session_id: str, now: dt.datetime) -> Cancelled:
    """Cancel a session that has not opened: every link stops working and parents are told."""
    require_scheduler(actor)
    async with engine.begin() as conn:
        row = await _session_row(conn, actor, session_id)
        _require_not_opened(row, now)
        policy = await _policy_of(conn, row)
        await conn.execute(
            update(Session).where(Session.id == session_id).values(status="cancelled")
        )
        passes = await _revoke_session_links(conn, session_id, now)
        when = when_text(policy, row.starts_at, row.minutes)
        told = await _tell_parents(
            conn,
            row,
            now,
            kind="parent_session_cancelled",
            subject=f"[{policy.school.name}] {row.title} on {when} is cancelled",
            body=(
                "Dear parent or carer,\n\n"
                f"The live session {row.title} for {{name}} on {when} has been cancelled.\n"
                f"The link you were sent for it will no longer work.\n\n{policy.school.name}"
            ),
        )
    return Cancelled(passes, told)


async def add_staff(
    engine: AsyncEngine, actor: Actor, session_id: str, staff_ids: Sequence[str]
) -> None:
    """More staff on a session (CLA-03), also once it has opened, until it ends."""
    require_scheduler(actor)
    async with engine.begin() as conn:
        row = await _session_row(conn, actor, session_id)
        if row.status in ("cancelled", "ended"):
            raise SessionStateError(f"This session has {row.status}")
        await _check_staff(conn, actor.school_id, staff_ids)
        present = set(
            (
                await conn.execute(
                    select(SessionStaff.staff_id).where(SessionStaff.session_id == session_id)
                )
            ).scalars()
        )
        new = [s for s in dict.fromkeys(staff_ids) if s not in present]
        if new:
            await conn.execute(
                insert(SessionStaff), [{"session_id": session_id, "staff_id": s} for s in new]
            )


# -- what staff see ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaffLine:
    id: str
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class PupilLine:
    id: str
    shown_name: str
    consent: str
    link: str  # not_taking_part, not_sent, sent, withdrawn, expired
    link_sent_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class SessionSummary:
    id: str
    kind: str
    title: str
    starts_at: dt.datetime
    minutes: int
    when: str
    status: str
    pupils: int


@dataclass(frozen=True, slots=True)
class SessionDetail:
    summary: SessionSummary
    class_id: str | None
    agenda: str
    policy_version: int
    staff: list[StaffLine]
    pupils: list[PupilLine]
    warnings: list[str]


async def session_detail(
    engine: AsyncEngine, actor: Actor, session_id: str, now: dt.datetime
) -> SessionDetail:
    """One session of the actor's school, with its staff, pupils and their links."""
    stored = await load_session(engine, session_id, actor.school_id)
    plan, policy = stored.plan, stored.policy
    async with engine.connect() as conn:
        row = await _session_row(conn, actor, session_id)
        staff = [
            StaffLine(r.id, r.name, r.role)
            for r in await conn.execute(
                select(Staff.id, Staff.name, Staff.role)
                .join(SessionStaff, SessionStaff.staff_id == Staff.id)
                .where(SessionStaff.session_id == session_id)
                .order_by(Staff.name, Staff.id)
            )
        ]
        links = {
            inv.pupil_id: inv
            for inv in (
                await conn.execute(select(Invitation).where(Invitation.session_id == session_id))
            ).all()
        }
    pupils = []
    for pupil in sorted(plan.expected.values(), key=lambda p: (p.shown_name, p.pupil_id)):
        inv = links.get(pupil.pupil_id)
        if not takes_part(stored, pupil):
            state = "not_taking_part"
        elif inv is None:
            state = "not_sent"
        elif inv.revoked_at is not None:
            state = "withdrawn"
        elif inv.sent_at is None:
            state = "not_sent"
        elif inv.expires_at <= now:
            state = "expired"
        else:
            state = "sent"
        sent_at = inv.sent_at if inv is not None else None
        pupils.append(
            PupilLine(pupil.pupil_id, pupil.shown_name, pupil.consent.value, state, sent_at)
        )
    return SessionDetail(
        summary=_summary(row, policy, len(plan.expected)),
        class_id=row.class_id,
        agenda=stored.agenda,
        policy_version=stored.policy_version,
        staff=staff,
        pupils=pupils,
        warnings=staffing_warnings(policy, plan.kind, len(staff)),
    )


async def list_sessions(
    engine: AsyncEngine, actor: Actor, *, since: dt.datetime, limit: int = 200
) -> list[SessionSummary]:
    """The sessions the actor reaches starting from `since`, soonest first: those they are on,
    or every one of their school's with `see_any_session`."""
    query = select(Session).where(Session.school_id == actor.school_id, Session.starts_at >= since)
    if not staff_roles.may_reach_session(actor.role, False):
        query = query.where(
            Session.id.in_(
                select(SessionStaff.session_id).where(SessionStaff.staff_id == actor.staff_id)
            )
        )
    async with engine.connect() as conn:
        rows = (
            await conn.execute(query.order_by(Session.starts_at, Session.id).limit(limit))
        ).all()
        counts: dict[str, int] = {
            sid: int(n)
            for sid, n in await conn.execute(
                select(SessionPupil.session_id, func.count())
                .where(SessionPupil.session_id.in_([r.id for r in rows]))
                .group_by(SessionPupil.session_id)
            )
        }
        policies: dict[int, Policy] = {}
        for r in rows:
            if r.policy_version_id not in policies:
                policies[r.policy_version_id] = await _policy_of(conn, r)
    return [_summary(r, policies[r.policy_version_id], counts.get(r.id, 0)) for r in rows]


# -- helpers -----------------------------------------------------------------------------------


def _summary(row: Row[Any], policy: Policy, pupils: int) -> SessionSummary:
    return SessionSummary(
        id=row.id,
        kind=row.kind,
        title=row.title,
        starts_at=row.starts_at,
        minutes=row.minutes,
        when=when_text(policy, row.starts_at, row.minutes),
        status=row.status,
        pupils=pupils,
    )


async def _session_row(conn: AsyncConnection, actor: Actor, session_id: str) -> Row[Any]:
    """The session, if the actor reaches it; the same error for "no such session", "another
    school's session" and "a session a teacher is not on"."""
    row = (
        await conn.execute(
            select(Session).where(Session.id == session_id, Session.school_id == actor.school_id)
        )
    ).first()
    if row is None:
        raise SessionNotFoundError(session_id)
    on_it = (
        await conn.execute(
            select(SessionStaff.staff_id).where(
                SessionStaff.session_id == session_id, SessionStaff.staff_id == actor.staff_id
            )
        )
    ).first() is not None
    if not staff_roles.may_reach_session(actor.role, on_it):
        raise SessionNotFoundError(session_id)
    return row


def _require_not_opened(row: Row[Any], now: dt.datetime) -> None:
    if row.status == "cancelled":
        raise SessionStateError("This session has been cancelled")
    if row.status == "ended":
        raise SessionStateError("This session has ended")
    if row.status != "scheduled" or now >= row.starts_at:
        raise SessionStateError(
            "This session has already opened, so it can no longer be changed or cancelled; "
            "end it from the room instead"
        )


async def _policy_of(conn: AsyncConnection, row: Row[Any]) -> Policy:
    return (await school_records.policy_version(conn, row.school_id, row.policy_version_id)).load()


async def _pupils_for(
    conn: AsyncConnection, school_id: str, policy: Policy, request: SessionRequest
) -> list[tuple[str, str]]:
    """(pupil_id, shown name): the pupils listed, or the class's; names by the policy's rule."""
    rule = policy.identity.name_rule
    if request.pupil_ids:
        found = [
            await pupil_records.get_pupil(conn, school_id, pid)
            for pid in dict.fromkeys(request.pupil_ids)
        ]
        names = display_names(((p.id, p.forename, p.surname) for p in found), rule)
        return [(p.id, names[p.id]) for p in found]
    if request.class_id is not None:
        shown = await pupil_records.pupils_of_class(conn, school_id, request.class_id, rule)
        return [(p.id, p.display_name) for p in shown]
    return []


async def _check_staff(conn: AsyncConnection, school_id: str, staff_ids: Sequence[str]) -> None:
    active = {s.id: s for s in await school_records.staff_by_role(conn, school_id)}
    for sid in staff_ids:
        member = active.get(sid)
        if member is None:
            raise school_records.NotInSchoolError("member of staff", sid)
        if member.role.value not in ROOM_ROLES:
            raise NotPermittedError(f"{member.name} has an admin account, which cannot join rooms")


async def _revoke_session_links(
    conn: AsyncConnection, session_id: str, now: dt.datetime
) -> list[str]:
    """Every link of a session stops working (cancelled); the passes revoked."""
    await conn.execute(
        update(Invitation)
        .where(Invitation.session_id == session_id, Invitation.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    ids = list(
        (
            await conn.execute(
                select(PupilPass.id).where(
                    PupilPass.session_id == session_id, PupilPass.revoked_at.is_(None)
                )
            )
        ).scalars()
    )
    if ids:
        await conn.execute(update(PupilPass).where(PupilPass.id.in_(ids)).values(revoked_at=now))
    return ids


async def _tell_parents(
    conn: AsyncConnection, row: Row[Any], now: dt.datetime, *, kind: str, subject: str, body: str
) -> int:
    """Queue a notice to the parents of every pupil who was sent a link for this session."""
    found = (
        await conn.execute(
            select(Guardian.email, Pupil.forename)
            .join(Invitation, Invitation.pupil_id == Guardian.pupil_id)
            .join(Pupil, Pupil.id == Guardian.pupil_id)
            .where(
                Invitation.session_id == row.id,
                Invitation.sent_at.is_not(None),
                Guardian.school_id == row.school_id,
                Guardian.email.is_not(None),
            )
        )
    ).all()
    notices = [
        {
            "school_id": row.school_id,
            "session_id": row.id,
            "kind": kind,
            "recipient": email,
            "subject": subject[:200],
            "body": body.replace("{name}", forename),
            "status": "pending",
            "attempts": 0,
            "send_after": now,
            "created_at": now,
        }
        for email, forename in found
        if email
    ]
    if notices:
        await conn.execute(insert(Notification), notices)
    return len(notices)
