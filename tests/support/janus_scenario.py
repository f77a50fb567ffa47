"""The media scenario of tests/integration/test_janus_media.py, run in a private network namespace.

Run as root under `unshare -n` (the test does it): it brings up `lo` and a veth pair whose end
`pv0` carries 127.0.0.2 (Janus's ICE address) and 127.0.0.3 (the aiortc clients'), since
Janus never uses `lo`. Nothing in here can reach or be reached from outside the namespace.

A teacher and a pupil, each an aiortc client publishing synthetic audio and video and
subscribing to the other, go through `JanusMedia` alone (no browser talks to Janus). It measures
and prints one JSON line: Janus's start time, first frames, moderate→silence, hold, and
revoke→stop times, with the frame and packet counts the test asserts on.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aioice.ice
import av
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError

from safeclass.adapters.media.janus_media import JanusMedia, media_listener
from safeclass.adapters.media.janus_process import JanusOptions, JanusProcess
from safeclass.app.media_port import MediaEvent, MediaEventKind, NotAdmittedError
from safeclass.core import Role

JANUS_IP = "127.0.0.2"
CLIENT_IP = "127.0.0.3"
SESSION = "session-1"


def setup_namespace() -> None:
    """lo up; veth pv0/pv1 with the two addresses on pv0, IPv6 off (as probe/netns_run.sh)."""
    for command in (
        "ip link set lo up",
        "ip link add pv0 type veth peer name pv1",
        "sysctl -q -w net.ipv6.conf.pv0.disable_ipv6=1 net.ipv6.conf.pv1.disable_ipv6=1",
        f"ip addr add {JANUS_IP}/32 dev pv0",
        f"ip addr add {CLIENT_IP}/32 dev pv0",
        "ip link set pv1 up",
        "ip link set pv0 up",
    ):
        subprocess.run(command.split(), check=True)


def use_client_address() -> None:
    """aioice skips loopback addresses: make it gather only the veth's client address."""

    def addresses(use_ipv4: bool = True, use_ipv6: bool = False) -> list[str]:
        return [CLIENT_IP]

    aioice.ice.get_host_addresses = addresses


