"""Lessons run through the real server for the compliance report's tests (integration, e2e).

`run_lesson` is Year 2 Maths as browsers would run it: Mrs Khan and Mr Lee join, two pupils
wait and are admitted at the planned start, and the teacher ends it; with `drop_seconds`, Mr
Lee's laptop drops off the network five minutes in and he is back that many seconds later.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from tests.integration.families import School, schedule
from tests.integration.live import Client, LiveServer, pupil_cookie
from tests.support.rooms import START


async def join(server: LiveServer, session_id: str, cookie: str, who: str) -> Client:
    client = await Client(server, session_id, cookie, who).connect()
    reply = await client.send("join", acknowledged_expectations=True)
    assert reply["type"] == "ok", reply
    return client


async def run_lesson(server: LiveServer, school: School, *, drop_seconds: int = 0) -> str:
    """Year 2 Maths: Mrs Khan and Mr Lee, two pupils admitted, the lesson ended by the teacher;
    with `drop_seconds`, Mr Lee's connection drops and he is back that many seconds later."""
    session_id = await schedule(server, school, starts_at=START)
    clients: list[Client] = []
    try:
        teacher = await join(server, session_id, school.teacher_cookie, "teacher")
        assistant = await join(server, session_id, school.assistant_cookie, "assistant")
        clients += [teacher, assistant]
        for name in ("Amelia", "Oliver"):
            cookie = await pupil_cookie(server.services, school.id, session_id, school.pupils[name])
            clients.append(await join(server, session_id, cookie, name))
        server.clock.advance(dt.timedelta(minutes=3))  # 10:00, the planned start
        assert (await teacher.send("admit_all"))["type"] == "ok"
        server.clock.advance(dt.timedelta(minutes=5))
        if drop_seconds:
            assert assistant.ws is not None
            assistant.ws.transport.abort()  # the assistant's laptop vanishes from the network
            await teacher.wait_for(lambda m: m["type"] == "state" and m["view"]["session"]["held"])
            server.clock.advance(dt.timedelta(seconds=drop_seconds))
            back = await join(server, session_id, school.assistant_cookie, "assistant again")
            clients.append(back)
            await teacher.wait_for(
                lambda m: m["type"] == "state" and not m["view"]["session"]["held"]
            )
        server.clock.advance(dt.timedelta(minutes=10))
        assert (await teacher.send("end"))["type"] == "ok"
        for client in clients:
            await asyncio.wait_for(client.closed.wait(), 5)
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    return session_id
