"""A change to a pupil's consent reaches every live room at once (C17: CRO-16, CLA-14, WER-13).

A room takes its class list, with each pupil's consent, from the records when it starts. A
family who opts out is recorded by the office (the roster import or `safeclass` on the command
line, often another process), so without this watch a pupil whose page was already open could
still join the waiting room and be admitted. Every few seconds the server compares the consent
of each live room's expected pupils with the records and tells a room of each difference
(`ChangeConsent`, with where the change came from); the room takes an opted-out pupil out at
once. A parent who withdraws consent through their child's link (app/family_consent.py) does not
wait for the next look: the server checks at once. The records are read through the
school-records port.

Each look is one small query for all the rooms: a mark of each room's consent history
(`SchoolRecords.consent_marks`, a row a room). Only a room whose mark differs from the last
one seen (or a room not seen before) has its pupils' consents read and compared, so a server
holding thousands of pupils does not read every one of them every few seconds, which once held
up every socket on it for tens of milliseconds at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from safeclass.app.live.runtime import LiveRoom, RoomClosedError
from safeclass.app.school_records import ConsentMark, SchoolRecords
from safeclass.core import commands as cmd

log = logging.getLogger(__name__)


class ConsentWatch:
    def __init__(
        self, records: SchoolRecords, live_rooms: Callable[[], Sequence[LiveRoom]]
    ) -> None:
        self._records = records
        self._live_rooms = live_rooms
        self._seen: dict[str, ConsentMark] = {}  # each live room's mark when last compared

    async def check(self) -> int:
        """Tell each live room of every pupil whose consent changed; how many changes."""
        rooms = {room.session_id: room for room in self._live_rooms() if not room.ended}
        self._seen = {sid: mark for sid, mark in self._seen.items() if sid in rooms}
        if not rooms:
            return 0
        marks = await self._records.consent_marks(list(rooms))
        stale = [sid for sid in rooms if sid not in self._seen or marks.get(sid) != self._seen[sid]]
        if not stale:
            return 0
        changes = 0
        failed: set[str] = set()
        for found in await self._records.recorded_consents(stale):
            room = rooms[found.session_id]
            expected = room.state.plan.expected.get(found.pupil_id)
            if expected is None or expected.consent is found.consent:
                continue
            change = cmd.ChangeConsent(cmd.SCHOOL, found.pupil_id, found.consent, found.source)
            try:
                await room.submit(change)
            except RoomClosedError:
                continue
            except Exception:  # not written: compared again at the next look
                log.exception(
                    "could not change a pupil's consent", extra={"session": room.session_id}
                )
                failed.add(found.session_id)
                continue
            changes += 1
        for sid in stale:
            if sid not in failed and sid in marks:
                self._seen[sid] = marks[sid]
        if changes:
            log.info("consent changed for %d pupil(s) in live rooms", changes)
        return changes
