"""Benchmark: a whole class on video; the CPU and memory of Janus and of the safeclass server.

1 teacher and 30 pupils publish and receive audio and video through a real safeclass server
for 60 s.

Runs as root in a private network namespace of its own (it re-executes itself under
`unshare -n`; Janus never uses `lo`, so a veth carries 127.0.0.2 for Janus and 127.0.0.3 for the
clients). Nothing is sent outside the namespace.

The server is a separate `safeclass serve --media` process (SQLite in a temp folder; its Janus
is its child, on the veth), so its CPU and memory are its own. The claydon policy needs two
adults: a teacher and an assistant join the room (only the teacher sends media; the assistant
is on the room socket only), the teacher admits the pupils, and every client publishes
synthetic audio (aiortc's silence: Opus, 50 packets/s) and video (a moving gradient, 160x120 at
10 fps by default) with `media_publish`. The teacher turns every pupil's camera on and unmutes
them (`--no-audio`: microphones stay muted, so the SFU drops the pupils' audio), then everyone
sends `media_subscribe` and receives what the room allows (staff see everyone; a pupil sees the
teacher and every admitted pupil): Janus is to forward 31 publishers' audio and video to 30
or 31 subscribers each, some 56,000 packets a second at the nominal rates.

**The clients.** The teacher and the assistant run in this process; the pupils in `--workers`
worker processes (this script with `--pupil-worker`, driven over stdin/stdout), since one
Python process cannot drive 31 aiortc publishers: its threads (encoders, decoders) and its
event loop fight for the GIL and it falls behind. **The pupils do not decode.** Each pupil's
subscription is a real PeerConnection (ICE, DTLS-SRTP: Janus sends to it exactly as to a
browser), but its socket is handed to a small process (bench/rtp_sink.py) that counts the RTP
packets and drops them, and hands STUN and DTLS back to aiortc: RTP is not decrypted, parsed,
buffered or decoded there, and no RTCP receiver reports or NACKs come from the pupils. Through
aiortc every packet would cost some 20 µs of Python: 30 pupils' 54,000 packets a second do not
fit in two cores. The teacher's client counts the same way, by stream (SSRC), so it reports
each pupil's video packets a second (at 160x120 one packet is one frame); with
`--teacher-decodes` it decodes all it receives instead and counts decoded frames, which at 30
pupils this machine cannot keep up with (its socket overflows). aiortc's answers are also
slimmed to what a browser sends (see `slim_answer`).

Measured over `--seconds` once every stream flows (after a `--warmup`): CPU seconds (user +
system, all threads) and % of one core, RSS average and peak, of Janus (`/proc/<pid>`) and of
the safeclass server, and of all the client processes together; RTP packets and bytes received
by all subscribers (what Janus forwarded) and sent by all publishers, and the audio and video
packets a second each received stream carries (Opus sends 50: fewer means the publishing
clients fell behind); what the teacher receives of each pupil's video; datagrams the kernel
dropped for full socket buffers (in this namespace), by whose socket; the clients' event-loop
lag (when it grows, the clients, not Janus, are the bottleneck). This machine has 2 cores for
everything: Janus, server and clients share them (at 30 pupils with microphones open the
machine is saturated and the publishers fall to about 80 % of their packet rate, so Janus's
figure is for the load it got: see `janus_cpu_pct_per_10k_packets_per_s`), and other work on
the machine shows up in the figures too. Prints human-readable lines, then its figures last as
one JSON line.

Run (as root): .venv/bin/python bench/class_load.py [--pupils 30] [--seconds 60]
Quick: .venv/bin/python bench/class_load.py --pupils 5 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiortc import (
    RTCPeerConnection,
)
from aiortc.mediastreams import MediaStreamTrack
from tests.integration.live import Client, free_port, pupil_cookie, staff_cookie
from tests.integration.seed import seed_session
from tests.support.janus_scenario import JANUS_IP, use_client_address
from tests.support.live_media_scenario import ASSISTANT, TEACHER, MediaClient, _ok

from bench.media_common import (
    ROOT,
    SafeclassProcess,
    Usage,
    enter_namespace,
    quiet_closed_connections,
    threads,
    udp_counters,
    udp_socket_drops,
)
from bench.rtp_sink import Counts, RtpSink
from safeclass.adapters.store import connect, upgrade
from safeclass.adapters.store.sessions import load_session
from safeclass.app.clock import SystemClock

SETUP_TIMEOUT = 90.0
RTP_PORTS = (20000, 20999)  # the server's Janus's
WORKER_FLAG = "--pupil-worker"
Size = tuple[int, int, int]


# -- the clients ---------------------------------------------------------------------------------
class Participant(MediaClient):
    """A MediaClient with the benchmark's camera size, and answers as slim as a browser's."""

    def __init__(self, ws: Client, name: str, size: Size) -> None:
        super().__init__(ws, name)
        self.video_size = size
        self.answer_chars: list[tuple[int, int]] = []  # (aiortc's, sent)

    def _answer_sdp(self, sdp: str) -> str:  # as a browser's, and counted
        slim = slim_answer(sdp)
        self.answer_chars.append((len(sdp), len(slim)))
        return slim

    def connected(self) -> bool:
        return self.pub is not None and self.pub.connectionState == "connected"


def slim_answer(sdp: str) -> str:
    """aiortc's answer as a browser's is: one (sha-256) fingerprint, no SSRCs or msid for
    streams it only receives, ICE candidates once (every stream is bundled on the first).

    aiortc writes about 1.2 KB per m-line, twice what a browser does. A class's subscription
    has two m-lines per feed, and safeclass refuses SDPs over 40,000 characters (and the
    server closes the socket on a message over 64 KiB): unslimmed, 30 feeds (71,000
    characters) do not fit."""
    out: list[str] = []
    section = -1
    for line in sdp.split("\r\n"):
        if line.startswith("m="):
            section += 1
        if line.startswith(_DROPPED) or (section > 0 and line.startswith(_DROPPED_LATER)):
            continue
        out.append(line)
    return "\r\n".join(out)


_DROPPED = ("a=fingerprint:sha-384", "a=fingerprint:sha-512", "a=ssrc:", "a=ssrc-group:", "a=msid:")
_DROPPED_LATER = ("a=candidate:", "a=end-of-candidates")


class CountingClient(Participant):
    """A client that receives everything but decodes nothing (see the docstring)."""

    def __init__(self, ws: Client, name: str, size: Size, sink: RtpSink) -> None:
        super().__init__(ws, name, size)
        self.sink = sink
        self.sockets: list[int] = []  # indexes at the sink
        self.video_pts: set[int] = set()
        self.ssrc_mids: dict[int, str] = {}  # from the SFU's offers
        self._hooked: set[int] = set()

    def _on_track(self, track: MediaStreamTrack) -> None:
        pass  # nobody reads the tracks; no RTP reaches their decoders anyway

    async def _accept(self, offer: dict[str, Any]) -> None:
        await super()._accept(offer)
        self.video_pts |= _payload_types(offer["jsep"]["sdp"], "video")
        self.ssrc_mids.update(_ssrc_mids(offer["jsep"]["sdp"]))
        if self.sub is None:
            return
        for transceiver in self.sub.getTransceivers():
            dtls = transceiver.receiver.transport
            if dtls is None:
                continue
            for protocol in dtls.transport._connection._protocols:  # aioice's UDP sockets
                if id(protocol) not in self._hooked and protocol.transport is not None:
                    self._hooked.add(id(protocol))
                    self.sockets.append(self.sink.add(protocol))

    def received(self, counts: Counts) -> list[int]:
        """[RTP packets, RTP bytes, video RTP packets] so far, from the sink's counts."""
        packets = size = video = 0
        for index in self.sockets:
            for (pt, _), (n, b) in counts.get(index, {}).items():
                if pt < 0:
                    continue  # RTCP
                packets, size = packets + n, size + b
                if pt in self.video_pts:
                    video += n
        return [packets, size, video]

    def video_by_source(self, counts: Counts) -> dict[str, int]:
        """Video RTP packets so far by whose stream they are (the names the room shows)."""
        found: dict[str, int] = {}
        for index in self.sockets:
            for (pt, ssrc), (n, _) in counts.get(index, {}).items():
                if pt in self.video_pts:
                    name = self.mids.get(self.ssrc_mids.get(ssrc, ""), {}).get("name", "?")
                    found[name] = found.get(name, 0) + n
        return found

    def video_feeds(self) -> int:
        """Active video streams of named feeds in its subscription."""
        return len(
            {
                s.get("name")
                for s in self.mids.values()
                if s.get("kind") == "video" and s.get("active") and s.get("name")
            }
        )


