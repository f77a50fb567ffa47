"""One transaction, or one snapshot, through a port: for a use case whose steps stand or fall
together.

Scheduling a lesson, a family's report through their link, a roster import, a concern written
with its alert or an entry chained to a concern's last reads, decides and writes in one
transaction (all of it kept, or none), so their ports (`invitations`, `timetable`,
`family_consent`, `roster_import`, `concerns`) open one with `begin()` and take its connection
in each step, as `SchoolRecords` takes a page's; the alerts read whom to tell in one snapshot
(`connect()`). The database's are the engine's own (`safeclass.adapters.store.db.OnEngine`).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection


class Transactions(Protocol):
    """Where a use case's steps share one connection."""

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """One transaction to write in: committed when the block ends, rolled back if it
        raises (on SQLite it holds the write lock from the start)."""

    def connect(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """One snapshot to read several things in."""
