"""Auditing every log: the ones that are there, and the ones that should be.

A log that was deleted whole (entries and head) leaves nothing for a chain to check, so the
audit starts from the sessions table: every session whose room opened (live or ended) must
have a log, unless the retention job deleted it on its day and said so in the school's journal
(itself a keyed chain). A session whose start has passed but whose room never opened has no log
either; those are named apart, not as failures (a lesson nobody came to is common, and a
checkpoint shows whether such a session ever had a log). Against a checkpoint, every log and
tail the checkpoint recorded must still be there, unchanged. The sessions and schools are read
through the school-records port, the logs and journals through the event store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from safeclass.app.checkpoints import Checkpoint
from safeclass.app.event_store import EventStore, VerifyReport
from safeclass.app.school_records import SchoolRecords

RETENTION_JOURNALLED = "RetentionApplied"  # app.retention's journal entry
OPENED = ("live", "ended")


@dataclass(slots=True)
class LogAudit:
    reports: list[VerifyReport] = field(default_factory=list)
    schools: set[str] = field(default_factory=set)  # logs that are a school's journal
    never_opened: list[str] = field(default_factory=list)  # past sessions with no log
    deleted_by_retention: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports)


async def audit_all(records: SchoolRecords, log: EventStore, now: dt.datetime) -> LogAudit:
    """Verify every log there is, and name every session that should have one and has not."""
    audit = LogAudit()
    present = set(await log.sessions())
    sessions = await records.session_statuses()
    audit.schools = await records.school_ids()
    audit.deleted_by_retention = await deleted_by_retention(log, audit.schools & present)
    expected: dict[str, str] = {}
    for session in sessions:
        session_id, status = session.session_id, session.status
        if session_id in present or session_id in audit.deleted_by_retention:
            continue
        if status in OPENED:
            expected[session_id] = status
        elif status != "cancelled" and session.starts_at <= now:
            audit.never_opened.append(session_id)
    for session_id in sorted(present):
        audit.reports.append(await log.verify(session_id))
    for session_id, status in expected.items():
        audit.reports.append(
            VerifyReport(
                session_id,
                problems=[
                    f"its whole log is missing: the session is {status}, so its room opened, "
                    "but no event or head of its log is stored and no retention deletion of it "
                    "is recorded"
                ],
            )
        )
    return audit


async def deleted_by_retention(log: EventStore, journals: set[str]) -> set[str]:
    """Sessions whose whole log the retention job deleted, as the schools' journals record."""
    if not journals:
        return set()
    out = set()
    for data in await log.payloads_of(sorted(journals), RETENTION_JOURNALLED):
        if data.get("deleted") == "session log" and isinstance(data.get("session"), str):
            out.add(data["session"])
    return out


async def against_checkpoint(
    records: SchoolRecords, log: EventStore, checkpoint: Checkpoint
) -> dict[str, list[str]]:
    """What is missing or different now from each log the checkpoint recorded, by log id."""
    present = {h.session_id: h for h in await log.heads()}
    logged = set(await log.sessions())
    schools = await records.school_ids()
    retired = await deleted_by_retention(log, logged & schools)
    when = checkpoint.made_at
    found: dict[str, list[str]] = {}
    for then in checkpoint.heads:
        sid, seq = then.session_id, then.last_seq
        problems = found.setdefault(sid, [])
        now_hash = await log.hash_at(sid, seq)
        if now_hash == then.last_hash:
            head = present.get(sid)
            if head is not None and head.legacy_seq != then.legacy_seq:
                problems.append(
                    f"where its entries from before keyed chains end changed since the "
                    f"checkpoint of {when} (then {then.legacy_seq}, now {head.legacy_seq})"
                )
        elif sid not in logged:
            if sid not in retired:
                problems.append(
                    f"its whole log is missing since the checkpoint of {when}, which recorded "
                    f"{seq} events, and no retention deletion of it is recorded"
                )
        elif now_hash is None:
            last = present[sid].last_seq if sid in present else await log.last_seq(sid)
            gone = f"{last + 1}-{seq}" if last + 1 < seq else str(seq)
            problems.append(f"event {gone} deleted since the checkpoint of {when}")
        else:
            problems.append(f"event {seq} changed since the checkpoint of {when}")
        if not problems:
            del found[sid]
    return found
