"""A child process for the crash test: appends events one by one, printing each acknowledgement.

Usage: python -m tests.integration.appender URL SESSION COUNT
Prints "ack <seq>" only after `EventLog.append` has returned (the event is durable).
"""

from __future__ import annotations

import asyncio
import sys

from safeclass.adapters.store import EventLog, NewEntry, connect
from tests.support.keys import TEST_CHAIN_KEY


async def main(url: str, session: str, count: int) -> None:
    engine = connect(url)
    log = EventLog(engine, TEST_CHAIN_KEY)
    for i in range(count):
        entry = NewEntry("LogNoteAdded", "2026-11-24T10:00:00+00:00", {"text": f"note {i}"})
        (written,) = await log.append(session, [entry])
        print(f"ack {written.seq}", flush=True)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
