"""A real cluster on loopback for tests: N `safeclass serve` workers and HAProxy in front.

`Cluster` starts each worker as its own process (bench/server_process.py's `ServerProcess`, as
the other tests that kill a server do) with its worker id (w1, w2, ...), one PostgreSQL
database, one server secret file, its own data folder and port, `--no-media` unless asked, and
SAFECLASS_TRUSTED_PROXIES=127.0.0.1 (HAProxy's address as the workers see it); then HAProxy
with the configuration `safeclass cluster config` generates (cli/haproxy_config.py), on a free
port, in the foreground, with its admin socket in the test's folder so a test can see what
HAProxy thinks of each worker. Every worker's public address is HAProxy's.

A test can `kill` a worker with any signal, `pause` and `resume` it (SIGSTOP, SIGCONT),
`restart` it on the same port, read its log (every run of it), count the sockets it holds
(its /metrics), and always gets everything stopped, paused workers included.

`RoomSocket` is the tests' room client (tests/integration/live.py) connecting to any door (a
worker, or HAProxy) from a chosen loopback address (127.0.0.0/8 is all loopback, so each
pupil can have an address of their own) with extra headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import websockets
from bench.server_process import ServerProcess
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.server_secret import ServerSecret
from safeclass.adapters.store import school_records
from safeclass.adapters.store.db import upgrade_async
from safeclass.adapters.store.sessions import create_session
from safeclass.app.clock import SystemClock
from safeclass.cli.haproxy_config import Worker, haproxy_config
from safeclass.core import SessionKind
from tests.integration.conftest import PG_URL
from tests.integration.families import School, make_school
from tests.integration.live import Client, free_port

HAPROXY = shutil.which("haproxy")
METRICS_TOKEN = "cluster-test-metrics-token-0123456789abcdef"  # noqa: S105 (a test's own)
_SOCKETS = re.compile(r'^safeclass_sockets\{role="(\w+)"\} ([0-9.e+]+)$', re.MULTILINE)


@contextlib.asynccontextmanager
async def pg_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards); yields its URL."""
    name = f"safeclass_c_{uuid.uuid4().hex[:12]}"
    admin = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = PG_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@dataclass
class ClusterWorker:
    """One worker process, and the logs of its earlier runs (before a restart)."""

    name: str
    port: int
    data_dir: Path
    process: ServerProcess
    earlier_logs: list[Path] = field(default_factory=list)
    paused: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid


