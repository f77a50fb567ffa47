"""Benchmark: a Chromium pupil, from opening the family's link to the teacher's first decoded
frame, through safeclass; beside the same Chromium joining a bare Janus room.

Runs as root in a private network namespace of its own (it re-executes itself under
`unshare -n`; Janus never uses `lo`, so a veth carries 127.0.0.2 for Janus and 127.0.0.3 for the
clients). Nothing is sent outside the namespace. One headless Debian Chromium with a fake
camera and microphone; each join is a fresh browser context (a new family's device).

(a) **through safeclass.** A real `LiveServer` (uvicorn in this process, SQLite in a temp folder,
    media on: it runs its own Janus), the claydon policy: the teacher publishes (an aiortc
    client with synthetic 320x240 video at 15 frames a second) and the assistant is in the
    room, both on the room's socket. Each join: the pupil's browser opens the family's link
    (`/join/TOKEN` → the pupil's page), ticks the expectations, presses **Join the class**; the
    teacher's client admits the pupil as soon as the pupil is waiting; the page asks for the
    camera, publishes and subscribes (`static/room-media.js`). Measured: from `page.goto(link)`
    to the first `framesDecoded > 0` of an inbound video stream in the page (the only one is the
    teacher's), read by a 10 ms `getStats` poll inside the page. Also from the teacher's admit
    to that frame (the video path alone). Then the context is closed (the pupil leaves) and the
    next pupil comes.
(b) **bare Janus.** A second Janus (same binary, ICE options and room options as safeclass's)
    with one room where the same kind of aiortc teacher publishes. Each join: the same Chromium
    opens a page (from a bare HTTP server on loopback, nothing of ours) whose script talks to Janus
    itself over its WebSocket API, as Janus's videoroom demo does: joins as a publisher, then at
    once asks for the camera and publishes, and subscribes to the teacher's feed and starts.
    Measured the same way, from `page.goto` to the first decoded frame.

(a) and (b) alternate join by join, so both see the same machine load, at least --spacing
seconds apart on each SFU (Janus asks a publisher for a keyframe at most once a second). The
first --warmup joins of each side are not counted. The safeclass figure includes what the bare
page does not do: loading the page's modules, the room's socket, the tick and the click, the
waiting room and the admit, and the server relaying every SDP and candidate.

Goal: safeclass's median within 1.2 x bare Janus's. Prints human-readable lines, then its
figures last as one JSON line.

Run (as root): .venv/bin/python bench/browser_join.py [--joins 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import insert
from tests.integration.seed import seed_session
from tests.support.janus_scenario import JANUS_IP, SyntheticVideo
from tests.support.live_media_scenario import ASSISTANT, TEACHER, Lesson, _ok

from bench.media_common import enter_namespace, percentile, quiet_closed_connections
from safeclass.adapters.auth.tokens import hash_token, new_token
from safeclass.adapters.media.janus_client import JanusClient
from safeclass.adapters.media.janus_process import JanusOptions, JanusProcess
from safeclass.adapters.store.sessions import load_session
from safeclass.adapters.store.tables import Invitation

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
FRAME_TIMEOUT_MS = 15000

# Every page: note the moment the first inbound video frame is decoded (Date.now(), ms).
FIRST_FRAME = """
(() => {
  const Native = window.RTCPeerConnection;
  const all = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); all.push(this); }
  };
  window.__firstFrame = 0;
  const look = async () => {
    for (const pc of all) {
      if (pc.connectionState === "closed") continue;
      (await pc.getStats()).forEach((s) => {
        if (!window.__firstFrame && s.type === "inbound-rtp" && s.kind === "video"
            && s.framesDecoded > 0) {
          window.__firstFrame = Date.now();
        }
      });
    }
    if (!window.__firstFrame) setTimeout(look, 10);
  };
  setTimeout(look, 10);
})();
"""

# The bare page: a browser talking to Janus's WebSocket API itself (as Janus's videoroom demo
# does: join, then publish and subscribe at once), with the same camera and connection options.
BARE_PAGE = """<!doctype html><meta charset="utf-8"><title>bare Janus</title>
<video id="v" autoplay playsinline muted></video>
<script type="module">
const q = new URLSearchParams(location.search);
const secret = q.get("secret"), room = q.get("room"), pin = q.get("pin"), token = q.get("token");
const ws = new WebSocket(q.get("ws"), "janus-protocol");
const waiting = new Map();
let n = 0;
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (m.janus === "ack" || !m.transaction || !waiting.has(m.transaction)) return;
  waiting.get(m.transaction)(m);
  waiting.delete(m.transaction);
};
await new Promise((r) => (ws.onopen = r));
const call = (m) => new Promise((r) => {
  const transaction = "t" + ++n;
  waiting.set(transaction, r);
  ws.send(JSON.stringify({ ...m, transaction, apisecret: secret }));
});
const session_id = (await call({ janus: "create" })).data.id;
const attach = async () =>
  (await call({ janus: "attach", plugin: "janus.plugin.videoroom", session_id })).data.id;
