"""The server's background duties: bring back live rooms after a restart, run retention daily,
send each DSL a signed checkpoint of the logs daily, close the sockets of logins ended by
another process, and take a pupil whose consent was withdrawn out of a live room
(`ConsentWatch`).

At start, every session the log says was live is restored (so its clock runs on: a session
whose time ran out while the server was down ends at once, everyone is marked disconnected,
and pupils are held until staff return). Then retention runs once a minute after start and
every `retention_every_hours` after that, and `RevocationWatch` looks every few seconds for
logins and pupil passes revoked elsewhere (e.g. `safeclass staff disable`). Checkpoints
(app/checkpoints.py) go to the outbox a few minutes after start and every
`checkpoint_every_hours` after that.

In a cluster (given a `lead`), retention and checkpoints run once across the cluster, on the
worker that leads (app/run_once.py says how and why); the watches of revocations and consent
still run on every worker, since each closes the sockets that it holds. Live rooms are not
restored at a worker's start there: its membership takes back the rooms it held before and its
share of the rest, so a cluster started at once does not leave every room on its first worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from safeclass.app.checkpoints import CheckpointRecords, send_checkpoints
from safeclass.app.clock import Clock
from safeclass.app.consent_watch import ConsentWatch
from safeclass.app.event_store import EventStore
from safeclass.app.live.ownership import RoomElsewhereError
from safeclass.app.live.registry import Rooms
from safeclass.app.retention import RetentionRows, run_retention
from safeclass.app.revocations import RevocationWatch
from safeclass.app.run_once import CHECKPOINTS, RETENTION, Lead, run_led
from safeclass.app.school_records import SchoolRecords

log = logging.getLogger(__name__)


class Housekeeping:
    def __init__(
        self,
        retention: RetentionRows,
        records: SchoolRecords,
        rooms: Rooms,
        clock: Clock,
        retention_every_hours: float,
        first_retention_after_s: float = 60.0,
        revocations: RevocationWatch | None = None,
        revocations_every_s: float = 2.0,
        *,
        event_log: EventStore,
        checkpoint_key: bytes | None = None,
        checkpoint_records: CheckpointRecords | None = None,
        checkpoint_every_hours: float = 24.0,
        first_checkpoint_after_s: float = 300.0,
        consents: ConsentWatch | None = None,
        data_dir: Path | None = None,
        lead: Lead | None = None,
    ) -> None:
        """`data_dir`: the server's data folder (retention deletes lessons' resource files);
        `lead`: a cluster's lead, which alone runs retention and checkpoints (None: one process);
        checkpoints are sent when given their key and `checkpoint_records`."""
        self._retention = retention
        self._records = records
        self._data_dir = data_dir
        self._log = event_log
        self._checkpoint_key = checkpoint_key
        self._checkpoint_records = checkpoint_records
        self._checkpoint_every = checkpoint_every_hours * 3600
        self._first_checkpoint = first_checkpoint_after_s
        self._rooms = rooms
        self._clock = clock
        self._every = retention_every_hours * 3600
        self._first = first_retention_after_s
        self._revocations = revocations
        self._revocations_every = revocations_every_s
        self._consents = consents
        self._lead = lead
        self._tasks: list[asyncio.Task[None]] = []

    async def restore_live_rooms(self, *, rooms: bool = True) -> list[str]:
        """Restore the rooms of sessions that were live when the server stopped, and finish
        the recordings left. A worker of a cluster (`rooms` false) restores no room here: its
        membership takes back its own and its share of the others' (app/live/membership.py)."""
        restored = []
        for session_id in await self._records.live_sessions() if rooms else []:
            try:
                await self._rooms.room(session_id)
            except RoomElsewhereError:
                continue  # a cluster: another worker that is alive has it
            except Exception:  # one broken session must not keep the others down
                log.exception("could not restore a live room", extra={"session": session_id})
            else:
                restored.append(session_id)
        finished = await self._rooms.finish_recordings()
        if finished:
            log.info("finished %d recording(s) left from before the restart", finished)
        return restored

    def start(self) -> None:
        if self._lead is None:
            retention = self._retention_loop()
        else:
            retention = run_led(self._lead, RETENTION, self._every, self._first, self._retain)
        self._tasks = [asyncio.create_task(retention, name="retention")]
        if self._checkpoint_key is not None and self._checkpoint_records is not None:
            if self._lead is None:
                loop = self._checkpoint_loop()
            else:
                every, first = self._checkpoint_every, self._first_checkpoint
                loop = run_led(self._lead, CHECKPOINTS, every, first, self._checkpoint)
            self._tasks.append(asyncio.create_task(loop, name="log checkpoints"))
        if self._revocations is not None:
            watch = self._watch(self._revocations.check, "revocation")
            self._tasks.append(asyncio.create_task(watch, name="revocations"))
        if self._consents is not None:
            consents = self._watch(self._consents.check, "consent")
            self._tasks.append(asyncio.create_task(consents, name="consents"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self, check: Callable[[], Awaitable[object]], what: str) -> None:
        """Look every few seconds for what changed elsewhere (revocations, consent)."""
        while True:
            await asyncio.sleep(self._revocations_every)
            try:
                await check()
            except Exception:  # the database is away: looked at again next time
                log.exception("%s check failed", what)

    async def _retention_loop(self) -> None:
        await asyncio.sleep(self._first)
        while True:
            await self._retain()
            await asyncio.sleep(self._every)

    async def _retain(self) -> None:
        try:
            report = await run_retention(
                self._retention, self._clock.now(), self._log, self._data_dir
            )
        except Exception:  # retried at the next run; the server goes on
            log.exception("retention run failed")
        else:
            log.info("retention run: %d deleted", report.total)
            for problem in report.problems:
                log.warning("retention: %s", problem)

    async def send_checkpoints(self) -> int:
        """Queue every school's signed log checkpoint for its DSLs now; how many were queued."""
        if self._checkpoint_key is None or self._checkpoint_records is None:
            return 0
        return await send_checkpoints(
            self._checkpoint_records, self._log, self._checkpoint_key, self._clock.now()
        )

    async def _checkpoint_loop(self) -> None:
        await asyncio.sleep(self._first_checkpoint)
        while True:
            await self._checkpoint()
            await asyncio.sleep(self._checkpoint_every)

    async def _checkpoint(self) -> None:
        try:
            queued = await self.send_checkpoints()
        except Exception:  # tried again at the next run; the server goes on
            log.exception("log checkpoint failed")
        else:
            log.info("log checkpoints queued for %d DSL(s)", queued)
