"""A real safeclass server on loopback for tests, and WebSocket clients that talk to it.

`LiveServer` runs uvicorn in this process on a free port of 127.0.0.1 (the real ASGI server,
real sockets) with an adjustable clock, so a test can jump to the 30th minute. `Client` is a
real WebSocket client (the `websockets` library) carrying a cookie and an Origin header, as a
browser would, and keeps every message it receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import uvicorn
import websockets
from sqlalchemy import insert, select

from safeclass.adapters.auth.identity import STAFF_COOKIE
from safeclass.adapters.auth.identity import pupil_cookie as pupil_cookie_name
from safeclass.adapters.auth.tokens import hash_token, new_token
from safeclass.adapters.store.sessions import load_session
from safeclass.adapters.store.tables import (
    Invitation,
    PupilPass,
    SessionStaff,
    Staff,
    StaffLogin,
)
from safeclass.app.clock import AdjustableClock
from safeclass.bootstrap import Services
from safeclass.settings import Settings
from safeclass.web import protocol
from safeclass.web.app import create_app
from tests.integration.seed import seed_session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        clock: AdjustableClock,
        heartbeat: float = 1.0,
        **settings: Any,
    ) -> None:
        """`settings` are more Settings fields (e.g. smtp_host, webhook_url, public_url)."""
        self.port = free_port()
        self.clock = clock
        self.settings = Settings(
            data_dir=data_dir,
            database_url=database_url,
            port=self.port,
            public_url=settings.pop("public_url", f"http://127.0.0.1:{self.port}"),
            heartbeat_seconds=heartbeat,
            **settings,
        )
        self.app = create_app(self.settings, clock)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            ws_max_size=protocol.MAX_FRAME_BYTES,
            # A test's client may sit idle longer than uvicorn's 5 s while the test sets up its
            # next step; a request sent on a kept-alive connection just as the server closes it
            # is lost (httpx.ReadError: seen in the authorisation matrix under CI's load).
            # Browsers send such a request again; a test's client does not, so keep it open.
            timeout_keep_alive=120,
        )
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def services(self) -> Services:
        return self.app.state.services  # type: ignore[no-any-return]

    async def start(self) -> LiveServer:
        self._task = asyncio.create_task(self.server.serve())
        for _ in range(500):
            if self.server.started:
                return self
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise RuntimeError("server did not start")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await asyncio.wait_for(self._task, 15)


class Client:
    """A WebSocket client in a room, as a browser with one cookie."""

    def __init__(self, server: LiveServer, session_id: str, cookie: str, who: str) -> None:
        self.server = server
        self.session_id = session_id
        self.cookie = cookie
        self.who = who
        self.messages: list[dict[str, Any]] = []
        self.ws: websockets.ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._counter = 0
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        self.answer_pings = True

    async def connect(self, origin: str | None = None, since: int | str | None = None) -> Client:
        """Open the socket; `since`: the `seq` a page that reconnects last saw (`?since=`)."""
        query = "" if since is None else f"?since={since}"
        self.ws = await websockets.connect(
            f"ws://127.0.0.1:{self.server.port}/ws/sessions/{self.session_id}{query}",
            additional_headers={"Cookie": self.cookie},
            origin=origin or self.server.settings.origin,  # type: ignore[arg-type]
            open_timeout=10,
        )
        self._reader = asyncio.create_task(self._read())
        await self.wait_for(lambda m: m["type"] == "state")
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                self.messages.append(message)
                if message["type"] == "ping" and self.answer_pings:
                    await self.ws.send(json.dumps({"type": "pong"}))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason or ""
            self.closed.set()

    async def send(self, kind: str, /, **fields: Any) -> dict[str, Any]:
        """Send a message and wait for its reply (ok, refused or error)."""
        assert self.ws is not None
        self._counter += 1
        mid = f"{self.who}-{self._counter}"
        await self.ws.send(json.dumps({"type": kind, "id": mid, **fields}))
        return await self.wait_for(lambda m: m.get("id") == mid)

    async def send_raw(self, text: str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(text)

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5, start: int = 0
    ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        seen = start
        while True:
            for message in self.messages[seen:]:
                if predicate(message):
                    return message
            seen = len(self.messages)
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{self.who}: no such message; last: {self.messages[-3:]}")
            if self.closed.is_set():
                raise ConnectionError(f"{self.who}: closed {self.close_code} {self.close_reason}")
            await asyncio.sleep(0.01)

    def view(self) -> dict[str, Any]:
        return next(m["view"] for m in reversed(self.messages) if m["type"] == "state")

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader


async def staff_cookie(
    services: Services,
    school_id: str,
    role: str,
    name: str,
    staff_id: str | None = None,
    on_session: str | None = None,
) -> tuple[str, str]:
    """Create a member of staff (if needed) and a signed-in login; returns (staff_id, cookie).

    With `on_session`, the member of staff is also put on that session's staff list.
    """
    now = services.clock.now()
    token = new_token()
    async with services.engine.begin() as conn:
        if staff_id is None:
            staff_id = str(uuid.uuid4())
            await conn.execute(
                insert(Staff).values(
                    id=staff_id,
                    school_id=school_id,
                    name=name,
                    email=f"{staff_id[:8]}@school.test",
                    role=role,
                    active=True,
                    created_at=now,
                )
            )
        if on_session is not None:
            await conn.execute(
                insert(SessionStaff).values(session_id=on_session, staff_id=staff_id)
            )
        await conn.execute(
            insert(StaffLogin).values(
                id=str(uuid.uuid4()),
                token_hash=hash_token(token),
                staff_id=staff_id,
                school_id=school_id,
                created_at=now,
                expires_at=now + dt.timedelta(days=1),
            )
        )
    return staff_id, f"{STAFF_COOKIE}={token}"


async def pupil_cookie(services: Services, school_id: str, session_id: str, pupil_id: str) -> str:
    """A pupil pass for one device (as if the invitation link had been opened)."""
    now = services.clock.now()
    token = new_token()
    async with services.engine.begin() as conn:
        invitation = (
            await conn.execute(
                select(Invitation.id).where(
                    Invitation.session_id == session_id, Invitation.pupil_id == pupil_id
                )
            )
        ).scalar_one_or_none()
        if invitation is None:
            invitation = str(uuid.uuid4())
            await conn.execute(
                insert(Invitation).values(
                    id=invitation,
                    school_id=school_id,
                    session_id=session_id,
                    pupil_id=pupil_id,
                    token_hash=hash_token(new_token()),
                    expires_at=now + dt.timedelta(days=1),
                    created_at=now,
                )
            )
        await conn.execute(
            insert(PupilPass).values(
                id=str(uuid.uuid4()),
                token_hash=hash_token(token),
                invitation_id=invitation,
                session_id=session_id,
                pupil_id=pupil_id,
                school_id=school_id,
                created_at=now,
                expires_at=now + dt.timedelta(days=1),
            )
        )
    return f"{pupil_cookie_name(session_id)}={token}"


class Lesson:
    """A scheduled session with its staff and pupils' clients, on a live server."""

    def __init__(self, server: LiveServer, session_id: str, school_id: str) -> None:
        self.server = server
        self.session_id = session_id
        self.school_id = school_id
        self.clients: list[Client] = []

    async def staff(self, role: str = "teacher", name: str = "Mrs Khan") -> Client:
        staff_id, cookie = await staff_cookie(
            self.server.services, self.school_id, role, name, on_session=self.session_id
        )
        client = await Client(self.server, self.session_id, cookie, staff_id).connect()
        self.clients.append(client)
        reply = await client.send("join")
        assert reply["type"] == "ok", reply
        return client

    async def pupil(self, pupil_id: str, join: bool = True, **join_fields: object) -> Client:
        cookie = await pupil_cookie(self.server.services, self.school_id, self.session_id, pupil_id)
        client = await Client(self.server, self.session_id, cookie, pupil_id).connect()
        self.clients.append(client)
        if join:
            join_fields.setdefault("acknowledged_expectations", True)
            reply = await client.send("join", **join_fields)
            assert reply["type"] == "ok", reply
        return client

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients))


@contextlib.asynccontextmanager
async def running(server: LiveServer) -> AsyncIterator[LiveServer]:
    """The server started, and stopped at the end (a fixture's body)."""
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def seeded_lesson(
    server: LiveServer, preset: str = "claydon", pupils: int = 6
) -> AsyncIterator[Lesson]:
    """A session of `preset` with pupils p1..pN on `server`; every client closed at the end."""
    session_id = await seed_session(server.services.engine, preset, pupils=pupils)
    stored = await load_session(server.services.engine, session_id)
    lesson = Lesson(server, session_id, stored.school_id)
    try:
        yield lesson
    finally:
        await lesson.close()
