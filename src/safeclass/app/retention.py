"""Retention: delete what each session's policy says to delete, when it says, and say so in the log.

Each session is governed by the policy version it was scheduled under, so a later, longer
retention period never revives data that was due to go. What goes, by policy:
- chat message text (`chat_messages_days` after the session): blanked in the log (the chain
  still verifies; a `Redacted` entry records which events and why);
- invitation rows, with their pupil passes and the parents' reports sent through them
  (`invitations_days` after the session): deleted;
- recordings (`recordings_days`, fixed as `delete_after` when made): the file and then the row
  marked deleted;
- the whole session log and its register (`session_log_days`): the entries are deleted and the
  deletion is recorded in the school's own journal (a chain keyed by the school id); the
  lesson's resources (links and files families could open, `resources.py`) go with it;
- safeguarding concerns: kept until their `keep_until` date (the pupil's 25th birthday by
  default), then deleted and journalled.
Nothing deleted is copied into the record of its deletion.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.tables import (
    AttendanceMark,
    AttendanceStamp,
    BehaviourMark,
    Concern,
    ConcernEntry,
    ConcernPupil,
    Invitation,
    ParentReport,
    PolicyVersion,
    PupilPass,
    Recording,
    Session,
    SessionEvent,
    SessionLogHead,
    SessionResource,
)
from safeclass.app.event_store import EventStore, NewEntry
from safeclass.policy import loads

RETENTION = "RetentionApplied"


@dataclass(slots=True)
class RetentionReport:
    chat_messages_blanked: int = 0
    invitations_deleted: int = 0
    recordings_deleted: int = 0
    session_logs_deleted: int = 0
    concerns_deleted: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            self.chat_messages_blanked
            + self.invitations_deleted
            + self.recordings_deleted
            + self.session_logs_deleted
            + self.concerns_deleted
        )


async def run_retention(
    engine: AsyncEngine, now: dt.datetime, log: EventStore, data_dir: Path | None = None
) -> RetentionReport:
    """Apply every session's retention periods as of `now`. Safe to run again at any time.

    `log` is the event log opened with the server's key: redactions and the journal are in it.
    `data_dir` is the server's data folder, where the lessons' resource files are.
    """
    report = RetentionReport()
    async with engine.connect() as conn:
        sessions = (
            await conn.execute(
                select(
                    Session.id,
                    Session.school_id,
                    Session.starts_at,
                    Session.minutes,
                    PolicyVersion.toml,
                ).join(PolicyVersion, PolicyVersion.id == Session.policy_version_id)
            )
        ).all()
    policies: dict[str, object] = {}
    for session_id, school_id, starts_at, minutes, toml in sessions:
        policy = policies.get(toml) or loads(toml)
        policies[toml] = policy
        retention = policy.retention  # type: ignore[attr-defined]
        over = starts_at + dt.timedelta(minutes=minutes)
        if now >= over + dt.timedelta(days=retention.session_log_days):
            if await _delete_session_log(engine, log, school_id, session_id, now):
                report.session_logs_deleted += 1
            await _delete_resources(engine, data_dir, session_id)
            continue
        if now >= over + dt.timedelta(days=retention.chat_messages_days):
            report.chat_messages_blanked += await _blank_chat(log, session_id, now)
        if now >= over + dt.timedelta(days=retention.invitations_days):
            report.invitations_deleted += await _delete_invitations(engine, session_id)
    report.recordings_deleted += await _delete_recordings(engine, log, now, report)
    report.concerns_deleted += await _delete_concerns(engine, log, now)
    return report


async def _blank_chat(log: EventStore, session_id: str, now: dt.datetime) -> int:
    entries = await log.read(session_id)
    due = [e.seq for e in entries if e.type == "ChatPosted" and not e.redacted]
    if due:
        await log.redact(
            session_id,
            due,
            reason="retention: chat messages",
            at=now.isoformat(),
            blank_fields=["text"],
        )
    return len(due)


async def _delete_invitations(engine: AsyncEngine, session_id: str) -> int:
    async with engine.begin() as conn:
        await conn.execute(delete(PupilPass).where(PupilPass.session_id == session_id))
        await conn.execute(delete(ParentReport).where(ParentReport.session_id == session_id))
        result = await conn.execute(delete(Invitation).where(Invitation.session_id == session_id))
        return int(result.rowcount or 0)


async def _journal(
    log: EventStore, school_id: str, now: dt.datetime, what: dict[str, object]
) -> None:
    await log.append(school_id, [NewEntry(RETENTION, now.isoformat(), what)])


async def _delete_session_log(
    engine: AsyncEngine, log: EventStore, school_id: str, session_id: str, now: dt.datetime
) -> bool:
    async with engine.begin() as conn:
        result = await conn.execute(
            delete(SessionEvent).where(SessionEvent.session_id == session_id)
        )
        deleted = int(result.rowcount or 0)
        await conn.execute(delete(SessionLogHead).where(SessionLogHead.session_id == session_id))
        # the register's rows kept for the head's view (app/oversight.py) go with the log
        for kept in (AttendanceMark, BehaviourMark, AttendanceStamp):
            await conn.execute(delete(kept).where(kept.session_id == session_id))
        await conn.execute(delete(PupilPass).where(PupilPass.session_id == session_id))
        await conn.execute(delete(ParentReport).where(ParentReport.session_id == session_id))
        await conn.execute(delete(Invitation).where(Invitation.session_id == session_id))
    if deleted:
        await _journal(
            log,
            school_id,
            now,
            {"deleted": "session log", "session": session_id, "events": deleted},
        )
    return deleted > 0


async def _delete_resources(engine: AsyncEngine, data_dir: Path | None, session_id: str) -> None:
    """A lesson's resources go with its log: the files, then the rows."""
    async with engine.begin() as conn:
        stored = (
            await conn.execute(
                select(SessionResource.stored_name).where(
                    SessionResource.session_id == session_id,
                    SessionResource.stored_name.is_not(None),
                )
            )
        ).scalars()
        if data_dir is not None:
            for name in stored:
                (data_dir / "resources" / str(name)).unlink(missing_ok=True)
        await conn.execute(delete(SessionResource).where(SessionResource.session_id == session_id))


