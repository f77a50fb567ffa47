"""Benchmark: a join storm. N classes of 30 pupils open their links within T seconds.

For every pupil: open the invitation link (HTTP, the real `/join/{token}` exchange), connect the
room's WebSocket with the pupil cookie, send `join`, and wait until the server says "waiting";
then that class's teacher admits the pupil and we wait until the pupil's own view says
"admitted". The server is a separate `safeclass serve` process on loopback (SQLite by default,
`--postgres` for the local PostgreSQL), so its CPU time and peak memory are its own.

Goal (issue 4): 40 classes (1,200 pupil sockets, plus 80 staff) within 60 s on this machine,
p99 under 100 ms for both latencies, server under 500 MB. Prints its figures last as one JSON
line. Run: .venv/bin/python bench/join_storm.py [--classes 40] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.live import free_port

from bench.bench_school import add_class, fresh_pg_database, staff_cookie
from bench.server_process import ServerProcess
from safeclass.adapters.store import connect, school_records, upgrade
from safeclass.adapters.store.invitations import StoreInvitations
from safeclass.adapters.store.sessions import create_session
from safeclass.app import invitations
from safeclass.app.delivery import Letter
from safeclass.core import SessionKind
from safeclass.policy.loading import preset_path

PUPILS = 30
PHASES: dict[str, list[float]] = {"open_link": [], "connect": [], "join": []}


class Capture:
    """A letter channel that keeps the links in memory (the bench plays every family)."""

    name = "bench"

    def __init__(self) -> None:
        self.links: dict[str, str] = {}

    def reaches(self, letter: Letter) -> bool:
        return True

    async def deliver(self, letter: Letter) -> None:
        self.links[letter.pupil_id] = letter.link


@dataclass
class Klass:
    session_id: str
    staff_cookies: list[str]
    links: dict[str, str]
    waiting: asyncio.Queue[tuple[str, float]] = field(default_factory=asyncio.Queue)
    admitted_at: dict[str, float] = field(default_factory=dict)
    staffed: asyncio.Event = field(default_factory=asyncio.Event)  # both staff are in the room


async def setup(url: str, classes: int, public_url: str) -> list[Klass]:
    """A school with `classes` classes of 30, two staff each, a session each starting soon."""
    engine = connect(url)
    now = dt.datetime.now(dt.UTC)
    toml = preset_path("claydon").read_text(encoding="utf-8")
    from safeclass.policy import loads

    policy = loads(toml)
    made: list[Klass] = []
    try:
        async with engine.begin() as conn:
            school = await school_records.create_school(conn, policy, toml, key="bench", now=now)
            version = await school_records.current_policy_version(conn, school.id)
        for k in range(classes):
            async with engine.begin() as conn:
                class_id, ids, staff_ids = await add_class(
                    conn, school.id, f"Class {k}", k, PUPILS, now
                )
                cookies = [
                    await staff_cookie(conn, school.id, staff_id, now, hours=2)
                    for staff_id in staff_ids
                ]
                session_id = await create_session(
                    conn,
                    school_id=school.id,
                    policy_version_id=version.id,
                    kind=SessionKind.CLASS,
                    title=f"Class {k}",
                    starts_at=now + dt.timedelta(minutes=3),
                    minutes=30,
                    pupils=[(pid, f"Pupil {i}") for i, pid in enumerate(ids)],
                    staff_ids=staff_ids,
                    class_id=class_id,
                )
            capture = Capture()
            await invitations.send_invitations(
                StoreInvitations(engine),
                school_id=school.id,
                session_id=session_id,
                channels=[capture],
                public_url=public_url,
                now=now,
            )
            made.append(Klass(session_id, cookies, capture.links))
    finally:
        await engine.dispose()
    return made


class Socket:
    """A WebSocket client that answers heartbeats and lets callers wait for a state."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.states: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message = orjson.loads(raw)  # the instrument's own cost: kept small
                if message["type"] == "ping":
                    await self.ws.send('{"type":"pong"}')
                elif message["type"] == "state":
                    self.states.put_nowait(message["view"])
        except websockets.ConnectionClosed:
            pass

    async def until(self, predicate: Any) -> None:
        while not predicate(await self.states.get()):
            pass


async def open_socket(port: int, session_id: str, cookie: str) -> Socket:
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/sessions/{session_id}",
        additional_headers={"Cookie": cookie},
        origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
        open_timeout=30,
        max_size=2**20,
    )
    return Socket(ws)


def _present(view: dict[str, Any]) -> set[str]:
    """Who the staff view says is connected in the room."""
    return {p["id"] for p in view.get("people", []) if p["status"] == "admitted" and p["connected"]}


def _status(view: dict[str, Any]) -> str | None:
    me = view.get("me")
    return me["status"] if me else None


