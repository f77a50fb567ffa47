"""The cluster's lead (app/run_once.py) as a PostgreSQL session-level advisory lock.

Each worker keeps one connection of its own (outside the engine's pool) and asks, every
`retry_every` seconds, for the advisory lock `LOCK_KEY` with `pg_try_advisory_lock`, which
never waits. The worker that gets it leads for as long as that connection lives: PostgreSQL
releases a session's advisory locks when the session ends, whether the worker stopped, crashed
or was killed (its socket closes with it). The lead checks its connection every `ping_every`
seconds, and asyncpg tells it at once when the connection closes, so a lead that lost its
connection stops leading (and another, whose next try succeeds, begins). A lead whose machine
vanished without closing anything (power, network) is found out by PostgreSQL's TCP keepalives,
which the lock's session sets short (`_KEEPALIVE`: gone after about 11 s), and its lock is
released then. A lead process that is paused (SIGSTOP) keeps its connection and so the lead:
the jobs wait until it runs again or dies, and none runs twice.

When each job last finished is the `cluster_jobs` table, by the database's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging

import asyncpg  # type: ignore[import-untyped]  # (asyncpg ships no types)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.db import asyncpg_dsn

log = logging.getLogger(__name__)

# A fixed 64-bit key for the lock: advisory locks are per database, so one cluster per database.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"safeclass cluster lead").digest()[:8], signed=True)

# The server's keepalive on this session: probe after 5 s of silence, every 2 s, give up after
# 3 unanswered (and after 10 s of unacknowledged data); ignored over a Unix socket.
_KEEPALIVE = (
    "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; "
    "SET tcp_keepalives_count = 3; SET tcp_user_timeout = 10000"
)
# The lock's session's name in pg_stat_activity: who leads is the holder of the lock, e.g.
#   SELECT application_name FROM pg_locks JOIN pg_stat_activity USING (pid)
#   WHERE locktype = 'advisory' AND granted AND datname = current_database()
APPLICATION = "safeclass lead "
_DUE_IN = text(
    "SELECT CAST(EXTRACT(EPOCH FROM (done_at - now())) AS double precision) + :every "
    "FROM cluster_jobs WHERE name = :job"
)
_DONE = text(
    "INSERT INTO cluster_jobs (name, done_at, done_by) VALUES (:job, now(), :worker) "
    "ON CONFLICT (name) DO UPDATE SET done_at = now(), done_by = :worker"
)


class PgLead:
    def __init__(
        self,
        engine: AsyncEngine,
        worker_id: str,
        *,
        retry_every: float = 1.0,
        ping_every: float = 2.0,
    ) -> None:
        self._engine = engine
        self._dsn = asyncpg_dsn(engine.url.render_as_string(hide_password=False))
        self.worker_id = worker_id
        self._retry_every = retry_every
        self._ping_every = ping_every
        self._leading = asyncio.Event()
        self._since = 0.0
        self._connection: asyncpg.Connection | None = None
        self._using = asyncio.Lock()  # one query at a time on the lock's connection
        self._runner: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        return self._leading.is_set()

    @property
    def led_for(self) -> float:
        if not self.leading:
            return 0.0
        return asyncio.get_running_loop().time() - self._since

    async def wait_to_lead(self) -> None:
        await self._leading.wait()

    async def still_leading(self) -> bool:
        conn = self._connection
        if not self.leading or conn is None:
            return False
        try:
            async with self._using:
                await conn.fetchval("SELECT 1", timeout=self._ping_every)
        except Exception:  # the connection, and so the lock, is gone
            log.warning("worker %s lost its connection, and the lead", self.worker_id)
            self._leading.clear()
            return False
        return self.leading

    async def due_in(self, job: str, every: float) -> float | None:
        async with self._engine.connect() as conn:
            found = await conn.execute(_DUE_IN, {"job": job, "every": every})
            seconds = found.scalar_one_or_none()
        return None if seconds is None else float(seconds)

    async def done(self, job: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(_DONE, {"job": job, "worker": self.worker_id})

    def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="cluster lead")

    async def close(self) -> None:
        """Stop trying to lead, and let go of the lead at once if this worker holds it."""
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None

    async def drop_connection(self) -> None:
        """Close the lock's connection as a network failure would (for tests)."""
        if self._connection is not None:
            self._connection.terminate()

    async def _run(self) -> None:
        while True:
            try:
                await self._hold()
            except Exception as exc:  # the database is away, or the connection was lost
                log.debug("worker %s: the lead's connection ended (%r)", self.worker_id, exc)
            await asyncio.sleep(self._retry_every)

    async def _hold(self) -> None:
        """Try for the lock until it is ours, then hold it while the connection lives."""
        conn: asyncpg.Connection = await asyncpg.connect(
            self._dsn,
            timeout=self._ping_every,
            server_settings={"application_name": f"{APPLICATION}{self.worker_id}"[:63]},
        )
        conn.add_termination_listener(lambda _conn: self._leading.clear())
        self._connection = conn
        try:
            await conn.execute(_KEEPALIVE)
            while not await self._query(conn, "SELECT pg_try_advisory_lock($1)", LOCK_KEY):
                await asyncio.sleep(self._retry_every)
            self._since = asyncio.get_running_loop().time()
            self._leading.set()
            log.info("worker %s leads the cluster's once-only jobs", self.worker_id)
            while self.leading:
                await asyncio.sleep(self._ping_every)
                await self._query(conn, "SELECT 1")
        finally:
            if self._since:
                log.info("worker %s no longer leads the cluster's jobs", self.worker_id)
            self._leading.clear()
            self._connection = None
            self._since = 0.0
            conn.terminate()

    async def _query(self, conn: asyncpg.Connection, sql: str, *args: object) -> object:
        async with self._using:
            return await conn.fetchval(sql, *args, timeout=self._ping_every)
