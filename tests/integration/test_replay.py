"""Replaying a session's stored log rebuilds exactly the state the live room had."""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store import EventLog
from safeclass.adapters.store.sessions import load_session
from safeclass.app.room_log import entries_for, replay
from safeclass.core import Role, new_room
from safeclass.core import commands as c
from tests.integration.seed import seed_session
from tests.support.keys import TEST_CHAIN_KEY
from tests.support.rooms import Driver


# covers: C14, C15, CLA-17
async def test_replaying_the_stored_log_rebuilds_the_live_room(engine: AsyncEngine):
    session_id = await seed_session(engine, "claydon", pupils=6)
    stored = await load_session(engine, session_id)
    assert stored.policy.school.key == "claydon" and stored.policy_version == 1
    log = EventLog(engine, TEST_CHAIN_KEY)
    driver = Driver(new_room(stored.plan, stored.policy))
    recorded = 0

    async def record() -> None:
        nonlocal recorded
        await log.append(session_id, entries_for(driver.log[recorded:]))
        recorded = len(driver.log)

    driver.class_in(["p1", "p2", "p3", "p4"])
    await record()
    driver.ok(c.SetChat("t1", True))
    driver.ok(c.PostChat("p2", "Hello Miss"))
    driver.ok(c.RaiseHand("p3"))
    driver.ok(c.CallOn("t1", "p3"))
    driver.later(20).ok(c.ConnectionLost("t2", "dev-t2"))  # the room is held
    driver.later(40).ok(c.RequestToJoin("t2", Role.ASSISTANT, "dev-t2", staff_name="Mr Lee"))
    driver.ok(c.Remove("t2", "p4", "kept unmuting"))
    driver.pupil_join("p5")
    await record()
    entries = await log.read(session_id)
    assert replay(stored.plan, stored.policy, entries) == driver.state
    assert (await log.verify(session_id)).ok

    # after retention blanks the chat text, the replay still matches in everything but content
    chat = [e.seq for e in entries if e.type == "ChatPosted"]
    await log.redact(session_id, chat, "retention: chat", entries[-1].at, blank_fields=["text"])
    blanked = tuple(dataclasses.replace(m, text="") for m in driver.state.chat)
    expected = dataclasses.replace(driver.state, chat=blanked)  # the chat kept, its words gone
    assert replay(stored.plan, stored.policy, await log.read(session_id)) == expected
    assert (await log.verify(session_id)).ok
