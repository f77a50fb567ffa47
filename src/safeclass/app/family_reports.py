"""What families have told the school through their links (C23, CRO-16), for the staff's pages.

A parent's report (`invitations.report_to_school`) is kept in `parent_reports`; email is only a
nudge and may not be set up at all. These reads are what make "the school has it" true: the
lesson's page lists each report (what they said, the note, when) and the staff home counts the
families who said something about today's lessons. The limits that stop a family flooding
staff are the writer's (`REPORTS_KEPT` a pupil and lesson, the same report never kept twice).
A parent's withdrawal of consent through the link (app/family_consent.py) is listed here too,
as a report with the reason `withdrew_consent`, so the lesson's staff see it before it starts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.tables import ParentReport, SessionStaff, Staff


@dataclass(frozen=True, slots=True)
class FamilyReport:
    """One thing a family told the school about one pupil and lesson."""

    session_id: str
    pupil_id: str
    reason: str  # a ReportReason value
    message: str
    created_at: dt.datetime


async def reports_for(engine: AsyncEngine, school_id: str, session_id: str) -> list[FamilyReport]:
    """A lesson's reports, oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                ParentReport.session_id,
                ParentReport.pupil_id,
                ParentReport.reason,
                ParentReport.message,
                ParentReport.created_at,
            )
            .where(ParentReport.school_id == school_id, ParentReport.session_id == session_id)
            .order_by(ParentReport.created_at, ParentReport.id)
        )
        return [
            FamilyReport(r.session_id, r.pupil_id, r.reason, r.message, _utc(r.created_at))
            for r in rows
        ]


async def families_reporting(
    engine: AsyncEngine, school_id: str, session_ids: Sequence[str]
) -> dict[str, int]:
    """For each of these lessons that has any, how many families (pupils) reported on it."""
    if not session_ids:
        return {}
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(ParentReport.session_id, func.count(func.distinct(ParentReport.pupil_id)))
            .where(
                ParentReport.school_id == school_id,
                ParentReport.session_id.in_(list(session_ids)),
            )
            .group_by(ParentReport.session_id)
        )
        return {row[0]: int(row[1]) for row in rows}


async def lesson_staff(engine: AsyncEngine, session_id: str) -> list[tuple[str, str]]:
    """The (name, role) of the active staff on a lesson: who will read a family's report."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(Staff.name, Staff.role)
            .join(SessionStaff, SessionStaff.staff_id == Staff.id)
            .where(SessionStaff.session_id == session_id, Staff.active.is_(True))
        )
        found = [(r.name, r.role) for r in rows]
    first = {"teacher": 0, "assistant": 1}  # the teacher named first
    return sorted(found, key=lambda s: (first.get(s[1], 2), s[0]))


def _utc(when: dt.datetime) -> dt.datetime:
    """SQLite hands back naive times; they were stored in UTC."""
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
