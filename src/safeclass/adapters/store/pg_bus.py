"""The cluster's bus (app/cluster_bus.py) on PostgreSQL's LISTEN/NOTIFY.

A notice is `pg_notify` sent in a transaction of its own on the engine's pool: PostgreSQL hands
it to every session listening on that channel once it commits. Each worker listens on one
connection of its own (asyncpg's `add_listener`), outside the pool so that it is never lent
to a query. The worker's id travels with each notice, and a worker ignores its own (it did its
part already). Channels are named `safeclass_<channel>`; a database is one cluster, since
PostgreSQL delivers notices only within the database they were sent in.

The listening connection is checked every `ping_every` seconds (a closed one is noticed at
once; a silent one, e.g. a network that dropped it, at the next check). When it is lost the
bus connects again every `retry_every` seconds until it can, then calls every listener with
`AGAIN`, because what was published meanwhile never reached it; the watches' own polls
(every few seconds) would catch it anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Coroutine
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # (asyncpg ships no types)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.db import asyncpg_dsn
from safeclass.app.cluster_bus import AGAIN, Listener

log = logging.getLogger(__name__)

PREFIX = "safeclass_"
_NOTIFY = text("SELECT pg_notify(:channel, :message)")


class PgBus:
    def __init__(
        self,
        engine: AsyncEngine,
        worker_id: str,
        *,
        ping_every: float = 5.0,
        retry_every: float = 1.0,
    ) -> None:
        self._engine = engine
        self._dsn = asyncpg_dsn(engine.url.render_as_string(hide_password=False))
        self._worker = worker_id
        self._ping_every = ping_every
        self._retry_every = retry_every
        self._listeners: dict[str, list[Listener]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self.listening = asyncio.Event()  # set while the listening connection is up

    def subscribe(self, channel: str, listener: Listener) -> None:
        if self._runner is not None:
            raise RuntimeError("subscribe before the bus starts listening")
        self._listeners.setdefault(channel, []).append(listener)

    async def publish(self, channel: str, payload: str = "") -> None:
        message = json.dumps({"from": self._worker, "data": payload})
        try:
            async with self._engine.begin() as conn:
                await conn.execute(_NOTIFY, {"channel": PREFIX + channel, "message": message})
        except Exception:  # the others' watches will see it at their next look
            log.warning("could not tell the other workers (%s)", channel, exc_info=True)

    def publish_soon(self, channel: str, payload: str = "") -> None:
        self._spawn(self.publish(channel, payload))

    async def start(self, wait: float = 5.0) -> None:
        """Start listening; wait up to `wait` seconds for the connection (it retries anyway)."""
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="cluster bus")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), wait)

    async def close(self) -> None:
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._runner = None

    async def drop_connection(self) -> None:
        """Close the listening connection as a network failure would (for tests)."""
        if self._connection is not None:
            self._connection.terminate()

    async def _run(self) -> None:
        first = True
        while True:
            try:
                await self._listen(first)
            except Exception as exc:  # the database is away or the network dropped us: retry
                log.warning("the cluster bus has no connection (%r); connecting again", exc)
            else:
                log.warning("the cluster bus lost its connection; connecting again")
            first = False
            await asyncio.sleep(self._retry_every)

    async def _listen(self, first: bool) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(
            self._dsn,
            timeout=self._ping_every,
            server_settings={"application_name": f"safeclass bus {self._worker}"[:63]},
        )
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            for channel in self._listeners:
                await conn.add_listener(PREFIX + channel, self._heard)
            self._connection = conn
            self.listening.set()
            if not first:
                for channel, listeners in self._listeners.items():
                    for listener in listeners:
                        self._spawn(self._call(channel, listener, AGAIN))
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self._ping_every)
                if not lost.is_set():
                    await conn.fetchval("SELECT 1", timeout=self._ping_every)
        finally:
            self.listening.clear()
            self._connection = None
            conn.terminate()

    def _heard(self, _conn: object, _pid: int, pg_channel: str, message: str) -> None:
        try:
            notice = json.loads(message)
            sender, payload = str(notice["from"]), str(notice["data"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed notice on %s", pg_channel)
            return
        if sender == self._worker:
            return
        channel = pg_channel.removeprefix(PREFIX)
        for listener in self._listeners.get(channel, []):
            self._spawn(self._call(channel, listener, payload))

    async def _call(self, channel: str, listener: Listener, payload: str) -> None:
        try:
            await listener(payload)
        except Exception:  # one listener's failure must not stop the bus
            log.exception("a listener of %s failed", channel)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
