"""A failover with video and a real death: the owner of a class, a `safeclass serve` process of
a cluster, is killed with SIGKILL while the class is on camera.

Run as root under `unshare -n` (tests/integration/test_cluster_media_kill9.py does it), in the
network namespace of live_media_scenario; PostgreSQL through its Unix socket
(`SAFECLASS_SCENARIO_DATABASE_URL` names a migrated database made for this run).

One Janus, started here, stands for the trust's pool; three workers are separate processes
(tests/support/cluster.py's `Cluster`: `safeclass serve` with SAFECLASS_WORKER_ID w1..w3, one
secret file, HAProxy in front) that use it as their external Janus (SAFECLASS_JANUS_URLS,
SAFECLASS_JANUS_API_SECRET, SAFECLASS_JANUS_ADMIN_KEY). Everyone's page is an aiortc client
that comes back by itself (failover_media.ComingBackMedia) through HAProxy: the teacher and the
assistant publish, a pupil is admitted, publishes, and has their camera turned on and their
microphone muted by the teacher (their client sends a tone the whole time), and the teacher
writes a chat line every 50 ms throughout.

The session is scheduled so that its 5-minute warning falls due half a second after the owner
is killed, while the room has no owner. The owner (read from room_leases) gets SIGKILL; the
pages reconnect, join again and publish again; another worker takes the room over, builds its
SFU room from the log and destroys the dead one's. Then: the muted pupil's tone still does not
reach the teacher while their video does; the assistant leaves and the hold cuts the pupil off
at the SFU; and the log has every acknowledged command, exactly one of each timer event, and
verifies. Prints one JSON line of timings and counts; the test asserts on it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import itertools
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import websockets
from sqlalchemy import select

from safeclass.adapters.server_secret import ServerSecret
from safeclass.adapters.store import connect
from safeclass.adapters.store.event_log import CHAIN_KEY, EventLog
from safeclass.adapters.store.tables import RoomLease
from safeclass.app.clock import SystemClock
from safeclass.app.event_store import LogEntry
from safeclass.core.timers import SCHEDULE
from tests.integration.live import pupil_cookie
from tests.support import failover_media
from tests.support.cluster import Cluster, RoomSocket, lesson_now
from tests.support.failover_media import (
    ComingBackMedia,
    hold_cuts_the_pupil,
    media_back,
    mute_still_applies,
    muted_pupil_on_camera,
    pool_janus,
)
from tests.support.janus import session_rooms
from tests.support.janus_scenario import wait_for
from tests.support.live_media_scenario import ASSISTANT, TEACHER, _ok

WORKERS = 3
LEAD_S = 10.0  # from scheduling the session to its 5-minute warning: the class is set up meanwhile
KILLED_BEFORE_WARNING_S = 0.5
WARNING = 5  # minutes before the end (claydon warns at 5 and 1)
LESSON = dt.timedelta(minutes=30)
TIMER_EVENTS = {"WaitingRoomOpened", "SessionStarted", "TimeWarning", "RecordingStarted"}


def timer_key(entry: LogEntry) -> str | None:
    """What the room's clock wrote, as one name per thing it may write once (None: not the
    clock's)."""
    payload = entry.payload or {}
    if entry.type == "TimeWarning":
        return f"TimeWarning {payload.get('minutes_left')}"
    if entry.type in TIMER_EVENTS:
        return entry.type
    if entry.type == "SessionEnded" and payload.get("by") == "clock":
        return "SessionEnded by the clock"
    if entry.type == "LogNoteAdded" and payload.get("by") == SCHEDULE:
        return f"LogNoteAdded {payload.get('kind')}: {payload.get('text')}"
    return None


async def chatter(teacher: ComingBackMedia, said: list[tuple[str, float]]) -> None:
    """The teacher writes a line every 50 ms, through the failover; `said`: the lines the
    server acknowledged, and when."""
    for n in itertools.count():
        ws = teacher.ws
        if not ws.closed.is_set():
            with contextlib.suppress(ConnectionError, TimeoutError, websockets.ConnectionClosed):
                reply = await ws.send("chat", text=f"line {n}")
                if reply["type"] == "ok":
                    said.append((f"line {n}", time.monotonic()))
        await asyncio.sleep(0.05)


