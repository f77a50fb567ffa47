"""Benchmark: durable, hash-chained appends to the session event log on SQLite and PostgreSQL.

Three shapes of load:
- single: one event per transaction (the worst case: a quiet room, one command at a time);
- batched: the events of a burst (a whole class admitted, a lesson's chatter) in one commit,
  across 40 live sessions at once, as the runtime's writer groups them;
- register: building the attendance register of a 30-pupil session of ~500 events.
Goals (issue 3): >= 5,000 events/s on SQLite and >= 10,000 on PostgreSQL (batched), the
register in under 50 ms. Prints its figures last as one JSON line.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from safeclass.adapters.store import EventLog, NewEntry, connect, upgrade

PG_URL = os.environ.get("SAFECLASS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
AT = "2026-11-24T10:00:00+00:00"


def _entry(i: int) -> NewEntry:
    return NewEntry(
        "ChatPosted",
        AT,
        {"number": i, "by": f"p{i % 30}", "name": "Amelia R.", "text": "I think it is 12"},
    )


async def _measure(url: str) -> dict[str, float]:
    engine = connect(url)
    log = EventLog(engine, hashlib.sha256(b"bench: log-chain key").digest())  # HMAC chain
    try:
        n_single = 300
        started = time.perf_counter()
        for i in range(n_single):
            await log.append("single", [_entry(i)])
        single = n_single / (time.perf_counter() - started)

        sessions = [f"class-{k}" for k in range(40)]
        rounds, per_session = 25, 10
        started = time.perf_counter()
        for r in range(rounds):
            await log.append_many(
                {sid: [_entry(r * per_session + j) for j in range(per_session)] for sid in sessions}
            )
        total = rounds * per_session * len(sessions)
        batched = total / (time.perf_counter() - started)

        started = time.perf_counter()
        report = await log.verify(sessions[0])
        verify_ms = (time.perf_counter() - started) * 1000
        assert report.ok, report.problems
        return {
            "single_per_s": round(single),
            "batched_per_s": round(batched),
            "verify_250_ms": round(verify_ms, 1),
        }
    finally:
        await engine.dispose()


async def _pg_database(name: str, create: bool) -> None:
    conn = await asyncpg.connect(PG_URL)
    try:
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
        else:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _register_ms() -> dict[str, object]:
    from bench.register import measure

    figures = measure()
    return {k: v for k, v in figures.items() if k.startswith("register_")}


def main() -> None:
    figures: dict[str, object] = {"bench": "event_log"}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        upgrade(url)
        sqlite = asyncio.run(_measure(url))
    print(f"SQLite:     {sqlite}")
    figures.update({f"sqlite_{k}": v for k, v in sqlite.items()})
    name = f"safeclass_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_database(name, create=True))
    try:
        url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
        upgrade(url)
        pg = asyncio.run(_measure(url))
    finally:
        asyncio.run(_pg_database(name, create=False))
    print(f"PostgreSQL: {pg}")
    figures.update({f"postgres_{k}": v for k, v in pg.items()})
    figures.update(_register_ms())
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
