"""Group commit: the appends of every live room that arrive together share one transaction.

A join storm is forty classes appending at once; with full fsync each commit costs
milliseconds, and one commit per command would queue them behind each other. `GroupCommitLog`
collects whatever appends are waiting while the previous commit runs and writes them all in
the next one (`EventLog.append_each`), so a busy server makes fewer, larger commits and a quiet
one commits at once. Each caller still gets its own entries back only once they are durable,
and an append's `also` writes go into the same transaction as its entries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.event_log import Append, EventLog
from safeclass.app.event_store import InTransaction, LogEntry, NewEntry
from safeclass.app.live.ownership import Lease


@dataclass(slots=True)
class _Waiting:
    append: Append
    done: asyncio.Future[list[LogEntry]] = field(repr=False)


class GroupCommitLog(EventLog):
    """An `EventLog` whose `append` joins the next group commit."""

    MAX_BATCH = 2000  # entries per transaction

    def __init__(self, engine: AsyncEngine, chain_key: bytes | None = None) -> None:
        super().__init__(engine, chain_key)
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def append(
        self,
        session_id: str,
        entries: Sequence[NewEntry],
        also: InTransaction | None = None,
        *,
        expected_seq: int | None = None,
        lease: Lease | None = None,
    ) -> list[LogEntry]:
        if not entries:
            return []
        done: asyncio.Future[list[LogEntry]] = asyncio.get_running_loop().create_future()
        item = Append(session_id, entries, also, expected_seq, lease)
        self._waiting.append(_Waiting(item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await done

    async def _write(self) -> None:
        while self._waiting:
            batch: list[_Waiting] = []
            size = 0
            while self._waiting and (
                not batch or size + len(self._waiting[0].append.entries) <= self.MAX_BATCH
            ):
                item = self._waiting.pop(0)
                batch.append(item)
                size += len(item.append.entries)
            try:
                results = await self.append_each([item.append for item in batch])
            except Exception as exc:  # every caller in the batch hears of it; nothing was written
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)
                continue
            # a refused append does not hold up the rest of its batch
            for item, result in zip(batch, results, strict=True):
                if item.done.done():
                    continue
                if isinstance(result, Exception):
                    item.done.set_exception(result)
                else:
                    item.done.set_result(result)
                # One caller at a time goes on (each room then sends its views to its pages),
                # with the sockets heard between them: when every lesson starts on the hour,
                # 160 rooms waking at once held the loop for 0.3 s without this.
                await asyncio.sleep(0)
