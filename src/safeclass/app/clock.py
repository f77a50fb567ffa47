"""The clock port: the runtime asks it the time and sleeps on it, so tests can move time on.

`SystemClock` is the real one. `AdjustableClock` runs at real speed from an offset a test can
advance ("it is now 25 minutes into the lesson"): sleepers wake at once when it moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...

    async def sleep_until(self, when: dt.datetime) -> None: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    async def sleep_until(self, when: dt.datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


class AdjustableClock:
    """Real time plus an offset that only grows (time never runs backwards for the rooms)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._offset = (start - dt.datetime.now(dt.UTC)) if start else dt.timedelta(0)
        self._moved = asyncio.Event()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self._offset

    def advance(self, delta: dt.timedelta) -> None:
        if delta < dt.timedelta(0):
            raise ValueError("the clock never goes backwards")
        self._offset += delta
        self._moved.set()
        self._moved = asyncio.Event()

    def set(self, when: dt.datetime) -> None:
        self.advance(max(when - self.now(), dt.timedelta(0)))

    async def sleep_until(self, when: dt.datetime) -> None:
        while (delay := (when - self.now()).total_seconds()) > 0:
            moved = self._moved
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(moved.wait(), timeout=delay)
