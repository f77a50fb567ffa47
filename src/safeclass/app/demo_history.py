"""Past lessons with realistic event logs: the demo school's fortnight, and the benchmark's term.

A head trying the demo, or the benchmark timing the head's view, needs ended sessions whose logs
look like a room's: the staff come in, pupils wait and are admitted (most on time, some late,
some never), hands go up, notes and rewards are written, now and then a pupil is removed, an
adult's connection drops and the room is held, a concern is raised, and the session ends by the
clock. `lesson_events` makes one lesson's events in the shapes the room's own decisions make
(`core.decide`), and `write_lessons` writes them through the real event log
(`EventStore.append_many`, HMAC-chained under the server's key), the same path the room uses, so
the register, the head's view, the compliance report and `safeclass audit verify` all read them
as they would a real lesson's. One copy, used by `cli/demo_school.py` and `bench/oversight.py`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Mapping, Sequence

from safeclass.app.event_store import EventStore, InTransaction
from safeclass.app.room_log import entries_for
from safeclass.core import Role
from safeclass.core import events as ev
from safeclass.core.commands import NoteKind

DROP_SECONDS = 40  # how long an adult's dropped connection keeps the room held
BEHAVIOUR_NOTES = (
    "Kept talking over others; reminded twice.",
    "Unmuted without asking.",
    "Drew on the shared screen when asked not to.",
)
REWARDS = (
    "Great counting in fives.",
    "Helped a friend find the page.",
    "Lovely reading aloud.",
    "Brilliant show and tell.",
)


def school_days(today: dt.date, count: int) -> list[dt.date]:
    """The last `count` weekdays before `today`, oldest first."""
    days: list[dt.date] = []
    day = today - dt.timedelta(days=1)
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days[::-1]


@dataclasses.dataclass(frozen=True, slots=True)
class Adult:
    """A member of staff in a lesson: id and the name the room shows."""

    id: str
    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class Happenings:
    """What happens in one lesson besides arrivals and hands (decided by the caller)."""

    notes: int = 0  # behaviour notes and rewards about pupils
    incident: bool = False  # an incident note as well
    removal: bool = False  # one pupil removed near the end
    camera_off: bool = False  # the assistant turns a pupil's camera off
    dropout: bool = False  # the assistant's connection drops for DROP_SECONDS, mid-lesson
    concern: str | None = None  # a concern's category, raised about a pupil in the room
    concern_text: str = "Seen and heard"


def lesson_events(
    rng: random.Random,
    start: dt.datetime,
    pupils: Sequence[tuple[str, str]],
    teacher: Adult,
    assistant: Adult,
    happenings: Happenings,
    *,
    minutes: int = 30,
    late_after_minutes: int = 5,
    absent_chance: float = 0.08,
    late_chance: float = 0.08,
) -> list[ev.Event]:
    """One lesson's events, in time order: who came when, what happened, the end by the clock.

    `pupils`: (id, shown name) of those who may come (consent allows it). Late pupils come
    within the policy's `late_after_minutes` or beyond it, half each."""

    def at(m: float) -> dt.datetime:
        return start + dt.timedelta(minutes=m)

    events: list[ev.Event] = [
        ev.WaitingRoomOpened(at(-5)),
        ev.StaffJoined(at(-4), teacher.id, Role.TEACHER, teacher.name, "d-t"),
        ev.StaffJoined(at(-3.5), assistant.id, Role.ASSISTANT, assistant.name, "d-a"),
    ]
    timed: list[ev.Event] = []
    inside: list[str] = []
    waiting: list[str] = []
    for pid, name in pupils:
        roll = rng.random()
        if roll < absent_chance:
            continue
        if roll < absent_chance + late_chance:
            beyond = rng.random() < 0.5
            join = (
                rng.uniform(late_after_minutes + 1, late_after_minutes + 7)
                if beyond
                else rng.uniform(0.5, max(late_after_minutes - 1, 0.6))
            )
            timed.append(ev.PupilWaiting(at(join), pid, name, f"d-{pid}", False))
            timed.append(ev.PupilAdmitted(at(join + 0.5), pid, teacher.id, False, False, False))
        else:
            events.append(ev.PupilWaiting(at(rng.uniform(-4, 0)), pid, name, f"d-{pid}", False))
            waiting.append(pid)
        inside.append(pid)
    events.sort(key=lambda e: e.at)
    events.append(ev.SessionStarted(at(0)))
    for pid in waiting:
        events.append(ev.PupilAdmitted(at(0.5), pid, teacher.id, False, False, False))
    if inside:
        for _ in range(8):
            timed.append(ev.HandRaised(at(rng.uniform(2, 28 * minutes / 30)), rng.choice(inside)))
        for i in range(happenings.notes):
            reward = i % 3 != 2  # rewards outnumber behaviour notes
            kind = NoteKind.REWARD if reward else NoteKind.BEHAVIOUR
            text = rng.choice(REWARDS if reward else BEHAVIOUR_NOTES)
            when = at(rng.uniform(5, 25 * minutes / 30))
            timed.append(ev.LogNoteAdded(when, kind, teacher.id, text, rng.choice(inside)))
        if happenings.incident:
            when = at(rng.uniform(5, 25 * minutes / 30))
            timed.append(
                ev.LogNoteAdded(when, NoteKind.INCIDENT, teacher.id, "Noted", rng.choice(inside))
            )
        if happenings.camera_off:
            when = at(rng.uniform(5, 25 * minutes / 30))
            timed.append(ev.CameraTurnedOff(when, rng.choice(inside), assistant.id))
    removed: set[str] = set()
    if inside and happenings.removal:
        pid = rng.choice(inside)
        timed.append(ev.PupilRemoved(at(minutes - 3), pid, teacher.id, "kept unmuting"))
        removed.add(pid)
    if inside and happenings.concern is not None:
        about = next(p for p in inside if p not in removed)
        when = at(minutes * 2 / 3)
        timed.append(
            ev.ConcernRaised(
                when,
                1,
                teacher.id,
                happenings.concern_text,
                about,
                category=happenings.concern,
                pupils=(about,),
            )
        )
        timed.append(ev.DslAlerted(when, ev.AlertReason.CONCERN, teacher.id, about))
    if happenings.dropout:
        # the room holds the pupils while one adult is left, and lets them go on once both
        # are back (`core.decide._settle`)
        dropped = at(minutes / 2)
        back = dropped + dt.timedelta(seconds=DROP_SECONDS)
        timed += [
            ev.ConnectionDropped(dropped, assistant.id),
            ev.RoomHeld(dropped, ev.HoldReason.STAFF_BELOW_MINIMUM, 1, 2),
            ev.StaffJoined(back, assistant.id, Role.ASSISTANT, assistant.name, "d-a"),
            ev.RoomReleased(back),
        ]
    timed.sort(key=lambda e: e.at)  # stable: each group's own order is kept
    events += timed
    still = (*(p for p in inside if p not in removed), teacher.id, assistant.id)
    events.append(ev.SessionEnded(at(minutes), ev.EndReason.TIME_LIMIT, "clock", still))
    return events


async def write_lessons(
    log: EventStore,
    lessons: Mapping[str, Sequence[ev.Event]],
    also: Sequence[InTransaction] = (),
) -> int:
    """Write each session's events to its log in one transaction, with `also` (a concern's
    record) in the same transaction, as the room does; how many events."""
    await log.append_many({sid: entries_for(events) for sid, events in lessons.items()}, also)
    return sum(len(events) for events in lessons.values())
