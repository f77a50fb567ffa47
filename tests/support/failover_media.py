"""What the failover scenarios with video share: takeover_media_scenario.py (the owner's lease
lapses, in-process workers) and kill9_media_scenario.py (the owner's process is killed).

Both run in the network namespace of live_media_scenario (Janus's ICE on 127.0.0.2, the aiortc
clients on 127.0.0.3) with PostgreSQL through its Unix socket, and start from the same class: a
teacher and an assistant publishing, a pupil admitted, publishing, camera turned on and
microphone muted by the teacher while their client sends a tone the whole time. Here:

- `pool_janus`: the one Janus, standing for a trust's pool (the workers' external Janus);
- `ComingBackMedia`: a participant's browser that comes back by itself after its socket closes,
  as room-client.js and room-media.js do, and publishes again;
- `muted_pupil_on_camera`: that class, set up; `media_back`: video flowing both ways again;
- the looks at the SFU after the failover: `mute_still_applies`, `hold_cuts_the_pupil`;
- `main`: run a scenario in the namespace and print its results as one JSON line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import websockets

from safeclass.adapters.media.janus_process import JanusOptions, JanusProcess
from tests.integration.live import Client
from tests.support.cluster import RoomSocket
from tests.support.janus_scenario import JANUS_IP, setup_namespace, use_client_address, wait_for
from tests.support.live_media_scenario import (
    KINDS,
    TEACHER,
    MediaClient,
    _ok,
    last_packet,
)
from tests.support.room_clients import FINAL

# room-client.js's waits before each try after a drop (DEFAULT_BACKOFF_MS, without its ±20%
# jitter); the count starts again once a socket is open
BROWSER_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


def pool_janus(folder: Path) -> JanusProcess:
    """The Janus that stands for the trust's pool: its ICE on the namespace's veth only."""
    return JanusProcess(
        folder / "janus",
        JanusOptions(
            interface=JANUS_IP,
            ice_enforce_list="pv0",
            ignore_mdns=True,
            rtp_ports=(20000, 20999),
        ),
    )


def in_room(view: dict[str, Any]) -> bool:
    """Whether a view says its viewer is in the room (what the pages' video follows:
    `setInRoom` in console-video.js and pupil-video.js)."""
    if view.get("kind") == "pupil":
        me = view.get("me")
    else:
        me = next((p for p in view.get("people", []) if p["id"] == view.get("you")), None)
    return me is not None and me.get("status") == "admitted"


class ComingBackMedia(MediaClient):
    """A participant's browser that comes back by itself, as the pages do.

    When its socket closes with anything but a final code (the end, a removal, a refusal), its
    connections to the SFU are closed with it (room-media.js drops them on `closed`); after
    room-client.js's wait it connects again through the same door, with `?since=` the last
    `seq` it saw, says `join` again as it last did, and once a view says it is in the room
    makes both its connections afresh, if it was publishing. Every socket it had is kept, for
    the replies the server sent on each (`acked`).
    """

    def __init__(self, ws: Client, name: str) -> None:
        super().__init__(ws, name)
        self.sockets: list[Client] = [ws]
        self.join_fields: dict[str, Any] | None = None
        self.publishing = False
        self.closes: list[tuple[float, int | None]] = []  # (when, code)
        self.in_room: list[float] = []  # when a view said it was back in the room
        self.turned_away: list[tuple[float, str]] = []  # tries to connect again that failed
        self.media_made: list[float] = []  # when both its connections were made again
        self._again: asyncio.Task[None] | None = None

    async def join(self, **fields: Any) -> dict[str, Any]:
        reply = await self.ws.send("join", **fields)
        if reply["type"] == "ok":
            self.join_fields = fields
        return reply

    async def publish(self) -> dict[str, Any]:
        self.publishing = True
        return await super().publish()

    def acked(self) -> list[tuple[str, int]]:
        """Each command the server acknowledged, on any of its sockets: (id, the log's seq)."""
        return [
            (m["id"], int(m["seq"]))
            for ws in self.sockets
            for m in ws.messages
            if m["type"] == "ok" and m.get("seq") is not None
        ]

    def back_since(self, moment: float) -> float | None:
        """When it was first back in the room after `moment`, if it was."""
        return next((t for t in self.in_room if t > moment), None)

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(websockets.ConnectionClosed):  # a reply cut off
                await super()._watch()
            await self.ws.closed.wait()
            self.closes.append((time.monotonic(), self.ws.close_code))
            if self.ws.close_code in FINAL:
                return
            await self._come_back()

    async def _come_back(self) -> None:
        if self._again is not None:
            self._again.cancel()
        async with self.lock:
            await self._close_pcs()
        for attempt in range(1000):
            await asyncio.sleep(BROWSER_BACKOFF_S[min(attempt, len(BROWSER_BACKOFF_S) - 1)])
            old = self.ws
            seqs = [m["seq"] for m in old.messages if m["type"] == "state"]
            ws = RoomSocket(
                old.server,
                old.session_id,
                old.cookie,
                old.who,
                query=f"since={seqs[-1]}" if seqs else "",
            )
            try:
                await ws.connect()
            except (OSError, TimeoutError, ConnectionError, websockets.WebSocketException) as e:
                self.turned_away.append((time.monotonic(), f"{type(e).__name__}: {e}"))
                await ws.close()  # refused, or closed before its first view: try again
                continue
            self.ws, self.seen = ws, 0
            self.sockets.append(ws)
            self._again = asyncio.create_task(self._rejoin(ws))
            return

    async def _rejoin(self, ws: Client) -> None:
        """Back in the room as the page was, then the video (the watcher reads meanwhile)."""
        try:
            if self.join_fields is not None:
                reply = await ws.send("join", **self.join_fields)
                if reply["type"] != "ok":
                    self.failures.append(f"join again: {reply}")
                    return
            await ws.wait_for(lambda m: m["type"] == "state" and in_room(m["view"]), 10)
            self.in_room.append(time.monotonic())
            if not self.publishing:
                return
            async with self.lock:
                for reply in (await self._publish(), await self._subscribe()):
                    if reply["type"] not in ("media_answer", "media_offer"):
                        self.failures.append(f"media again: {reply}")
            self.media_made.append(time.monotonic())
        except (ConnectionError, TimeoutError, websockets.ConnectionClosed) as exc:
            if not ws.closed.is_set():  # else the next socket carries on
                self.failures.append(f"back: {exc!r}")

    async def vanish(self) -> None:
        """The device drops off the network for good: its socket is cut without a close, and
        it never comes back."""
        self.watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.watcher
        if self._again is not None:
            self._again.cancel()
        if self.ws.ws is not None:
            self.ws.ws.transport.abort()

    async def close(self) -> None:
        if self._again is not None:
            self._again.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._again
        await super().close()


async def muted_pupil_on_camera(
    teacher: MediaClient, assistant: MediaClient, pupil: MediaClient, pupil_id: str
) -> tuple[str, dict[str, int]]:
    """The staff publish and watch, the teacher admits the pupil, who publishes and watches;
    the teacher turns the pupil's camera on and microphone off (after hearing it once, so the
    SFU is seen to carry it). The pupil's name as the others' media says it, and what the
    teacher received of the pupil over a second once muted."""
    for member in (teacher, assistant):
        _ok(await member.publish())
        _ok(await member.subscribe())
    _ok(await teacher.ws.send("admit", pupils=[pupil_id]))
    await pupil.ws.wait_for(lambda m: m["type"] == "state" and in_room(m["view"]))
    _ok(await pupil.publish())
    _ok(await pupil.subscribe())
    seen = await teacher.ws.wait_for(
        lambda m: m["type"] == "state" and any(p["id"] == pupil_id for p in m["view"]["people"])
    )
    name: str = next(p["name"] for p in seen["view"]["people"] if p["id"] == pupil_id)
    t_on = time.monotonic()
    _ok(await teacher.ws.send("unmute", target=pupil_id))
    _ok(await teacher.ws.send("camera_on", target=pupil_id))
    await wait_for(
        lambda: teacher.count(name, "audio", t_on) > 0 and teacher.count(name, "video", t_on) > 0,
        10,
        "the pupil's audio and video at the teacher",
    )
    _ok(await teacher.ws.send("mute", target=pupil_id))
    await asyncio.sleep(0.5)
    t_window = time.monotonic()
    await asyncio.sleep(1.0)
    return name, {
        "audio_frames_at_teacher": teacher.count(name, "audio", t_window),
        "video_frames_at_teacher": teacher.count(name, "video", t_window),
    }


async def media_back(
    teacher: MediaClient, pupil: MediaClient, pupil_name: str, since: float, timeout: float = 10
) -> float:
    """Wait until the pupil's video reaches the teacher and the teacher's the pupil again
    (three frames each since `since`); when that was (monotonic)."""
    await wait_for(
        lambda: (
            teacher.count(pupil_name, "video", since) > 3
            and pupil.count(TEACHER, "video", since) > 3
        ),
        timeout,
        "video both ways after the failover",
    )
    return time.monotonic()


async def mute_still_applies(
    teacher: MediaClient, pupil: MediaClient, pupil_id: str, pupil_name: str, since: float
) -> dict[str, Any]:
    """Over two seconds of video flowing again: what the pupil's client sent of its tone, what
    reached the teacher of it since `since` (nothing, when the SFU keeps the mute) and of the
    pupil's camera, what the teacher's view says, and the pupil's own try to unmute."""
    t_window = time.monotonic()
    sent = await pupil.sent("audio")
    await asyncio.sleep(1.0)
    unmute = await pupil.ws.send("unmute", target=pupil_id)
    await asyncio.sleep(1.0)
    people = teacher.ws.view()["people"]
    return {
        "p1_sent_audio": await pupil.sent("audio") - sent,
        "audio_frames_at_teacher": teacher.count(pupil_name, "audio", since),
        "video_frames_at_teacher": teacher.count(pupil_name, "video", t_window),
        "teacher_sees_mic_on": next(p for p in people if p["id"] == pupil_id)["mic_on"],
        "unmute_reply": unmute["type"],
    }


async def hold_cuts_the_pupil(
    teacher: MediaClient, pupil: MediaClient, pupil_name: str, timeout: float
) -> tuple[float, dict[str, Any]]:
    """Wait for the room to be held (the pupil's view says so), then watch both ways for two
    seconds: when the hold was seen (monotonic), and what still reached the teacher of the
    pupil and the pupil of anyone (nothing, when the SFU holds the pupil)."""
    held = await pupil.ws.wait_for(
        lambda m: m["type"] == "state" and m["view"]["session"]["held"], timeout
    )
    t_held = time.monotonic()
    at_teacher, at_pupil = await asyncio.gather(
        last_packet(lambda: teacher.packets(pupil_name), t_held, 2.0),
        last_packet(pupil.packets, t_held, 2.0),
    )
    sources = {source for source, _ in pupil.frames}
    return t_held, {
        "reason": held["view"]["session"]["hold_reason"],
        "pupil_packets_at_teacher_in_last_1s": at_teacher[2],
        "packets_at_pupil_in_last_1s": at_pupil[2],
        "pupil_frames_at_teacher_after_0_5s": sum(
            teacher.count(pupil_name, k, t_held + 0.5) for k in KINDS
        ),
        "frames_at_pupil_after_0_5s": sum(
            pupil.count(src, k, t_held + 0.5) for src in sources for k in KINDS
        ),
    }


def main(scenario: Callable[[Path, str], Awaitable[dict[str, Any]]], timeout: float) -> None:
    """Run `scenario(folder, database_url)` in this (fresh) network namespace, on the database
    SAFECLASS_SCENARIO_DATABASE_URL names; print its results as one JSON line."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    setup_namespace()
    use_client_address()
    url = os.environ["SAFECLASS_SCENARIO_DATABASE_URL"]
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(asyncio.wait_for(scenario(Path(folder), url), timeout))
    print(json.dumps(results, default=str))
