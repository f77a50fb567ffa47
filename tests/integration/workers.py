"""Two workers of a cluster in one test process: what a test does to one of them.

Each worker is a `LiveServer` (live.py) with its own worker id on one PostgreSQL database.
`lapse` stops a worker's heartbeat, as a pause would, while its rooms' tasks run on, and waits
until its lease has run out; `taken_on` waits until another worker has taken a room on.
"""

from __future__ import annotations

import asyncio

from tests.integration.live import LiveServer


async def lapse(server: LiveServer) -> None:
    """The worker stops saying it is alive (as if paused), and its lease runs out."""
    membership = server.services.membership
    assert membership is not None
    await membership.stop()
    await asyncio.sleep(server.settings.lease_seconds * 1.5)


async def taken_on(server: LiveServer, session_id: str, timeout: float = 10.0) -> None:
    """The worker's heartbeat finds the orphan and takes it on (within a lease or so)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(r.session_id == session_id for r in server.services.rooms.running()):
        if loop.time() > deadline:
            raise AssertionError(f"{server.settings.worker_id} did not take the room on")
        await asyncio.sleep(0.05)
