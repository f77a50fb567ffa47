"""A policy in plain English, section by section, for a head teacher to check against paper.

`explain(policy)` turns every setting into sentences ("Sessions are never recorded (CLA-09)").
Clause IDs are cited only for the school whose protocol they come from: Crofton's explanation
cites CRO clauses, never Claydon's. A school with its own policy file gets no clause IDs, since
it has its own paper; each heading names the capability (C1–C24) instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from safeclass.policy.model import (
    ChatMode,
    ConsentBasis,
    EntryState,
    NameRule,
    ParentToldWhen,
    Policy,
    PupilCamera,
    RecordingMode,
    WithoutParent,
)
from safeclass.policy.wording import and_list, clock, count, days, long_date, number_word

Section = tuple[str, list[str]]
Cite = Callable[..., str]

# The clause prefix in REQUIREMENTS.md for each seed school's preset key.
_CLAUSE_PREFIX = {
    "claydon": "CLA",
    "werrington": "WER",
    "st-josephs": "STJ",
    "crofton": "CRO",
    "s04": "S04",
}


def explain(policy: Policy) -> list[Section]:
    """Every setting of the policy as (heading, sentences), in the order of the model."""
    cite = _citer(policy)
    return [(heading, write(policy, cite)) for heading, write in _SECTIONS]


def review_date_has_passed(policy: Policy, today: dt.date) -> bool:
    """True once `today` is after the policy's review date (CRO-17)."""
    return today > policy.school.review


def review_notice(policy: Policy, today: dt.date) -> str:
    """One sentence on where the policy stands against its review date."""
    review = policy.school.review
    if review_date_has_passed(policy, today):
        return (
            f"The review date, {long_date(review)}, has passed: review this policy and adopt a "
            "new version."
        )
    if today == review:
        return "This policy is due for review today."
    return (
        f"The next review is due on {long_date(review)}, in {count((review - today).days, 'day')}."
    )


def _citer(policy: Policy) -> Cite:
    prefix = _CLAUSE_PREFIX.get(policy.school.key)

    def cite(*clauses: str) -> str:
        mine = [c for c in clauses if prefix and c.startswith(f"{prefix}-")]
        return f" ({', '.join(mine)})" if mine else ""

    return cite


def _school(p: Policy, cite: Cite) -> list[str]:
    s = p.school
    source = f", from its protocol “{s.source}”" if s.source else ""
    return [
        f"This is the safeguarding policy of {s.name}, version {s.version}{source}.",
        f"It was adopted on {long_date(s.adopted)} and is due for review on "
        f"{long_date(s.review)}{cite('CRO-17', 'STJ-01')}.",
        f"Its short name in safeclass is '{s.key}'; all times are {s.timezone} time.",
    ]


def _staffing(p: Policy, cite: Cite) -> list[str]:
    s = p.staffing
    n = s.min_staff
    adults = f"{number_word(n)} adults"
    if n == 1:
        out = ["One member of staff is enough to admit pupils and run a session."]
    elif s.single_adult_fallback:
        out = [
            f"At least {n} staff should be in the room before any pupil is admitted"
            f"{cite('CRO-04')}.",
            "If only one adult is available, pupils are admitted only once two or more are "
            "waiting, so one adult is never alone with one pupil, and the session ends for all "
            f"of them at the same moment{cite('CRO-04')}.",
        ]
    else:
        one_to_one = p.one_to_one
        if one_to_one.allowed and one_to_one.min_staff != n:
            group, rest = " to a group session", "; 1-to-1 sessions have their own rule, below"
        else:
            group, rest = "", f": a pupil is never in a live room with fewer than {adults}"
        out = [
            f"At least {n} staff must be in the room before any pupil is admitted{group}"
            f"{cite('CLA-02', 'S04-11', 'CRO-04', 'STJ-06')}{rest}.",
            f"There is no single-adult fallback: with fewer than {n} staff, nobody is admitted.",
        ]
    if n == 1:
        below = "the only member of staff leaves"
    elif s.single_adult_fallback:
        below = "the staff in the room fall below what these rules allow"
    else:
        below = f"staff drop below {n}"
    out.append(
        f"If {below} during a session, pupils are held (their sound and video stop and they "
        "see a waiting screen) until enough staff are back; after "
        f"{count(s.hold_ends_session_after_minutes, 'minute')} on hold the session ends for "
        "everyone."
    )
    if s.staff_may_leave_pupils:
        out.append("Staff may leave before the pupils do, as long as enough staff stay.")
    else:
        out.append(
            "Staff cannot leave while pupils are still in the session: it ends for everyone at "
            "the same moment, so no pupil is left with one adult"
            f"{cite('CLA-10', 'STJ-07', 'CRO-04')}."
        )
    return out


