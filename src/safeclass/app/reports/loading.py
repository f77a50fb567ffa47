"""One session's register and timeline, read from the database (its plan, policy and log).

The plan and policy come through the school-records port, the log through the event store, the
lesson's resources and its notices' deliveries through their own (`resources.ResourceRows`,
`undelivered.DeliveryRows`).
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.app.event_store import EventStore
from safeclass.app.register import Register, ResourceLine, build_register
from safeclass.app.resources import ResourceRows
from safeclass.app.room_log import refused_attempts, room_events
from safeclass.app.school_records import SchoolRecords
from safeclass.app.timeline import TimelineLine, build_timeline
from safeclass.app.undelivered import DeliveryRows


@dataclass(frozen=True, slots=True)
class SessionReport:
    register: Register
    timeline: list[TimelineLine]


async def session_report(
    engine: AsyncEngine,
    records: SchoolRecords,
    log: EventStore,
    session_id: str,
    school_id: str | None = None,
    *,
    resources: ResourceRows,
    deliveries: DeliveryRows,
) -> SessionReport:
    """The register and timeline of a session; raises SessionNotFoundError if there is none.

    The plan keeps the shown names the session was scheduled with, so the register reads the
    same years later; the school's time zone comes from the policy version that governed it.
    """
    stored = await records.load_session(session_id, school_id)
    entries = await log.read(session_id)
    events, attempts = room_events(entries), refused_attempts(entries)
    tz = stored.policy.school.timezone
    names = {pid: pupil.shown_name for pid, pupil in stored.plan.expected.items()}
    async with engine.connect() as conn:
        alerts = await deliveries.alert_deliveries(conn, session_id)
        parents = await deliveries.parent_deliveries(conn, session_id)
        kept = await resources.resources_of(conn, session_id, with_removed=True)
    offered = [
        ResourceLine(r.title, r.url or r.filename or "", r.added_by, r.added_at)
        if r.removed_at is None
        else ResourceLine(
            r.title, r.url or r.filename or "", r.added_by, r.added_at, r.removed_by, r.removed_at
        )
        for r in kept
    ]
    register = build_register(
        stored.plan, events, tz, policy=stored.policy, attempts=attempts, resources=offered
    )
    return SessionReport(
        register=register,
        timeline=with_resources(
            build_timeline(events, tz, names, attempts, alerts, parents=parents), register
        ),
    )


def with_resources(timeline: list[TimelineLine], register: Register) -> list[TimelineLine]:
    """The timeline with a line for each resource added or removed (kept beside the log, in
    their own table: app/resources.py), in time order; one on another day says which."""
    day = register.facts.planned_start.date()

    def on(at: dt.datetime) -> str:
        return "" if at.date() == day else f"On {at.day} {at:%b}: "

    lines = []
    for r in register.resources:
        text = f"{on(r.added_at)}{r.added_by} added for families: {r.title} ({r.what})"
        lines.append(TimelineLine(r.added_at, "ResourceAdded", text))
        if r.removed_at is not None:
            text = f"{on(r.removed_at)}{r.removed_by or 'Staff'} removed: {r.title}"
            lines.append(TimelineLine(r.removed_at, "ResourceRemoved", text))
    lines.sort(key=lambda line: line.at)
    return list(heapq.merge(timeline, lines, key=lambda line: line.at))