class SyntheticVideo(MediaStreamTrack):
    """A moving gradient at a fixed frame rate."""

    kind = "video"

    def __init__(self, width: int = 320, height: int = 240, fps: int = 15) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.sent = 0
        self._start: float | None = None
        row = bytes(x * 255 // width for x in range(width))
        self._luma = row * height
        self._chroma = bytes([128]) * ((width // 2) * (height // 2))

    async def recv(self) -> av.VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self.sent / self.fps - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        shift = (self.sent * 4) % self.width
        frame.planes[0].update(self._luma[shift:] + self._luma[:shift])
        frame.planes[1].update(self._chroma)
        frame.planes[2].update(self._chroma)
        frame.pts = int(self.sent * 90000 / self.fps)
        frame.time_base = fractions.Fraction(1, 90000)
        self.sent += 1
        return frame


@dataclass
class Received:
    """Arrival times of decoded frames, by kind."""

    times: dict[str, list[float]] = field(default_factory=lambda: {"audio": [], "video": []})

    def count(self, kind: str, start: float, end: float = float("inf")) -> int:
        return sum(1 for t in self.times[kind] if start <= t < end)

    def last(self, kind: str) -> float:
        return self.times[kind][-1] if self.times[kind] else 0.0


@dataclass
class Client:
    """One participant: a publishing PeerConnection and a subscribing one, via JanusMedia."""

    media: JanusMedia
    participant: str
    video: SyntheticVideo = field(default_factory=SyntheticVideo)
    received: Received = field(default_factory=Received)
    pub: RTCPeerConnection = field(default_factory=RTCPeerConnection)
    sub: RTCPeerConnection = field(default_factory=RTCPeerConnection)
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def publish(self) -> None:
        self.pub.addTrack(AudioStreamTrack())
        self.pub.addTrack(self.video)
        await self.pub.setLocalDescription(await self.pub.createOffer())
        local = self.pub.localDescription
        answer = await self.media.offer(
            SESSION, self.participant, {"type": "offer", "sdp": local.sdp}
        )
        await self.pub.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))

    async def subscribe(self, feeds: list[str]) -> None:
        @self.sub.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self.readers.append(asyncio.create_task(self._read(track)))

        offer = await self.media.subscribe(SESSION, self.participant, feeds)
        if offer is None:
            raise RuntimeError("no subscription offer")
        await self.sub.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        await self.sub.setLocalDescription(await self.sub.createAnswer())
        answer = self.sub.localDescription
        await self.media.answer(SESSION, self.participant, {"type": "answer", "sdp": answer.sdp})

    async def _read(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            self.received.times[track.kind].append(time.monotonic())

    async def sent_packets(self, kind: str) -> int:
        stats = await self.pub.getStats()
        return sum(
            s.packetsSent for s in stats.values() if s.type == "outbound-rtp" and s.kind == kind
        )

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await self.pub.close()
        await self.sub.close()


async def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds until `condition` holds; raises if it does not within `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def received_packets(pc: RTCPeerConnection, kinds: tuple[str, ...]) -> int:
    stats = await pc.getStats()
    inbound = [s for s in stats.values() if s.type == "inbound-rtp" and s.kind in kinds]
    return sum(s.packetsReceived for s in inbound)


@dataclass
class PacketWatch:
    """The RTP packets a PeerConnection has received of some kinds, counted before a call."""

    pc: RTCPeerConnection
    kinds: tuple[str, ...]
    count: int = 0

    @classmethod
    async def start(cls, pc: RTCPeerConnection, *kinds: str) -> PacketWatch:
        return cls(pc, kinds, await received_packets(pc, kinds))


async def last_packet_after(watch: PacketWatch, since: float, window: float) -> float:
    """Watch the packets for `window` s (every 10 ms) and return when their count last grew,
    from `since` (0: none arrived after the count taken before the call). Decoded frames can
    stay in aiortc's jitter buffer when packets stop, so packets are the sharper measure."""
    pc, kinds, last, count = watch.pc, watch.kinds, since, watch.count
    while time.monotonic() < since + window:
        await asyncio.sleep(0.01)
        now = await received_packets(pc, kinds)
        if now != count:
            last, count = time.monotonic(), now
    return last - since


async def scenario(folder: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    options = JanusOptions(
        ws_ip="127.0.0.1",
        rtp_ports=(20000, 20999),
        interface=JANUS_IP,
        ice_enforce_list="pv0",
        ignore_mdns=True,
    )
    janus = JanusProcess(folder / "janus", options)
    endpoint = await janus.start()
    results["janus_start_s"] = janus.started_in
    publishing: dict[str, asyncio.Event] = {"teacher": asyncio.Event(), "pupil": asyncio.Event()}
    events: list[str] = []

    async def on_event(event: MediaEvent) -> None:
        events.append(f"{event.kind}:{event.participant_id}:{event.target}")
        if event.kind is MediaEventKind.PUBLISHING and event.participant_id in publishing:
            publishing[event.participant_id].set()

    media = JanusMedia(endpoint, media_listener(on_event))
    clients: list[Client] = []
    try:
        await media.start()
        await media.open_room(SESSION)
        await media.admit(SESSION, "teacher", Role.TEACHER)
        await media.admit(SESSION, "pupil", Role.PUPIL)
        try:
            await media.offer(SESSION, "stranger", {"type": "offer", "sdp": ""})
            results["stranger_refused"] = False
        except NotAdmittedError:
            results["stranger_refused"] = True
        await media.set_media(SESSION, "teacher", audio=True, video=True)
        # the pupil is left as admitted: muted at the SFU (camera and microphone) on entry
        teacher, pupil = Client(media, "teacher"), Client(media, "pupil")
        clients += [teacher, pupil]
        t0 = time.monotonic()
        await asyncio.gather(teacher.publish(), pupil.publish())
        await asyncio.wait_for(publishing["teacher"].wait(), 10)
        await asyncio.wait_for(publishing["pupil"].wait(), 10)
        results["publish_up_s"] = time.monotonic() - t0
        await asyncio.gather(teacher.subscribe(["pupil"]), pupil.subscribe(["teacher"]))
        await wait_for(
            lambda: all(pupil.received.count(k, 0) > 0 for k in ("audio", "video")),
            10,
            "the teacher's first frames at the pupil",
        )
        results["publish_to_first_frames_s"] = time.monotonic() - t0
        t_entry = time.monotonic()
        await asyncio.sleep(1.0)
        results["entry"] = {
            "teacher_gets_muted_pupil": teacher.received.count("video", 0)
            + teacher.received.count("audio", 0),
            "pupil_gets_teacher_video": pupil.received.count("video", t_entry),
            "pupil_video_frames_sent": pupil.video.sent,
        }
        t_allow = time.monotonic()
        await media.set_media(SESSION, "pupil", audio=True, video=True)
        results["allow_to_first_pupil_frames_s"] = await wait_for(
            lambda: all(teacher.received.count(k, t_allow) > 0 for k in ("audio", "video")),
            10,
            "the pupil's media once allowed",
        )
        await asyncio.sleep(1.0)
        now = time.monotonic()
        results["flowing"] = {
            "teacher_gets_pupil_video": teacher.received.count("video", now - 1.0),
            "teacher_gets_pupil_audio": teacher.received.count("audio", now - 1.0),
            "pupil_gets_teacher_video": pupil.received.count("video", now - 1.0),
        }

        # -- staff mute the pupil's microphone, five times: moderated at the SFU -------------
        results["mute_rounds"] = []
        for _ in range(5):
            sent_before = await pupil.sent_packets("audio")
            watch = await PacketWatch.start(teacher.sub, "audio")
            t_mute = time.monotonic()
            await media.set_media(SESSION, "pupil", audio=False, video=True)
            called = time.monotonic() - t_mute
            last_packet = await last_packet_after(watch, t_mute, 1.0)
            results["mute_rounds"].append(
                {
                    "moderate_call_s": called,
                    "last_audio_packet_after_mute_s": last_packet,
                    # when the last audio frame reached the teacher, from the call (< 0: before)
                    "last_audio_after_mute_s": teacher.received.last("audio") - t_mute,
                    "audio_frames_after_0_5s": teacher.received.count("audio", t_mute + 0.5),
                    "video_frames_after_0_5s": teacher.received.count("video", t_mute + 0.5),
                    "pupil_audio_packets_sent": await pupil.sent_packets("audio") - sent_before,
                }
            )
            t_unmute = time.monotonic()
            await media.set_media(SESSION, "pupil", audio=True, video=True)
            results["mute_rounds"][-1]["unmute_to_audio_s"] = await wait_for(
                lambda t=t_unmute: teacher.received.count("audio", t) > 0, 5, "audio after unmute"
            )
            await asyncio.sleep(0.3)

        # -- a hold, three times: no pupil media forwarded, either way ------------------------
        results["hold_rounds"] = []
        for _ in range(3):
            watches = [await PacketWatch.start(c.sub, "audio", "video") for c in (teacher, pupil)]
            t_hold = time.monotonic()
            await media.hold(SESSION, True)
            called = time.monotonic() - t_hold
            at_teacher, at_pupil = await asyncio.gather(
                *(last_packet_after(w, t_hold, 1.0) for w in watches)
            )
            results["hold_rounds"].append(
                {
                    "hold_call_s": called,
                    "last_pupil_packet_at_teacher_s": at_teacher,
                    "last_packet_at_pupil_s": at_pupil,
                    "last_pupil_media_at_teacher_s": max(
                        teacher.received.last(k) for k in ("audio", "video")
                    )
                    - t_hold,
                    "last_media_at_pupil_s": max(pupil.received.last(k) for k in ("audio", "video"))
                    - t_hold,
                    "teacher_gets_pupil_after_0_5s": teacher.received.count("video", t_hold + 0.5)
                    + teacher.received.count("audio", t_hold + 0.5),
                    "pupil_gets_anything_after_0_5s": pupil.received.count("video", t_hold + 0.5)
                    + pupil.received.count("audio", t_hold + 0.5),
                }
            )
            t_release = time.monotonic()
            await media.hold(SESSION, False)
            results["hold_rounds"][-1]["release_to_frames_s"] = await wait_for(
                lambda t=t_release: (
                    teacher.received.count("video", t) > 0 and pupil.received.count("video", t) > 0
                ),
                5,
                "frames after the hold",
            )
            await asyncio.sleep(0.3)

        # -- removal: kick + token revoked + their subscription torn down ---------------------
        sent_before = await pupil.sent_packets("video")
        watches = [await PacketWatch.start(c.sub, "audio", "video") for c in (teacher, pupil)]
        t_kick = time.monotonic()
        await media.revoke(SESSION, "pupil")
        results["revoke_call_s"] = time.monotonic() - t_kick
        at_teacher, at_pupil = await asyncio.gather(
            *(last_packet_after(w, t_kick, 2.0) for w in watches)
        )
        results["revoke"] = {
            "last_pupil_packet_at_teacher_s": at_teacher,
            "last_packet_at_pupil_s": at_pupil,
            # when the last frame arrived, from the revoke call (< 0: before it)
            "pupil_stream_stops_at_teacher_s": max(
                teacher.received.last(k) for k in ("audio", "video")
            )
            - t_kick,
            "pupil_stops_receiving_s": max(pupil.received.last(k) for k in ("audio", "video"))
            - t_kick,
            "teacher_frames_from_pupil_after_1s": teacher.received.count("video", t_kick + 1)
            + teacher.received.count("audio", t_kick + 1),
            "pupil_frames_after_1s": pupil.received.count("video", t_kick + 1)
            + pupil.received.count("audio", t_kick + 1),
            "pupil_kept_sending_packets": await pupil.sent_packets("video") - sent_before,
        }
        try:
            await media.offer(SESSION, "pupil", {"type": "offer", "sdp": ""})
            results["revoked_offer_refused"] = False
        except NotAdmittedError:
            results["revoked_offer_refused"] = True

        # -- the end: the room is destroyed ---------------------------------------------------
        t_end = time.monotonic()
        await media.close_room(SESSION)
        results["close_room_s"] = time.monotonic() - t_end
        results["events"] = events
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()
        await media.close()
        await janus.stop()
    results["janus_pid"] = endpoint.pid
    return results


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if "-v" in sys.argv:
        logging.getLogger("safeclass.adapters.media").setLevel(logging.DEBUG)
    setup_namespace()
    use_client_address()
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(asyncio.wait_for(scenario(Path(folder)), 60))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
