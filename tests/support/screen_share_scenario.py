"""Screen sharing through safeclass's own server and a real Janus (C21), in a namespace.

Run as root under `unshare -n` (tests/integration/test_screen_share_media.py does it), like
live_media_scenario: a real server with media on (its own Janus on the veth's 127.0.0.2) and
aiortc clients that speak only the room's WebSocket protocol.

A Claydon class: the teacher, the assistant, two pupils in the room. A pupil's modified client
first tries every way to publish a second feed (`media_share`, a `trickle` to `screen`, a
`media_publish` with a second video or a data channel): each is refused, and nothing but their
one camera feed ever reaches the teacher. The teacher then shares a "screen" (a second,
larger synthetic video on a third connection): both pupils decode its frames as the stream
marked `"source": "screen"`; the assistant may not share a second; the teacher stops, and the
frames stop. The teacher shares again and closes the screen's connection (what the browser
does when its "Stop sharing" bar is clicked): the server ends the share. Then a share ends with
its sharer's page opened again on the same device (4001), and with the sharer's connection
dropping (the room is held). Each later share is checked on a new subscription of p1's, made
as the screen comes up (which is also the moment a subscription offer could once be lost).
Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError

from tests.integration.live import Client
from tests.support.janus_scenario import SyntheticVideo, wait_for
from tests.support.live_media_scenario import TEACHER, Lesson, MediaClient, _ok, main

SCREEN = f"{TEACHER} (screen)"  # how a client below labels frames from the shared screen


class ScreenClient(MediaClient):
    """A participant's browser that tells a shared screen's frames from the sharer's camera's."""

    async def _read(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            stream = self.mids.get(self._mid_of(track) or "", {})
            name = stream.get("name", "?")
            source = f"{name} (screen)" if stream.get("source") == "screen" else name
            self.frames[(source, track.kind)].append(time.monotonic())

    async def screen_packets(self) -> int:
        """RTP packets received so far on the subscription's screen m-lines."""
        total = 0
        for transceiver in self.sub.getTransceivers() if self.sub is not None else []:
            if self.mids.get(transceiver.mid or "", {}).get("source") != "screen":
                continue
            stats = await transceiver.receiver.getStats()
            total += sum(s.packetsReceived for s in stats.values() if s.type == "inbound-rtp")
        return total

    def streams(self) -> list[dict[str, Any]]:
        """The active streams of the latest subscription offer."""
        return [s for s in self.mids.values() if s.get("active")]


async def _offer(*, videos: int, audio: bool = True, data: bool = False) -> dict[str, str]:
    """An aiortc offer with this many (synthetic) video tracks."""
    pc = RTCPeerConnection()
    try:
        if audio:
            pc.addTrack(AudioStreamTrack())
        for _ in range(videos):
            pc.addTrack(SyntheticVideo())
        if data:
            pc.createDataChannel("notes")
        await pc.setLocalDescription(await pc.createOffer())
        return {"type": "offer", "sdp": pc.localDescription.sdp}
    finally:
        await pc.close()


