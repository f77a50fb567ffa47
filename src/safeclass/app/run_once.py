"""Jobs that must run once across a cluster, not once per worker: who runs them, and when.

Retention and the DSLs' daily log checkpoints must run once however many workers there are
(a checkpoint twice is two emails to every DSL; two retentions at once race each other). They
are run by the cluster's **lead**: one worker at a time, chosen by a PostgreSQL session-level
advisory lock held on a connection of the lead's own (adapters/store/pg_lead.py). The lock needs
no lease to renew: PostgreSQL lets go of it when that connection ends, so a lead that stops,
crashes or is killed hands the jobs over at once, and another worker, trying every second,
leads within a second or two. A job that was half done when its lead died is run again in full
by the next (both jobs may run twice, never at once by design: retention deletes only what is
due, a checkpoint is a fresh snapshot).

When each job last finished is kept in the database (`cluster_jobs`, by the database's clock,
so workers whose clocks differ agree), so a new lead runs a job when it is due, not again
because it has just taken over. Nor does it run one sooner than `first` seconds after it began
to lead (or `every`, if that is shorter), as one process's first run waits after it starts: a
worker taking over mid-lesson has rooms to bring back first. Just before running, the lead
checks that its lock's connection is still there, so a lead cut off from the database does not
start a job that another may be starting.

**Outbox delivery** (DSL alerts, parents' notices, reminders and reports, which are all rows of
the notifications table with a time to send) is not led: every worker runs its outbox, and each
row is claimed before it is sent by an atomic update that moves it out of everyone else's reach
(app/outbox.py), so any worker may send it and none sends it twice. That keeps an alert's path
short (the worker whose room wrote it sends it at once) and leaves no single worker that all
mail waits for. What each worker watches for its own sockets (revocations, consent) is
per-worker too: only the worker holding a socket can close it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)

RETENTION = "retention"
CHECKPOINTS = "checkpoints"
RECHECK = 30.0  # seconds: at most this long between looks at a job's record


class Lead(Protocol):
    @property
    def led_for(self) -> float:
        """Seconds this worker has led without a break (0 when it does not lead)."""
        ...

    async def wait_to_lead(self) -> None:
        """Return once this worker leads (at once if it does)."""
        ...

    async def still_leading(self) -> bool:
        """Whether the lead's lock is still held (asked of the database, just before a job)."""
        ...

    async def due_in(self, job: str, every: float) -> float | None:
        """Seconds until `job` is due again (0 or less: now); None if it has never run."""
        ...

    async def done(self, job: str) -> None:
        """Record that `job` finished now, by this worker."""
        ...


async def run_led(
    lead: Lead,
    job: str,
    every: float,
    first: float,
    run: Callable[[], Awaitable[None]],
) -> None:
    """Run `job` (its `run()`) every `every` seconds on whichever worker leads, until cancelled."""
    first = min(first, every)
    while True:
        await lead.wait_to_lead()
        try:
            due = await lead.due_in(job, every)  # None: never run in this cluster
            wait = max(0.0 if due is None else due, first - lead.led_for)
            if wait > 0:
                await asyncio.sleep(min(wait, RECHECK))
                continue
            if not await lead.still_leading():
                continue
            await run()
            await lead.done(job)
        except Exception:  # the database is away: looked at again shortly
            log.exception("the cluster's %s job could not run", job)
            await asyncio.sleep(min(every, RECHECK))
