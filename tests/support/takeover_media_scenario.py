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
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from safeclass.adapters.media.janus_process import JanusEndpoint, JanusOptions, JanusProcess
from safeclass.adapters.store.sessions import load_session
from safeclass.app.clock import AdjustableClock
from tests.integration.live import Client, LiveServer, pupil_cookie, staff_cookie
from tests.integration.seed import seed_session
from tests.support.janus import listed_rooms
from tests.support.janus_scenario import JANUS_IP, setup_namespace, use_client_address, wait_for
from tests.support.live_media_scenario import (
    ASSISTANT,
    KINDS,
    TEACHER,
    MediaClient,
    _ok,
    last_packet,
)
from tests.support.rooms import START

LEASE = 2.0
GRACE = 8.0  # long enough to reconnect and look, short enough to see the hold come


class Takeover:
    """The failover, step by step (one method each)."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.janus = JanusProcess(
            folder / "janus",
            JanusOptions(
                interface=JANUS_IP,
                ice_enforce_list="pv0",
                ignore_mdns=True,
                rtp_ports=(20000, 20999),
            ),
        )
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
        listed = await listed_rooms(self.endpoint)
        return [r.janus_id for r in listed if r.description == self.session]

    async def class_runs_on_the_first_worker(self) -> None:
        self.teacher = await self.staff("teacher", TEACHER)
        self.assistant = await self.staff("assistant", ASSISTANT)
        cookie = await pupil_cookie(self.one.services, self.school, self.session, "p1")
        self.p1 = await self.connect(self.one, "p1", cookie, "p1")
        for member in (self.teacher, self.assistant):
            _ok(await member.publish())
            _ok(await member.subscribe())
        _ok(await self.teacher.ws.send("admit", pupils=["p1"]))
        await self.p1.ws.wait_for(
            lambda m: m["type"] == "state" and (m["view"]["me"] or {}).get("status") == "admitted"
        )
        _ok(await self.p1.publish())
        _ok(await self.p1.subscribe())
        seen = await self.teacher.ws.wait_for(
            lambda m: m["type"] == "state" and any(p["id"] == "p1" for p in m["view"]["people"])
        )
        self.pupil_name = next(p["name"] for p in seen["view"]["people"] if p["id"] == "p1")
        t_on = time.monotonic()
        _ok(await self.teacher.ws.send("unmute", target="p1"))
        _ok(await self.teacher.ws.send("camera_on", target="p1"))
        await wait_for(
            lambda: (
                self.teacher.count(self.pupil_name, "audio", t_on) > 0
                and self.teacher.count(self.pupil_name, "video", t_on) > 0
            ),
            10,
            "p1's audio and video at the teacher",
        )
        _ok(await self.teacher.ws.send("mute", target="p1"))
        await asyncio.sleep(0.5)
        t_window = time.monotonic()
        await asyncio.sleep(1.0)
        self.results["before"] = {
            "audio_frames_at_teacher": self.teacher.count(self.pupil_name, "audio", t_window),
            "video_frames_at_teacher": self.teacher.count(self.pupil_name, "video", t_window),
        }
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
        teacher, p1 = self.teacher, self.p1
        await wait_for(
            lambda: (
                teacher.count(self.pupil_name, "video", t_back) > 3
                and p1.count(TEACHER, "video", t_back) > 3
            ),
            10,
            "video both ways after the failover",
        )
        t_window = time.monotonic()
        sent = await p1.sent("audio")
        await asyncio.sleep(1.0)
        unmute = await p1.ws.send("unmute", target="p1")
        await asyncio.sleep(1.0)
        media = self.two.services.media
        assert media is not None and media.pool is not None
        member = media.pool._on(self.session)._rooms[self.session].members["p1"]
        people = teacher.ws.view()["people"]
        self.results["after"] = {
            "back_to_frames_s": t_window - t_back,
            "in_grace": t_window + 2 - self.t_taken < GRACE,
            "p1_sent_audio": await p1.sent("audio") - sent,
            "audio_frames_at_teacher": teacher.count(self.pupil_name, "audio", t_back),
            "video_frames_at_teacher": teacher.count(self.pupil_name, "video", t_window),
            "teacher_sees_mic_on": next(p for p in people if p["id"] == "p1")["mic_on"],
            "unmute_reply": unmute["type"],
            "janus_muted": sorted(
                kind for kind, mids in member.mids.items() for mid in mids if member.muted.get(mid)
            ),
        }

    async def the_assistant_never_comes_back(self) -> None:
        """Past the grace the assistant counts as gone: one adult, the room is held, and the
        SFU forwards nothing of or to the pupil."""
        teacher, p1 = self.teacher, self.p1
        held = await p1.ws.wait_for(
            lambda m: m["type"] == "state" and m["view"]["session"]["held"], GRACE + 5
        )
        t_held = time.monotonic()
        at_teacher, at_pupil = await asyncio.gather(
            last_packet(lambda: teacher.packets(self.pupil_name), t_held, 2.0),
            last_packet(p1.packets, t_held, 2.0),
        )
        self.results["hold"] = {
            "reason": held["view"]["session"]["hold_reason"],
            "taken_to_hold_s": t_held - self.t_taken,
            "pupil_packets_at_teacher_in_last_1s": at_teacher[2],
            "packets_at_pupil_in_last_1s": at_pupil[2],
            "pupil_frames_at_teacher_after_0_5s": sum(
                teacher.count(self.pupil_name, k, t_held + 0.5) for k in KINDS
            ),
            "frames_at_pupil_after_0_5s": sum(
                p1.count(src, k, t_held + 0.5) for src in (TEACHER, ASSISTANT) for k in KINDS
            ),
        }
        self.results["rooms_at_the_end"] = await self.rooms()


def main(timeout: float = 150) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    setup_namespace()
    use_client_address()
    url = os.environ["SAFECLASS_SCENARIO_DATABASE_URL"]
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(asyncio.wait_for(Takeover(Path(folder), url).run(), timeout))
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
