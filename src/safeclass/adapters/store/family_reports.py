"""What families told the school, on the database (`app.family_reports.FamilyReportRows`).

The rows of `parent_reports` a lesson's page lists and the staff home counts, and the staff of
a lesson who read them; the app module orders and shapes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.tables import ParentReport, SessionStaff, Staff
from safeclass.app.family_reports import FamilyReport


class StoreFamilyReports:
    """Families' reports and the staff who read them, through one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def reports_for(self, school_id: str, session_id: str) -> list[FamilyReport]:
        async with self.engine.connect() as conn:
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
                FamilyReport(r.session_id, r.pupil_id, r.reason, r.message, r.created_at)
                for r in rows
            ]

    async def families_reporting(
        self, school_id: str, session_ids: Sequence[str]
    ) -> dict[str, int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(ParentReport.session_id, func.count(func.distinct(ParentReport.pupil_id)))
                .where(
                    ParentReport.school_id == school_id,
                    ParentReport.session_id.in_(list(session_ids)),
                )
                .group_by(ParentReport.session_id)
            )
            return {row[0]: int(row[1]) for row in rows}

    async def lesson_staff(self, session_id: str) -> list[tuple[str, str]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(Staff.name, Staff.role)
                .join(SessionStaff, SessionStaff.staff_id == Staff.id)
                .where(SessionStaff.session_id == session_id, Staff.active.is_(True))
            )
            return [(r.name, r.role) for r in rows]
