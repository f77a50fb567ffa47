"""The invitations port on the database (`adapters/store/invitations.py`): who a family's word
goes to when a lesson has no staff, and a step of the port's transaction that fails keeps
nothing. The links' own journeys (sent, opened, reported, withdrawn) are test_invitations.py's
and test_family_consent.py's, over HTTP.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store import school_records
from safeclass.adapters.store.invitations import StoreInvitations
from safeclass.adapters.store.tables import SessionStaff, Staff
from safeclass.app.invitations import staff_to_tell
from tests.integration.seed import seed_session

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


async def _staff(engine: AsyncEngine, school_id: str, role: str, email: str) -> str:
    async with engine.begin() as conn:
        member = await school_records.add_staff(
            conn, school_id, name=role.title(), email=email, role=role, now=NOW
        )
    return member.id


async def test_a_lesson_without_staff_sends_a_familys_word_to_the_head_and_the_office(
    engine: AsyncEngine,
):
    session_id = await seed_session(engine)
    links = StoreInvitations(engine)
    stored = await links.load_session(session_id)
    school_id = stored.school_id
    await _staff(engine, school_id, "head", "head@school.test")
    await _staff(engine, school_id, "admin", "office@school.test")
    gone = await _staff(engine, school_id, "admin", "left@school.test")
    teacher = await _staff(engine, school_id, "teacher", "teacher@school.test")
    async with engine.begin() as conn:
        await conn.execute(update(Staff).where(Staff.id == gone).values(active=False))
    async with links.connect() as conn:
        told = await staff_to_tell(links, conn, school_id, session_id)
    assert sorted(told) == ["head@school.test", "office@school.test"]
    # once the lesson has a teacher, the teacher alone is told
    async with engine.begin() as conn:
        await conn.execute(insert(SessionStaff).values(session_id=session_id, staff_id=teacher))
    async with links.connect() as conn:
        assert await staff_to_tell(links, conn, school_id, session_id) == ["teacher@school.test"]


async def test_a_transaction_of_the_port_that_fails_keeps_none_of_its_steps(engine: AsyncEngine):
    session_id = await seed_session(engine)
    links = StoreInvitations(engine)
    stored = await links.load_session(session_id)

    async def link_then_fail() -> None:
        async with links.begin() as conn:
            await links.add_link(
                conn,
                school_id=stored.school_id,
                session_id=session_id,
                pupil_id="p1",
                token_hash="0" * 64,
                expires_at=NOW + dt.timedelta(hours=2),
                now=NOW,
            )
            raise RuntimeError("the letter could not be made")

    with pytest.raises(RuntimeError):
        await link_then_fail()
    async with links.connect() as conn:
        assert await links.links_of(conn, session_id) == {}
        assert await links.link_by_token(conn, "0" * 64) is None
