"""A whole live session with video, through safeclass's own server, in a private network namespace.

Run as root under `unshare -n` (tests/integration/test_live_media.py does it). Inside: `lo` and a
veth with 127.0.0.2 (Janus's ICE address) and 127.0.0.3 (the clients'), as in janus_scenario.
A real `LiveServer` (uvicorn on 127.0.0.1, SQLite, media on: it starts its own Janus) and aiortc
clients that speak only safeclass's WebSocket protocol (the `websockets` library): they send
`media_publish` / `media_subscribe` / `media_start`, answer the server's `media_offer`s, and
connect again on `media_restart`. No client ever learns where Janus is.

Each client publishes synthetic audio (a tone) and video (a moving gradient) the whole time,
muted or not, so what stops is stopped by the SFU. Prints one JSON line of timings and counts;
the test asserts on it. Nothing leaves the namespace; everything stops within its timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import signal
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError

from safeclass.adapters.store.sessions import load_session
from safeclass.app.clock import AdjustableClock
from tests.integration.live import Client, LiveServer, pupil_cookie, staff_cookie
from tests.integration.seed import seed_session
from tests.support.janus_scenario import (
    JANUS_IP,
    SyntheticVideo,
    setup_namespace,
    use_client_address,
    wait_for,
)
from tests.support.rooms import START

KINDS = ("audio", "video")


class MediaClient:
    """One participant's browser: a room socket, a publishing and a subscribing PeerConnection."""

    video_size: tuple[int, ...] = ()  # (width, height, fps) of the camera; () for 320x240 at 15

    def __init__(self, ws: Client, name: str) -> None:
        self.ws = ws
        self.name = name
        self.pub: RTCPeerConnection | None = None
        self.sub: RTCPeerConnection | None = None
        self.video: SyntheticVideo | None = None
        self.mids: dict[str, dict[str, Any]] = {}  # the streams of the latest offer, by mid
        self.frames: dict[tuple[str, str], list[float]] = defaultdict(list)  # (from, kind)
        self.readers: list[asyncio.Task[None]] = []
        self.lock = asyncio.Lock()
        self.seen = 0
        self.restarts: list[float] = []
        self.pushed_offers = 0
        self.trickles = 0
        self.failures: list[str] = []
        self.watcher = asyncio.create_task(self._watch())

    # -- signalling through safeclass ---------------------------------------------------------
    async def publish(self) -> dict[str, Any]:
        async with self.lock:
            return await self._publish()

    async def subscribe(self) -> dict[str, Any]:
        async with self.lock:
            return await self._subscribe()

    async def _publish(self) -> dict[str, Any]:
        if self.pub is not None:
            await self.pub.close()
        self.pub = RTCPeerConnection()
        self.video = SyntheticVideo(*self.video_size)
        self.pub.addTrack(AudioStreamTrack())
        self.pub.addTrack(self.video)
        await self.pub.setLocalDescription(await self.pub.createOffer())
        offer = {"type": "offer", "sdp": self.pub.localDescription.sdp}
        reply = await self.ws.send("media_publish", jsep=offer)
        if reply["type"] == "media_answer":
            answer = reply["jsep"]
            await self.pub.setRemoteDescription(
                RTCSessionDescription(answer["sdp"], answer["type"])
            )
        return reply

    async def _subscribe(self) -> dict[str, Any]:
        reply = await self.ws.send("media_subscribe")
        if reply["type"] == "media_offer" and reply["jsep"] is not None:
            await self._accept(reply)
        return reply

    async def _accept(self, offer: dict[str, Any]) -> None:
        if self.sub is None:
            # max-bundle: with aiortc's default (balanced) a second video m-line in the first
            # offer gets the first video's pre-bundle transport, and its packets are dropped
            self.sub = RTCPeerConnection(RTCConfiguration(bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
            self.sub.on("track", self._on_track)
        for stream in offer["streams"]:
            if stream.get("mid") is not None:
                self.mids[stream["mid"]] = stream
        jsep = offer["jsep"]
        await self.sub.setRemoteDescription(RTCSessionDescription(jsep["sdp"], jsep["type"]))
        await self.sub.setLocalDescription(await self.sub.createAnswer())
        answer = {"type": "answer", "sdp": self._answer_sdp(self.sub.localDescription.sdp)}
        reply = await self.ws.send("media_start", jsep=answer)
        if reply["type"] != "ok":
            self.failures.append(f"media_start: {reply}")

    def _answer_sdp(self, sdp: str) -> str:
        """The subscription answer as sent (a benchmark may slim it to what a browser sends)."""
        return sdp

    async def _watch(self) -> None:
        """The server's pushes: new offers when the feeds change, a restart after recovery."""
        while True:
            messages = self.ws.messages[self.seen :]
            self.seen += len(messages)
            for message in messages:
                kind = message["type"]
                try:
                    if kind == "media_offer" and "id" not in message and message["jsep"]:
                        self.pushed_offers += 1
                        async with self.lock:
                            await self._accept(message)
                    elif kind == "media_restart":
                        self.restarts.append(time.monotonic())
                        async with self.lock:
                            await self._close_pcs()
                            for reply in (await self._publish(), await self._subscribe()):
                                if reply["type"] not in ("media_answer", "media_offer"):
                                    self.failures.append(f"after restart: {reply}")
                    elif kind == "trickle":
                        self.trickles += 1
                except (ConnectionError, TimeoutError) as exc:
                    if not self.ws.closed.is_set():  # not the server closing it (a removal)
                        self.failures.append(f"{kind}: {exc!r}")
            if self.ws.closed.is_set() and self.seen >= len(self.ws.messages):
                return
            await asyncio.sleep(0.01)

    # -- what arrives -------------------------------------------------------------------------
    def _on_track(self, track: MediaStreamTrack) -> None:
        self.readers.append(asyncio.create_task(self._read(track)))

    def _mid_of(self, track: MediaStreamTrack) -> str | None:
        if self.sub is None:
            return None
        for transceiver in self.sub.getTransceivers():
            if transceiver.receiver.track is track:
                return transceiver.mid
        return None

    async def _read(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            mid = self._mid_of(track)
            source = self.mids.get(mid or "", {}).get("name", "?")
            self.frames[(source, track.kind)].append(time.monotonic())

    def count(self, source: str, kind: str, start: float, end: float = float("inf")) -> int:
        return sum(1 for t in self.frames[(source, kind)] if start <= t < end)

    def last(self, source: str | None = None) -> float:
        times = [
            t for (src, _), ts in self.frames.items() if source is None or src == source for t in ts
        ]
        return max(times, default=0.0)

    async def packets(self, source: str | None = None, kinds: tuple[str, ...] = KINDS) -> int:
        """RTP packets received so far (from one source, or all) on the current subscription."""
        if self.sub is None:
            return 0
        total = 0
        for transceiver in self.sub.getTransceivers():
            stream = self.mids.get(transceiver.mid or "")
            if transceiver.kind not in kinds:
                continue
            if source is not None and (stream is None or stream.get("name") != source):
                continue
            stats = await transceiver.receiver.getStats()
            total += sum(s.packetsReceived for s in stats.values() if s.type == "inbound-rtp")
        return total

    async def sent(self, kind: str) -> int:
        if self.pub is None:
            return 0
        stats = await self.pub.getStats()
        return sum(
            s.packetsSent for s in stats.values() if s.type == "outbound-rtp" and s.kind == kind
        )

    async def _close_pcs(self) -> None:
        for task in self.readers:
            task.cancel()
        self.readers = []
        for pc in (self.pub, self.sub):
            if pc is not None:
                await pc.close()
        self.pub = self.sub = None
        self.mids = {}

    async def close(self) -> None:
        self.watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.watcher
        await self._close_pcs()
        await self.ws.close()


async def last_packet(
    count: Callable[[], Any], since: float, window: float
) -> tuple[float, int, int]:
    """Watch a packet count for `window` s (every 10 ms): when it last grew, from `since`
    (0: not after the first look), and the packets seen in the window's second half."""
    first = now = await count()
    last, half = since, None
    while time.monotonic() < since + window:
        await asyncio.sleep(0.01)
        value = await count()
        if half is None and time.monotonic() >= since + window / 2:
            half = value
        if value != now:
            last, now = time.monotonic(), value
    return last - since, now - first, now - (half if half is not None else now)


def _ok(reply: dict[str, Any]) -> None:
    if reply["type"] not in ("ok", "media_answer", "media_offer"):
        raise RuntimeError(f"unexpected reply {reply}")


async def _sum(*counts: Any) -> int:
    return sum(await asyncio.gather(*counts))


TEACHER, ASSISTANT = "Mrs Khan", "Mr Lee"


class Lesson:
    """A claydon class on a live server with media on, told step by step (one method each)."""

    def __init__(self, folder: Path) -> None:
        self.server = LiveServer(
            f"sqlite+aiosqlite:///{folder / 'safeclass.db'}",
            folder,
            AdjustableClock(START - dt.timedelta(minutes=3)),
            heartbeat=1.0,
            media=True,
            janus_interface=JANUS_IP,
            janus_ice_enforce_list="pv0",
            janus_ignore_mdns=True,
            janus_rtp_ports=(20000, 20999),
        )
        self.results: dict[str, Any] = {}
        self.clients: list[MediaClient] = []
        self.session = self.school = ""

    @property
    def janus(self) -> Any:
        media = self.server.services.media
        assert media is not None and media.process is not None
        return media.process

    async def staff(self, role: str, name: str, staff_id: str | None = None) -> MediaClient:
        services = self.server.services
        on_session = self.session if staff_id is None else None
        sid, cookie = await staff_cookie(
            services, self.school, role, name, staff_id=staff_id, on_session=on_session
        )
        ws = await Client(self.server, self.session, cookie, sid).connect()
        client = MediaClient(ws, name)
        self.clients.append(client)
        _ok(await ws.send("join"))
        return client

    async def pupil(self, pid: str, join: bool = True) -> MediaClient:
        cookie = await pupil_cookie(self.server.services, self.school, self.session, pid)
        ws = await Client(self.server, self.session, cookie, pid).connect()
        client = MediaClient(ws, pid)
        self.clients.append(client)
        if join:
            _ok(await ws.send("join", acknowledged_expectations=True))
        return client

    preset, pupils = "claydon", 5  # the seeded session (a scenario of its own may change them)

    async def run(self) -> dict[str, Any]:
        """Seed the session, take the steps, and stop everything, whatever happens."""
        await self.server.start()
        try:
            engine = self.server.services.engine
            self.session = await seed_session(engine, self.preset, pupils=self.pupils)
            self.school = (await load_session(engine, self.session)).school_id
            await self.steps()
            self.results["failures"] = [f for c in self.clients for f in c.failures]
        except BaseException:
            await self.explain()
            raise
        finally:
            for client in self.clients:
                with contextlib.suppress(Exception):
                    await client.close()
            await self.server.stop()
        return self.results

    async def steps(self) -> None:
        await self.everyone_connects()
        await self.strangers_are_refused()
        await self.pupils_are_admitted()
        await self.staff_mute_and_turn_cameras_off()
        await self.the_second_adult_drops()
        await self.a_pupil_is_removed()
        await self.connections_that_drop_are_made_again()
        await self.janus_is_killed()
        await self.the_session_ends()
        self.results["pushed_offers"] = {c.name: c.pushed_offers for c in self.clients}
        self.results["trickles"] = {c.name: c.trickles for c in self.clients}
        self.results["janus_restarts"] = self.janus.restarts

    async def two_adults_and_two_pupils_in(self) -> None:
        """The teacher and the assistant publish and watch; p1 and p2 are admitted, and publish
        and watch too (for the scenarios that start from a class already in)."""
        self.teacher = await self.staff("teacher", TEACHER)
        self.assistant = await self.staff("assistant", "Mr Lee")
        self.p1, self.p2 = await self.pupil("p1"), await self.pupil("p2")
        for member in (self.teacher, self.assistant):
            _ok(await member.publish())
            _ok(await member.subscribe())
        _ok(await self.teacher.ws.send("admit", pupils=["p1", "p2"]))
        for pupil in (self.p1, self.p2):
            await pupil.ws.wait_for(
                lambda m: (
                    m["type"] == "state" and (m["view"]["me"] or {}).get("status") == "admitted"
                )
            )
            _ok(await pupil.publish())
            _ok(await pupil.subscribe())

    async def everyone_connects(self) -> None:
        self.teacher = await self.staff("teacher", TEACHER)
        messages = self.teacher.ws.messages
        self.results["welcome_media"] = messages[0].get("media")
        self.results["state_media"] = next(m["media"] for m in messages if m["type"] == "state")
        self.assistant = await self.staff("assistant", ASSISTANT)
        self.p1, self.p2, self.p3 = [await self.pupil(p) for p in ("p1", "p2", "p3")]
        self.lurker = await self.pupil("p4", join=False)  # connected, never joined
        names = {p["id"]: p["name"] for p in self.teacher.ws.view()["people"]}
        self.p1.name, self.p2.name = names["p1"], names["p2"]

    async def strangers_are_refused(self) -> None:
        p3, lurker = self.p3, self.lurker  # waiting, and never joined
        self.results["refused"] = {
            "waiting_publish": (await p3.publish())["type"],
            "waiting_subscribe": (await p3.subscribe())["type"],
            "lurker_publish": (await lurker.publish())["type"],
            "lurker_subscribe": (await lurker.subscribe())["type"],
            "refusal": (await lurker.ws.send("media_subscribe")),
        }

    async def pupils_are_admitted(self) -> None:
        """The staff are up; the pupils' browsers connect as soon as they see they are in."""
        teacher, p1, p2 = self.teacher, self.p1, self.p2
        for member in (teacher, self.assistant):
            _ok(await member.publish())
            _ok(await member.subscribe())
        t_admit = time.monotonic()
        _ok(await teacher.ws.send("admit", pupils=["p1", "p2"]))

        async def enter(client: MediaClient) -> dict[str, float]:
            await client.ws.wait_for(
                lambda m: (
                    m["type"] == "state" and (m["view"]["me"] or {}).get("status") == "admitted"
                )
            )
            t_media = time.monotonic()
            _ok(await client.publish())
            _ok(await client.subscribe())
            await wait_for(
                lambda: client.count(TEACHER, "video", 0) > 0, 10, f"teacher at {client.name}"
            )
            first = client.frames[(TEACHER, "video")][0]
            return {
                "admit_to_first_frame_s": first - t_admit,
                "join_to_first_frame_s": first - t_media,
            }

        entries = await asyncio.gather(enter(p1), enter(p2))
        self.results["entry"] = {"p1": entries[0], "p2": entries[1]}
        # muted with the camera off on entry (claydon): the SFU drops all the pupils send
        t_entry = time.monotonic()
        sent_before = {k: await p1.sent(k) for k in KINDS}
        await asyncio.sleep(1.5)
        self.results["muted_on_entry"] = {
            "p1_sent_audio": await p1.sent("audio") - sent_before["audio"],
            "p1_sent_video": await p1.sent("video") - sent_before["video"],
            "teacher_got_p1": sum(teacher.count(p1.name, k, t_entry) for k in KINDS),
            "p2_got_p1": sum(p2.count(p1.name, k, t_entry) for k in KINDS),
            "p2_got_teacher_video": p2.count(TEACHER, "video", t_entry),
            "p1_got_assistant_video": p1.count(ASSISTANT, "video", t_entry),
        }

    async def staff_mute_and_turn_cameras_off(self) -> None:
        teacher, p1, p2 = self.teacher, self.p1, self.p2
        t_on = time.monotonic()
        _ok(await teacher.ws.send("unmute", target="p1"))
        _ok(await teacher.ws.send("camera_on", target="p1"))
        self.results["unmute_to_audio_s"] = await wait_for(
            lambda: teacher.count(p1.name, "audio", t_on) > 0, 5, "p1's audio once unmuted"
        )
        await wait_for(lambda: teacher.count(p1.name, "video", t_on) > 0, 5, "p1's video")
        self.results["camera_on_to_video_s"] = teacher.frames[(p1.name, "video")][0] - t_on
        await asyncio.sleep(0.5)
        sent_before = {k: await p1.sent(k) for k in KINDS}
        t_mute = time.monotonic()
        audio_last, _, audio_late = await self.watched(
            teacher.ws.send("mute", target="p1"),
            lambda: teacher.packets(p1.name, ("audio",)),
            t_mute,
            1.2,
        )
        self.results["mute"] = {
            "last_audio_packet_s": audio_last,
            "audio_packets_in_last_0_6s": audio_late,
            "audio_frames_after_0_5s": teacher.count(p1.name, "audio", t_mute + 0.5),
            "p2_audio_frames_after_0_5s": p2.count(p1.name, "audio", t_mute + 0.5),
            "video_frames_after_0_5s": teacher.count(p1.name, "video", t_mute + 0.5),
            "p1_kept_sending_audio": await p1.sent("audio") - sent_before["audio"],
        }
        t_off = time.monotonic()
        video_last, _, video_late = await self.watched(
            teacher.ws.send("camera_off", target="p1"),
            lambda: teacher.packets(p1.name, ("video",)),
            t_off,
            1.2,
        )
        self.results["camera_off"] = {
            "last_video_packet_s": video_last,
            "video_packets_in_last_0_6s": video_late,
            "video_frames_after_0_5s": teacher.count(p1.name, "video", t_off + 0.5),
            "p1_kept_sending_video": await p1.sent("video") - sent_before["video"],
        }

    async def watched(
        self, command: Any, count: Callable[[], Any], since: float, window: float
    ) -> tuple[float, int, int]:
        """Start watching a packet count, then carry out the command."""
        watch = asyncio.create_task(last_packet(count, since, window))
        await asyncio.sleep(0)  # the first count is taken before the command
        _ok(await command)
        return await watch

    async def the_second_adult_drops(self) -> None:
        """A hold: nothing of or to any pupil is forwarded; then the adult comes back."""
        teacher, p1, p2 = self.teacher, self.p1, self.p2
        _ok(await teacher.ws.send("unmute", target="p1"))
        _ok(await teacher.ws.send("camera_on", target="p1"))
        t_on = time.monotonic()
        await wait_for(lambda: teacher.count(p1.name, "video", t_on) > 3, 5, "p1 before the hold")
        assert self.assistant.ws.ws is not None
        t_breach = time.monotonic()
        self.assistant.ws.ws.transport.abort()  # the laptop vanishes from the network
        at_teacher, at_pupils = await asyncio.gather(
            last_packet(lambda: teacher.packets(p1.name), t_breach, 2.0),
            last_packet(lambda: _sum(p1.packets(), p2.packets()), t_breach, 2.0),
        )
        held = await p1.ws.wait_for(lambda m: m["type"] == "state" and m["view"]["session"]["held"])
        sources = (TEACHER, ASSISTANT, p1.name, p2.name)
        self.results["hold"] = {
            "breach_to_last_pupil_packet_at_teacher_s": at_teacher[0],
            "pupil_packets_at_teacher_in_last_1s": at_teacher[2],
            "breach_to_last_packet_at_pupils_s": at_pupils[0],
            "packets_at_pupils_in_last_1s": at_pupils[2],
            "pupil_frames_at_teacher_after_0_5s": sum(
                teacher.count(p1.name, k, t_breach + 0.5) for k in KINDS
            ),
            "frames_at_pupils_after_0_5s": sum(
                c.count(src, k, t_breach + 0.5) for c in (p1, p2) for src in sources for k in KINDS
            ),
            "hold_reason": held["view"]["session"]["hold_reason"],
        }
        assistant_id = self.assistant.ws.who
        await self.assistant.close()
        self.clients.remove(self.assistant)
        t_back = time.monotonic()
        self.assistant = await self.staff("assistant", ASSISTANT, staff_id=assistant_id)
        _ok(await self.assistant.publish())
        _ok(await self.assistant.subscribe())
        await wait_for(
            lambda: (
                teacher.count(p1.name, "video", t_back) > 0
                and p1.count(TEACHER, "video", t_back) > 0
            ),
            10,
            "media after the release",
        )
        self.results["release_to_frames_s"] = time.monotonic() - t_back

    async def a_pupil_is_removed(self) -> None:
        """p2 stops receiving within a second and can neither rejoin nor publish again."""
        p2 = self.p2
        t_remove = time.monotonic()
        last_at_p2, _, late_at_p2 = await self.watched(
            self.teacher.ws.send("remove", pupil="p2", reason="test"), p2.packets, t_remove, 2.0
        )
        await asyncio.wait_for(p2.ws.closed.wait(), 5)
        again = await self.pupil("p2", join=False)
        join_again = await again.ws.send("join", acknowledged_expectations=True)
        self.results["removal"] = {
            "remove_to_last_packet_at_p2_s": last_at_p2,
            "last_packet_at_p2_after_remove_s": p2.last() - t_remove,
            "packets_at_p2_in_last_1s": late_at_p2,
            "frames_at_p2_after_1s": sum(
                len([t for t in ts if t > t_remove + 1]) for ts in p2.frames.values()
            ),
            "close_code": p2.ws.close_code,
            "join_again": join_again["type"],
            "publish_again": (await again.publish())["type"],
            "subscribe_again": (await again.subscribe())["type"],
        }

    async def connections_that_drop_are_made_again(self) -> None:
        """p1's receiving connection closes (a network drop): the server says so, and a new
        media_subscribe brings the teacher back. Then p1's sending connection closes while the
        teacher has muted p1: once p1 publishes again the video flows and the mute still holds
        (seen on a fresh subscription of the teacher's: aiortc raises no new track for an
        m-line the SFU reuses, which a browser does)."""
        teacher, p1 = self.teacher, self.p1

        async def dropped(client: MediaClient, target: str) -> dict[str, Any]:
            seen = len(client.ws.messages)
            pc = client.sub if target == "subscriber" else client.pub
            assert pc is not None
            await pc.close()
            if target == "subscriber":
                client.sub, client.mids = None, {}
            notice = await client.ws.wait_for(
                lambda m: m["type"] == "media_notice" and m.get("target") == target,
                10,
                start=seen,
            )
            return {"kind": notice["kind"], "message": notice["message"]}

        results: dict[str, Any] = {"subscriber": await dropped(p1, "subscriber")}
        t_again = time.monotonic()
        reply = await p1.subscribe()
        results["resubscribe_reply"] = reply["type"]
        results["resubscribe_to_teacher_frames_s"] = await wait_for(
            lambda: p1.count(TEACHER, "video", t_again) > 0, 10, "the teacher after resubscribing"
        )
        _ok(await teacher.ws.send("mute", target="p1"))
        results["publisher"] = await dropped(p1, "publisher")
        t_again = time.monotonic()
        results["republish_reply"] = (await p1.publish())["type"]
        await asyncio.sleep(0.5)
        await dropped(teacher, "subscriber")
        _ok(await teacher.subscribe())
        results["republish_to_video_at_teacher_s"] = await wait_for(
            lambda: teacher.count(p1.name, "video", t_again) > 3, 10, "p1's video again"
        )
        sent_before = await p1.sent("audio")
        t_window = time.monotonic()
        await asyncio.sleep(1.0)
        results["audio_frames_while_muted"] = teacher.count(p1.name, "audio", t_again)
        results["video_frames_after"] = teacher.count(p1.name, "video", t_window)
        results["p1_sent_audio_while_muted"] = await p1.sent("audio") - sent_before
        self.results["dropped_connections"] = results

    async def janus_is_killed(self) -> None:
        """The room is told, Janus restarted and the room rebuilt, the clients reconnect, and
        what the log says still holds (p1, muted before the crash, stays muted)."""
        teacher, p1 = self.teacher, self.p1
        _ok(await teacher.ws.send("mute", target="p1"))
        await asyncio.sleep(0.3)
        pid = self.janus.pid
        seen = {c.name: len(c.ws.messages) for c in self.clients}
        t_kill = time.monotonic()
        os.kill(pid, signal.SIGKILL)

        async def told(client: MediaClient, kind: str, **match: str) -> float:
            await client.ws.wait_for(
                lambda m: m["type"] == kind and all(m.get(k) == v for k, v in match.items()),
                10,
                start=seen[client.name],
            )
            return time.monotonic() - t_kill

        reconnecting = await asyncio.gather(
            told(teacher, "media_state", state="reconnecting"),
            told(p1, "media_state", state="reconnecting"),
        )
        restarted = await asyncio.gather(told(teacher, "media_restart"), told(p1, "media_restart"))
        await wait_for(
            lambda: (
                p1.count(TEACHER, "video", t_kill + restarted[1]) > 0
                and teacher.count(p1.name, "video", t_kill + restarted[0]) > 0
            ),
            15,
            "frames after the recovery",
        )
        t_flowing = time.monotonic()
        sent_before = await p1.sent("audio")
        await asyncio.sleep(1.0)
        self.results["recovery"] = {
            "kill_to_told_s": max(reconnecting),
            "kill_to_restart_s": max(restarted),
            "kill_to_frames_s": t_flowing - t_kill,
            "new_janus_pid": self.janus.pid != pid,
            "state_after": next(
                m for m in reversed(teacher.ws.messages) if m["type"] == "media_state"
            )["state"],
            "p1_audio_frames_at_teacher_after": teacher.count(p1.name, "audio", t_flowing),
            "p1_sent_audio_after": await p1.sent("audio") - sent_before,
            "p1_video_frames_at_teacher_after": teacher.count(p1.name, "video", t_flowing),
        }

    async def the_session_ends(self) -> None:
        """The room is destroyed and every socket closed: nobody receives anything after."""
        present = [self.teacher, self.assistant, self.p1]
        t_end = time.monotonic()
        watches = [asyncio.create_task(last_packet(c.packets, t_end, 2.0)) for c in present]
        await asyncio.sleep(0)
        await self.teacher.ws.send_raw(json.dumps({"type": "end"}))  # the socket closes: no reply
        ends = await asyncio.gather(*watches)
        for client in present:
            await asyncio.wait_for(client.ws.closed.wait(), 5)
        self.results["end"] = {
            "last_packet_after_end_s": max(e[0] for e in ends),
            "packets_in_last_1s": sum(e[2] for e in ends),
            "frames_after_1s": sum(
                len([t for t in ts if t > t_end + 1]) for c in present for ts in c.frames.values()
            ),
            "close_codes": sorted({c.ws.close_code for c in present}),
        }

    async def explain(self) -> None:
        """What each client saw and received, for the test's failure message."""
        print(json.dumps(self.results), file=sys.stderr)
        for client in self.clients:
            summary = [
                {k: v for k, v in m.items() if k not in ("view", "jsep")}
                for m in client.ws.messages[-12:]
            ]
            frames = {f"{src}/{kind}": len(ts) for (src, kind), ts in client.frames.items()}
            pcs = [pc.connectionState if pc else None for pc in (client.pub, client.sub)]
            print(client.name, client.failures, frames, pcs, file=sys.stderr)
            print(json.dumps(summary), file=sys.stderr)


def main(lesson: type[Lesson] = Lesson, timeout: float = 150) -> None:
    """Run a lesson in this (fresh) network namespace; print its results as one JSON line."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if "-v" in sys.argv:
        logging.getLogger("safeclass").setLevel(logging.DEBUG)
    setup_namespace()
    use_client_address()
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(asyncio.wait_for(lesson(Path(folder)).run(), timeout))
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
