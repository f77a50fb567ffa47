"""Benchmark: 3 workers behind HAProxy on PostgreSQL, against one process, in the same run.

1. **Join storm**: N classes of 30 (40: 1,200 pupils) open their links over T seconds (60), as
   bench/join_storm.py does, first against one `safeclass serve` process on its own fresh
   database, then through HAProxy against the cluster (tests/support/cluster.py: real worker
   processes with their worker ids, one database, the generated HAProxy configuration). Goal:
   link→waiting and admit→admitted p99 ≤ 100 ms, and the cluster no worse than one process.
2. **Failover**: K times (≥ 10), a lesson of five pages (tests/support/cluster_lesson.py) is
   opened through HAProxy, its teacher writes a chat line every 50 ms, and the room's owner is
   killed with SIGKILL. The failover time is from the kill until the last page is back in the
   room (joined again; a pupil's view "admitted"); acknowledged events lost is how many lines
   the server said `ok` to that are not in the log. The killed worker is restarted before the
   next kill. Goal: p99 ≤ 3 s, 0 lost.
3. **The one-process ceiling** (bench/ceiling.py): sockets one process holds at the p99 goal,
   and memory per socket, at the levels given (5,120 by default; `--ceiling-levels ""` skips).

Every figure is taken over real sockets on loopback; the clients run in this process on the
same two cores as the workers, HAProxy and PostgreSQL. Prints its figures last as one JSON line.
Run: .venv/bin/python bench/cluster.py [--classes 40] [--seconds 60] [--kills 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select
from tests.integration.live import free_port
from tests.support.cluster import Cluster, pg_database, running_cluster
from tests.support.cluster_lesson import Lesson, chatter, log_kinds

from bench import ceiling
from bench.join_storm import _p, setup, storm
from bench.server_process import ServerProcess
from safeclass.adapters.store import connect
from safeclass.adapters.store.db import upgrade_async
from safeclass.adapters.store.tables import RoomLease


def _storm_figures(result: dict[str, Any]) -> dict[str, Any]:
    link, admit = result["link_ms"], result["admit_ms"]
    return {
        "pupils": len(link),
        "sockets": result["sockets"],
        "link_to_waiting_ms_p50": round(statistics.median(link), 1),
        "link_to_waiting_ms_p99": _p(link, 99),
        "admit_to_admitted_ms_p50": round(statistics.median(admit), 1),
        "admit_to_admitted_ms_p99": _p(admit, 99),
    }


async def one_process(classes: int, seconds: float) -> dict[str, Any]:
    async with pg_database() as url:
        await upgrade_async(url)
        port = free_port()
        made = await setup(url, classes, f"http://127.0.0.1:{port}")
        with tempfile.TemporaryDirectory() as folder:
            server = ServerProcess(Path(folder), url, port, media=False)
            try:
                await server.ready()
                result = await storm(port, made, seconds)
            finally:
                await asyncio.to_thread(server.stop)
    return _storm_figures(result)


async def failover(cluster: Cluster, kills: int) -> dict[str, Any]:
    engine = connect(cluster.database_url)
    times: list[float] = []
    lost = 0
    acknowledged = 0
    try:
        for n in range(kills):
            lesson = await Lesson(cluster, engine).open()
            owner, _ = await lesson.owner()
            said: list[str] = []
            talking = asyncio.create_task(chatter(lesson.people["teacher"], said))
            try:
                await asyncio.sleep(0.5)
                killed = time.monotonic()
                cluster.kill(owner)
                back = await lesson.back_after(killed, timeout=30)
                await asyncio.sleep(0.3)
            finally:
                talking.cancel()
                await asyncio.gather(talking, return_exceptions=True)
                await lesson.close()
            written = {
                p.get("text")
                for k, p in await log_kinds(engine, lesson.session_id)
                if k == "ChatPosted"
            }
            lost += len(set(said) - written)
            acknowledged += len(said)
            times.append(back * 1000)
            print(
                f"kill {n + 1}: {owner} killed, back in {back * 1000:.0f} ms, "
                f"{len(said)} lines acknowledged, {len(set(said) - written)} lost",
                flush=True,
            )
            await cluster.restart(owner)
            await cluster.wait_for_states(dict.fromkeys(cluster.names, "UP"), timeout=15)
    finally:
        await engine.dispose()
    return {
        "kills": kills,
        "failover_ms_p50": round(statistics.median(times), 1),
        "failover_ms_p99": round(_inclusive_p99(times), 1),
        "failover_ms_max": round(max(times), 1),
        "acknowledged_events": acknowledged,
        "acknowledged_events_lost": lost,
    }


def _inclusive_p99(values: list[float]) -> float:
    """The 99th percentile within what was measured (a few kills: never beyond the worst)."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[98]


async def rooms_per_worker(url: str) -> dict[str, int]:
    engine = connect(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(RoomLease.worker_id, func.count()).group_by(RoomLease.worker_id)
            )
            return {worker: int(n) for worker, n in rows.all()}
    finally:
        await engine.dispose()


async def cluster_run(classes: int, seconds: float, kills: int, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        async with (
            pg_database() as url,
            running_cluster(Path(folder), url, workers) as cluster,
        ):
            made = await setup(url, classes, cluster.public_url)
            result = await storm(cluster.port, made, seconds)
            spread = await rooms_per_worker(url)
            joined = _storm_figures(result)
            down = await failover(cluster, kills) if kills else {}
    return {"storm": joined, "failover": down, "rooms_per_worker": spread}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--ceiling-levels", default="5120", help="sockets; '' skips")
    args = parser.parse_args()
    ceiling._open_files(20_000)
    single = asyncio.run(one_process(args.classes, args.seconds))
    print(f"one process: {single}", flush=True)
    clustered = asyncio.run(cluster_run(args.classes, args.seconds, args.kills, args.workers))
    print(f"cluster: {clustered['storm']}", flush=True)
    levels = [int(x) for x in args.ceiling_levels.split(",") if x]
    top = [ceiling.level(n, 20.0, postgres=True) for n in levels]
    storm_c, down = clustered["storm"], clustered["failover"]
    print(
        json.dumps(
            {
                "bench": "cluster",
                "workers": args.workers,
                "classes": args.classes,
                "window_s": args.seconds,
                "one_process_link_to_waiting_ms_p99": single["link_to_waiting_ms_p99"],
                "one_process_admit_to_admitted_ms_p99": single["admit_to_admitted_ms_p99"],
                "cluster_link_to_waiting_ms_p99": storm_c["link_to_waiting_ms_p99"],
                "cluster_admit_to_admitted_ms_p99": storm_c["admit_to_admitted_ms_p99"],
                "cluster_link_to_waiting_ms_p50": storm_c["link_to_waiting_ms_p50"],
                "cluster_admit_to_admitted_ms_p50": storm_c["admit_to_admitted_ms_p50"],
                "pupils": storm_c["pupils"],
                "rooms_per_worker": clustered["rooms_per_worker"],
                **down,
                "ceiling": top,
                "ceiling_sockets_at_goal": max(
                    (
                        r["sockets"]
                        for r in top
                        if r["link_to_waiting_ms_p99"] <= ceiling.GOAL_MS
                        and r["admit_to_admitted_ms_p99"] <= ceiling.GOAL_MS
                    ),
                    default=0,
                ),
                "memory_per_socket_kb": top[-1]["memory_per_socket_kb"] if top else None,
            }
        )
    )


if __name__ == "__main__":
    main()