class Cluster:
    """N workers and HAProxy (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        database_url: str,
        size: int = 3,
        *,
        media: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        self.database_url = database_url
        self.names = [f"w{n}" for n in range(1, size + 1)]
        self.media = media
        self.env = env or {}
        self.port = free_port()  # HAProxy's: the cluster's public address
        self.public_url = f"http://127.0.0.1:{self.port}"
        self.settings = SimpleNamespace(origin=self.public_url)  # what a RoomSocket needs
        self.secret_file = root / "secret.key"
        self.config_file = root / "haproxy.cfg"
        self.stats_socket = root / "haproxy.sock"
        self.haproxy_log = root / "haproxy.log"
        self.workers: dict[str, ClusterWorker] = {}
        self._ports = {name: free_port() for name in self.names}
        self._haproxy: subprocess.Popen[bytes] | None = None
        self._haproxy_out: Any = None

    # -- starting and stopping ----------------------------------------------------------------

    async def start(self) -> Cluster:
        if HAPROXY is None:
            raise RuntimeError("haproxy is not installed (scripts/install --dev installs it)")
        self.root.mkdir(parents=True, exist_ok=True)
        secret = ServerSecret.load_or_create(self.secret_file)  # before any worker: one secret
        await upgrade_async(self.database_url, secret=secret)
        for name in self.names:
            self.workers[name] = self._spawn(name)
        await asyncio.gather(*(w.process.ready() for w in self.workers.values()))
        workers = [Worker(name, "127.0.0.1", self._ports[name]) for name in self.names]
        self.config_file.write_text(
            haproxy_config(
                workers,
                bind=f"127.0.0.1:{self.port}",
                user=None,
                log_target="stdout",
                stats_socket=self.stats_socket,
                maxconn=4000,
            )
        )
        self._haproxy_out = open(self.haproxy_log, "wb")  # noqa: SIM115 (closed in stop)
        self._haproxy = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(self.config_file)],
            stdout=self._haproxy_out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        await self.wait_for_states({name: "UP" for name in self.names}, timeout=15)
        return self

    def _spawn(self, name: str) -> ClusterWorker:
        data_dir = self.root / name
        env = {
            "SAFECLASS_WORKER_ID": name,
            "SAFECLASS_PUBLIC_URL": self.public_url,
            "SAFECLASS_SECRET_FILE": str(self.secret_file),
            "SAFECLASS_TRUSTED_PROXIES": "127.0.0.1",
            "SAFECLASS_METRICS_TOKEN": METRICS_TOKEN,
            **self.env,
        }
        process = ServerProcess(
            data_dir, self.database_url, self._ports[name], media=self.media, env=env
        )
        earlier = self.workers[name].earlier_logs if name in self.workers else []
        return ClusterWorker(name, self._ports[name], data_dir, process, earlier)

    async def stop(self) -> None:
        """Stop HAProxy and every worker (paused ones are resumed first, to hear SIGINT)."""
        if self._haproxy is not None and self._haproxy.poll() is None:
            self._haproxy.terminate()
            try:
                self._haproxy.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._haproxy.kill()
                self._haproxy.wait(timeout=5)
        if self._haproxy_out is not None:
            self._haproxy_out.close()
        running = [w for w in self.workers.values() if w.process.proc.poll() is None]
        for worker in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGCONT)
                os.kill(worker.pid, signal.SIGINT)
        deadline = time.monotonic() + 20
        for worker in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for worker in self.workers.values():
            worker.process.stop(timeout=5)  # SIGKILL for any left; closes its log

    # -- doing things to workers --------------------------------------------------------------

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send a signal to a worker; with SIGKILL (the default), wait until it is gone."""
        worker = self.workers[name]
        os.kill(worker.pid, sig)
        if sig is signal.SIGKILL:
            worker.process.proc.wait(timeout=10)

    def pause(self, name: str) -> None:
        """SIGSTOP: the worker keeps its sockets and its port but does nothing at all."""
        self.kill(name, signal.SIGSTOP)
        self.workers[name].paused = True

    def resume(self, name: str) -> None:
        self.kill(name, signal.SIGCONT)
        self.workers[name].paused = False

    async def restart(self, name: str) -> ClusterWorker:
        """Stop the worker if it runs (killed if paused), and start it again on its port."""
        old = self.workers[name]
        if old.process.proc.poll() is None:
            if old.paused:
                old.process.proc.kill()
            old.process.stop(timeout=10)
        old.process.stop(timeout=1)  # closes its log
        kept = old.data_dir / f"server.{len(old.earlier_logs) + 1}.log"
        old.process.log_path.rename(kept)
        old.earlier_logs.append(kept)
        self.workers[name] = worker = self._spawn(name)
        await worker.process.ready()
        return worker

    # -- what a test reads --------------------------------------------------------------------

    def log(self, name: str) -> str:
        """Everything the worker wrote, over every run of it."""
        worker = self.workers[name]
        runs = [*worker.earlier_logs, worker.process.log_path]
        return "".join(p.read_text(errors="replace") for p in runs if p.exists())

    def haproxy_output(self) -> str:
        return self.haproxy_log.read_text(errors="replace") if self.haproxy_log.exists() else ""

    async def states(self) -> dict[str, str]:
        """What HAProxy thinks of each worker now ("UP", "DOWN", ...), from its admin socket."""
        text = await asyncio.to_thread(self._admin, "show stat")
        lines = text.splitlines()
        header = lines[0].lstrip("# ").split(",")
        states: dict[str, str] = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("pxname") == "rooms" and row.get("svname") in self.names:
                states[row["svname"]] = row["status"].split()[0]
        return states

    async def wait_for_states(self, wanted: dict[str, str], timeout: float = 10) -> float:
        """Wait until HAProxy sees each named worker so; how long that took, in seconds."""
        start = time.monotonic()
        states: dict[str, str] = {}
        while time.monotonic() - start < timeout:
            if self._haproxy is not None and self._haproxy.poll() is not None:
                raise RuntimeError(f"haproxy exited:\n{self.haproxy_output()}")
            with contextlib.suppress(OSError, IndexError):
                states = await self.states()
                if all(states.get(name) == state for name, state in wanted.items()):
                    return time.monotonic() - start
            await asyncio.sleep(0.05)
        raise TimeoutError(f"HAProxy's view of the workers is {states}, not {wanted}")

    def _admin(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(self.stats_socket))
            s.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    async def sockets(self, name: str) -> dict[str, int]:
        """The room sockets a worker holds now, by role ("staff", "pupil"), from /metrics."""
        async with httpx.AsyncClient(timeout=5) as http:
            reply = await http.get(
                f"{self.workers[name].url}/metrics",
                headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            )
        reply.raise_for_status()
        return {role: int(float(n)) for role, n in _SOCKETS.findall(reply.text)}

    async def holders(self) -> dict[str, dict[str, int]]:
        """Each running, unpaused worker's sockets with any open."""
        live = [
            name
            for name, w in self.workers.items()
            if w.process.proc.poll() is None and not w.paused
        ]
        counts = await asyncio.gather(*(self.sockets(name) for name in live))
        return {name: held for name, held in zip(live, counts, strict=True) if sum(held.values())}

    def door(self, name: str | None = None) -> SimpleNamespace:
        """What a RoomSocket connects to: HAProxy (no name), or one worker directly."""
        port = self.port if name is None else self.workers[name].port
        return SimpleNamespace(port=port, settings=self.settings)