def _ssrc_mids(sdp: str) -> dict[int, str]:
    """The SSRCs an offer announces, and the mid of each one's m-line."""
    found: dict[int, str] = {}
    mid, ssrcs = "", []
    for line in [*sdp.splitlines(), "m="]:
        if line.startswith("m="):
            found.update(dict.fromkeys(ssrcs, mid))
            mid, ssrcs = "", []
        elif line.startswith("a=mid:"):
            mid = line[6:].strip()
        elif line.startswith("a=ssrc:"):
            ssrcs.append(int(line[7:].split(" ", 1)[0]))
    return found


def _payload_types(sdp: str, kind: str) -> set[int]:
    found: set[int] = set()
    for line in sdp.splitlines():
        if line.startswith(f"m={kind} "):
            found |= {int(pt) for pt in line.split()[3:] if pt.isdigit()}
    return found


async def _transport_totals(pc: RTCPeerConnection | None, sent: bool) -> list[int]:
    """[packets, bytes] sent or received over a PeerConnection's transports so far."""
    if pc is None:
        return [0, 0]
    stats = [s for s in (await pc.getStats()).values() if s.type == "transport"]
    if sent:
        return [sum(s.packetsSent for s in stats), sum(s.bytesSent for s in stats)]
    return [sum(s.packetsReceived for s in stats), sum(s.bytesReceived for s in stats)]


