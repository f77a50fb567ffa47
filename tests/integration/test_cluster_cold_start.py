"""A whole cluster that stops and starts again: its live rooms are shared out, not all taken by
the first worker up. 3 real workers on PostgreSQL behind HAProxy, with six lessons live and
nobody connected (their clocks must run on all the same).

Two ways a whole cluster stops: every worker killed at once (a power cut: the leases stay with
workers that are no longer alive), or every worker stopped cleanly (an upgrade of every machine:
the rooms are handed over with no worker). Either way, started again together, each worker ends
up running some of the rooms, every room runs on somewhere with a new epoch, and none is left
without an owner.
"""

from __future__ import annotations

import asyncio
import math
import signal
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store import connect
from safeclass.adapters.store.tables import RoomLease, Session
from tests.support.cluster import HAPROXY, Cluster, lesson_now, pg_database, running_cluster, until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(HAPROXY is None, reason="needs Debian's haproxy (scripts/install --dev)"),
    pytest.mark.asyncio(loop_scope="module"),
]
ROOMS = 6


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    async with (
        pg_database() as url,
        running_cluster(tmp_path_factory.mktemp("cluster"), url, 3) as running,
    ):
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def engine(cluster: Cluster) -> AsyncIterator[AsyncEngine]:
    eng = connect(cluster.database_url)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lessons(cluster: Cluster, engine: AsyncEngine) -> list[str]:
    """Six lessons live, nobody connected: the running workers share them out as orphans."""
    sessions = [(await lesson_now(engine))[1] for _ in range(ROOMS)]
    async with engine.begin() as conn:
        await conn.execute(update(Session).where(Session.id.in_(sessions)).values(status="live"))
    await until(lambda: _all_owned(engine, sessions), timeout=15)
    return sessions


async def _leases(engine: AsyncEngine, sessions: list[str]) -> dict[str, tuple[str, int]]:
    """Each session's lease: its worker ("" when handed over) and epoch, if a live one holds it."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(RoomLease.session_id, RoomLease.worker_id, RoomLease.epoch).where(
                RoomLease.session_id.in_(sessions)
            )
        )
        return {sid: (worker, epoch) for sid, worker, epoch in rows.all()}


async def _all_owned(engine: AsyncEngine, sessions: list[str]) -> dict[str, tuple[str, int]]:
    """The leases, once every session's is held by a worker that is alive; else {}."""
    leases = await _leases(engine, sessions)
    async with engine.connect() as conn:
        alive = set(
            (
                await conn.execute(
                    text("SELECT id FROM workers WHERE alive_until > clock_timestamp()")
                )
            ).scalars()
        )
    owned = len(leases) == len(sessions) and all(w in alive for w, _ in leases.values())
    return leases if owned else {}


async def _start_all_at_once(cluster: Cluster) -> None:
    await asyncio.gather(*(cluster.restart(name) for name in cluster.names))


async def _shared_out(
    engine: AsyncEngine, sessions: list[str], before: dict[str, tuple[str, int]]
) -> dict[str, tuple[str, int]]:
    """The leases once every room is running again on a worker, with a newer epoch."""

    async def again() -> dict[str, tuple[str, int]]:
        leases = await _leases(engine, sessions)
        fresh = all(
            sid in leases and leases[sid][0] and leases[sid][1] > before[sid][1] for sid in sessions
        )
        return leases if fresh else {}

    return await until(again, timeout=20)


def _spread(leases: dict[str, tuple[str, int]]) -> Counter[str]:
    return Counter(worker for worker, _ in leases.values())


# covers: C11, CLA-05
async def test_a_cluster_killed_at_once_and_started_again_shares_its_rooms_out(
    cluster: Cluster, engine: AsyncEngine, lessons: list[str]
):
    before = await _all_owned(engine, lessons)
    assert before
    for name in cluster.names:  # a power cut: no worker gives anything up
        cluster.kill(name)
    await _start_all_at_once(cluster)
    after = await _shared_out(engine, lessons, before)
    spread = _spread(after)
    assert set(spread) == set(cluster.names), spread  # every worker runs some of the rooms
    assert max(spread.values()) <= math.ceil(ROOMS / 3) + 1, spread


# covers: C11, CLA-05
async def test_a_cluster_stopped_cleanly_and_started_again_shares_its_rooms_out(
    cluster: Cluster, engine: AsyncEngine, lessons: list[str]
):
    before = await until(lambda: _all_owned(engine, lessons), timeout=15)
    for name in cluster.names:  # an upgrade of every machine: the rooms are handed over
        cluster.kill(name, signal.SIGTERM)
    for name in cluster.names:
        cluster.workers[name].process.proc.wait(timeout=20)
    handed = await _leases(engine, lessons)
    assert {worker for worker, _ in handed.values()} == {""}, handed
    await _start_all_at_once(cluster)
    after = await _shared_out(engine, lessons, before)
    spread = _spread(after)
    assert set(spread) == set(cluster.names), spread
    assert max(spread.values()) <= math.ceil(ROOMS / 3) + 1, spread
