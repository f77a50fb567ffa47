"""The head's view's rows on the database (`app.oversight.AttendanceRows`).

Each ended session's register kept as rows (`attendance_marks`, `behaviour_marks`) under the
stamp of the log entry they were computed from (`attendance_stamps`), the sessions whose stamp
is missing or behind, and the sums, counts and lists the head's page and a pupil's history read
over them. The app module decides what is due, computes the rows and adds the figures up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.sessions import load_session
from safeclass.adapters.store.tables import (
    AttendanceMark,
    AttendanceStamp,
    BehaviourMark,
    Pupil,
    SchoolClass,
    Session,
    SessionEvent,
    SessionLogHead,
    Staff,
)
from safeclass.app.oversight import (
    BehaviourRow,
    ListedMark,
    Mark,
    MarkRow,
    PupilMarkRow,
    PupilName,
    Scope,
    SessionSums,
    StaleSession,
    Stamp,
)
from safeclass.app.school_records import StoredSession


class StoreAttendance:
    """The head's view's rows, kept and read through one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load_session(self, session_id: str) -> StoredSession:
        return await load_session(self.engine, session_id)

    async def class_of(self, session_id: str) -> str | None:
        async with self.engine.connect() as conn:
            found = await conn.execute(select(Session.class_id).where(Session.id == session_id))
            return found.scalar_one_or_none()

    async def to_refresh(
        self, school_id: str, rules: int, since: dt.datetime | None, until: dt.datetime | None
    ) -> tuple[list[StaleSession], list[str]]:
        async with self.engine.connect() as conn:
            query = (
                select(
                    Session.id,
                    Session.starts_at,
                    Session.minutes,
                    Session.status,
                    SessionLogHead.last_seq,
                    AttendanceStamp.log_seq,
                    AttendanceStamp.rules,
                )
                .join(SessionLogHead, SessionLogHead.session_id == Session.id)
                .outerjoin(AttendanceStamp, AttendanceStamp.session_id == Session.id)
                .where(
                    Session.school_id == school_id,
                    Session.status != "cancelled",
                    or_(
                        AttendanceStamp.session_id.is_(None),
                        AttendanceStamp.log_seq != SessionLogHead.last_seq,
                        AttendanceStamp.rules != rules,
                    ),
                )
            )
            if since is not None:
                query = query.where(Session.starts_at >= since)
            if until is not None:
                query = query.where(Session.starts_at < until)
            candidates = (await conn.execute(query)).all()
            orphans = (
                await conn.execute(
                    select(AttendanceStamp.session_id)
                    .outerjoin(
                        SessionLogHead, SessionLogHead.session_id == AttendanceStamp.session_id
                    )
                    .where(
                        AttendanceStamp.school_id == school_id,
                        SessionLogHead.session_id.is_(None),
                    )
                )
            ).all()
        return [StaleSession(*row) for row in candidates], [sid for (sid,) in orphans]

    async def drop(self, session_ids: Sequence[str]) -> None:
        async with self.engine.begin() as conn:
            await _drop(conn, session_ids)

    async def replace(
        self, stamp: Stamp, marks: Sequence[MarkRow], behaviour: Sequence[BehaviourRow]
    ) -> None:
        async with self.engine.begin() as conn:
            await _drop(conn, [stamp.session_id])
            if marks:
                await conn.execute(insert(AttendanceMark), [_row(m) for m in marks])
            if behaviour:
                await conn.execute(insert(BehaviourMark), [_row(b) for b in behaviour])
            await conn.execute(insert(AttendanceStamp).values(**_row(stamp)))

    async def session_sums(self, conn: AsyncConnection, scope: Scope) -> list[SessionSums]:
        rows = await conn.execute(
            select(
                AttendanceStamp.starts_at,
                AttendanceStamp.class_id,
                AttendanceStamp.on_time,
                AttendanceStamp.late,
                AttendanceStamp.absent,
                AttendanceStamp.other,
            ).where(*_stamps(scope))
        )
        return [SessionSums(*row) for row in rows]

    async def mark_counts(
        self,
        conn: AsyncConnection,
        scope: Scope,
        marks: Sequence[int] | None = None,
        pupil_ids: Sequence[str] | None = None,
    ) -> list[tuple[str, int, int]]:
        where = _marks(scope)
        if marks is not None:
            where.append(AttendanceMark.mark.in_(marks))
        if pupil_ids is not None:
            where.append(AttendanceMark.pupil_id.in_(pupil_ids))
        rows = await conn.execute(
            select(AttendanceMark.pupil_id, AttendanceMark.mark, func.count())
            .group_by(AttendanceMark.pupil_id, AttendanceMark.mark)
            .where(*where)
        )
        return [(pid, int(mark), int(n)) for pid, mark, n in rows]

    async def class_names(self, conn: AsyncConnection, school_id: str) -> dict[str, str]:
        rows = await conn.execute(
            select(SchoolClass.id, SchoolClass.name).where(SchoolClass.school_id == school_id)
        )
        return dict(rows.all())

    async def behaviour_counts(
        self, conn: AsyncConnection, scope: Scope
    ) -> list[tuple[str | None, str, int]]:
        rows = await conn.execute(
            select(BehaviourMark.class_id, BehaviourMark.kind, func.count())
            .where(*_behaviour(scope))
            .group_by(BehaviourMark.class_id, BehaviourMark.kind)
        )
        return [(cid, kind, int(n)) for cid, kind, n in rows]

    async def never_opened(self, conn: AsyncConnection, scope: Scope) -> tuple[int, int]:
        never = (
            select(func.count())
            .select_from(Session)
            .outerjoin(SessionLogHead, SessionLogHead.session_id == Session.id)
            .where(
                Session.school_id == scope.school_id,
                Session.status != "cancelled",
                Session.starts_at >= scope.start,
                Session.starts_at < scope.end,
                SessionLogHead.session_id.is_(None),
            )
        )
        on_roll = select(func.count()).select_from(Pupil).where(Pupil.school_id == scope.school_id)
        if scope.class_id is not None:
            never = never.where(Session.class_id == scope.class_id)
            on_roll = on_roll.where(Pupil.class_id == scope.class_id)
        row = (await conn.execute(select(never.scalar_subquery(), on_roll.scalar_subquery()))).one()
        return int(row[0]), int(row[1])

    async def recent(self, conn: AsyncConnection, scope: Scope, limit: int) -> list[ListedMark]:
        rows = (
            await conn.execute(
                select(
                    BehaviourMark.at,
                    BehaviourMark.kind,
                    BehaviourMark.session_id,
                    Session.title,
                    BehaviourMark.pupil_id,
                    Staff.name,
                    SessionEvent.payload,
                )
                .join(Session, Session.id == BehaviourMark.session_id)
                .outerjoin(Staff, Staff.id == BehaviourMark.by)
                .outerjoin(
                    SessionEvent,
                    and_(
                        SessionEvent.session_id == BehaviourMark.session_id,
                        SessionEvent.seq == BehaviourMark.seq,
                    ),
                )
                .where(*_behaviour(scope), BehaviourMark.kind != Mark.CONCERN.value)
                .order_by(BehaviourMark.at.desc(), BehaviourMark.seq.desc())
                .limit(limit)
            )
        ).all()
        return [ListedMark(*row[:5], row[5] or "", row[6]) for row in rows]

    async def pupil_names(
        self, conn: AsyncConnection, school_id: str, pupil_ids: Iterable[str]
    ) -> dict[str, PupilName]:
        wanted = sorted(pupil_ids)
        found: dict[str, PupilName] = {}
        for i in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
            rows = await conn.execute(
                select(Pupil.id, Pupil.forename, Pupil.surname, Pupil.class_id).where(
                    Pupil.school_id == school_id, Pupil.id.in_(wanted[i : i + 500])
                )
            )
            for pid, fore, sur, cid in rows:
                found[pid] = PupilName(fore, sur, cid)
        return found

    async def pupil(self, conn: AsyncConnection, school_id: str, pupil_id: str) -> PupilName | None:
        found = (
            await conn.execute(
                select(Pupil.forename, Pupil.surname, Pupil.class_id).where(
                    Pupil.id == pupil_id, Pupil.school_id == school_id
                )
            )
        ).first()
        return None if found is None else PupilName(*found)

    async def pupil_marks(
        self, conn: AsyncConnection, scope: Scope, pupil_id: str
    ) -> list[PupilMarkRow]:
        rows = await conn.execute(
            select(
                AttendanceMark.session_id,
                AttendanceMark.starts_at,
                Session.title,
                AttendanceMark.class_id,
                AttendanceMark.status,
                AttendanceMark.late_seconds,
                AttendanceMark.seconds_present,
                AttendanceMark.left_early,
            )
            .join(Session, Session.id == AttendanceMark.session_id)
            .where(*_marks(scope), AttendanceMark.pupil_id == pupil_id)
            .order_by(AttendanceMark.starts_at.desc())
        )
        return [PupilMarkRow(*row) for row in rows]

    async def pupil_behaviour(
        self, conn: AsyncConnection, scope: Scope, pupil_id: str
    ) -> list[tuple[str, int]]:
        rows = await conn.execute(
            select(BehaviourMark.kind, func.count())
            .where(*_behaviour(scope), BehaviourMark.pupil_id == pupil_id)
            .group_by(BehaviourMark.kind)
        )
        return [(kind, int(n)) for kind, n in rows]