const trickle = (handle_id) => (e) => ws.send(JSON.stringify({
  janus: "trickle", session_id, handle_id, transaction: "c" + ++n, apisecret: secret,
  candidate: e.candidate ? e.candidate.toJSON() : { completed: true } }));
const publisher = await attach();
const joined = await call({ janus: "message", session_id, handle_id: publisher, body: {
  request: "join", ptype: "publisher", room, pin, token, id: q.get("me"), display: q.get("me") } });
async function publish() {
  const camera = await navigator.mediaDevices.getUserMedia({ audio: true, video: {
    width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 15, max: 15 } } });
  const pub = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  pub.onicecandidate = trickle(publisher);
  for (const track of camera.getTracks()) {
    pub.addTransceiver(track, { direction: "sendonly", streams: [camera] });
  }
  const offer = await pub.createOffer();
  await pub.setLocalDescription(offer);
  const answer = await call({ janus: "message", session_id, handle_id: publisher,
    body: { request: "publish" }, jsep: { type: offer.type, sdp: offer.sdp } });
  await pub.setRemoteDescription(answer.jsep);
}
async function subscribe() {
  const subscriber = await attach();
  const sub = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  sub.onicecandidate = trickle(subscriber);
  sub.ontrack = (e) => {
    if (e.track.kind === "video") {
      document.getElementById("v").srcObject = new MediaStream([e.track]);
    }
  };
  const offered = await call({ janus: "message", session_id, handle_id: subscriber, body: {
    request: "join", ptype: "subscriber", room, pin, token, use_msid: true,
    private_id: joined.plugindata.data.private_id, streams: [{ feed: q.get("feed") }] } });
  await sub.setRemoteDescription(offered.jsep);
  const mine = await sub.createAnswer();
  await sub.setLocalDescription(mine);
  await call({ janus: "message", session_id, handle_id: subscriber, body: { request: "start" },
    jsep: { type: mine.type, sdp: mine.sdp } });
}
// as Janus's own videoroom demo: once joined, publish and subscribe at the same time
await Promise.all([publish(), subscribe()]);
</script>
"""


async def serve_bare_page() -> tuple[asyncio.Server, str]:
    """The bare page from a plain HTTP server on loopback (Chromium lets a page reach Janus's
    WebSocket on loopback only if the page itself came from a local address)."""
    body = BARE_PAGE.encode()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/bare"


async def first_frame_ms(page: Page, t0: float) -> float:
    """ms from `t0` (time.time()) to the page's first decoded inbound video frame."""
    handle = await page.wait_for_function(
        "() => window.__firstFrame || 0", timeout=FRAME_TIMEOUT_MS, polling=50
    )
    return float(await handle.json_value()) - t0 * 1000