class Kill9:
    """The scenario, step by step (one method each)."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.janus = pool_janus(folder)
        self.results: dict[str, Any] = {"workers": WORKERS}
        self.clients: list[ComingBackMedia] = []
        self.said: list[tuple[str, float]] = []
        self.session = ""
        self.talking: asyncio.Task[None] | None = None

    async def run(self) -> dict[str, Any]:
        self.endpoint = await self.janus.start()
        janus = {
            "SAFECLASS_JANUS_URLS": self.endpoint.url,
            "SAFECLASS_JANUS_API_SECRET": self.endpoint.api_secret,
            "SAFECLASS_JANUS_ADMIN_KEY": self.endpoint.admin_key,
        }
        self.cluster = Cluster(
            self.folder / "cluster", self.database_url, WORKERS, media=True, env=janus
        )
        self.engine = connect(self.database_url)
        try:
            t_start = time.monotonic()
            await self.cluster.start()
            self.results["cluster_start_s"] = time.monotonic() - t_start
            await self.a_class_on_camera()
            await self.the_owner_is_killed()
            await self.the_mute_still_applies()
            await self.the_assistant_vanishes()
            await self.the_log_has_it_all()
            self.results["rooms_at_the_end"] = await self.rooms()
            self.results["failures"] = [f for c in self.clients for f in c.failures]
            self.results["worker_log"] = log = self.worker_log()
            self.results["tries_again"] = sum(  # every page's tries to connect after the kill
                len(c.sockets) - 1 + sum(1 for t, _ in c.turned_away if t > self.t_kill)
                for c in self.clients
            )
            self.results["relay_warnings"] = sum(
                1 for lines in log.values() for line in lines if "not relayed" in line
            )
        except BaseException:
            self.explain()
            raise
        finally:
            if self.talking is not None:
                self.talking.cancel()
            for client in self.clients:
                with contextlib.suppress(Exception):
                    await client.close()
            await self.cluster.stop()
            await self.engine.dispose()
            await self.janus.stop()
        return self.results

    async def rooms(self) -> list[str]:
        return await session_rooms(self.endpoint, self.session)

    async def owner(self) -> tuple[str, int]:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(RoomLease.worker_id, RoomLease.epoch).where(
                        RoomLease.session_id == self.session
                    )
                )
            ).one()
        return str(row[0]), int(row[1])

    async def connect(self, who: str, cookie: str, name: str, **join: Any) -> ComingBackMedia:
        """A page opened through HAProxy, and its `join`."""
        ws = await RoomSocket(self.cluster.door(), self.session, cookie, who).connect()
        client = ComingBackMedia(ws, name)
        self.clients.append(client)
        _ok(await client.join(**join))
        return client

    async def a_class_on_camera(self) -> None:
        """The session, 25 minutes in, its warning LEAD_S away; the class on camera, the pupil
        muted; the teacher chatting."""
        t_setup = time.monotonic()
        warning_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LEAD_S)
        self.t_warning = t_setup + LEAD_S
        starts_at = warning_at - LESSON + dt.timedelta(minutes=WARNING)
        school, self.session = await lesson_now(self.engine, starts_at=starts_at)
        reach = SimpleNamespace(engine=self.engine, clock=SystemClock())
        self.pupil_id = school.pupils["Amelia"]
        cookie = await pupil_cookie(reach, school.id, self.session, self.pupil_id)  # type: ignore[arg-type]
        self.teacher = await self.connect(school.teacher_id, school.teacher_cookie, TEACHER)
        self.assistant = await self.connect(school.assistant_id, school.assistant_cookie, ASSISTANT)
        self.pupil = await self.connect(
            self.pupil_id, cookie, "pupil", acknowledged_expectations=True
        )
        self.pupil_name, self.results["before"] = await muted_pupil_on_camera(
            self.teacher, self.assistant, self.pupil, self.pupil_id
        )
        _ok(await self.teacher.ws.send("chat_on"))
        self.talking = asyncio.create_task(chatter(self.teacher, self.said))
        self.results["setup_s"] = time.monotonic() - t_setup

    async def the_owner_is_killed(self) -> None:
        """SIGKILL to the room's owner just before its warning falls due; everyone back in the
        room, video flowing again, the dead owner's SFU room destroyed."""
        owner, epoch = await self.owner()
        old_rooms = await self.rooms()
        waited = self.t_warning - KILLED_BEFORE_WARNING_S - time.monotonic()
        await asyncio.sleep(max(0.0, waited))
        rooms = asyncio.create_task(self.rooms_replaced(old_rooms))
        t_kill = time.monotonic()
        self.kill_at = dt.datetime.now(dt.UTC)
        self.t_kill = t_kill
        self.cluster.kill(owner)  # SIGKILL, and waited for
        for client in self.clients:
            await wait_for(
                lambda c=client: c.back_since(t_kill) is not None, 15, f"{client.name} back"
            )
        back = {c.name: (c.back_since(t_kill) or 0) - t_kill for c in self.clients}
        t_media = await media_back(self.teacher, self.pupil, self.pupil_name, t_kill)
        new_owner, new_epoch = await self.owner()
        gone, replaced, rooms_after = await asyncio.wait_for(rooms, 15)
        self.results["kill"] = {
            "waited_for_the_warning_s": waited,
            "owner": owner,
            "epoch": epoch,
            "new_owner": new_owner,
            "new_epoch": new_epoch,
            "close_codes": sorted(
                {code for c in self.clients for t, code in c.closes if t >= t_kill},
                key=str,
            ),
            # tries HAProxy turned away (a 502 if the dead worker is marked down just then)
            "turned_away": [why for c in self.clients for t, why in c.turned_away if t > t_kill],
            "back_s": back,
            "all_back_s": max(back.values()),
            "media_back_s": t_media - t_kill,
            "old_rooms": old_rooms,
            "rooms_after": rooms_after,
            "old_room_gone_s": gone - t_kill,
            "new_room_s": replaced - t_kill,
        }

    async def rooms_replaced(self, old: list[str]) -> tuple[float, float, list[str]]:
        """Watch the session's rooms on Janus: when the old ones were gone, when a new one was
        there (monotonic), and the rooms then."""
        gone = made = None
        while True:
            now = await self.rooms()
            t = time.monotonic()
            if gone is None and not set(now) & set(old):
                gone = t
            if made is None and set(now) - set(old):
                made = t
            if gone is not None and made is not None:
                return gone, made, now
            await asyncio.sleep(0.02)

    async def the_mute_still_applies(self) -> None:
        """On the new owner, the pupil's tone is still dropped by the SFU; their camera is not."""
        self.results["after"] = await mute_still_applies(
            self.teacher, self.pupil, self.pupil_id, self.pupil_name, self.t_kill
        )

    async def the_assistant_vanishes(self) -> None:
        """The assistant's laptop drops off the network for good: one adult, the room is held,
        and the SFU forwards nothing of or to the pupil."""
        self.t_gone = time.monotonic()
        await self.assistant.vanish()
        t_held, self.results["hold"] = await hold_cuts_the_pupil(
            self.teacher, self.pupil, self.pupil_name, 10
        )
        self.results["hold"]["gone_to_hold_s"] = t_held - self.t_gone

    async def the_log_has_it_all(self) -> None:
        """Every command acknowledged on any socket, before or after the kill, is in the log;
        the clock wrote each of its events once; the chain verifies. The acknowledgements are
        taken before the log is read (each was sent once its events were written)."""
        if self.talking is not None:
            self.talking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.talking
        acked = [(c.name, mid, seq) for c in self.clients for mid, seq in c.acked()]
        said = list(self.said)
        key = ServerSecret.load_or_create(self.cluster.secret_file).derive(CHAIN_KEY)
        log = EventLog(self.engine, key)
        entries = await log.read(self.session)
        seqs = {e.seq for e in entries}
        lines = {(e.payload or {}).get("text") for e in entries if e.type == "ChatPosted"}
        timers = collections.Counter(k for e in entries if (k := timer_key(e)) is not None)
        warning = next((e for e in entries if timer_key(e) == f"TimeWarning {WARNING}"), None)
        names = {c.ws.who: c.name for c in self.clients}
        dropped = [
            names.get(str(who), str(who))
            for e in entries
            if e.type == "ConnectionDropped" and (who := (e.payload or {}).get("participant"))
        ]
        near = [t for _, t in said if self.t_kill - 0.5 <= t < self.t_kill]
        self.results["log"] = {
            "entries": len(entries),
            "acked": len(acked),
            "acked_not_in_log": [a for a in acked if a[2] not in seqs],
            "chat_acked": len(said),
            "chat_acked_in_the_last_0_5s_before_the_kill": len(near),
            "chat_acked_after_the_kill": sum(1 for _, t in said if t > self.t_kill),
            "chat_acked_not_in_log": [text for text, _ in said if text not in lines],
            "timer_events": dict(timers),
            "warning_due_after_kill_s": self.t_warning - self.t_kill,  # < 0: killed late
            "warning_written_after_kill_s": (
                (dt.datetime.fromisoformat(warning.at) - self.kill_at).total_seconds()
                if warning is not None
                else None
            ),
            "dropped": dropped,
            "holds": sum(1 for e in entries if e.type == "RoomHeld"),
            "verify_problems": (await log.verify(self.session)).problems,
        }

    def worker_log(self) -> dict[str, list[str]]:
        """What each worker logged at warning level or above (its JSON lines' messages)."""
        said: dict[str, list[str]] = {}
        for name in self.cluster.workers:
            for line in self.cluster.log(name).splitlines():
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    said.setdefault(name, []).append(f"{record['level']}: {record['message']}")
        return said

    def explain(self) -> None:
        """What was measured, what each client saw, and the workers' logs' ends, for the
        test's failure message."""
        print(json.dumps(self.results, default=str), file=sys.stderr)
        for client in self.clients:
            summary = [
                {k: v for k, v in m.items() if k not in ("view", "jsep")}
                for m in client.ws.messages[-10:]
            ]
            print(client.name, client.closes, client.failures, file=sys.stderr)
            print(json.dumps(summary, default=str), file=sys.stderr)
        for name, worker in self.cluster.workers.items():
            print(f"--- {name}", worker.process.tail(30), sep="\n", file=sys.stderr)


async def scenario(folder: Path, database_url: str) -> dict[str, Any]:
    return await Kill9(folder, database_url).run()


if __name__ == "__main__":
    failover_media.main(scenario, timeout=150)
