"""How a register's values read in a report: local HH:MM times, plain minutes, plain words.

Shared by the CSV, the PDF and the terminal table so the three always say the same thing.
"""

from __future__ import annotations

import datetime as dt

from safeclass.app.register import Attendance, Hold, PupilRow, Register
from safeclass.core.commands import NoteKind
from safeclass.core.events import EndReason, HoldReason

END_REASONS = {
    EndReason.TIME_LIMIT: "time limit",
    EndReason.HOLD_TIMEOUT: "held too long without enough staff",
    EndReason.ENDED_BY_STAFF: "ended by staff",
    EndReason.EMERGENCY: "emergency end",
}

PUPIL_HEADINGS = (
    "Pupil",
    "Status",
    "Joined waiting room",
    "Admitted",
    "Left",
    "Minutes present",
    "Late by (minutes)",
    "Left early",
    "Reconnections",
    "Removed by",
    "Removal reason",
    "Cameras turned off by staff",
    "Hands raised",
    "Refused attempts",
)


def hhmm(when: dt.datetime | None) -> str:
    """A local time as 10:02, or blank."""
    return "" if when is None else when.strftime("%H:%M")


def number(value: float | None) -> str:
    """27.5, or 28 for a whole number, or blank."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def duration(span: dt.timedelta) -> str:
    """40 s, 3 min 20 s, 12 min."""
    seconds = round(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    whole, rest = divmod(seconds, 60)
    return f"{whole} min {rest} s" if rest else f"{whole} min"


def pupil_cells(row: PupilRow) -> tuple[str, ...]:
    """One pupil's values in PUPIL_HEADINGS order."""
    attended = row.admitted_at is not None
    return (
        row.name,
        row.status.value,
        hhmm(row.waiting_at),
        hhmm(row.admitted_at),
        hhmm(row.left_at),
        number(row.minutes_present),
        number(row.late_minutes),
        ("yes" if row.left_early else "no") if attended else "",
        str(row.reconnections),
        row.removed_by or "",
        row.removal_reason,
        str(row.cameras_turned_off),
        str(row.hands_raised),
        str(row.refused_attempts),
    )


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def hold_reason(hold: Hold) -> str:
    if hold.reason is HoldReason.PARENT_ABSENT:
        return "waiting for a parent to be present"
    return f"{hold.staff_present} of {hold.staff_required} required staff present"


def ending(register: Register) -> str:
    """How the session ended: "10:30 (time limit)", "10:21 (ended by Mrs Khan)", "not ended"."""
    facts = register.facts
    if facts.ended_at is None or facts.end_reason is None:
        return "not ended"
    if facts.end_reason is EndReason.ENDED_BY_STAFF and facts.ended_by:
        why = f"ended by {facts.ended_by}"
    elif facts.end_reason is EndReason.EMERGENCY and facts.ended_by:
        why = f"emergency end by {facts.ended_by}"
    else:
        why = END_REASONS.get(facts.end_reason, facts.end_reason.value)
    return f"{hhmm(facts.ended_at)} ({why})"


def summary(register: Register) -> list[str]:
    """The session's facts as short sentences, for the top of a report."""
    facts = register.facts
    counts = [
        f"{len(register.pupils)} expected",
        f"{register.count(Attendance.ATTENDED) + register.count(Attendance.REMOVED)} attended",
        f"{register.count(Attendance.ABSENT)} absent",
        f"{register.late} late",
        f"{register.left_early} left early",
        f"{register.count(Attendance.REMOVED)} removed",
    ]
    for status in (Attendance.DENIED, Attendance.NOT_ADMITTED, Attendance.OPTED_OUT):
        if register.count(status):
            counts.append(f"{register.count(status)} {status.value}")
    lines = [
        "Pupils: " + ", ".join(counts),
        f"Planned {hhmm(facts.planned_start)}–{hhmm(facts.planned_end)}; ended {ending(register)}",
    ]
    holds = len(facts.holds)
    if holds:
        lines.append(f"Room held {plural(holds, 'time')}, {duration(facts.total_hold)} in all")
    else:
        lines.append("Room never held")
    if facts.chat:
        spans = ", ".join(f"{hhmm(p.start)}–{hhmm(p.end)}" for p in facts.chat)
        lines.append(f"Chat on {spans}; {plural(facts.chat_messages, 'message')}")
    else:
        lines.append("Chat off throughout")
    if facts.recording:
        spans = ", ".join(f"{hhmm(p.start)}–{hhmm(p.end)}" for p in facts.recording)
        lines.append(f"Recorded {spans}")
    else:
        lines.append("Not recorded")
    lines.append(f"Safeguarding concerns raised: {facts.concerns}")
    if facts.refused_attempts:
        lines.append(
            f"Refused attempts (not permitted for the sender's role): {facts.refused_attempts:,}"
        )
    return lines


NOTE_KINDS = {
    NoteKind.AGENDA: "agenda",
    NoteKind.INCIDENT: "incident",
    NoteKind.BEHAVIOUR: "behaviour",
    NoteKind.REWARD: "reward",
    NoteKind.NOTE: "note",
    NoteKind.RESOURCE: "for the lesson",
}
LOG_HEADINGS = ("Time", "Entry", "Pupil", "By", "Text")


def session_log_rows(register: Register) -> list[tuple[str, str, str, str, str]]:
    """The session log beside the attendance (C15): the agenda as scheduled, each note and
    reward (who, when, which pupil, what), and each resource added or removed, in time order.
    A time on another day than the lesson's says its day ("23 Nov 14:00")."""
    day = register.facts.planned_start.date()

    def when(at: dt.datetime | None) -> str:
        if at is None or at.date() == day:
            return hhmm(at)
        return f"{at.day} {at:%b} {hhmm(at)}"

    rows: list[tuple[dt.datetime | None, tuple[str, str, str, str, str]]] = []
    if register.agenda:
        opened = register.facts.opened_at
        rows.append((opened, (when(opened), "agenda", "", "as scheduled", register.agenda)))
    for n in register.notes:
        kind = NOTE_KINDS.get(n.kind, n.kind.value)
        rows.append((n.at, (when(n.at), kind, n.pupil or "", n.by, n.text)))
    for r in register.resources:
        added = (when(r.added_at), "resource added", "", r.added_by, f"{r.title} ({r.what})")
        rows.append((r.added_at, added))
        if r.removed_at is not None:
            removed = (when(r.removed_at), "resource removed", "", r.removed_by or "", r.title)
            rows.append((r.removed_at, removed))
    first = dt.datetime.min.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda pair: pair[0] or first)
    return [row for _, row in rows]
