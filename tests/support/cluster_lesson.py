"""A lesson on a cluster for failover tests and the cluster bench: class 2B's teacher, assistant
and three pupils, each a page (`ComingBack`) that connects through HAProxy and comes back by
itself; the pupils admitted, chat on, Amelia allowed to speak. `Lesson.owner` reads the room's
lease; `back_after` says how long after a moment the last person was back in the room.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.event_log import EventLog
from safeclass.adapters.store.tables import RoomLease
from safeclass.app.clock import SystemClock
from tests.integration.live import pupil_cookie
from tests.support.cluster import Cluster, lesson_now
from tests.support.room_clients import ComingBack


class Lesson:
    """A lesson of class 2B with everyone's page open through HAProxy."""

    def __init__(self, cluster: Cluster, engine: AsyncEngine) -> None:
        self.cluster = cluster
        self.engine = engine
        self.people: dict[str, ComingBack] = {}

    async def open(self) -> Lesson:
        school, self.session_id = await lesson_now(self.engine)
        base = f"ws://127.0.0.1:{self.cluster.port}"
        origin = self.cluster.public_url
        reach = SimpleNamespace(engine=self.engine, clock=SystemClock())
        cookies = {"teacher": school.teacher_cookie, "assistant": school.assistant_cookie}
        for forename in ("Amelia", "Oliver", "Isla"):
            cookies[forename] = await pupil_cookie(
                reach,  # type: ignore[arg-type]
                school.id,
                self.session_id,
                school.pupils[forename],
            )
        self.ids = {name: school.pupils.get(name) for name in cookies}
        for who, cookie in cookies.items():
            self.people[who] = ComingBack(base, origin, self.session_id, cookie, who).start()
        teacher = self.people["teacher"]
        for who, person in self.people.items():
            await person.until(lambda p: bool(p.joins))
            assert person.final is None, who
        pupils = [self.people[n] for n in ("Amelia", "Oliver", "Isla")]
        for pupil in pupils:
            await teacher.until(lambda t, p=pupil: self.ids[p.who] in t.view().get("waiting", []))
        assert (await teacher.send("admit_all"))["type"] == "ok"
        for pupil in pupils:
            await pupil.until(lambda p: p.status() == "admitted")
        assert (await teacher.send("chat_on"))["type"] == "ok"
        allowed = await teacher.send("allow_to_speak", pupil=self.ids["Amelia"])
        assert allowed["type"] == "ok", allowed
        return self

    async def owner(self) -> tuple[str, int]:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(RoomLease.worker_id, RoomLease.epoch).where(
                        RoomLease.session_id == self.session_id
                    )
                )
            ).one()
        return row[0], row[1]

    async def back_after(self, moment: float, timeout: float = 10) -> float:
        """How long after `moment` the last person was back in the room (a join answered
        after it, and for a pupil a view saying "admitted" after that)."""
        times = []
        for who, person in self.people.items():
            joined = await person.until(lambda p: any(t > moment for t in p.joins), timeout)
            if who in ("teacher", "assistant"):
                times.append(joined)
            else:
                times.append(await person.until(lambda p: p.status() == "admitted", timeout))
        return max(times) - moment

    async def close(self) -> None:
        await asyncio.gather(*(p.stop() for p in self.people.values()))


async def chatter(teacher: ComingBack, said: list[str]) -> None:
    """The teacher writes a line every 50 ms, through the failover; `said`: the lines the
    server acknowledged."""
    for n in itertools.count():
        text = f"line {n}"
        with contextlib.suppress(ConnectionError, TimeoutError, AssertionError):
            reply = await teacher.send("chat", text=text, timeout=2)
            if reply["type"] == "ok":
                said.append(text)
        await asyncio.sleep(0.05)


async def log_kinds(engine: AsyncEngine, session_id: str) -> list[tuple[str, dict[str, object]]]:
    return [(e.type, e.payload or {}) for e in await EventLog(engine).read(session_id)]