async def _until(check: Any, timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(every)
    return bool(check())


def _local_ports(pc: RTCPeerConnection | None) -> set[int]:
    """The UDP ports a PeerConnection's ICE sockets are bound to."""
    ports: set[int] = set()
    for transceiver in pc.getTransceivers() if pc is not None else []:
        dtls = transceiver.receiver.transport
        for protocol in dtls.transport._connection._protocols if dtls is not None else []:
            if protocol.transport is not None:
                ports.add(protocol.transport.get_extra_info("sockname")[1])
    return ports


def _big_receive_buffers(pc: RTCPeerConnection | None, size: int = 8 << 20) -> None:
    """Room for bursts on a PeerConnection's sockets while its event loop is busy (root may
    exceed net.core.rmem_max with SO_RCVBUFFORCE)."""
    for transceiver in pc.getTransceivers() if pc is not None else []:
        dtls = transceiver.receiver.transport
        for protocol in dtls.transport._connection._protocols if dtls is not None else []:
            if protocol.transport is not None:
                sock = protocol.transport.get_extra_info("socket")
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)


SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def _admitted(m: dict[str, Any]) -> bool:
    return m["type"] == "state" and (m["view"]["me"] or {}).get("status") == "admitted"


def _server(port: int) -> Any:
    """What tests.integration.live.Client needs of a server: its port and origin."""
    return SimpleNamespace(port=port, settings=SimpleNamespace(origin=f"http://127.0.0.1:{port}"))