class Safeclass:
    """A claydon lesson with media on: the teacher publishes, the assistant is in the room."""

    def __init__(self, folder: Path, pupils: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.lesson = Lesson(folder)
        self.pupils = pupils
        self.next = 0
        self.admit_to_frame_ms: list[float] = []

    async def start(self) -> None:
        lesson = self.lesson
        await lesson.server.start()
        engine = lesson.server.services.engine
        lesson.session = await seed_session(engine, "claydon", pupils=self.pupils)
        lesson.school = (await load_session(engine, lesson.session)).school_id
        self.teacher = await lesson.staff("teacher", TEACHER)
        self.assistant = await lesson.staff("assistant", ASSISTANT)
        _ok(await self.teacher.publish())

    async def stop(self) -> None:
        for client in reversed(self.lesson.clients):  # the teacher last: no hold on the way out
            with contextlib.suppress(Exception):
                await client.close()
        await self.lesson.server.stop()

    async def link(self, pid: str) -> str:
        token = new_token()
        now = self.lesson.server.clock.now()
        async with self.lesson.server.services.engine.begin() as conn:
            await conn.execute(
                insert(Invitation).values(
                    id=str(uuid.uuid4()),
                    school_id=self.lesson.school,
                    session_id=self.lesson.session,
                    pupil_id=pid,
                    token_hash=hash_token(token),
                    expires_at=now + dt.timedelta(days=1),
                    created_at=now,
                )
            )
        return f"{self.lesson.server.url}/join/{token}"

    async def admit_when_waiting(self, pid: str, seen: int) -> float:
        ws = self.teacher.ws
        await ws.wait_for(
            lambda m: m["type"] == "state" and pid in m["view"]["waiting"], 15, start=seen
        )
        _ok(await ws.send("admit", pupils=[pid]))
        return time.time()

    async def join(self, browser: Browser) -> float:
        self.next += 1
        pid = f"p{self.next}"
        link = await self.link(pid)
        context = await browser.new_context()
        await context.add_init_script(FIRST_FRAME)
        try:
            page = await context.new_page()
            admitting = asyncio.create_task(
                self.admit_when_waiting(pid, len(self.teacher.ws.messages))
            )
            t0 = time.time()
            await page.goto(link)
            loaded = time.time()
            await page.get_by_label("We have read these and we agree").check()
            await page.get_by_role("button", name="Join the class").click()
            clicked = time.time()
            ms = await first_frame_ms(page, t0)
            admitted = await admitting
            self.admit_to_frame_ms.append(ms - (admitted - t0) * 1000)
            print(
                f"  loaded {1000 * (loaded - t0):.0f} ms, joined {1000 * (clicked - t0):.0f} ms, "
                f"admitted {1000 * (admitted - t0):.0f} ms",
                file=sys.stderr,
            )
            return ms
        finally:
            await context.close()


class BareJanus:
    """A second Janus with one room (safeclass's room options) where a teacher publishes."""

    def __init__(self, folder: Path) -> None:
        options = JanusOptions(
            ws_ip="127.0.0.1",
            rtp_ports=(21000, 21999),
            interface=JANUS_IP,
            ice_enforce_list="pv0",
            ignore_mdns=True,
        )
        self.process = JanusProcess(folder, options)
        self.room = "bench-bare"
        self.secret, self.pin, self.token = (secrets.token_urlsafe(16) for _ in range(3))
        self.joined = 0

    async def start(self) -> None:
        self.page_server, self.url = await serve_bare_page()
        self.endpoint = await self.process.start()
        self.client = await JanusClient.connect(self.endpoint.url, self.endpoint.api_secret)
        session = await self.client.create_session()
        control = await session.attach_videoroom()
        await control.create_room(
            self.room,
            admin_key=self.endpoint.admin_key,
            secret=self.secret,
            pin=self.pin,
            allowed=[self.token],
            description=self.room,
        )
        self.teacher = RTCPeerConnection()
        self.teacher.addTrack(AudioStreamTrack())
        self.teacher.addTrack(SyntheticVideo())
        await self.teacher.setLocalDescription(await self.teacher.createOffer())
        handle = await session.attach_videoroom()
        await handle.join_publisher(
            self.room, participant="teacher", pin=self.pin, token=self.token
        )
        _, answer = await handle.publish(
            {"type": "offer", "sdp": self.teacher.localDescription.sdp}
        )
        await self.teacher.setRemoteDescription(
            RTCSessionDescription(answer["sdp"], answer["type"])
        )
        await handle.next_event(lambda m: m.get("janus") == "webrtcup", timeout=10)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.teacher.close()
        with contextlib.suppress(Exception):
            await self.client.close()
        await self.process.stop()
        self.page_server.close()

    async def join(self, browser: Browser) -> float:
        self.joined += 1
        context = await browser.new_context()
        await context.add_init_script(FIRST_FRAME)

        query = urlencode(
            {
                "ws": self.endpoint.url,
                "secret": self.endpoint.api_secret,
                "room": self.room,
                "pin": self.pin,
                "token": self.token,
                "feed": "teacher",
                "me": f"pupil-{self.joined}",
            }
        )
        try:
            page = await context.new_page()
            page.on("pageerror", lambda error: print(f"bare page: {error}", file=sys.stderr))
            t0 = time.time()
            await page.goto(f"{self.url}?{query}")
            return await first_frame_ms(page, t0)
        finally:
            await context.close()


async def run(args: argparse.Namespace, folder: Path) -> dict[str, list[float]]:
    quiet_closed_connections(asyncio.get_running_loop())
    sc = Safeclass(folder / "safeclass", pupils=args.warmup + args.joins + 2)
    bare = BareJanus(folder / "bare")
    await sc.start()
    await bare.start()
    times: dict[str, list[float]] = {"safeclass": [], "bare": []}
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=FLAGS
            )
            try:
                for i in range(args.warmup + args.joins):
                    for side, target in (("safeclass", sc), ("bare", bare)):
                        started = time.monotonic()
                        ms = await target.join(browser)
                        if i >= args.warmup:
                            times[side].append(ms)
                        print(f"join {i + 1} {side}: {ms:.0f} ms", file=sys.stderr)
                        await asyncio.sleep(max(0.0, args.spacing - (time.monotonic() - started)))
            finally:
                await browser.close()
    finally:
        with contextlib.suppress(Exception):
            await bare.stop()
        await sc.stop()
    times["safeclass_admit"] = sc.admit_to_frame_ms[args.warmup :]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--joins", type=int, default=10, help="joins measured per side")
    parser.add_argument("--warmup", type=int, default=1, help="joins per side not counted")
    parser.add_argument("--spacing", type=float, default=1.5, help="s at least between joins")
    args = parser.parse_args()
    enter_namespace()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    budget = 120 + (args.warmup + args.joins) * 2 * (args.spacing + 20)
    with tempfile.TemporaryDirectory() as folder:
        times = asyncio.run(asyncio.wait_for(run(args, Path(folder)), budget))
    sc, bare, admit = times["safeclass"], times["bare"], times["safeclass_admit"]
    figures: dict[str, Any] = {
        "bench": "browser_join",
        "joins": len(sc),
        "safeclass_median_ms": round(statistics.median(sc), 1),
        "safeclass_p95_ms": round(percentile(sc, 95), 1),
        "bare_median_ms": round(statistics.median(bare), 1),
        "bare_p95_ms": round(percentile(bare, 95), 1),
        "safeclass_admit_to_frame_median_ms": round(statistics.median(admit), 1),
        "safeclass_admit_to_frame_p95_ms": round(percentile(admit, 95), 1),
    }
    figures["ratio_median"] = round(figures["safeclass_median_ms"] / figures["bare_median_ms"], 3)
    figures["ratio_p95"] = round(figures["safeclass_p95_ms"] / figures["bare_p95_ms"], 3)
    figures["goal_met"] = figures["ratio_median"] <= 1.2
    print(
        f"link → teacher's first frame over {len(sc)} joins: safeclass median "
        f"{figures['safeclass_median_ms']} ms, p95 {figures['safeclass_p95_ms']} ms; bare Janus "
        f"median {figures['bare_median_ms']} ms, p95 {figures['bare_p95_ms']} ms; ratio median "
        f"{figures['ratio_median']} (goal ≤ 1.2: {'met' if figures['goal_met'] else 'NOT met'}), "
        f"p95 {figures['ratio_p95']}; safeclass admit → frame median "
        f"{figures['safeclass_admit_to_frame_median_ms']} ms"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