async def _drop(conn: AsyncConnection, session_ids: Sequence[str]) -> None:
    for table in (AttendanceMark, BehaviourMark, AttendanceStamp):
        await conn.execute(delete(table).where(table.session_id.in_(session_ids)))


# the fields of each kind of row value, named for its table's columns (looked up once: a term
# is 25,000 rows)
_COLUMNS = {
    kind: tuple(f.name for f in dataclasses.fields(kind)) for kind in (MarkRow, BehaviourRow, Stamp)
}


def _row(value: MarkRow | BehaviourRow | Stamp) -> dict[str, Any]:
    """A row value as the columns of its table."""
    return {name: getattr(value, name) for name in _COLUMNS[type(value)]}


def _marks(scope: Scope) -> list[Any]:
    where = [
        AttendanceMark.school_id == scope.school_id,
        AttendanceMark.starts_at >= scope.start,
        AttendanceMark.starts_at < scope.end,
    ]
    if scope.class_id is not None:
        where.append(AttendanceMark.class_id == scope.class_id)
    return where


def _stamps(scope: Scope) -> list[Any]:
    where = [
        AttendanceStamp.school_id == scope.school_id,
        AttendanceStamp.starts_at >= scope.start,
        AttendanceStamp.starts_at < scope.end,
    ]
    if scope.class_id is not None:
        where.append(AttendanceStamp.class_id == scope.class_id)
    return where


def _behaviour(scope: Scope) -> list[Any]:
    where = [
        BehaviourMark.school_id == scope.school_id,
        BehaviourMark.at >= scope.start,
        BehaviourMark.at < scope.end,
    ]
    if scope.class_id is not None:
        where.append(BehaviourMark.class_id == scope.class_id)
    return where
