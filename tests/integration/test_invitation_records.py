"""The invitations port on the database (`adapters/store/invitations.py`): who a family's word
goes to when a lesson has no staff, and a step of the port's transaction that fails keeps
nothing. The links' own journeys (sent, opened, reported, withdrawn) are test_invitations.py's
and test_family_consent.py's, over HTTP.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store import school_records
from safeclass.adapters.store.invitations import StoreInvitations
from safeclass.adapters.store.tables import SessionPupil, SessionStaff, Staff
from safeclass.app.invitations import staff_to_tell
from safeclass.core import Consent
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
        assert await links.link_facts(conn, "0" * 64) is None


async def _link(links: StoreInvitations, session_id: str, pupil_id: str, token_hash: str) -> None:
    stored = await links.load_session(session_id)
    async with links.begin() as conn:
        await links.add_link(
            conn,
            school_id=stored.school_id,
            session_id=session_id,
            pupil_id=pupil_id,
            token_hash=token_hash,
            expires_at=NOW + dt.timedelta(hours=2),
            now=NOW,
        )


async def test_what_opening_a_link_reads_at_once_is_what_the_session_itself_holds(
    engine: AsyncEngine,
):
    """A family's link page reads its link, school, session, policy and pupil in one query (the
    busiest page of a school's morning): it must agree with the session as loaded whole, for a
    pupil taking part, one whose consent is refused, and one taken off the session."""
    session_id = await seed_session(engine, refused=("p2",))
    links = StoreInvitations(engine)
    stored = await links.load_session(session_id)
    for pupil_id, token_hash in (("p1", "1" * 64), ("p2", "2" * 64), ("p3", "3" * 64)):
        await _link(links, session_id, pupil_id, token_hash)
    async with engine.begin() as conn:
        await conn.execute(
            delete(SessionPupil).where(
                SessionPupil.session_id == session_id, SessionPupil.pupil_id == "p3"
            )
        )
    async with links.connect() as conn:
        school = await links.school(conn, stored.school_id)
        taking_part = await links.link_facts(conn, "1" * 64)
        refused = await links.link_facts(conn, "2" * 64)
        taken_off = await links.link_facts(conn, "3" * 64)
        assert await links.link_facts(conn, "4" * 64) is None
    assert taking_part is not None and refused is not None and taken_off is not None
    for facts in (taking_part, refused, taken_off):
        assert facts.school_name == school.name
        assert (facts.title, facts.starts_at, facts.minutes, facts.status) == (
            stored.plan.title,
            stored.plan.starts_at,
            stored.plan.minutes,
            stored.status,
        )
        assert facts.policy == stored.policy
    assert taking_part.link.pupil_id == "p1"
    assert taking_part.pupil == stored.plan.expected["p1"]
    assert refused.pupil == stored.plan.expected["p2"]
    assert refused.pupil is not None and refused.pupil.consent is Consent.REFUSED
    assert taken_off.pupil is None


async def test_a_links_passes_are_counted_and_a_held_one_is_known_only_while_it_is_good(
    engine: AsyncEngine,
):
    session_id = await seed_session(engine)
    links = StoreInvitations(engine)
    await _link(links, session_id, "p1", "1" * 64)
    async with links.connect() as conn:
        facts = await links.link_facts(conn, "1" * 64)
    assert facts is not None
    link = facts.link
    async with links.begin() as conn:
        assert await links.passes_of(conn, link.id, None, NOW) == (0, False)
        await links.add_pass(conn, link, "a" * 64, NOW)
        await links.add_pass(conn, link, "b" * 64, NOW)
    async with links.begin() as conn:
        assert await links.passes_of(conn, link.id, "a" * 64, NOW) == (2, True)
        assert await links.passes_of(conn, link.id, "c" * 64, NOW) == (2, False)
        # past the link's end a pass is not good, though it still counts until revoked
        later = link.expires_at + dt.timedelta(seconds=1)
        assert await links.passes_of(conn, link.id, "a" * 64, later) == (2, False)
        await links.revoke_passes(conn, [link.id], NOW)
    async with links.begin() as conn:
        assert await links.passes_of(conn, link.id, "a" * 64, NOW) == (0, False)
