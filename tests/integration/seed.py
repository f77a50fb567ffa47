"""Minimal rows for integration tests: a school with a preset policy, pupils and a session.

Written with plain inserts so tests of the event log and reports do not depend on the roster
import; `school_records` has the real use cases.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.sessions import create_session
from safeclass.adapters.store.tables import ConsentRecord, PolicyVersion, Pupil, School
from safeclass.core import SessionKind
from safeclass.core.names import display_names
from safeclass.policy import load_preset
from safeclass.policy.loading import preset_path
from tests.support.rooms import START, class_list


async def seed_session(
    engine: AsyncEngine,
    preset: str = "claydon",
    pupils: int = 5,
    kind: SessionKind = SessionKind.CLASS,
    starts_at: dt.datetime = START,
    refused: tuple[str, ...] = (),
) -> str:
    """A school using `preset`, `pupils` pupils p1.. and a session; returns the session id.

    Pupil ids are exactly those of tests.support.rooms.class_list ("p1", "p2", ...) so a
    Driver's commands apply to the stored session's plan. Being unprefixed, they allow one
    seeded school per database: a second school needs `school_records`/`create_session`.
    """
    policy = load_preset(preset)
    now = dt.datetime.now(dt.UTC)
    school_id = str(uuid.uuid4())
    rows = class_list(pupils)
    names = display_names(rows, policy.identity.name_rule)
    async with engine.begin() as conn:
        await conn.execute(
            insert(School).values(
                id=school_id,
                key=f"{preset}-{school_id[:8]}",
                name=policy.school.name,
                created_at=now,
            )
        )
        version = await conn.execute(
            insert(PolicyVersion)
            .values(
                school_id=school_id,
                version=1,
                toml=preset_path(preset).read_text("utf-8"),
                adopted=policy.school.adopted,
                review=policy.school.review,
                created_at=now,
            )
            .returning(PolicyVersion.id)
        )
        version_id = version.scalar_one()
        for pid, forename, surname in rows:
            await conn.execute(
                insert(Pupil).values(
                    id=pid,
                    school_id=school_id,
                    forename=forename,
                    surname=surname,
                    created_at=now,
                    updated_at=now,
                )
            )
            await conn.execute(
                insert(ConsentRecord).values(
                    pupil_id=pid,
                    school_id=school_id,
                    basis="refused" if pid in refused else "implied",
                    recorded_at=now,
                    source="test",
                )
            )
        return await create_session(
            conn,
            school_id=school_id,
            policy_version_id=version_id,
            kind=kind,
            title="Year 2 Maths",
            starts_at=starts_at,
            minutes=policy.timing.max_minutes,
            pupils=[(pid, names[pid]) for pid, _, _ in rows],
        )
