"""The timetable's use cases (C1): schedule, change, cancel, add staff, and staff's views.

Each checks the actor's role, reads and writes the store in one transaction and raises a typed
error the web layer turns into an answer. The rules themselves are the pure checks in
`scheduling.py`. A session is reached only as the role table allows (`staff_roles`: the
sessions the actor is on, or any of their school's with `see_any_session`): another school's
session, or one a teacher is not on, is "not found", exactly like one that does not exist. The
web layer checks the same first (`deps.access_session`); these checks keep the use cases safe
whoever calls them. The records are read and written through `TimetableRecords` (on the
database: `safeclass.adapters.store.timetable`, `Services.timetable`), each use case's in one
transaction of the port's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.app import staff_roles
from safeclass.app.invitations import InvitationRecord, link_expiry, takes_part
from safeclass.app.scheduling import (
    ScheduleRefusedError,
    aware,
    clean_title,
    schedule_problems,
    staffing_warnings,
    when_text,
)
from safeclass.app.school_records import (
    ClassRecord,
    NotInSchoolError,
    PolicyRecord,
    PupilRecord,
    SessionNotFoundError,
    StaffRecord,
    StoredSession,
)
from safeclass.app.transactions import Transactions
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


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A session as the timetable keeps it."""

    id: str
    school_id: str
    policy_version_id: int
    kind: str
    title: str
    class_id: str | None
    starts_at: dt.datetime
    minutes: int
    agenda: str
    status: str


@dataclass(frozen=True, slots=True)
class StaffLine:
    id: str
    name: str
    role: str


class TimetableRecords(Transactions, Protocol):
    """The sessions, their staff, pupils and links, and what scheduling reads of the school's
    records. Methods that take `conn` run in the caller's transaction (`begin`) or snapshot."""

    async def load_session(self, session_id: str, school_id: str | None = None) -> StoredSession:
        """The session's plan and governing policy; `school_id`, when given, must own it (else
        SessionNotFoundError, as for no such session)."""

    async def current_policy_version(self, conn: AsyncConnection, school_id: str) -> PolicyRecord:
        """The school's policy in force, as adopted."""

    async def policy_version(
        self, conn: AsyncConnection, school_id: str, version_id: int
    ) -> PolicyRecord:
        """One version of the school's policy (else NotInSchoolError)."""

    async def class_in_school(
        self, conn: AsyncConnection, school_id: str, class_id: str
    ) -> ClassRecord:
        """One class or group of the school, or NotInSchoolError."""

    async def get_pupil(self, conn: AsyncConnection, school_id: str, pupil_id: str) -> PupilRecord:
        """One pupil of the school, or NotInSchoolError."""

    async def list_pupils(
        self, conn: AsyncConnection, school_id: str, class_id: str
    ) -> list[PupilRecord]:
        """The pupils of one class or group of the school, by surname and forename (else
        NotInSchoolError)."""

    async def staff_by_role(self, conn: AsyncConnection, school_id: str) -> list[StaffRecord]:
        """The school's active staff."""

    async def create_session(
        self,
        conn: AsyncConnection,
        *,
        school_id: str,
        policy_version_id: int,
        kind: SessionKind,
        title: str,
        starts_at: dt.datetime,
        minutes: int,
        pupils: Sequence[tuple[str, str]],
        staff_ids: Sequence[str],
        class_id: str | None,
        agenda: str,
        created_by: str,
    ) -> str:
        """Save a scheduled session (`pupils`: pupil id and shown name); its id."""

    async def session_row(
        self, conn: AsyncConnection, school_id: str, session_id: str
    ) -> SessionRow | None:
        """One session of the school, if it has it."""

    async def on_staff(self, conn: AsyncConnection, session_id: str, staff_id: str) -> bool:
        """Whether this member of staff is one of the session's staff."""

    async def staff_ids(self, conn: AsyncConnection, session_id: str) -> set[str]:
        """The ids of the session's staff."""

    async def staff_lines(self, conn: AsyncConnection, session_id: str) -> list[StaffLine]:
        """The session's staff, by name."""

    async def set_staff(
        self, conn: AsyncConnection, session_id: str, staff_ids: Sequence[str]
    ) -> None:
        """The session's staff are these, and only these."""

    async def add_staff(
        self, conn: AsyncConnection, session_id: str, staff_ids: Sequence[str]
    ) -> None:
        """These (not yet on it) join the session's staff."""

    async def update_session(
        self,
        conn: AsyncConnection,
        session_id: str,
        *,
        title: str | None = None,
        agenda: str | None = None,
        starts_at: dt.datetime | None = None,
        minutes: int | None = None,
        status: str | None = None,
    ) -> None:
        """Change what is given of the session (None leaves a field as it is)."""

    async def pupil_count(self, conn: AsyncConnection, session_id: str) -> int:
        """How many pupils the session expects."""

    async def pupil_counts(
        self, conn: AsyncConnection, session_ids: Sequence[str]
    ) -> dict[str, int]:
        """How many pupils each of these sessions expects (those with any)."""

    async def sessions_from(
        self,
        conn: AsyncConnection,
        school_id: str,
        since: dt.datetime,
        limit: int,
        staff_id: str | None = None,
    ) -> list[SessionRow]:
        """Up to `limit` of the school's sessions starting from `since`, soonest first; only
        those `staff_id` is on, when given."""

    async def links_of(self, conn: AsyncConnection, session_id: str) -> dict[str, InvitationRecord]:
        """The session's links, by pupil id."""

    async def move_links(
        self, conn: AsyncConnection, session_id: str, expires_at: dt.datetime
    ) -> None:
        """The session's links, and the passes they opened, that still work now expire at
        `expires_at`."""

    async def revoke_links(
        self, conn: AsyncConnection, session_id: str, now: dt.datetime
    ) -> list[str]:
        """Every link of the session, and every pass they opened, stops; the passes' ids."""

    async def families_sent_links(
        self, conn: AsyncConnection, school_id: str, session_id: str
    ) -> list[tuple[str, str]]:
        """(address, pupil's forename) of each guardian with an email address of every pupil
        sent a link to the session."""

    async def queue(self, conn: AsyncConnection, rows: Sequence[Mapping[str, object]]) -> None:
        """Put these notifications in the outbox."""


