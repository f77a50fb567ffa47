"""A room client that comes back by itself, as the browser's room-client.js does.

Used where a server goes away under the clients (a cluster's worker killed, paused or stopped):
when its socket closes with anything but a final code (the end, a removal, a refusal), it
connects again after a short backoff (through the same address, so through HAProxy in a
cluster), says `join` again, and notes when it was back in the room. Every reply it was sent
(`ok` with the log's `seq`) is kept, so a test or benchmark can check that each acknowledged
command is in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import websockets

FINAL = {4000, 4003, 4004, 4009, 1008}  # ended, removed, denied, signed out, refused


@dataclass
class Acked:
    """A command the server acknowledged: its id, the log's seq after it, when."""

    id: str
    seq: int
    at: float


@dataclass(eq=False)
class ComingBack:
    """One person's page in a room, reconnecting on its own."""

    base: str  # ws://host:port
    origin: str
    session_id: str
    cookie: str
    who: str
    backoff: float = 0.1
    views: list[dict[str, Any]] = field(default_factory=list)
    acked: list[Acked] = field(default_factory=list)
    closes: list[tuple[float, int | None]] = field(default_factory=list)
    joins: list[float] = field(default_factory=list)  # when each join was answered
    final: int | None = None
    _ws: websockets.ClientConnection | None = None
    _task: asyncio.Task[None] | None = None
    _replies: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _counter: int = 0
    _open: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: bool = False

    def start(self) -> ComingBack:
        self._task = asyncio.create_task(self._run(), name=f"client {self.who}")
        return self

    async def stop(self) -> None:
        self._stop = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def view(self) -> dict[str, Any]:
        return self.views[-1] if self.views else {}

    def status(self) -> str | None:
        me = self.view().get("me")
        return me.get("status") if me else None

    async def until(self, predicate: Callable[[ComingBack], bool], timeout: float = 10) -> float:
        """Wait until `predicate(self)` holds; when it did (monotonic)."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.who}: not so after {timeout} s; {self.view()}")
            if self.final is not None:
                raise ConnectionError(f"{self.who}: closed for good ({self.final})")
            await asyncio.sleep(0.01)
        return time.monotonic()

    async def send(self, kind: str, /, timeout: float = 10, **fields: Any) -> dict[str, Any]:
        """Send once the socket is open; the reply (ok, refused or error)."""
        await asyncio.wait_for(self._open.wait(), timeout)
        assert self._ws is not None
        self._counter += 1
        mid = f"{self.who}-{self._counter}"
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[mid] = reply
        try:
            await self._ws.send(json.dumps({"type": kind, "id": mid, **fields}))
        except websockets.ConnectionClosed as gone:  # it dropped as this was sent (a kill -9):
            self._replies.pop(mid, None)  # the same as dropping before the reply came
            raise ConnectionError("closed before it was sent") from gone
        return await asyncio.wait_for(reply, timeout)

    async def _run(self) -> None:
        while not self._stop:
            try:
                self._ws = await websockets.connect(
                    f"{self.base}/ws/sessions/{self.session_id}",
                    additional_headers={"Cookie": self.cookie},
                    origin=self.origin,  # type: ignore[arg-type]
                    open_timeout=10,
                )
            except (OSError, websockets.WebSocketException, TimeoutError):
                await asyncio.sleep(self.backoff)
                continue
            self._open.set()
            joining = asyncio.create_task(self._join())
            try:
                async for raw in self._ws:
                    self._heard(json.loads(raw))
            except websockets.ConnectionClosed:
                pass
            finally:
                joining.cancel()
                self._open.clear()
                for reply in self._replies.values():
                    if not reply.done():
                        reply.set_exception(ConnectionError("closed before its reply"))
                        # whoever still awaits it gets the error; one whose wait was cancelled
                        # with the join (above) has gone, and asyncio must not report it unread
                        reply.exception()
                self._replies.clear()
            code = self._ws.close_code
            self.closes.append((time.monotonic(), code))
            if code in FINAL:
                self.final = code
                return
            await asyncio.sleep(self.backoff)

    async def _join(self) -> None:
        with contextlib.suppress(Exception):
            reply = await self.send("join", acknowledged_expectations=True)
            if reply["type"] == "ok":
                self.joins.append(time.monotonic())

    def _heard(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "ping" and self._ws is not None:
            asyncio.get_running_loop().create_task(self._ws.send('{"type":"pong"}'))
        elif kind == "state":
            self.views.append(message["view"])
        reply = self._replies.pop(message.get("id") or "", None)
        if reply is not None and kind in ("ok", "refused", "error"):
            if kind == "ok":
                self.acked.append(Acked(message["id"], int(message["seq"]), time.monotonic()))
            if not reply.done():
                reply.set_result(message)
