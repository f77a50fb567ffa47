"""What families have told the school through their links (C23, CRO-16), for the staff's pages.

A parent's report (`invitations.report_to_school`) is kept in `parent_reports`; email is only a
nudge and may not be set up at all. These reads are what make "the school has it" true: the
lesson's page lists each report (what they said, the note, when) and the staff home counts the
families who said something about today's lessons. The limits that stop a family flooding
staff are the writer's (`REPORTS_KEPT` a pupil and lesson, the same report never kept twice).
A parent's withdrawal of consent through the link (app/family_consent.py) is listed here too,
as a report with the reason `withdrew_consent`, so the lesson's staff see it before it starts.
The rows are read through `FamilyReportRows` (on the database:
`safeclass.adapters.store.family_reports`, `Services.family_reports`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FamilyReport:
    """One thing a family told the school about one pupil and lesson."""

    session_id: str
    pupil_id: str
    reason: str  # a ReportReason value
    message: str
    created_at: dt.datetime


class FamilyReportRows(Protocol):
    """The reports families left, and the staff of a lesson, as the records hold them."""

    async def reports_for(self, school_id: str, session_id: str) -> list[FamilyReport]:
        """A lesson's reports, oldest first."""

    async def families_reporting(
        self, school_id: str, session_ids: Sequence[str]
    ) -> dict[str, int]:
        """For each of these lessons that has any, how many families (pupils) reported on it."""

    async def lesson_staff(self, session_id: str) -> list[tuple[str, str]]:
        """The (name, role) of the active staff on a lesson, in no order."""


async def reports_for(
    rows: FamilyReportRows, school_id: str, session_id: str
) -> list[FamilyReport]:
    """A lesson's reports, oldest first."""
    found = await rows.reports_for(school_id, session_id)
    return [
        FamilyReport(r.session_id, r.pupil_id, r.reason, r.message, _utc(r.created_at))
        for r in found
    ]


async def families_reporting(
    rows: FamilyReportRows, school_id: str, session_ids: Sequence[str]
) -> dict[str, int]:
    """For each of these lessons that has any, how many families (pupils) reported on it."""
    if not session_ids:
        return {}
    return await rows.families_reporting(school_id, session_ids)


async def lesson_staff(rows: FamilyReportRows, session_id: str) -> list[tuple[str, str]]:
    """The (name, role) of the active staff on a lesson: who will read a family's report."""
    found = await rows.lesson_staff(session_id)
    first = {"teacher": 0, "assistant": 1}  # the teacher named first
    return sorted(found, key=lambda s: (first.get(s[1], 2), s[0]))


def _utc(when: dt.datetime) -> dt.datetime:
    """SQLite hands back naive times; they were stored in UTC."""
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
