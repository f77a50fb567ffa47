"""What the school's pages keep of a session once its room has ended.

The school-wide compliance summary and the head's view add up a term of sessions from rows kept
per session, not by replaying every log: the session's compliance result
(`reports.compliance.session_compliance`) and its register as rows (`oversight.compute_session`).
Both are derived from the log, so a failure here loses nothing: the page that next needs them
works them out (and both are worked out again whenever the log moves).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.app import oversight
from safeclass.app.event_store import EventStore
from safeclass.app.oversight import AttendanceRows
from safeclass.app.reports.compliance import ComplianceResults, session_compliance

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AfterEnd:
    """Where an ended session's rows are kept: its compliance result and the head's rows."""

    engine: AsyncEngine
    event_log: EventStore
    results: ComplianceResults
    attendance: AttendanceRows


async def keep_after_end(kept: AfterEnd, session_id: str, now: dt.datetime) -> None:
    """Keep the ended session's compliance result and the head's rows now, so no page waits."""
    try:
        await session_compliance(kept.engine, kept.results, kept.event_log, session_id)
    except Exception:
        log.exception("compliance result not stored", extra={"session": session_id})
    try:
        await oversight.compute_session(kept.attendance, kept.event_log, session_id, now)
    except Exception:
        log.exception("attendance rows not kept", extra={"session": session_id})