def _timing(p: Policy, cite: Cite) -> list[str]:
    t = p.timing
    out = [
        f"Sessions last at most {t.max_minutes} minutes{cite('CLA-06')}; then everyone is "
        f"disconnected at the same moment{cite('STJ-07', 'CRO-04')}."
    ]
    if t.warnings_minutes_before_end:
        when = and_list([count(w, "minute") for w in sorted(t.warnings_minutes_before_end)[::-1]])
        out.append(f"Everyone sees a warning {when} before the end.")
    else:
        out.append("Nobody is warned before the end.")
    opens = t.waiting_room_opens_minutes_before
    start = f"{count(opens, 'minute')} before the start" if opens else "at the start time"
    out.append(
        f"The waiting room opens {start}; pupils wait there until a member of staff admits "
        f"them{cite('CLA-04', 'WER-03', 'WER-04', 'S04-03', 'S04-04')}."
    )
    late = t.late_after_minutes
    after = f"more than {count(late, 'minute')} after the start" if late else "after the start"
    out.append(
        f"A pupil who first joins the waiting room {after} is marked late in the register; "
        f"waiting on time and being let in later is not late{cite('CRO-02', 'STJ-11')}."
    )
    return out


def _school_day(p: Policy, cite: Cite) -> list[str]:
    d = p.school_day
    when = days(d.days)
    on = "" if " to " in when else "on "
    return [
        f"Sessions can be scheduled only {on}{when}, between {clock(d.starts)} and "
        f"{clock(d.ends)}{cite('CLA-03', 'CRO-05')}; any other time is refused."
    ]


_NAME_FORMS = {
    NameRule.FIRST_NAME_SURNAME_INITIAL: "first name and surname initial, e.g. 'Amelia R.'",
    NameRule.FIRST_NAME: "first name only, e.g. 'Amelia'",
    NameRule.FULL_NAME: "full name, e.g. 'Amelia Roberts'",
}


def _identity(p: Policy, cite: Cite) -> list[str]:
    i = p.identity
    out = [
        f"Pupils are shown by {_NAME_FORMS[i.name_rule]}, taken from the class list; they "
        f"cannot change it{cite('CLA-15', 'WER-05', 'CRO-15', 'S04-05')}.",
        f"Only pupils on the class list can be admitted; anyone else is refused{cite('CRO-11')}.",
    ]
    if i.one_device_per_pupil:
        out.append(
            "Each pupil can be connected from one device at a time; a second device is "
            f"refused{cite('STJ-11')}."
        )
    else:
        out.append("A pupil may be connected from more than one device at a time.")
    return out


def _entry(p: Policy, cite: Cite) -> list[str]:
    e = p.entry
    mic = "off" if e.mic_on_entry is EntryState.OFF else "on"
    camera = "off" if e.camera_on_entry is EntryState.OFF else "on"
    out = [
        f"Pupils' microphones are {mic} when they are admitted"
        f"{cite('CLA-05', 'WER-06', 'S04-06', 'CRO-13', 'STJ-11')}.",
    ]
    if e.pupils_may_unmute_themselves:
        out.append("Pupils may unmute themselves; staff can still mute anyone.")
    else:
        out.append(
            "Pupils cannot unmute themselves: a member of staff lets a pupil speak, and the "
            f"server enforces mutes, not the pupil's device{cite('CLA-05', 'CRO-13', 'S04-17')}."
        )
    out.append(
        f"Pupils' cameras are {camera} when they are admitted{cite('WER-06', 'CLA-11', 'CRO-14')}."
    )
    out.append(
        {
            PupilCamera.TEACHER_DECIDES: "Pupils can turn their cameras on only when the "
            f"teacher allows it{cite('CLA-11')}.",
            PupilCamera.ON_UNLESS_AGREED: "Pupils keep their cameras on unless the teacher has "
            f"agreed otherwise{cite('CRO-14')}.",
            PupilCamera.PUPIL_CHOICE: "Pupils may turn their own cameras on and off.",
        }[e.pupil_camera]
    )
    out.append(
        "Staff can turn any pupil's camera off at any time, for example if a child is in a "
        f"bedroom{cite('WER-11', 'S04-13', 'S04-16')}."
    )
    return out


