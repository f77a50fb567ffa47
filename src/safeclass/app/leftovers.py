"""Work a page leaves undone when its time budget runs out, finished by one task a school.

The head's view and the school-wide compliance summary add up rows kept per ended session. Just
after an upgrade (or a log that moved) some sessions have none yet: the page works some out for
its budget, answers, and hands the rest here, where one task per school works through them (a
second page meanwhile leaves them to it) so the next page has every figure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

log = logging.getLogger(__name__)


class Leftovers:
    def __init__(self, what: str) -> None:
        self._what = what  # for the task's name and the log: "attendance rows", …
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def busy(self, school_id: str) -> bool:
        """Whether a task is already working through this school's sessions."""
        task = self._tasks.get(school_id)
        return task is not None and not task.done()

    def finish(
        self,
        school_id: str,
        session_ids: Sequence[str],
        work: Callable[[str], Awaitable[object]],
    ) -> None:
        """Do `work` for each session in a task of its own, unless one is at it already; a
        session whose work fails is logged and left to the next page."""
        if self.busy(school_id):
            return

        async def run() -> None:
            for sid in session_ids:
                try:
                    await work(sid)
                except Exception:
                    log.exception("%s not kept", self._what, extra={"session": sid})

        name = f"{self._what} {school_id}"
        self._tasks[school_id] = asyncio.create_task(run(), name=name)

    def task(self, school_id: str) -> asyncio.Task[None] | None:
        """The school's task, if one was started (for a test to wait for)."""
        return self._tasks.get(school_id)