@contextlib.asynccontextmanager
async def running_cluster(
    root: Path, database_url: str, size: int = 3, **options: Any
) -> AsyncIterator[Cluster]:
    cluster = Cluster(root, database_url, size, **options)
    try:
        yield await cluster.start()
    finally:
        await cluster.stop()


class RoomSocket(Client):
    """A room client (as a browser: a cookie and the public Origin) that connects to `door`
    from the loopback address `source`, with any extra headers and a query string."""

    def __init__(
        self,
        door: Any,
        session_id: str,
        cookie: str,
        who: str,
        *,
        source: str = "127.0.0.1",
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> None:
        super().__init__(door, session_id, cookie, who)
        self.source = source
        self.headers = headers or {}
        self.query = f"?{query}" if query else ""

    async def connect(self, origin: str | None = None) -> RoomSocket:
        self.ws = await websockets.connect(
            f"ws://127.0.0.1:{self.server.port}/ws/sessions/{self.session_id}{self.query}",
            additional_headers={"Cookie": self.cookie, **self.headers},
            origin=origin or self.server.settings.origin,  # type: ignore[arg-type]
            open_timeout=10,
            proxy=None,
            local_addr=(self.source, 0),
        )
        self._reader = asyncio.create_task(self._read())
        await self.wait_for(lambda m: m["type"] == "state")
        return self


async def refused_status(
    door: Any, session_id: str, cookie: str, *, source: str = "127.0.0.1", **headers: str
) -> int | None:
    """The HTTP status a room socket's handshake is refused with (None: it was accepted)."""
    client = RoomSocket(door, session_id, cookie, "probe", source=source, headers=headers)
    try:
        await client.connect()
    except websockets.InvalidStatus as refused:
        return refused.response.status_code
    finally:
        await client.close()
    return None


async def until(check: Callable[[], Any], timeout: float = 10, every: float = 0.05) -> Any:
    """Wait until `await check()` is truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"not so after {timeout} s (last: {result!r})")
        await asyncio.sleep(every)


async def lesson_now(
    engine: AsyncEngine, preset: str = "claydon", starts_at: dt.datetime | None = None
) -> tuple[School, str]:
    """A school (`make_school`: a teacher, an assistant, class 2B and its four families) and a
    30-minute class session of theirs starting in two minutes by the real clock (or at
    `starts_at`), as the workers' clocks are real (the timetable's own checks are skipped: the
    real clock may be outside the school day). Returns the school and the session's id."""
    reach = SimpleNamespace(engine=engine, clock=SystemClock())
    school = await make_school(reach, preset)  # type: ignore[arg-type]
    async with engine.begin() as conn:
        version = await school_records.current_policy_version(conn, school.id)
        session_id = await create_session(
            conn,
            school_id=school.id,
            policy_version_id=version.id,
            kind=SessionKind.CLASS,
            title="Year 2 Maths",
            starts_at=starts_at or dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2),
            minutes=30,
            pupils=[(pid, f"{forename} R.") for forename, pid in school.pupils.items()],
            staff_ids=[school.teacher_id, school.assistant_id],
            class_id=school.class_id,
        )
    return school, session_id