class ScreenShareLesson(Lesson):
    pupils = 3

    async def staff(self, role: str, name: str, staff_id: str | None = None) -> MediaClient:
        client = await super().staff(role, name, staff_id)
        return self._as_screen_client(client)

    async def pupil(self, pid: str, join: bool = True) -> MediaClient:
        return self._as_screen_client(await super().pupil(pid, join))

    def _as_screen_client(self, client: MediaClient) -> ScreenClient:
        client.__class__ = ScreenClient  # same state; only how frames are labelled differs
        assert isinstance(client, ScreenClient)
        return client

    async def steps(self) -> None:
        await self.the_class_is_in()
        await self.a_pupil_tries_every_way_to_publish_a_second_feed()
        await self.the_teacher_shares_a_screen()
        await self.the_teacher_stops_sharing()
        await self.the_screens_connection_closes()
        await self.the_sharer_reloads_or_drops()
        self.results["log"] = [
            e.type
            for e in await self.server.services.event_log.read(self.session)
            if e.type in ("ScreenShareStarted", "ScreenShareStopped", "AttemptRefused")
        ]

    async def the_class_is_in(self) -> None:
        await self.two_adults_and_two_pupils_in()
        _ok(await self.teacher.ws.send("camera_on", target="p1"))  # p1's camera is seen
        names = {p["id"]: p["name"] for p in self.teacher.ws.view()["people"]}
        self.p1.name, self.p2.name = names["p1"], names["p2"]
        await wait_for(
            lambda: (
                self.p1.count(TEACHER, "video", 0) > 0
                and self.teacher.count(self.p1.name, "video", 0) > 0
            ),
            10,
            "the class's video",
        )
        view = self.p1.ws.view()
        self.results["before"] = {
            "pupil_can": view["can"],
            "teacher_can_share": "media_share" in self.teacher.ws.view()["can"],
            "screen": view["session"]["screen"],
        }

    async def a_pupil_tries_every_way_to_publish_a_second_feed(self) -> None:
        p1, teacher = self.p1, self.teacher
        candidate = {"candidate": "candidate:1 1 udp 2130706431 127.0.0.3 40000 typ host"}
        candidate |= {"sdpMid": "0", "sdpMLineIndex": 0}
        attempts = {
            "media_share": await p1.ws.send("media_share", jsep=await _offer(videos=1)),
            "trickle_to_screen": await p1.ws.send("trickle", target="screen", candidate=candidate),
            "publish_two_videos": await p1.ws.send("media_publish", jsep=await _offer(videos=2)),
            "publish_with_data": await p1.ws.send(
                "media_publish", jsep=await _offer(videos=1, data=True)
            ),
            "stop_a_share": await p1.ws.send("media_share_stop"),
        }
        self.results["pupil_attempts"] = {
            name: {k: reply.get(k) for k in ("type", "code", "message")}
            for name, reply in attempts.items()
        }
        # p1's one camera still reaches the teacher; nothing else of p1 is offered to anyone
        t_after = time.monotonic()
        await wait_for(
            lambda: teacher.count(p1.name, "video", t_after) > 3, 5, "p1's camera afterwards"
        )
        self.results["after_attempts"] = {
            "p1_streams_at_teacher": [
                {k: s.get(k) for k in ("kind", "source")}
                for s in teacher.streams()
                if s.get("name") == p1.name
            ],
            "screens_at_teacher": [s for s in teacher.streams() if s.get("source") == "screen"],
            "screens_at_p2": [s for s in self.p2.streams() if s.get("source") == "screen"],
        }

    async def the_teacher_shares_a_screen(self) -> None:
        teacher, p1, p2 = self.teacher, self.p1, self.p2
        self.screen = RTCPeerConnection()
        self.screen.addTrack(SyntheticVideo(640, 360, 10))
        await self.screen.setLocalDescription(await self.screen.createOffer())
        t_share = time.monotonic()
        offer = {"type": "offer", "sdp": self.screen.localDescription.sdp}
        reply = await teacher.ws.send("media_share", jsep=offer)
        assert reply["type"] == "media_answer", reply
        answer = reply["jsep"]
        await self.screen.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        first = await asyncio.gather(
            *(
                wait_for(lambda c=c: c.count(SCREEN, "video", t_share) > 5, 10, f"{c.name}'s")
                for c in (p1, p2, self.assistant)
            )
        )
        screen_streams = [s for s in p1.streams() if s.get("source") == "screen"]
        second = await self.assistant.ws.send("media_share", jsep=await _offer(videos=1))
        during = await p1.ws.send("media_share", jsep=await _offer(videos=1))
        await asyncio.sleep(1.0)
        self.results["share"] = {
            "share_to_frames_at_pupils_s": max(first[:2]),
            "screen_streams_at_p1": [
                {k: s.get(k) for k in ("kind", "name", "role", "source")} for s in screen_streams
            ],
            "p1_view_screen": p1.ws.view()["session"]["screen"],
            "teacher_view_screen": teacher.ws.view()["session"]["screen"],
            "teacher_id": teacher.ws.who,
            "teacher_can": teacher.ws.view()["can"],
            "assistant_cannot": self.assistant.ws.view()["cannot"].get("media_share"),
            "teacher_got_own_screen": teacher.count(SCREEN, "video", 0),
            "second_share": {k: second.get(k) for k in ("type", "code", "message")},
            "pupil_share_during": {k: during.get(k) for k in ("type", "code", "message")},
            "p1_screen_frames_in_1s": p1.count(SCREEN, "video", time.monotonic() - 1.0),
        }

    async def the_teacher_stops_sharing(self) -> None:
        teacher, p1, p2 = self.teacher, self.p1, self.p2
        t_stop = time.monotonic()
        _ok(await teacher.ws.send("media_share_stop"))
        await p1.ws.wait_for(
            lambda m: m["type"] == "state" and m["view"]["session"]["screen"] is None
        )
        await asyncio.sleep(1.5)
        self.results["stop"] = {
            "screen_frames_at_pupils_after_0_5s": sum(
                c.count(SCREEN, "video", t_stop + 0.5) for c in (p1, p2)
            ),
            "teacher_camera_frames_at_p1_after": p1.count(TEACHER, "video", t_stop + 0.5),
            "p1_view_screen": p1.ws.view()["session"]["screen"],
            "teacher_can_share_again": "media_share" in teacher.ws.view()["can"],
        }
        await self.screen.close()

    async def _share(self, client: MediaClient) -> RTCPeerConnection:
        """`client` shares a synthetic screen; returns once its packets reach p1."""
        screen = RTCPeerConnection()
        screen.addTrack(SyntheticVideo(640, 360, 10))
        await screen.setLocalDescription(await screen.createOffer())
        t_share = time.monotonic()
        offer = {"type": "offer", "sdp": screen.localDescription.sdp}
        reply = await client.ws.send("media_share", jsep=offer)
        assert reply["type"] == "media_answer", reply
        await screen.setRemoteDescription(
            RTCSessionDescription(reply["jsep"]["sdp"], reply["jsep"]["type"])
        )
        p1 = self.p1
        assert isinstance(p1, ScreenClient)
        await self._fresh_subscription(p1)
        while await p1.screen_packets() < 20:
            if time.monotonic() - t_share > 10:
                raise TimeoutError(f"{client.name}'s screen at p1")
            await asyncio.sleep(0.05)
        return screen

    async def _fresh_subscription(self, client: MediaClient) -> None:
        """Receive on a new connection, as a browser that dropped its own does: aiortc does not
        always take up an m-line the SFU reuses for a later share at once (a browser does), so
        later shares are checked on a subscription of their own."""
        seen = len(client.ws.messages)
        async with client.lock:
            assert client.sub is not None
            await client.sub.close()
            client.sub, client.mids = None, {}
        await client.ws.wait_for(
            lambda m: m["type"] == "media_notice" and m.get("target") == "subscriber",
            10,
            start=seen,
        )
        _ok(await client.subscribe())

    async def _share_ends(self, action: Any) -> dict[str, Any]:
        """Carry out `action` (a coroutine); how soon p1's view says nobody is sharing."""
        seen, start = len(self.p1.ws.messages), time.monotonic()
        await action
        ended = await self.p1.ws.wait_for(
            lambda m: m["type"] == "state" and m["view"]["session"]["screen"] is None,
            10,
            start=seen,
        )
        return {"ended_after_s": time.monotonic() - start, "held": ended["view"]["session"]["held"]}

    async def the_screens_connection_closes(self) -> None:
        """The browser's own "Stop sharing": the screen's connection closes, the share ends."""
        screen = await self._share(self.teacher)
        self.results["closed"] = await self._share_ends(screen.close())

    async def the_sharer_reloads_or_drops(self) -> None:
        """The teacher's page is opened again on the same device while sharing (4001): the old
        page's screen is gone, so the share ends. Then the assistant shares and their laptop
        vanishes from the network: the share ends with the drop (and the room is held)."""
        screen = await self._share(self.teacher)
        old = self.teacher.ws
        again = Client(self.server, self.session, old.cookie, old.who)
        reloaded = await self._share_ends(again.connect())
        await asyncio.wait_for(old.closed.wait(), 5)
        self.results["reloaded"] = {**reloaded, "old_close_code": old.close_code}
        _ok(await again.send("join"))
        await screen.close()
        await self._share(self.assistant)
        assert self.assistant.ws.ws is not None
        self.results["dropped"] = await self._share_ends(
            asyncio.to_thread(self.assistant.ws.ws.transport.abort)
        )
        await again.close()


if __name__ == "__main__":
    main(ScreenShareLesson, timeout=120)