def require_scheduler(actor: Actor) -> None:
    if not staff_roles.may(actor.role, staff_roles.Capability.SCHEDULE_SESSIONS):
        raise NotPermittedError(staff_roles.refusal(staff_roles.Capability.SCHEDULE_SESSIONS))


async def schedule(
    records: TimetableRecords, actor: Actor, request: SessionRequest, now: dt.datetime
) -> str:
    """Save a session that keeps the school's rules; returns the new session's id."""
    require_scheduler(actor)
    school_id = actor.school_id
    async with records.begin() as conn:
        version = await records.current_policy_version(conn, school_id)
        policy = version.load()
        title = clean_title(request.title)
        starts_at = aware(policy, request.starts_at)
        if request.class_id is not None:
            await records.class_in_school(conn, school_id, request.class_id)
        pupils = await _pupils_for(records, conn, school_id, policy, request)
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
        await _check_staff(records, conn, school_id, staff)
        return await records.create_session(
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
    records: TimetableRecords,
    actor: Actor,
    session_id: str,
    changes: SessionChange,
    now: dt.datetime,
) -> None:
    """Change a session before it opens; a new time moves its links' expiry and tells parents."""
    require_scheduler(actor)
    async with records.begin() as conn:
        row = await _session_row(records, conn, actor, session_id)
        _require_not_opened(row, now)
        policy = await _policy_of(records, conn, row)
        title = clean_title(changes.title) if changes.title is not None else None
        agenda = changes.agenda.strip() if changes.agenda is not None else None
        starts_at = aware(policy, changes.starts_at) if changes.starts_at else row.starts_at
        minutes = changes.minutes if changes.minutes is not None else row.minutes
        moved = starts_at != row.starts_at or minutes != row.minutes
        if moved:
            problems = schedule_problems(
                policy,
                kind=SessionKind(row.kind),
                starts_at=starts_at,
                minutes=minutes,
                pupils=await records.pupil_count(conn, session_id),
                now=now,
            )
            if problems:
                raise ScheduleRefusedError(problems)
        if changes.staff_ids is not None:
            staff = list(dict.fromkeys(changes.staff_ids))
            await _check_staff(records, conn, actor.school_id, staff)
            await records.set_staff(conn, session_id, staff)
        await records.update_session(
            conn,
            session_id,
            title=title,
            agenda=agenda,
            starts_at=starts_at if moved else None,
            minutes=minutes if moved else None,
        )
        if not moved:
            return
        await records.move_links(conn, session_id, link_expiry(starts_at, minutes, policy))
        when = when_text(policy, starts_at, minutes)
        title = title if title is not None else row.title
        await _tell_parents(
            records,
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


async def cancel(
    records: TimetableRecords, actor: Actor, session_id: str, now: dt.datetime
) -> Cancelled:
    """Cancel a session that has not opened: every link stops working and parents are told."""
    require_scheduler(actor)
    async with records.begin() as conn:
        row = await _session_row(records, conn, actor, session_id)
        _require_not_opened(row, now)
        policy = await _policy_of(records, conn, row)
        await records.update_session(conn, session_id, status="cancelled")
        passes = await records.revoke_links(conn, session_id, now)
        when = when_text(policy, row.starts_at, row.minutes)
        told = await _tell_parents(
            records,
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
    records: TimetableRecords, actor: Actor, session_id: str, staff_ids: Sequence[str]
) -> None:
    """More staff on a session (CLA-03), also once it has opened, until it ends."""
    require_scheduler(actor)
    async with records.begin() as conn:
        row = await _session_row(records, conn, actor, session_id)
        if row.status in ("cancelled", "ended"):
            raise SessionStateError(f"This session has {row.status}")
        await _check_staff(records, conn, actor.school_id, staff_ids)
        present = await records.staff_ids(conn, session_id)
        new = [s for s in dict.fromkeys(staff_ids) if s not in present]
        if new:
            await records.add_staff(conn, session_id, new)


# -- what staff see ----------------------------------------------------------------------------


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
    records: TimetableRecords, actor: Actor, session_id: str, now: dt.datetime
) -> SessionDetail:
    """One session of the actor's school, with its staff, pupils and their links."""
    stored = await records.load_session(session_id, actor.school_id)
    plan, policy = stored.plan, stored.policy
    async with records.connect() as conn:
        row = await _session_row(records, conn, actor, session_id)
        staff = await records.staff_lines(conn, session_id)
        links = await records.links_of(conn, session_id)
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
    records: TimetableRecords, actor: Actor, *, since: dt.datetime, limit: int = 200
) -> list[SessionSummary]:
    """The sessions the actor reaches starting from `since`, soonest first: those they are on,
    or every one of their school's with `see_any_session`."""
    only_on = None if staff_roles.may_reach_session(actor.role, False) else actor.staff_id
    async with records.connect() as conn:
        rows = await records.sessions_from(conn, actor.school_id, since, limit, only_on)
        counts = await records.pupil_counts(conn, [r.id for r in rows])
        policies: dict[int, Policy] = {}
        for r in rows:
            if r.policy_version_id not in policies:
                policies[r.policy_version_id] = await _policy_of(records, conn, r)
    return [_summary(r, policies[r.policy_version_id], counts.get(r.id, 0)) for r in rows]