async def _delete_recordings(
    engine: AsyncEngine, log: EventStore, now: dt.datetime, report: RetentionReport
) -> int:
    async with engine.connect() as conn:
        due = (
            await conn.execute(
                select(
                    Recording.id, Recording.school_id, Recording.session_id, Recording.path
                ).where(Recording.deleted_at.is_(None), Recording.delete_after <= now)
            )
        ).all()
    count = 0
    for rec_id, school_id, session_id, path in due:
        try:
            Path(path).unlink(missing_ok=True)
        except OSError as exc:
            report.problems.append(f"recording {rec_id}: cannot delete its file: {exc}")
            continue
        async with engine.begin() as conn:
            await conn.execute(
                update(Recording).where(Recording.id == rec_id).values(deleted_at=now)
            )
        await _journal(
            log,
            school_id,
            now,
            {"deleted": "recording", "recording": rec_id, "session": session_id},
        )
        count += 1
    return count


async def _delete_concerns(engine: AsyncEngine, log: EventStore, now: dt.datetime) -> int:
    today = now.date()
    async with engine.begin() as conn:
        due = (
            await conn.execute(
                select(Concern.id, Concern.school_id).where(
                    Concern.keep_until.is_not(None), Concern.keep_until < today
                )
            )
        ).all()
        if due:
            ids = [c for c, _ in due]  # its entries and pupils go with it
            await conn.execute(delete(ConcernEntry).where(ConcernEntry.concern_id.in_(ids)))
            await conn.execute(delete(ConcernPupil).where(ConcernPupil.concern_id.in_(ids)))
            await conn.execute(delete(Concern).where(Concern.id.in_(ids)))
    for concern_id, school_id in due:
        await _journal(log, school_id, now, {"deleted": "concern", "concern": concern_id})
    return len(due)
