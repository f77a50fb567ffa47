"""A cluster's lead killed outright hands the once-only jobs to another worker within seconds.

Two real `safeclass serve` processes (workers w1 and w2) on one PostgreSQL; the one that leads
is found as PostgreSQL sees it (the holder of the advisory lock), then killed with SIGKILL: no
chance to let go of anything. PostgreSQL ends its session when the socket closes, which frees
the lock, and the other worker, asking every second, leads.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
from bench.server_process import ServerProcess
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.pg_lead import APPLICATION
from tests.integration.live import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("db_url", ["postgres"], indirect=True)]

_HOLDER = text(
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE :lead "
    "AND a.datname = current_database()"  # other tests' clusters share the server
)


async def holders(engine: AsyncEngine) -> list[str]:
    """The workers holding the lead's lock, as PostgreSQL sees them."""
    async with engine.connect() as conn:
        found = await conn.execute(_HOLDER, {"lead": APPLICATION + "%"})
        return [name.removeprefix(APPLICATION) for name in found.scalars()]


async def test_a_lead_killed_with_sigkill_is_replaced_within_seconds(
    db_url: str, engine: AsyncEngine, tmp_path: Path
):
    secret = {"SAFECLASS_SECRET_FILE": str(tmp_path / "secret.key")}  # one secret, as a cluster
    workers = {
        name: ServerProcess(
            tmp_path / name,
            db_url,
            free_port(),
            media=False,
            env={"SAFECLASS_WORKER_ID": name, **secret},
        )
        for name in ("w1", "w2")
    }
    try:
        for worker in workers.values():
            await worker.ready()
        deadline = time.monotonic() + 10
        while len(found := await holders(engine)) != 1:
            assert time.monotonic() < deadline, found
            await asyncio.sleep(0.1)
        (leader,) = found
        other = "w2" if leader == "w1" else "w1"

        killed_at = time.monotonic()
        workers[leader].proc.send_signal(signal.SIGKILL)
        while await holders(engine) != [other]:
            assert time.monotonic() - killed_at < 5, await holders(engine)
            await asyncio.sleep(0.05)
        workers[leader].proc.wait(timeout=10)
        assert await holders(engine) == [other]
    finally:
        for worker in workers.values():
            worker.stop()