# -- helpers -----------------------------------------------------------------------------------


def _summary(row: SessionRow, policy: Policy, pupils: int) -> SessionSummary:
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


async def _session_row(
    records: TimetableRecords, conn: AsyncConnection, actor: Actor, session_id: str
) -> SessionRow:
    """The session, if the actor reaches it; the same error for "no such session", "another
    school's session" and "a session a teacher is not on"."""
    row = await records.session_row(conn, actor.school_id, session_id)
    if row is None:
        raise SessionNotFoundError(session_id)
    on_it = await records.on_staff(conn, session_id, actor.staff_id)
    if not staff_roles.may_reach_session(actor.role, on_it):
        raise SessionNotFoundError(session_id)
    return row


def _require_not_opened(row: SessionRow, now: dt.datetime) -> None:
    if row.status == "cancelled":
        raise SessionStateError("This session has been cancelled")
    if row.status == "ended":
        raise SessionStateError("This session has ended")
    if row.status != "scheduled" or now >= row.starts_at:
        raise SessionStateError(
            "This session has already opened, so it can no longer be changed or cancelled; "
            "end it from the room instead"
        )


async def _policy_of(records: TimetableRecords, conn: AsyncConnection, row: SessionRow) -> Policy:
    return (await records.policy_version(conn, row.school_id, row.policy_version_id)).load()


async def _pupils_for(
    records: TimetableRecords,
    conn: AsyncConnection,
    school_id: str,
    policy: Policy,
    request: SessionRequest,
) -> list[tuple[str, str]]:
    """(pupil_id, shown name): the pupils listed, or the class's; names by the policy's rule
    (two "Amelia R."s become "Amelia Ro." and "Amelia Ri.")."""
    if request.pupil_ids:
        found = [
            await records.get_pupil(conn, school_id, pid)
            for pid in dict.fromkeys(request.pupil_ids)
        ]
    elif request.class_id is not None:
        found = await records.list_pupils(conn, school_id, request.class_id)
    else:
        return []
    names = display_names(((p.id, p.forename, p.surname) for p in found), policy.identity.name_rule)
    return [(p.id, names[p.id]) for p in found]


async def _check_staff(
    records: TimetableRecords, conn: AsyncConnection, school_id: str, staff_ids: Sequence[str]
) -> None:
    active = {s.id: s for s in await records.staff_by_role(conn, school_id)}
    for sid in staff_ids:
        member = active.get(sid)
        if member is None:
            raise NotInSchoolError("member of staff", sid)
        if member.role.value not in ROOM_ROLES:
            raise NotPermittedError(f"{member.name} has an admin account, which cannot join rooms")


async def _tell_parents(
    records: TimetableRecords,
    conn: AsyncConnection,
    row: SessionRow,
    now: dt.datetime,
    *,
    kind: str,
    subject: str,
    body: str,
) -> int:
    """Queue a notice to the parents of every pupil who was sent a link for this session."""
    found = await records.families_sent_links(conn, row.school_id, row.id)
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
        await records.queue(conn, notices)
    return len(notices)
