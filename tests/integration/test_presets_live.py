"""A whole class session through the real server under each of the five schools' policies."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from safeclass.adapters.store.sessions import load_session
from safeclass.app.clock import AdjustableClock
from safeclass.policy import PRESET_NAMES, load_preset
from safeclass.policy.clauses import clause_for
from tests.integration.live import LiveServer
from tests.integration.seed import seed_session
from tests.integration.test_live_room import Lesson
from tests.support.rooms import START


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = LiveServer(db_url, tmp_path, AdjustableClock(START - dt.timedelta(minutes=3)))
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


@pytest.mark.parametrize("preset", PRESET_NAMES)
# covers: C3, C5, C7, C8, C11, C13, C20, CLA-02, CLA-05, CLA-06, CLA-09, CLA-13, WER-06, WER-08,
# STJ-06, STJ-07, STJ-09, CRO-04, CRO-12, CRO-14, S04-06, S04-10, S04-11
async def test_a_whole_class_session_keeps_each_schools_rules(server: LiveServer, preset: str):
    policy = load_preset(preset)
    session_id = await seed_session(server.services.engine, preset, pupils=6)
    stored = await load_session(server.services.engine, session_id)
    lesson = Lesson(server, session_id, stored.school_id)
    try:
        teacher = await lesson.staff("teacher")
        assistant = await lesson.staff("assistant", "Mr Lee")
        pupils = [await lesson.pupil(f"p{i}") for i in range(1, 7)]
        assert (await teacher.send("admit_all"))["type"] == "ok"

        # everyone enters muted; cameras as the policy says
        camera_on = policy.entry.camera_on_entry.value == "on"
        for pupil in pupils:
            view = await pupil.wait_for(
                lambda m: (
                    m["type"] == "state" and (m["view"]["me"] or {}).get("status") == "admitted"
                )
            )
            assert view["view"]["me"]["mic_on"] is False
            assert view["view"]["me"]["camera_on"] is camera_on

        # chat is off until staff switch it on; then it is public to the room
        refused = await pupils[0].send("chat", text="hello")
        assert refused["type"] == "refused"
        assert refused["clause"] == clause_for(preset, "CHAT")
        assert (await teacher.send("chat_on"))["type"] == "ok"
        assert (await pupils[0].send("chat", text="hello"))["type"] == "ok"
        line = await pupils[5].wait_for(
            lambda m: any(e["type"] == "ChatPosted" for e in m.get("events", []))
        )
        assert line["events"][-1]["text"] == "hello"

        # recording: only where the policy allows it (the notice, then the recording, is
        # tests/integration/test_recording.py, with video); this server has no video, so even
        # where the policy allows it no notice is given for a recording that cannot happen
        reply = await teacher.send("start_recording")
        assert reply["type"] == "refused"
        assert reply["clause"] == clause_for(preset, "RECORDING")
        if policy.recording.mode.value == "with_notice":
            assert reply["message"] == "Recording needs video, which is off on this server"
        assert teacher.view()["session"]["recording"] == "off"

        # the second adult drops: pupils are held, unless one adult may carry on (CRO-04)
        assert assistant.ws is not None
        seen = len(teacher.messages)
        assistant.ws.transport.abort()
        dropped = await teacher.wait_for(
            lambda m: m["type"] == "state" and m["view"]["staffing"]["staff_present"] == 1,
            start=seen,
        )
        held = dropped["view"]["session"]["held"]
        assert held is not policy.staffing.single_adult_fallback

        # the time limit ends the session for everyone at once
        server.clock.advance(dt.timedelta(minutes=policy.timing.max_minutes + 1))
        for client in [teacher, *pupils]:
            await asyncio.wait_for(client.closed.wait(), 5)
            assert client.close_code == 4000
    finally:
        await lesson.close()
