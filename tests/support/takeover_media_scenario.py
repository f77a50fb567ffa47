"""A failover with video: two workers of a cluster share one Janus, and the owner of a class lapses.

Run as root under `unshare -n` (tests/integration/test_cluster_media_flow.py does it), in the
network namespace of live_media_scenario (Janus's ICE on 127.0.0.2, the aiortc clients on
127.0.0.3). PostgreSQL is reached through its Unix socket (a socket file is not in the network
namespace): `SAFECLASS_SCENARIO_DATABASE_URL` names a migrated database made for this run.

One Janus, started here, stands in for the trust's pool; two whole workers (`LiveServer`, worker
ids w1 and w2) use it as an external Janus (`janus_urls`). A class runs on w1: the teacher and
the assistant publish, pupil p1 is admitted, publishes, and has their camera turned on and their
microphone muted by the teacher (their client sends a tone the whole time). Then w1 stops saying
it is alive; w2 takes the room over, builds its SFU room from the log and destroys w1's; w1
learns it lost the room and closes its sockets ("reconnect"). The teacher and p1 come back to
w2 on the same devices and publish again; the assistant never does, so the room is held once
the grace is over. Prints one JSON line of timings and counts; the test asserts on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from safeclass.adapters.media.janus_process import JanusEndpoint
from safeclass.adapters.store.sessions import load_session
from safeclass.app.clock import AdjustableClock
from tests.integration.live import Client, LiveServer, pupil_cookie, staff_cookie
from tests.integration.seed import seed_session
from tests.support import failover_media
from tests.support.failover_media import (
    hold_cuts_the_pupil,
    media_back,
    mute_still_applies,
    muted_pupil_on_camera,
    pool_janus,
)
from tests.support.janus import session_rooms
from tests.support.live_media_scenario import ASSISTANT, TEACHER, MediaClient, _ok, last_packet
from tests.support.rooms import START

LEASE = 2.0
GRACE = 8.0  # long enough to reconnect and look, short enough to see the hold come


class Takeover:
    """The failover, step by step (one method each)."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.janus = pool_janus(folder)
        self.results: dict[str, Any] = {}
        self.clients: list[MediaClient] = []
        self.session = self.school = ""
        self.pupil_name = "p1"

    def worker(self, name: str, clock: AdjustableClock, janus: JanusEndpoint) -> LiveServer:
        return LiveServer(
            self.database_url,
            self.folder,
            clock,
            worker_id=name,
            lease_seconds=LEASE,
            reload_grace_seconds=GRACE,
            media=True,
            janus_urls=(janus.url,),
            janus_api_secret=janus.api_secret,
            janus_admin_key=janus.admin_key,
        )

    async def run(self) -> dict[str, Any]:
        self.endpoint = await self.janus.start()
        clock = AdjustableClock(START - dt.timedelta(minutes=3))
        self.one = self.worker("w1", clock, self.endpoint)
        self.two = self.worker("w2", clock, self.endpoint)
        try:
            await self.one.start()
            await self.two.start()
            engine = self.one.services.engine
            self.session = await seed_session(engine, "claydon", pupils=2)
            self.school = (await load_session(engine, self.session)).school_id
            await self.class_runs_on_the_first_worker()
            await self.the_first_worker_lapses()
            await self.the_class_comes_back_to_the_second()
            await self.the_assistant_never_comes_back()
            self.results["failures"] = [f for c in self.clients for f in c.failures]
        except BaseException:
            print(json.dumps(self.results, default=str), file=sys.stderr)
            raise
        finally:
            for client in self.clients:
                with contextlib.suppress(Exception):
                    await client.close()
            for server in (self.two, self.one):
                with contextlib.suppress(Exception):
                    await server.stop()
            await self.janus.stop()
        return self.results

    async def connect(self, server: LiveServer, who: str, cookie: str, name: str) -> MediaClient:
        ws = await Client(server, self.session, cookie, who).connect()
        client = MediaClient(ws, name)
        self.clients.append(client)
        fields = {"acknowledged_expectations": True} if who.startswith("p") else {}
        _ok(await ws.send("join", **fields))
        return client

    async def staff(self, role: str, name: str) -> MediaClient:
        sid, cookie = await staff_cookie(
            self.one.services, self.school, role, name, on_session=self.session
        )
        return await self.connect(self.one, sid, cookie, name)

    async def rooms(self) -> list[str]:
        return await session_rooms(self.endpoint, self.session)

    async def class_runs_on_the_first_worker(self) -> None:
        self.teacher = await self.staff("teacher", TEACHER)
        self.assistant = await self.staff("assistant", ASSISTANT)
        cookie = await pupil_cookie(self.one.services, self.school, self.session, "p1")
        self.p1 = await self.connect(self.one, "p1", cookie, "p1")
        self.pupil_name, self.results["before"] = await muted_pupil_on_camera(
            self.teacher, self.assistant, self.p1, "p1"
        )
        self.old_rooms = await self.rooms()

    async def the_first_worker_lapses(self) -> None:
        """w1 stops saying it is alive; w2 takes the room on and builds its own SFU room, and
        the one w1 made is destroyed, with the connections in it."""
        membership = self.one.services.membership
        assert membership is not None
        await membership.stop()
        t_lapse = time.monotonic()
        lapsed_from = await self.teacher.packets()

        async def taken() -> None:
            while not any(r.session_id == self.session for r in self.two.services.rooms.running()):
                await asyncio.sleep(0.02)

        await asyncio.wait_for(taken(), 3 * LEASE)
        t_taken = time.monotonic()
        self.t_taken = t_taken
        lapsed = await self.teacher.packets() - lapsed_from
        # the connections of the old room: packets the teacher still receives on them
        old_packets = asyncio.create_task(last_packet(self.teacher.packets, t_taken, 3.0))
        while True:
            now = await self.rooms()
            if now and not set(now) & set(self.old_rooms):
                break
            if time.monotonic() > t_taken + 10:
                raise AssertionError(f"the old room stays: {now}")
            await asyncio.sleep(0.02)
        t_gone = time.monotonic()
        last, _, late = await old_packets
        self.results["takeover"] = {
            "lapse_to_taken_s": t_taken - t_lapse,
            "packets_on_old_connections_while_lapsed": lapsed,  # the old room still worked
            "taken_to_old_room_gone_s": t_gone - t_taken,
            "old_rooms": self.old_rooms,
            "rooms_after": now,
            "last_packet_on_old_connections_s": last,  # from the takeover
            "packets_on_old_connections_in_last_1_5s": late,
        }
        await membership.beat()  # w1 is back, and learns it lost the room: it steps down
        for client in (self.teacher, self.assistant, self.p1):
            await asyncio.wait_for(client.ws.closed.wait(), 5)
        self.results["takeover"]["close_codes"] = sorted(
            {c.ws.close_code for c in (self.teacher, self.assistant, self.p1)}
        )

    async def come_back(self, old: MediaClient) -> MediaClient:
        """The page reconnects (to the owner, now) on the same device, and its connections are
        made afresh."""
        await old.close()
        self.clients.remove(old)
        client = await self.connect(self.two, old.ws.who, old.ws.cookie, old.name)
        _ok(await client.publish())
        _ok(await client.subscribe())
        return client

    async def the_class_comes_back_to_the_second(self) -> None:
        t_back = time.monotonic()
        self.teacher = await self.come_back(self.teacher)
        self.p1 = await self.come_back(self.p1)
        t_window = await media_back(self.teacher, self.p1, self.pupil_name, t_back)
        after = await mute_still_applies(self.teacher, self.p1, "p1", self.pupil_name, t_back)
        media = self.two.services.media
        assert media is not None and media.pool is not None
        member = media.pool._on(self.session)._rooms[self.session].members["p1"]
        self.results["after"] = {
            "back_to_frames_s": t_window - t_back,
            "in_grace": t_window + 2 - self.t_taken < GRACE,
            **after,
            "janus_muted": sorted(
                kind for kind, mids in member.mids.items() for mid in mids if member.muted.get(mid)
            ),
        }

    async def the_assistant_never_comes_back(self) -> None:
        """Past the grace the assistant counts as gone: one adult, the room is held, and the
        SFU forwards nothing of or to the pupil."""
        t_held, hold = await hold_cuts_the_pupil(self.teacher, self.p1, self.pupil_name, GRACE + 5)
        self.results["hold"] = {**hold, "taken_to_hold_s": t_held - self.t_taken}
        self.results["rooms_at_the_end"] = await self.rooms()


async def scenario(folder: Path, database_url: str) -> dict[str, Any]:
    return await Takeover(folder, database_url).run()


if __name__ == "__main__":
    failover_media.main(scenario, timeout=150)