class LoopLag:
    """How late the event loop wakes up from a 50 ms sleep (its business, in ms)."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            asked = time.monotonic()
            await asyncio.sleep(0.05)
            self.lags.append(1000 * (time.monotonic() - asked - 0.05))

    def take(self) -> list[float]:
        lags, self.lags = self.lags, []
        return lags

    def stop(self) -> None:
        self.task.cancel()


# -- a pupil worker: some of the pupils, in a process of their own ---------------------------------
class PupilWorker:
    """Runs in a worker process: its pupils, told what to do one command at a time."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.server = _server(spec["port"])
        self.session = spec["session"]
        self.passes: list[list[str]] = spec["pupils"]
        self.size: Size = tuple(spec["size"])  # type: ignore[assignment]
        self.sink = RtpSink()
        self.pupils: list[CountingClient] = []
        self.lag = LoopLag()

    async def join(self) -> dict[str, Any]:
        async def one(pid: str, cookie: str) -> None:
            ws = await Client(self.server, self.session, cookie, pid).connect()
            client = CountingClient(ws, pid, self.size, self.sink)
            self.pupils.append(client)
            _ok(await ws.send("join", acknowledged_expectations=True))

        await asyncio.gather(*(one(pid, cookie) for pid, cookie in self.passes))
        return {"pupils": [p.ws.who for p in self.pupils]}

    async def admitted(self) -> dict[str, Any]:
        await asyncio.gather(*(p.ws.wait_for(_admitted, 60) for p in self.pupils))
        return {}

    async def publish(self) -> dict[str, Any]:
        for reply in await asyncio.gather(*(p.publish() for p in self.pupils)):
            _ok(reply)
        up = await _until(lambda: all(p.connected for p in self.pupils), SETUP_TIMEOUT)
        return {"connected": up}

    async def subscribe(self) -> dict[str, Any]:
        for batch in range(0, len(self.pupils), 5):
            replies = await asyncio.gather(*(p.subscribe() for p in self.pupils[batch : batch + 5]))
            for reply in replies:
                _ok(reply)
        return {}

    async def status(self) -> dict[str, Any]:
        counts = await self.sink.counts()
        sent = await asyncio.gather(*(_transport_totals(p.pub, True) for p in self.pupils))
        lags = self.lag.take()
        return {
            "received": [p.received(counts) for p in self.pupils],
            "feeds": [p.video_feeds() for p in self.pupils],
            "sent": [sum(s[0] for s in sent), sum(s[1] for s in sent)],
            "sink_pid": self.sink.pid,
            "lag_ms_p50": statistics.median(lags) if lags else 0.0,
            "lag_ms_max": max(lags, default=0.0),
            "threads": threads("self"),
            "answer_chars": max((a for p in self.pupils for a in p.answer_chars), default=(0, 0)),
            "failures": [f for p in self.pupils for f in p.failures],
        }

    async def stop(self) -> dict[str, Any]:
        await asyncio.gather(*(_quietly(p.close()) for p in self.pupils))
        self.sink.stop()
        self.lag.stop()
        return {}