def _chat(p: Policy, cite: Cite) -> list[str]:
    c = p.chat
    if c.default is ChatMode.OFF_UNTIL_ALLOWED:
        start = "Chat is off until the teacher switches it on"
    else:
        start = "Chat is on from the start and staff can switch it off"
    return [
        f"{start}; messages are always seen by everyone — there is no private chat"
        f"{cite('CLA-13', 'CRO-12')}.",
        f"A chat message can be at most {count(c.max_message_chars, 'character')} long.",
    ]


def _recording(p: Policy, cite: Cite) -> list[str]:
    r = p.recording
    before = (
        f"{count(r.notice_seconds, 'second')} before it starts"
        if r.notice_seconds
        else "as it starts, with no wait"
    )
    if r.mode is RecordingMode.NEVER:
        return [f"Sessions are never recorded{cite('CLA-09', 'S04-10', 'WER-08')}."]
    kept = (
        f"Recordings are kept with restricted access for "
        f"{count(p.retention.recordings_days, 'day')}, then deleted{cite('WER-10')}."
    )
    if r.mode is RecordingMode.WITH_NOTICE:
        return [
            "Sessions may be recorded. Everyone sees “This session will be recorded” "
            f"{before}, and a red indicator shows while it runs{cite('STJ-09')}.",
            kept,
        ]
    return [
        f"Group sessions are never recorded{cite('WER-08')}.",
        "The only recording is a 1-to-1 held without a parent in the room: the parent is told "
        f"{before} and the DSL is alerted{cite('WER-10')}.",
        kept,
    ]


def _one_to_one(p: Policy, cite: Cite) -> list[str]:
    o = p.one_to_one
    if not o.allowed:
        return [
            "1-to-1 sessions are not allowed: no member of staff is ever alone with one pupil"
            f"{cite('CLA-02', 'STJ-07')}."
        ]
    staff = "one member of staff" if o.min_staff == 1 else f"{o.min_staff} staff"
    out = [
        "1-to-1 sessions (for example reading or pastoral) are allowed, with at least "
        f"{staff} in the room{cite('WER-09', 'S04-08')}."
    ]
    if not o.parent_must_be_present:
        out.append("A parent does not need to be in the room.")
        return out
    out.append(
        "The parent must confirm at the start that they are in the room, and stay throughout"
        f"{cite('WER-07', 'WER-09', 'S04-07', 'S04-09')}."
    )
    if o.without_parent is WithoutParent.REFUSE:
        out.append(
            "If the parent cannot be in the room, the pupil is not admitted (or is held) until "
            f"they are{cite('S04-09', 'S04-10')}."
        )
    else:
        out.append(
            "If the parent cannot be in the room, the session is recorded: the parent is told "
            f"before recording starts and the DSL is alerted{cite('WER-10')}."
        )
    return out


