"""Benchmark: the one-process ceiling. How many room sockets one `safeclass serve` holds at the
join goal (p99 link→waiting and admit→admitted ≤ 100 ms), and what each socket costs in memory.

For each level (a number of sockets), a fresh server process gets a join storm of that many
(classes of 30 pupils and 2 staff, as bench/join_storm.py, whose code it uses) over a window
that grows with the level, so the arrival rate stays a busy school's morning (20 pupils a
second by default). Memory per socket is the server's peak RSS over its RSS before the storm,
divided by the sockets held at once. The ceiling is the largest level whose both p99s meet the
goal. The clients run in this process on the same two cores, so the figures are a floor of what
the server could do on its own machine.

Prints its figures last as one JSON line. Run:
  .venv/bin/python bench/ceiling.py [--levels 1280,2560,5120] [--rate 20] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.live import free_port

from bench.bench_school import fresh_pg_database
from bench.join_storm import PHASES, PUPILS, _p, setup, storm
from bench.server_process import ServerProcess, memory_mb
from safeclass.adapters.store import upgrade

GOAL_MS = 100.0
STAFF = 2


def _open_files(wanted: int) -> None:
    """Room for every socket twice (the clients here and the server, which inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def level(sockets: int, rate: float, postgres: bool) -> dict[str, Any]:
    classes = max(1, round(sockets / (PUPILS + STAFF)))
    seconds = classes * PUPILS / rate
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        port = free_port()
        url = f"sqlite+aiosqlite:///{data / 'safeclass.db'}"
        drop = None
        if postgres:
            url, drop = fresh_pg_database("safeclass_ceiling")
        upgrade(url)
        made = asyncio.run(setup(url, classes, f"http://127.0.0.1:{port}"))
        server = ServerProcess(data, url, port, media=False)
        try:
            asyncio.run(server.ready())
            before = memory_mb(server.pid)[0]
            for phase in PHASES.values():
                phase.clear()
            paused_before = asyncio.run(server.collector_pauses())
            result = asyncio.run(storm(port, made, seconds))
            peak = server.peak_mb()
            paused = asyncio.run(server.collector_pauses())
        finally:
            server.stop()
            if drop is not None:
                asyncio.run(drop())
    link, admit = result["link_ms"], result["admit_ms"]
    held = result["sockets"]
    figures = {
        "sockets": held,
        "classes": classes,
        "window_s": round(seconds, 1),
        "link_to_waiting_ms_p99": _p(link, 99),
        "admit_to_admitted_ms_p99": _p(admit, 99),
        "link_to_waiting_ms_p50": round(statistics.median(link), 1),
        # link → waiting in its parts: the link's page, the socket's handshake, the join
        **{f"{name}_ms_p99": _p(values, 99) for name, values in PHASES.items()},
        "server_rss_before_mb": round(before, 1),
        "server_peak_mb": round(peak, 1),
        "memory_per_socket_kb": round((peak - before) * 1024 / max(1, held), 1),
        # the server's collector over the storm (its /metrics): nothing else runs in a pause
        **{f"server_{key}": round(paused[key] - paused_before[key], 1) for key in paused},
    }
    print(
        f"{held} sockets ({classes} classes over {seconds:.0f} s): "
        f"link→waiting p99 {figures['link_to_waiting_ms_p99']} ms, "
        f"admit→admitted p99 {figures['admit_to_admitted_ms_p99']} ms, "
        f"peak {peak:.0f} MB ({figures['memory_per_socket_kb']} KB a socket)",
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1280,2560,5120", help="sockets, comma-separated")
    parser.add_argument("--rate", type=float, default=20.0, help="pupils joining a second")
    parser.add_argument("--postgres", action="store_true", help="use the local PostgreSQL")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",") if x]
    _open_files(4 * max(levels) + 1024)
    results = [level(n, args.rate, args.postgres) for n in levels]
    meeting = [
        r
        for r in results
        if r["link_to_waiting_ms_p99"] <= GOAL_MS and r["admit_to_admitted_ms_p99"] <= GOAL_MS
    ]
    top = results[-1]
    print(
        json.dumps(
            {
                "bench": "ceiling",
                "database": "postgres" if args.postgres else "sqlite",
                "join_rate_per_s": args.rate,
                "levels": results,
                "sockets_at_goal": max((r["sockets"] for r in meeting), default=0),
                "largest_sockets": top["sockets"],
                "largest_link_to_waiting_ms_p99": top["link_to_waiting_ms_p99"],
                "largest_admit_to_admitted_ms_p99": top["admit_to_admitted_ms_p99"],
                "memory_per_socket_kb": top["memory_per_socket_kb"],
            }
        )
    )


if __name__ == "__main__":
    main()
