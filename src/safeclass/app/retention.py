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
Nothing deleted is copied into the record of its deletion. The records are read and deleted
through `RetentionRows` (on the database: `safeclass.adapters.store.retention`); the log's own
entries through the event store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from safeclass.app.event_store import EventStore, NewEntry
from safeclass.policy import Policy, loads

RETENTION = "RetentionApplied"


@dataclass(frozen=True, slots=True)
class RetainedSession:
    """A session, when it was planned, and the TOML of the policy version that governs it."""

    session_id: str
    school_id: str
    starts_at: dt.datetime
    minutes: int
    policy_toml: str


@dataclass(frozen=True, slots=True)
class DueRecording:
    """A recording whose `delete_after` has come, and where its file is."""

    recording_id: str
    school_id: str
    session_id: str
    path: str


class RetentionRows(Protocol):
    """What retention reads and deletes of the school's records (not of the log itself)."""

    async def sessions(self) -> list[RetainedSession]:
        """Every session of every school."""

    async def delete_invitations(self, session_id: str) -> int:
        """Delete the session's invitations, their pupil passes and the parents' reports sent
        through them, in one transaction; how many invitations went."""

    async def delete_session_log(self, session_id: str) -> int:
        """Delete the session's log entries and head, the register's rows kept for the head's
        view, and its invitations with their passes and reports, in one transaction; how many
        entries went."""

    async def delete_resources(
        self, session_id: str, delete_files: Callable[[Sequence[str]], None]
    ) -> None:
        """In one transaction: hand the names the session's resource files are kept under to
        `delete_files`, then delete the session's resources."""

    async def recordings_due(self, now: dt.datetime) -> list[DueRecording]:
        """The recordings not yet deleted whose `delete_after` is `now` or before."""

    async def recording_deleted(self, recording_id: str, at: dt.datetime) -> None:
        """Mark a recording deleted (its file is gone)."""

    async def delete_concerns_due(self, today: dt.date) -> list[tuple[str, str]]:
        """Delete every concern kept until before `today`, with its entries and pupils, in one
        transaction; the (concern id, school id) of each."""


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
    rows: RetentionRows, now: dt.datetime, log: EventStore, data_dir: Path | None = None
) -> RetentionReport:
    """Apply every session's retention periods as of `now`. Safe to run again at any time.

    `log` is the event log opened with the server's key: redactions and the journal are in it.
    `data_dir` is the server's data folder, where the lessons' resource files are.
    """
    report = RetentionReport()
    policies: dict[str, Policy] = {}
    for session in await rows.sessions():
        session_id, school_id, toml = session.session_id, session.school_id, session.policy_toml
        policy = policies.get(toml) or loads(toml)
        policies[toml] = policy
        retention = policy.retention
        over = session.starts_at + dt.timedelta(minutes=session.minutes)
        if now >= over + dt.timedelta(days=retention.session_log_days):
            if await _delete_session_log(rows, log, school_id, session_id, now):
                report.session_logs_deleted += 1
            await _delete_resources(rows, data_dir, session_id)
            continue
        if now >= over + dt.timedelta(days=retention.chat_messages_days):
            report.chat_messages_blanked += await _blank_chat(log, session_id, now)
        if now >= over + dt.timedelta(days=retention.invitations_days):
            report.invitations_deleted += await rows.delete_invitations(session_id)
    report.recordings_deleted += await _delete_recordings(rows, log, now, report)
    report.concerns_deleted += await _delete_concerns(rows, log, now)
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


async def _journal(
    log: EventStore, school_id: str, now: dt.datetime, what: dict[str, object]
) -> None:
    await log.append(school_id, [NewEntry(RETENTION, now.isoformat(), what)])


async def _delete_session_log(
    rows: RetentionRows, log: EventStore, school_id: str, session_id: str, now: dt.datetime
) -> bool:
    deleted = await rows.delete_session_log(session_id)
    if deleted:
        await _journal(
            log,
            school_id,
            now,
            {"deleted": "session log", "session": session_id, "events": deleted},
        )
    return deleted > 0


async def _delete_resources(rows: RetentionRows, data_dir: Path | None, session_id: str) -> None:
    """A lesson's resources go with its log: the files, then the rows."""

    def delete_files(stored: Sequence[str]) -> None:
        if data_dir is not None:
            for name in stored:
                (data_dir / "resources" / str(name)).unlink(missing_ok=True)

    await rows.delete_resources(session_id, delete_files)


async def _delete_recordings(
    rows: RetentionRows, log: EventStore, now: dt.datetime, report: RetentionReport
) -> int:
    count = 0
    for due in await rows.recordings_due(now):
        rec_id = due.recording_id
        try:
            Path(due.path).unlink(missing_ok=True)
        except OSError as exc:
            report.problems.append(f"recording {rec_id}: cannot delete its file: {exc}")
            continue
        await rows.recording_deleted(rec_id, now)
        await _journal(
            log,
            due.school_id,
            now,
            {"deleted": "recording", "recording": rec_id, "session": due.session_id},
        )
        count += 1
    return count


async def _delete_concerns(rows: RetentionRows, log: EventStore, now: dt.datetime) -> int:
    due = await rows.delete_concerns_due(now.date())  # its entries and pupils go with it
    for concern_id, school_id in due:
        await _journal(log, school_id, now, {"deleted": "concern", "concern": concern_id})
    return len(due)