def _removal(p: Policy, cite: Cite) -> list[str]:
    r = p.removal
    when = (
        "at the end of the session"
        if r.parent_told is ParentToldWhen.END_OF_SESSION
        else "straight away"
    )
    out = [
        "Any member of staff can remove a pupil at once; a removed pupil cannot rejoin that "
        f"session{cite('STJ-06', 'S04-16')}.",
        f"The parent is told {when} that their child was removed, and why"
        f"{cite('STJ-06', 'S04-16', 'CLA-08')}.",
    ]
    if r.tell_parent_when_camera_turned_off:
        out.append(
            f"The parent is also told {when} when staff turn their child's camera off"
            f"{cite('S04-16', 'WER-11')}."
        )
    else:
        out.append("Parents are not told automatically when staff turn their child's camera off.")
    if p.notices.absence:
        out.append(
            "At the end of the session, the parent of each pupil who was expected and never came "
            "is told, unless they had already told the school their child would not be there"
            f"{cite('CRO-02', 'CRO-16')}."
        )
    else:
        out.append("Parents are not told automatically when their child does not come.")
    return out


def _consent(p: Policy, cite: Cite) -> list[str]:
    if p.consent.basis is ConsentBasis.IMPLIED_UNTIL_GIVEN:
        first = (
            "Attending counts as consent until the parent gives or refuses consent"
            f"{cite('CLA-14', 'WER-13', 'S04-18')}."
        )
    else:
        first = "Only pupils whose parent has given consent can be admitted."
    return [first, f"A pupil whose parent has opted out is never admitted{cite('CRO-16')}."]


def _expectations(p: Policy, cite: Cite) -> list[str]:
    e = p.expectations
    out: list[str] = []
    for who, texts in (("pupils", e.pupil), ("parents", e.parent)):
        if texts:
            out.extend(f"For {who}: {text}" for text in texts)
        else:
            out.append(f"No expectations are set for {who}.")
    if e.must_acknowledge:
        out.append(
            "Pupils and parents see these when they join and must tick to say they have read "
            f"them before they can join{cite('CLA-18', 'CLA-19', 'WER-12', 'S04-14')}."
        )
    else:
        out.append("These are shown when pupils join; nobody has to tick them.")
    if e.remind_at_start:
        out.append(f"Everyone is reminded of them at the start of the session{cite('S04-15')}.")
    else:
        out.append("They are not repeated at the start of the session.")
    return out


def _concerns(p: Policy, cite: Cite) -> list[str]:
    return [
        "Any member of staff in a session can raise a safeguarding concern in one click, or "
        f"afterwards from the lesson's page; the safeguarding lead is told at once"
        f"{cite('CLA-07', 'WER-14', 'WER-16', 'STJ-08', 'S04-19', 'S04-21')}.",
        f"A concern is filed under one of: {'; '.join(p.concerns.categories)}.",
        "Once written a concern is never changed, only added to; only the safeguarding lead and "
        "the one who wrote it can read it.",
    ]


def _retention(p: Policy, cite: Cite) -> list[str]:
    r = p.retention

    def kept(what: str, n: int) -> str:
        return (
            f"{what} are deleted when the session ends."
            if n == 0
            else (f"{what} are kept for {count(n, 'day')}, then deleted.")
        )

    recordings = (
        f"There are no recordings to keep (the limit is {count(r.recordings_days, 'day')})."
        if p.recording.mode is RecordingMode.NEVER
        else kept("Recordings", r.recordings_days)
    )
    return [
        kept("Chat messages", r.chat_messages_days),
        kept("Invitation links", r.invitations_days),
        kept("Attendance registers", r.register_days),
        kept("Session logs (agenda, incidents, notes)", r.session_log_days),
        recordings,
        f"Safeguarding concerns are kept until the pupil is {r.concerns_until_pupil_age}.",
    ]


_SECTIONS: list[tuple[str, Callable[[Policy, Cite], list[str]]]] = [
    ("Policy, version and review (C20)", _school),
    ("Staff in the room (C5)", _staffing),
    ("Session length and waiting room (C3, C11)", _timing),
    ("School day (C1)", _school_day),
    ("Names and devices (C4)", _identity),
    ("Microphones and cameras (C7)", _entry),
    ("Chat (C8)", _chat),
    ("Recording (C13)", _recording),
    ("1-to-1 sessions (C6)", _one_to_one),
    ("Removing a pupil and telling the parent (C10)", _removal),
    ("Consent (C17)", _consent),
    ("Expectations shown at join (C18)", _expectations),
    ("Safeguarding concerns (C16)", _concerns),
    ("How long records are kept (C13–C16)", _retention),
]