async def worker_main() -> None:
    """The worker's side of the stdin/stdout protocol: one JSON line in, one out."""
    quiet_closed_connections(asyncio.get_running_loop())
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    worker = PupilWorker(json.loads(await reader.readline()))
    commands = {
        "join": worker.join,
        "admitted": worker.admitted,
        "publish": worker.publish,
        "subscribe": worker.subscribe,
        "status": worker.status,
        "stop": worker.stop,
    }
    while line := await reader.readline():
        command = line.decode().strip()
        try:
            reply = await commands[command]()
        except Exception as exc:
            reply = {"error": f"{command}: {exc!r}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
        if command == "stop":
            return
    await worker.stop()  # the orchestrator went away


class Worker:
    """The orchestrator's handle on a pupil worker process."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.proc: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).resolve()),
            WORKER_FLAG,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
            limit=2**22,
        )
        await self._send(json.dumps(self.spec))

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def _send(self, line: str) -> None:
        assert self.proc is not None
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def call(self, command: str, timeout: float = SETUP_TIMEOUT) -> dict[str, Any]:
        assert self.proc is not None
        assert self.proc.stdout is not None
        async with self.lock:
            await self._send(command)
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"pupil worker {self.pid} exited during {command}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"pupil worker {self.pid}: {reply['error']}")
        return reply

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(Exception):
            await self.call("stop", timeout=30)
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def _quietly(work: Any) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(work, 10)


# -- the run -------------------------------------------------------------------------------------
async def seed(url: str, pupils: int) -> dict[str, Any]:
    """The class, its two staff and a pass for every pupil, before the server starts."""
    engine = connect(url)
    try:
        services: Any = SimpleNamespace(engine=engine, clock=SystemClock())
        now = dt.datetime.now(dt.UTC)
        session = await seed_session(
            engine, "claydon", pupils=pupils, starts_at=now + dt.timedelta(minutes=2)
        )
        school = (await load_session(engine, session)).school_id
        staff = [
            await staff_cookie(services, school, role, name, on_session=session)
            for role, name in (("teacher", TEACHER), ("assistant", ASSISTANT))
        ]
        passes = [
            [f"p{i}", await pupil_cookie(services, school, session, f"p{i}")]
            for i in range(1, pupils + 1)
        ]
    finally:
        await engine.dispose()
    return {"session": session, "staff": staff, "pupils": passes}


async def lesson(
    args: argparse.Namespace, port: int, seeded: dict[str, Any], server: SafeclassProcess
) -> dict[str, Any]:
    quiet_closed_connections(asyncio.get_running_loop())
    size: Size = (args.width, args.height, args.fps)
    session = seeded["session"]
    staff: list[Participant] = []
    passes = seeded["pupils"]
    shares = [passes[i :: args.workers] for i in range(args.workers) if passes[i :: args.workers]]
    workers = [
        Worker({"port": port, "session": session, "pupils": share, "size": size})
        for share in shares
    ]
    teacher_sink = None if args.teacher_decodes else RtpSink()
    try:
        for (sid, cookie), name in zip(seeded["staff"], (TEACHER, ASSISTANT), strict=True):
            ws = await Client(_server(port), session, cookie, sid).connect()
            if name == TEACHER and teacher_sink is not None:
                member: Participant = CountingClient(ws, name, size, teacher_sink)
            else:
                member = Participant(ws, name, size)
            staff.append(member)
            _ok(await ws.send("join"))
        teacher = staff[0]

        async def at_teacher() -> dict[str, int]:
            """What the teacher has received of each pupil's video so far: decoded frames, or
            RTP packets when the teacher does not decode."""
            if isinstance(teacher, CountingClient) and teacher_sink is not None:
                return teacher.video_by_source(await teacher_sink.counts())
            return {name: teacher.count(name, "video", 0) for name in pupil_names}

        async def teacher_rx() -> list[int]:
            if isinstance(teacher, CountingClient) and teacher_sink is not None:
                return teacher.received(await teacher_sink.counts())[:2]
            return await _transport_totals(teacher.sub, False)

        lag = LoopLag()

        async def everywhere(command: str) -> list[dict[str, Any]]:
            return list(await asyncio.gather(*(w.call(command) for w in workers)))

        t0 = time.monotonic()
        await asyncio.gather(*(w.start() for w in workers))
        pids = [pid for reply in await everywhere("join") for pid in reply["pupils"]]
        _ok(await teacher.ws.send("admit", pupils=pids))
        await everywhere("admitted")
        names = {p["id"]: p["name"] for p in teacher.ws.view()["people"]}
        print(
            f"{len(pids)} pupils in {len(workers)} worker processes admitted in "
            f"{time.monotonic() - t0:.1f} s",
            flush=True,
        )

        # everyone publishes; the teacher lets the pupils' media through; then everyone
        # subscribes (once the publishers are up: one offer each, not a storm of new offers)
        t1 = time.monotonic()
        published = await asyncio.gather(teacher.publish(), everywhere("publish"))
        _ok(published[0])
        up = all(r["connected"] for r in published[1]) and await _until(
            lambda: teacher.connected, SETUP_TIMEOUT
        )
        refused: list[str] = []
        for pid in pids:
            for kind in ["camera_on"] + (["unmute"] if args.audio else []):
                reply = await teacher.ws.send(kind, target=pid)
                if reply["type"] != "ok":
                    refused.append(f"{kind} {pid}: {reply.get('message')}")
        await asyncio.sleep(1.0)  # the last webrtcups reach the server
        print(
            f"{len(pids) + 1} publishing in {time.monotonic() - t1:.1f} s"
            + ("" if up else " (NOT all connected)")
            + (f"; refused: {refused[:3]}" if refused else ""),
            flush=True,
        )
        t2 = time.monotonic()
        _ok(await teacher.subscribe())
        if args.teacher_decodes:
            _big_receive_buffers(teacher.sub)
        await everywhere("subscribe")
        pupil_names = [names.get(pid, pid) for pid in pids]
        seen_before = await at_teacher()
        complete = False
        deadline = time.monotonic() + SETUP_TIMEOUT
        while not complete and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
            statuses = await everywhere("status")
            seen = await at_teacher()
            teacher_sees = all(seen.get(name, 0) > seen_before.get(name, 0) for name in pupil_names)
            pupils_see = all(
                feeds >= len(pids) and received[2] > 0
                for s in statuses
                for feeds, received in zip(s["feeds"], s["received"], strict=True)
            )
            complete = teacher_sees and pupils_see
        print(
            f"subscriptions up in {time.monotonic() - t2:.1f} s"
            + ("" if complete else " (NOT every stream flowing: measuring anyway)"),
            flush=True,
        )
        await asyncio.sleep(args.warmup)

        # -- the measuring window ----------------------------------------------------------
        statuses = await everywhere("status")
        server_side = [Usage("janus", server.janus_pid()), Usage("safeclass server", server.pid)]
        clients = [Usage("teacher's client", "self")]
        if teacher_sink is not None:
            clients.append(Usage("rtp sink", teacher_sink.pid))
        for w, s in zip(workers, statuses, strict=True):
            clients += [Usage("pupil worker", w.pid), Usage("rtp sink", s["sink_pid"])]
        usages = server_side + clients

        async def counters() -> dict[str, Any]:
            statuses = await everywhere("status")
            return {
                "t": time.monotonic(),
                "statuses": statuses,
                "teacher_rx": await teacher_rx(),
                "teacher_video": await at_teacher(),
                "teacher_tx": await _transport_totals(teacher.pub, True),
            }

        before = await counters()
        udp_before, drops_before = udp_counters(), udp_socket_drops()
        for usage in usages:
            usage.start()
        lag.take()
        t_start = time.monotonic()
        while time.monotonic() < t_start + args.seconds:
            await asyncio.sleep(min(1.0, max(0.0, t_start + args.seconds - time.monotonic())))
            for usage in usages:
                usage.sample()
        for usage in usages:
            usage.stop()
        teacher_lags = lag.take()
        udp_after, drops_after = udp_counters(), udp_socket_drops()
        after = await counters()
        teacher_ports = _local_ports(teacher.sub)
        lag.stop()
    finally:
        await asyncio.gather(*(w.stop() for w in workers))  # pupils leave first: no hold
        await asyncio.gather(*(_quietly(c.close()) for c in staff))
        if teacher_sink is not None:
            teacher_sink.stop()

    window = after["t"] - before["t"]
    streams = max(1, len(pids) ** 2)  # audio or video streams received by all the pupils
    udp = {k: udp_after.get(k, 0) - v for k, v in udp_before.items()}
    low, high = RTP_PORTS
    drops = {"janus": 0, "teacher": 0, "pupils": 0}
    for (ip, port), n in drops_after.items():
        n -= drops_before.get((ip, port), 0)
        if ip == JANUS_IP and low <= port <= high:
            drops["janus"] += n
        elif port in teacher_ports:
            drops["teacher"] += n
        else:
            drops["pupils"] += n  # their subscriptions (and every client's publishing socket)

    def pupils_of(counter: dict[str, Any]) -> list[list[int]]:
        return [r for s in counter["statuses"] for r in s["received"]]

    per_pupil = [
        [b - a for a, b in zip(x, y, strict=True)]
        for x, y in zip(pupils_of(before), pupils_of(after), strict=True)
    ]
    pairs = list(zip(before["statuses"], after["statuses"], strict=True))
    sent_packets, sent_bytes = (
        sum(b["sent"][i] - a["sent"][i] for a, b in pairs)
        + after["teacher_tx"][i]
        - before["teacher_tx"][i]
        for i in (0, 1)
    )
    rx_packets = sum(p[0] for p in per_pupil) + after["teacher_rx"][0] - before["teacher_rx"][0]
    rx_bytes = sum(p[1] for p in per_pupil) + after["teacher_rx"][1] - before["teacher_rx"][1]
    worker_lags = after["statuses"]
    return {
        "server_side": server_side,
        "clients": clients,
        "window_s": window,
        "complete": complete,
        "refused": refused,
        "forwarded_packets_per_s": rx_packets / window,
        "forwarded_mbit_per_s": 8 * rx_bytes / window / 1e6,
        "published_packets_per_s": sent_packets / window,
        "published_mbit_per_s": 8 * sent_bytes / window / 1e6,
        "pupil_rx_packets_per_s": [p[0] / window for p in per_pupil],
        "pupil_rx_kbit_per_s": [8 * p[1] / window / 1000 for p in per_pupil],
        "pupil_video_packets_per_s": sum(p[2] for p in per_pupil) / window,
        # each pupil receives the teacher's streams and every other pupil's
        "per_stream_audio_per_s": sum(p[0] - p[2] for p in per_pupil) / window / streams,
        "per_stream_video_per_s": sum(p[2] for p in per_pupil) / window / streams,
        "teacher_video_per_s": [  # frames, or RTP packets when the teacher does not decode
            (after["teacher_video"].get(name, 0) - before["teacher_video"].get(name, 0)) / window
            for name in pupil_names
        ],
        "teacher_lag_ms_p50": statistics.median(teacher_lags) if teacher_lags else 0.0,
        "teacher_lag_ms_max": max(teacher_lags, default=0.0),
        "workers_lag_ms_p50": max(s["lag_ms_p50"] for s in worker_lags),
        "workers_lag_ms_max": max(s["lag_ms_max"] for s in worker_lags),
        "udp_in_per_s": udp.get("InDatagrams", 0) / window,
        "udp_rcvbuf_errors_per_s": udp.get("RcvbufErrors", 0) / window,
        "udp_sndbuf_errors_per_s": udp.get("SndbufErrors", 0) / window,
        "drops_per_s": {k: v / window for k, v in drops.items()},
        "answer_chars": max(
            [tuple(s["answer_chars"]) for s in worker_lags]
            + [a for c in staff for a in c.answer_chars]
        ),
        "failures": [f for s in worker_lags for f in s["failures"]]
        + [f for c in staff for f in c.failures],
    }


def _sum_usage(usages: list[Usage]) -> dict[str, float]:
    window = max(u.t_end - u.t_start for u in usages)
    cpu = sum(u.cpu_s for u in usages)
    return {
        "cpu_s": cpu,
        "cpu_pct": 100 * cpu / window if window > 0 else 0.0,
        "rss_mb_peak": sum(u.rss_peak for u in usages),
    }


def main() -> None:
    if WORKER_FLAG in sys.argv:
        use_client_address()  # in the namespace the orchestrator made
        logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
        asyncio.run(worker_main())
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60.0, help="the measuring window")
    parser.add_argument("--warmup", type=float, default=3.0, help="s of flowing media first")
    parser.add_argument("--workers", type=int, default=3, help="pupil worker processes")
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--height", type=int, default=120)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument(
        "--audio",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="unmute the pupils (default), or leave their microphones muted at the SFU",
    )
    parser.add_argument(
        "--teacher-decodes",
        action="store_true",
        help="the teacher's client decodes what it receives (by default it counts, as the pupils)",
    )
    args = parser.parse_args()
    enter_namespace()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        url = f"sqlite+aiosqlite:///{data / 'safeclass.db'}"
        upgrade(url)
        seeded = asyncio.run(seed(url, args.pupils))
        port = free_port()
        server = SafeclassProcess(data, url, port, rtp_ports=RTP_PORTS)
        try:
            asyncio.run(server.ready())
            print(f"safeclass server {server.pid} up, its Janus {server.janus_pid()}", flush=True)
            budget = args.seconds + args.warmup + 4 * SETUP_TIMEOUT
            result = asyncio.run(asyncio.wait_for(lesson(args, port, seeded, server), budget))
        finally:
            server.stop()
    report(args, result)


def report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    janus, srv = result["server_side"]
    clients = _sum_usage(result["clients"])
    for usage in result["server_side"]:
        print(usage.line())
    print(
        f"clients ({len(result['clients'])} processes: teacher, pupil workers, RTP sinks): CPU "
        f"{clients['cpu_s']:.1f} s = {clients['cpu_pct']:.1f} % of a core, RSS peak "
        f"{clients['rss_mb_peak']:.0f} MB"
    )
    fps, rx = result["teacher_video_per_s"], result["pupil_rx_packets_per_s"]
    unit = "decoded frames/s" if args.teacher_decodes else "video packets/s"
    kbit = result["pupil_rx_kbit_per_s"]
    print(
        f"forwarded by Janus: {result['forwarded_packets_per_s']:.0f} packets/s, "
        f"{result['forwarded_mbit_per_s']:.1f} Mbit/s (published: "
        f"{result['published_packets_per_s']:.0f} packets/s, "
        f"{result['published_mbit_per_s']:.2f} Mbit/s); per pupil received "
        f"{statistics.mean(rx):.0f} packets/s ({statistics.mean(kbit):.0f} kbit/s), min "
        f"{min(rx):.0f}; at the teacher {statistics.mean(fps):.1f} {unit} per pupil (min "
        f"{min(fps):.1f}; each camera sends {args.fps} frames/s); each stream a pupil receives "
        f"carries {result['per_stream_audio_per_s']:.1f} audio packets/s (Opus sends 50; fewer "
        f"when the clients fall behind) and {result['per_stream_video_per_s']:.1f} video packets/s"
    )
    print(
        f"UDP datagrams in {result['udp_in_per_s']:.0f}/s, dropped for full socket buffers "
        f"{result['udp_rcvbuf_errors_per_s']:.0f}/s (at Janus "
        f"{result['drops_per_s']['janus']:.0f}/s, the teacher "
        f"{result['drops_per_s']['teacher']:.0f}/s, the pupils "
        f"{result['drops_per_s']['pupils']:.0f}/s); event-loop lag p50/max: teacher "
        f"{result['teacher_lag_ms_p50']:.0f}/{result['teacher_lag_ms_max']:.0f} ms, pupil "
        f"workers {result['workers_lag_ms_p50']:.0f}/{result['workers_lag_ms_max']:.0f} ms"
    )
    key = "fps" if args.teacher_decodes else "video_packets_per_s"
    if result["failures"] or result["refused"]:
        print(f"failures: {result['failures'][:5]}; refused: {result['refused'][:5]}")
    figures = {
        "bench": "class_load",
        "pupils": args.pupils,
        "seconds": args.seconds,
        "workers": args.workers,
        "video": f"{args.width}x{args.height}@{args.fps}",
        "pupil_audio": args.audio,
        "pupils_decode": False,
        "window_s": round(result["window_s"], 1),
        "every_stream_flowing": result["complete"],
        **janus.figures("janus"),
        **srv.figures("server"),
        "clients_cpu_pct": round(clients["cpu_pct"], 1),
        "clients_rss_mb_peak": round(clients["rss_mb_peak"], 1),
        "cpu_pct_total": round(janus.cpu_pct + srv.cpu_pct + clients["cpu_pct"], 1),
        "forwarded_packets_per_s": round(result["forwarded_packets_per_s"]),
        "forwarded_mbit_per_s": round(result["forwarded_mbit_per_s"], 2),
        "published_packets_per_s": round(result["published_packets_per_s"]),
        "published_mbit_per_s": round(result["published_mbit_per_s"], 2),
        "pupil_rx_packets_per_s_avg": round(statistics.mean(rx), 1),
        "pupil_rx_packets_per_s_min": round(min(rx), 1),
        "pupil_rx_kbit_per_s_avg": round(statistics.mean(kbit), 1),
        "pupil_video_packets_per_s": round(result["pupil_video_packets_per_s"]),
        "audio_packets_per_s_per_stream": round(result["per_stream_audio_per_s"], 1),
        "video_packets_per_s_per_stream": round(result["per_stream_video_per_s"], 1),
        "janus_cpu_pct_per_10k_packets_per_s": round(
            janus.cpu_pct / max(1e-9, result["forwarded_packets_per_s"] / 10_000), 2
        ),
        "teacher_decodes": args.teacher_decodes,
        f"teacher_{key}_per_pupil_avg": round(statistics.mean(fps), 2),
        f"teacher_{key}_per_pupil_min": round(min(fps), 2),
        "udp_datagrams_in_per_s": round(result["udp_in_per_s"]),
        "udp_rcvbuf_drops_per_s": round(result["udp_rcvbuf_errors_per_s"]),
        "udp_sndbuf_drops_per_s": round(result["udp_sndbuf_errors_per_s"]),
        **{f"udp_drops_per_s_at_{k}": round(v) for k, v in result["drops_per_s"].items()},
        "teacher_loop_lag_ms_p50": round(result["teacher_lag_ms_p50"], 1),
        "teacher_loop_lag_ms_max": round(result["teacher_lag_ms_max"], 1),
        "workers_loop_lag_ms_p50": round(result["workers_lag_ms_p50"], 1),
        "workers_loop_lag_ms_max": round(result["workers_lag_ms_max"], 1),
        "answer_sdp_chars_max_aiortc": result["answer_chars"][0],
        "answer_sdp_chars_max_sent": result["answer_chars"][1],
        "client_failures": len(result["failures"]),
        "refused": len(result["refused"]),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