async def pupil(
    http: httpx.AsyncClient,
    port: int,
    klass: Klass,
    pid: str,
    start_at: float,
    link_ms: list[float],
    sockets: list[Socket],
) -> None:
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    began = time.perf_counter()
    try:
        opened = await http.get(klass.links[pid])
    except (httpx.ReadError, httpx.RemoteProtocolError):  # a kept-alive connection the server
        opened = await http.get(klass.links[pid])  # closed as it was reused: tried again, as a
        # browser does (the bench's pupils share connections to spare the clients' own CPU)
    cookie = opened.headers["set-cookie"].split(";", 1)[0]
    got_cookie = time.perf_counter()
    sock = await open_socket(port, klass.session_id, cookie)
    sockets.append(sock)
    connected = time.perf_counter()
    await sock.ws.send(json.dumps({"type": "join", "acknowledged_expectations": True}))
    await sock.until(lambda v: _status(v) == "waiting")
    done = time.perf_counter()
    link_ms.append((done - began) * 1000)
    PHASES["open_link"].append((got_cookie - began) * 1000)
    PHASES["connect"].append((connected - got_cookie) * 1000)
    PHASES["join"].append((done - connected) * 1000)
    admitted = asyncio.create_task(sock.until(lambda v: _status(v) == "admitted"))
    await klass.waiting.put((pid, time.perf_counter()))
    await admitted
    klass.admitted_at[pid] = time.perf_counter()


async def teacher(
    port: int, klass: Klass, admit_sent: dict[str, float], sockets: list[Socket]
) -> None:
    staff = [await open_socket(port, klass.session_id, c) for c in klass.staff_cookies]
    sockets.extend(staff)
    for sock in staff:
        await sock.ws.send('{"type":"join"}')
        await sock.until(lambda v: v.get("kind") == "staff" and v.get("you") in _present(v))
    klass.staffed.set()
    lead = staff[0]
    for _ in range(PUPILS):
        pid, _ = await klass.waiting.get()
        admit_sent[pid] = time.perf_counter()
        await lead.ws.send(json.dumps({"type": "admit", "pupils": [pid]}))


async def storm(port: int, classes: list[Klass], seconds: float) -> dict[str, Any]:
    """The storm, with this process's collector off while it runs: the clients hold thousands of
    sockets, and a collection of their objects paused every pupil in flight for 250-430 ms
    (seen with gc.callbacks), which the figures then counted as the server's. The garbage they
    make in a few minutes is a few hundred thousand objects, collected at the end."""
    gc.disable()
    try:
        return await _storm(port, classes, seconds)
    finally:
        gc.enable()
        gc.collect()


async def _storm(port: int, classes: list[Klass], seconds: float) -> dict[str, Any]:
    sockets: list[Socket] = []
    link_ms: list[float] = []
    admit_sent: dict[str, float] = {}
    teachers = [asyncio.create_task(teacher(port, k, admit_sent, sockets)) for k in classes]
    # staff in first, every class's (the two-adult rule must hold before admitting), and their
    # arrival is not timed: the pupils' storm starts once they are all in
    await asyncio.gather(*(k.staffed.wait() for k in classes))
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        t0 = time.perf_counter() + 0.5
        jobs = [(k, pid, t0 + random.uniform(0, seconds)) for k in classes for pid in k.links]
        began = time.perf_counter()
        await asyncio.gather(
            *(pupil(http, port, k, pid, at, link_ms, sockets) for k, pid, at in jobs)
        )
        elapsed = time.perf_counter() - began
    await asyncio.gather(*teachers)
    admit_ms = [
        (k.admitted_at[pid] - admit_sent[pid]) * 1000 for k in classes for pid in k.admitted_at
    ]
    for sock in sockets:
        await sock.ws.close()
    return {"link_ms": link_ms, "admit_ms": admit_ms, "elapsed_s": elapsed, "sockets": len(sockets)}


def _p(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=100)[int(q) - 1], 1) if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--postgres", action="store_true", help="use the local PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        url = f"sqlite+aiosqlite:///{data / 'safeclass.db'}"
        if args.postgres:
            url, _ = fresh_pg_database("safeclass_storm")  # kept afterwards, to look into
        upgrade(url)
        classes = asyncio.run(setup(url, args.classes, public))
        server = ServerProcess(data, url, port)
        try:
            asyncio.run(server.ready())
            cpu_before = server.cpu_seconds()
            paused_before = asyncio.run(server.collector_pauses())
            result = asyncio.run(storm(port, classes, args.seconds))
            cpu = server.cpu_seconds() - cpu_before
            peak = server.peak_mb()
            paused = asyncio.run(server.collector_pauses())
        finally:
            server.stop()
    link, admit = result["link_ms"], result["admit_ms"]
    print(
        f"{len(link)} pupils of {args.classes} classes joined over {result['elapsed_s']:.1f} s; "
        f"link→waiting p50 {statistics.median(link):.1f} ms p99 {_p(link, 99)} ms; "
        f"admit→admitted p50 {statistics.median(admit):.1f} ms p99 {_p(admit, 99)} ms; "
        f"server CPU {cpu:.1f} s, peak {peak:.0f} MB"
    )
    print(
        json.dumps(
            {
                "bench": "join_storm",
                "database": "postgres" if args.postgres else "sqlite",
                "classes": args.classes,
                "pupils": len(link),
                "sockets": result["sockets"],
                "window_s": args.seconds,
                "link_to_waiting_ms_p50": round(statistics.median(link), 1),
                "link_to_waiting_ms_p99": _p(link, 99),
                "admit_to_admitted_ms_p50": round(statistics.median(admit), 1),
                "admit_to_admitted_ms_p99": _p(admit, 99),
                **{f"{k}_ms_p99": _p(v, 99) for k, v in PHASES.items()},
                "server_cpu_s": round(cpu, 1),
                "server_cpu_percent": round(100 * cpu / result["elapsed_s"], 1),
                "server_peak_mb": round(peak, 1),
                **{f"server_{k}": round(paused[k] - paused_before[k], 1) for k in paused},
            }
        )
    )


if __name__ == "__main__":
    main()
