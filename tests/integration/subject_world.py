"""A pupil with one record of every kind, beside classmates with their own, for subject access.

Amelia (p1) is the subject: guardians, consent, a link sent and opened, a lesson where she
chatted, was noted, had a concern raised about her and was removed, a parent's report, a
recording, a notice to her parent, a concern still kept and one past its retention date.
Oliver (p2) and Isla (p3) are her classmates, with records of their own that must never appear
in Amelia's archive.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store import EventLog
from safeclass.adapters.store.sessions import load_session
from safeclass.adapters.store.tables import (
    Concern,
    ConcernEntry,
    ConcernPupil,
    Guardian,
    Invitation,
    Notification,
    ParentReport,
    PupilPass,
    Recording,
    Session,
)
from safeclass.app.room_log import entries_for
from safeclass.core import commands as c
from safeclass.core import new_room
from tests.integration.seed import seed_session
from tests.support.rooms import START, Driver

DAY = dt.timedelta(days=1)
# What only the classmates' records hold: none of it may be in Amelia's archive.
CLASSMATES_ONLY = (
    "Oliver",
    "Isla",
    "Elm Road",
    "oliver.parent@example.com",
    "Off sick with Oliver",
)
TOKEN_HASHES = ("a" * 64, "b" * 64, "c" * 64)


@dataclass(frozen=True)
class SubjectWorld:
    session_id: str
    school_id: str
    recording: Path
    log: EventLog


async def subject_world(engine: AsyncEngine, data_dir: Path, key: bytes) -> SubjectWorld:
    session_id = await seed_session(engine, "claydon", pupils=3)
    stored = await load_session(engine, session_id)
    school_id = stored.school_id
    driver = Driver(new_room(stored.plan, stored.policy))
    driver.class_in(["p1", "p2"])
    driver.ok(c.SetChat("t1", True))
    driver.ok(c.PostChat("p1", "My cat is called Biscuit"))
    driver.ok(c.PostChat("p2", "I live at 4 Elm Road"))
    driver.ok(c.AddLogNote("t1", c.NoteKind.BEHAVIOUR, "Amelia shouted at Oliver", "p1"))
    driver.ok(c.AddLogNote("t1", c.NoteKind.REWARD, "Oliver helped Isla", "p2"))
    driver.ok(c.RaiseConcern("t1", "Amelia said Oliver Smith's brother hit her", "p1"))
    driver.ok(c.AllowToSpeak("t1", "p1"))
    driver.ok(c.Remove("t1", "p1", "Shouting at a classmate"))
    driver.ok(c.EndSession("t1"))
    log = EventLog(engine, key)
    await log.append(session_id, entries_for(driver.log))
    async with engine.begin() as conn:
        await conn.execute(update(Session).where(Session.id == session_id).values(status="ended"))
    recording = data_dir / "amelia.webm"
    recording.write_bytes(b"not really video")
    now = dt.datetime.now(dt.UTC)
    invitations = {"p1": str(uuid.uuid4()), "p2": str(uuid.uuid4())}
    async with engine.begin() as conn:
        await conn.execute(
            insert(Guardian),
            [
                {
                    "school_id": school_id,
                    "pupil_id": "p1",
                    "name": "Mrs Roberts",
                    "email": "roberts@example.com",
                    "phone": "07700 900001",
                },
                {
                    "school_id": school_id,
                    "pupil_id": "p2",
                    "name": "Mr Smith",
                    "email": "oliver.parent@example.com",
                    "phone": None,
                },
            ],
        )
        for (pid, inv), token in zip(invitations.items(), TOKEN_HASHES, strict=False):
            await conn.execute(
                insert(Invitation).values(
                    id=inv,
                    school_id=school_id,
                    session_id=session_id,
                    pupil_id=pid,
                    token_hash=token,
                    expires_at=START + DAY,
                    sent_at=START - DAY,
                    created_at=START - DAY,
                )
            )
        await conn.execute(
            insert(PupilPass).values(
                id=str(uuid.uuid4()),
                token_hash=TOKEN_HASHES[2],
                invitation_id=invitations["p1"],
                session_id=session_id,
                pupil_id="p1",
                school_id=school_id,
                created_at=START - dt.timedelta(minutes=3),
                expires_at=START + DAY,
            )
        )
        await conn.execute(
            insert(ParentReport),
            [
                {
                    "id": str(uuid.uuid4()),
                    "school_id": school_id,
                    "session_id": session_id,
                    "pupil_id": "p1",
                    "reason": "access",
                    "message": "The sound did not work",
                    "emailed": True,
                    "created_at": START - DAY,
                },
                {
                    "id": str(uuid.uuid4()),
                    "school_id": school_id,
                    "session_id": session_id,
                    "pupil_id": "p2",
                    "reason": "absent",
                    "message": "Off sick with Oliver",
                    "emailed": True,
                    "created_at": START - DAY,
                },
            ],
        )
        await conn.execute(
            insert(Recording),
            [
                {
                    "id": "rec1",
                    "school_id": school_id,
                    "session_id": session_id,
                    "path": str(recording),
                    "participant_id": "p1",
                    "shown_name": "Amelia R.",
                    "kinds": "audio video",
                    "size_bytes": 16,
                    "started_at": START,
                    "delete_after": START + 30 * DAY,
                },
                {
                    "id": "rec2",
                    "school_id": school_id,
                    "session_id": session_id,
                    "path": str(data_dir / "oliver.webm"),
                    "participant_id": "p2",
                    "shown_name": "Oliver S.",
                    "kinds": "video",
                    "size_bytes": 16,
                    "started_at": START,
                    "delete_after": START + 30 * DAY,
                },
            ],
        )
        await conn.execute(
            insert(Concern),
            [
                {
                    "id": "con-kept",
                    "school_id": school_id,
                    "session_id": session_id,
                    "pupil_id": "p1",
                    "raised_at": START,
                    "summary": "Amelia said Oliver Smith's brother hit her",
                    "keep_until": dt.date(2044, 11, 24),
                },
                {
                    "id": "con-old",
                    "school_id": school_id,
                    "session_id": None,
                    "pupil_id": "p1",
                    "raised_at": START - 400 * DAY,
                    "summary": "An old worry, long resolved",
                    "keep_until": dt.date(2020, 1, 1),
                },
                {
                    "id": "con-other",
                    "school_id": school_id,
                    "session_id": session_id,
                    "pupil_id": "p2",
                    "raised_at": START,
                    "summary": "Isla's worry about Oliver",
                    "keep_until": dt.date(2044, 1, 1),
                },
                {  # about two pupils: first p2, and Amelia too (concern_pupils)
                    "id": "con-both",
                    "school_id": school_id,
                    "session_id": session_id,
                    "pupil_id": "p2",
                    "raised_at": START + DAY,
                    "summary": "Both children were upset after the lesson",
                    "keep_until": dt.date(2044, 11, 24),
                },
            ],
        )
        await conn.execute(
            insert(ConcernPupil),
            [
                {"concern_id": "con-kept", "pupil_id": "p1"},
                {"concern_id": "con-both", "pupil_id": "p2"},
                {"concern_id": "con-both", "pupil_id": "p1"},
            ],
        )
        await conn.execute(  # added to afterwards, never edited (app/concerns.py)
            insert(ConcernEntry),
            [
                {
                    "concern_id": "con-kept",
                    "seq": 2,
                    "kind": "action",
                    "at": START + DAY,
                    "by_name": "Mr Patel (DSL)",
                    "text": "Spoke to Oliver Smith's mum on the phone",
                    "prev_hash": "0" * 64,
                    "hash": "1" * 64,
                },
            ],
        )
        await conn.execute(
            insert(Notification),
            [
                {
                    "school_id": school_id,
                    "session_id": session_id,
                    "kind": "parent_removed",
                    "recipient": "roberts@example.com",
                    "subject": "[Claydon] Amelia was asked to leave today's live session",
                    "body": "Dear parent or carer,\n\nAmelia was asked to leave.",
                    "status": "sent",
                    "attempts": 1,
                    "send_after": START,
                    "created_at": START,
                    "sent_at": START,
                },
                {
                    "school_id": school_id,
                    "session_id": session_id,
                    "kind": "parent_removed",
                    "recipient": "oliver.parent@example.com",
                    "subject": "[Claydon] Oliver was asked to leave",
                    "body": "Oliver left.",
                    "status": "sent",
                    "attempts": 1,
                    "send_after": START,
                    "created_at": START,
                    "sent_at": START,
                },
            ],
        )
    del now
    return SubjectWorld(session_id, school_id, recording, log)
