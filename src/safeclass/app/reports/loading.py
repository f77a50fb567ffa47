"""One session's register and timeline, read from the database (its plan, policy and log)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.event_log import EventLog
from safeclass.adapters.store.sessions import load_session
from safeclass.app.register import Register, build_register
from safeclass.app.room_log import refused_attempts, room_events
from safeclass.app.timeline import TimelineLine, build_timeline
from safeclass.app.undelivered import alert_deliveries, parent_deliveries


@dataclass(frozen=True, slots=True)
class SessionReport:
    register: Register
    timeline: list[TimelineLine]


async def session_report(
    engine: AsyncEngine, session_id: str, school_id: str | None = None
) -> SessionReport:
    """The register and timeline of a session; raises SessionNotFoundError if there is none.

    The plan keeps the shown names the session was scheduled with, so the register reads the
    same years later; the school's time zone comes from the policy version that governed it.
    """
    stored = await load_session(engine, session_id, school_id)
    entries = await EventLog(engine).read(session_id)
    events, attempts = room_events(entries), refused_attempts(entries)
    tz = stored.policy.school.timezone
    names = {pid: pupil.shown_name for pid, pupil in stored.plan.expected.items()}
    async with engine.connect() as conn:
        alerts = await alert_deliveries(conn, session_id)
        parents = await parent_deliveries(conn, session_id)
    return SessionReport(
        register=build_register(stored.plan, events, tz, policy=stored.policy, attempts=attempts),
        timeline=build_timeline(events, tz, names, attempts, alerts, parents=parents),
    )
