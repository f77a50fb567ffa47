"""The compliance report of a session: rule by rule, held or not, with the log's evidence.

For each rule of the policy version that governed the session (the version stored with it),
the report says whether it held, cites the school's own clause (`policy.clauses.clause_for`,
so a head can check it against the paper protocol) and gives the evidence from the session's
event log: every hold for lack of staff (from, to, how long) and who left or dropped to cause
it; planned and actual length against the policy's limit; that everyone admitted was on the
class list, had consent and came through the waiting room (admitted by whom), with the mic off;
that nobody came back after removal; the recording (never made, or made with notice at hh:mm
and who was told); the chat; that everyone was out at the end (hh:mm:ss); each concern and
when the DSL was told (the `DslAlerted` event and its outbox row's `sent_at`); and whether the
log's chain verifies (`EventStore.verify`, as `safeclass audit verify` checks it). On a log that
does not verify no rule is said to hold: each says it cannot be shown.

Sentences are data (`Said`: an English template and its values) so the page and the PDF speak
Welsh as well as English: every template is listed in `web/compliance_words.py` for gettext (a
test keeps the two lists the same), and the renderers take the translations to use.

`school_summary` gives the head and the DSL every ended session of a date range, held or not
per rule, with counts of breaches. It reads `compliance_results`, one row per session holding
the outcomes and the log head they were computed from; a session with no row, a row whose head
has moved, or one that waited on an alert not yet delivered, is computed (replayed and
verified) and stored again, so 840 sessions are one query once computed. A row is written when a
session's room ends (`app/after_end.py`) and whenever its report is made. What no head can show,
a row changed in the middle of a log after its result was stored, the session's own page (which
verifies afresh every time, and then corrects the stored row) and `safeclass audit verify` show;
`school_summary(recheck=True)` (`safeclass report compliance --school --recheck`) verifies all.
The sessions, their DSL alerts' deliveries and the kept results are read and written through
`ComplianceResults` (on the database: `safeclass.adapters.store.compliance_results`,
`Services.compliance_results`).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.app.event_store import EventStore, VerifyReport
from safeclass.app.leftovers import Leftovers
from safeclass.app.log_audit import deleted_by_retention
from safeclass.app.room_log import room_events
from safeclass.app.school_records import StoredSession
from safeclass.app.undelivered import AlertDelivery
from safeclass.core import events as ev
from safeclass.core.roles import Consent
from safeclass.core.state import SessionKind
from safeclass.policy.clauses import Rule, clause_for
from safeclass.policy.model import (
    ChatMode,
    ConsentBasis,
    EntryState,
    Policy,
    RecordingMode,
)

GRACE = dt.timedelta(seconds=5)  # the room's clock ticks a moment after a deadline


class Outcome(StrEnum):
    HELD = "held"
    NOT_HELD = "not_held"
    UNPROVEN = "unproven"  # the log does not verify: nothing can be shown to have held


@dataclass(frozen=True, slots=True)
class Span:
    """A length of time, worded by the renderer ("40 seconds", "2 minutes 5 seconds")."""

    seconds: int


Value = str | int | Span


@dataclass(frozen=True, slots=True)
class Said:
    """One sentence: an English template (a msgid of web/compliance_words.py) and its values."""

    text: str
    values: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleResult:
    key: str  # one of RULE_KEYS
    clause: str  # the school's clause ID, or the capability ID
    outcome: Outcome
    evidence: tuple[Said, ...]

    @property
    def title(self) -> str:
        return TITLES[self.key]


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    session_id: str
    title: str
    school: str
    policy_version: int
    timezone: str
    planned_start: dt.datetime  # local
    ended: bool
    verified: bool
    rules: tuple[RuleResult, ...]
    problems: tuple[str, ...]  # what verify found (technical, from the log's own check)
    head_hash: str
    last_seq: int
    settled: bool  # False: an alert was still waiting to go when this was made
    log_deleted: bool = False  # by the retention job, on its day

    @property
    def breaches(self) -> int:
        return sum(1 for r in self.rules if r.outcome is Outcome.NOT_HELD)

    def rule(self, key: str) -> RuleResult:
        return next(r for r in self.rules if r.key == key)

    @property
    def outcomes(self) -> dict[str, Outcome]:
        return {r.key: r.outcome for r in self.rules}


# The rules, in the order the report gives them, with the policy rule whose clause each cites.
CLAUSE_RULES: Mapping[str, Rule] = {
    "log": "LOG",
    "staff": "TWO_ADULTS",
    "parent": "ONE_TO_ONE",
    "duration": "DURATION",
    "class_list": "CLASS_LIST",
    "consent": "CONSENT",
    "waiting_room": "WAITING_ROOM",
    "mute": "MUTE",
    "chat": "CHAT",
    "removal": "REMOVAL",
    "recording": "RECORDING",
    "end": "STAFF_LEAVE",
    "concerns": "CONCERN",
}
RULE_KEYS = tuple(CLAUSE_RULES)
TITLES: Mapping[str, str] = {
    "log": "The log's chain verified",
    "staff": "Enough adults present throughout",
    "parent": "A parent present throughout the 1-to-1",
    "duration": "Within the policy's time limit",
    "class_list": "Everyone admitted was on the class list",
    "consent": "Everyone admitted had consent",
    "waiting_room": "Everyone came in through the waiting room",
    "mute": "Microphones off on entry",
    "chat": "Chat public only, and off until staff allowed it",
    "removal": "Nobody came back after being removed",
    "recording": "Recording only as the policy allows, with notice",
    "end": "Everyone out at the end",
    "concerns": "Every concern reached the DSL",
}


# -- building the report (pure) -------------------------------------------------------------------


def build_report(
    stored: StoredSession,
    events: Sequence[ev.Event],
    verify: VerifyReport,
    alerts: Sequence[AlertDelivery] | None,
    head_hash: str = "",
    last_seq: int = 0,
    log_deleted: bool = False,
) -> ComplianceReport:
    """The report of one session from its events and its log's verification (no I/O).

    `log_deleted`: the retention job deleted the whole log on its day (the school's journal
    says so), so nothing can be shown, and nothing is said to have been tampered with."""
    policy = stored.policy
    zone = ZoneInfo(policy.school.timezone)
    facts = _Facts.read(stored, events)
    writer = _Rules(stored, policy, zone, facts, alerts)
    rules = writer.all()
    verified = verify.ok and verify.entries > 0
    log_rule = _log_rule(policy, verify)
    if log_deleted:
        gone = Said("The retention job deleted this log on its day, as the policy says.")
        log_rule = RuleResult(log_rule.key, log_rule.clause, Outcome.UNPROVEN, (gone,))
        rules = [
            RuleResult(r.key, r.clause, Outcome.UNPROVEN, (Said("This cannot be shown now."),))
            for r in rules
        ]
    elif not verified:
        cannot = Said(
            "This cannot be shown: the log does not verify, so its evidence is not proof."
        )
        rules = [
            RuleResult(r.key, r.clause, Outcome.UNPROVEN, (cannot, *r.evidence)) for r in rules
        ]
    return ComplianceReport(
        session_id=stored.plan.session_id,
        title=stored.plan.title,
        school=policy.school.name,
        policy_version=stored.policy_version,
        timezone=policy.school.timezone,
        planned_start=_aware(stored.plan.starts_at).astimezone(zone),
        ended=facts.ended is not None,
        verified=verified,
        rules=(log_rule, *rules),
        problems=tuple(verify.problems),
        head_hash=head_hash,
        last_seq=last_seq,
        settled=writer.settled,
        log_deleted=log_deleted,
    )


def _log_rule(policy: Policy, verify: VerifyReport) -> RuleResult:
    clause = clause_for(policy.school.key, CLAUSE_RULES["log"])
    if verify.entries == 0 and verify.ok:
        empty = Said("The session has no log: its room never opened.")
        return RuleResult("log", clause, Outcome.NOT_HELD, (empty,))
    if verify.ok:
        said = Said(
            "Events in the log: %(num)s, each chained to the one before under the server's "
            "key; none changed, deleted, inserted or moved.",
            {"num": verify.entries},
        )
        return RuleResult("log", clause, Outcome.HELD, (said,))
    said = Said(
        "The log does not verify (problems found: %(num)s), so no rule below can be shown "
        "to have held.",
        {"num": len(verify.problems)},
    )
    return RuleResult("log", clause, Outcome.NOT_HELD, (said,))


@dataclass(slots=True)
class _Hold:
    start: dt.datetime
    end: dt.datetime | None
    reason: ev.HoldReason
    present: int
    required: int
    cause: tuple[str, str, dt.datetime] | None  # (who, "left" | "dropped", when)


@dataclass(slots=True)
class _Admission:
    pupil: str
    at: dt.datetime
    by: str
    mic_on: bool
    waited: bool
    on_list: bool
    consent: Consent | None


@dataclass(slots=True)
class _Notice:
    at: dt.datetime
    by: str
    starts_at: dt.datetime
    one_to_one: bool
    told: tuple[str, ...]


@dataclass(slots=True)
class _Facts:
    """What the rules need, read from the events in one pass."""

    names: dict[str, str] = field(default_factory=dict)
    staff: set[str] = field(default_factory=set)
    present: set[str] = field(default_factory=set)  # admitted (or staff joined), connected
    waiting: set[str] = field(default_factory=set)
    holds: list[_Hold] = field(default_factory=list)
    last_staff_out: tuple[str, str, dt.datetime] | None = None
    admissions: list[_Admission] = field(default_factory=list)
    consent: dict[str, Consent] = field(default_factory=dict)
    removals: dict[str, ev.PupilRemoved] = field(default_factory=dict)
    back_after_removal: list[tuple[str, dt.datetime, str]] = field(default_factory=list)
    notices: list[_Notice] = field(default_factory=list)
    recordings: list[tuple[dt.datetime, dt.datetime | None]] = field(default_factory=list)
    chat: list[ev.ChatSwitched] = field(default_factory=list)
    chat_on: bool = False
    chat_posts: int = 0
    chat_while_off: list[ev.ChatPosted] = field(default_factory=list)
    concerns: list[ev.ConcernRaised] = field(default_factory=list)
    alerted: list[ev.DslAlerted] = field(default_factory=list)
    started_at: dt.datetime | None = None
    first_admitted: dt.datetime | None = None
    ended: ev.SessionEnded | None = None
    in_room_at_end: frozenset[str] = frozenset()
    after_end: list[ev.Event] = field(default_factory=list)
    last_at: dt.datetime | None = None

    @classmethod
    def read(cls, stored: StoredSession, events: Sequence[ev.Event]) -> _Facts:
        facts = cls()
        facts.names.update({pid: p.shown_name for pid, p in stored.plan.expected.items()})
        facts.chat_on = stored.policy.chat.default is ChatMode.ON
        for event in events:
            facts._read(stored, event)
        if events:
            facts.last_at = events[-1].at
        return facts

    def _out(self, who: str, how: str, at: dt.datetime) -> None:
        if who in self.staff and who in self.present:
            self.last_staff_out = (who, how, at)
        self.present.discard(who)
        self.waiting.discard(who)

    def _read(self, stored: StoredSession, e: ev.Event) -> None:
        if self.ended is not None and not isinstance(e, ev.DslAlerted | ev.ParentNoticeQueued):
            self.after_end.append(e)
        if isinstance(e, ev.SessionStarted):
            self.started_at = self.started_at or e.at
        elif isinstance(e, ev.StaffJoined):
            self.names[e.staff] = e.name or self.names.get(e.staff, e.staff)
            self.staff.add(e.staff)
            self.present.add(e.staff)
        elif isinstance(e, ev.PupilWaiting):
            if e.name:
                self.names.setdefault(e.pupil, e.name)
            self.present.discard(e.pupil)
            self.waiting.add(e.pupil)
            if e.pupil in self.removals:
                self.back_after_removal.append((e.pupil, e.at, "waiting"))
        elif isinstance(e, ev.PupilAdmitted):
            expected = stored.plan.expected.get(e.pupil)
            consent = self.consent.get(e.pupil, expected.consent if expected else None)
            self.admissions.append(
                _Admission(
                    e.pupil,
                    e.at,
                    e.by,
                    e.mic_on,
                    e.pupil in self.waiting,
                    expected is not None,
                    consent,
                )
            )
            self.first_admitted = self.first_admitted or e.at
            self.waiting.discard(e.pupil)
            self.present.add(e.pupil)
            if e.pupil in self.removals:
                self.back_after_removal.append((e.pupil, e.at, "admitted"))
        elif isinstance(e, ev.ConsentChanged):
            self.consent[e.pupil] = e.consent
        elif isinstance(e, ev.PupilRemoved):
            self.removals.setdefault(e.pupil, e)
            self._out(e.pupil, "removed", e.at)
        elif isinstance(e, ev.PupilDenied | ev.PupilWithdrawn):
            self._out(e.pupil, "out", e.at)
        elif isinstance(e, ev.ParticipantLeft):
            self._out(e.participant, "left", e.at)
        elif isinstance(e, ev.ConnectionDropped):
            self._out(e.participant, "dropped", e.at)
        elif isinstance(e, ev.RoomHeld):
            self._held(e)
        elif isinstance(e, ev.RoomReleased):
            self._close_hold(e.at)
        elif isinstance(e, ev.RecordingNoticeGiven):
            told = tuple(sorted(self.present | self.waiting))
            self.notices.append(_Notice(e.at, e.by, e.starts_at, e.one_to_one_exception, told))
        elif isinstance(e, ev.RecordingStarted):
            self.recordings.append((e.at, None))
        elif isinstance(e, ev.RecordingStopped):
            self._stop_recording(e.at)
        elif isinstance(e, ev.ChatSwitched):
            self.chat.append(e)
            self.chat_on = e.on
        elif isinstance(e, ev.ChatPosted):
            self.chat_posts += 1
            if not self.chat_on and e.by not in self.staff:
                self.chat_while_off.append(e)
        elif isinstance(e, ev.ConcernRaised):
            self.concerns.append(e)
        elif isinstance(e, ev.DslAlerted):
            self.alerted.append(e)
        elif isinstance(e, ev.SessionEnded) and self.ended is None:
            self.ended = e
            self.in_room_at_end = frozenset(self.present)
            self._close_hold(e.at)
            self._stop_recording(e.at)
            self.present.clear()
            self.waiting.clear()

    def _held(self, e: ev.RoomHeld) -> None:
        if self.holds and self.holds[-1].end is None:
            if self.holds[-1].reason is e.reason:
                return
            self._close_hold(e.at)
        cause = self.last_staff_out if e.reason is ev.HoldReason.STAFF_BELOW_MINIMUM else None
        self.holds.append(_Hold(e.at, None, e.reason, e.staff_present, e.staff_required, cause))

    def _close_hold(self, at: dt.datetime) -> None:
        if self.holds and self.holds[-1].end is None:
            self.holds[-1].end = at

    def _stop_recording(self, at: dt.datetime) -> None:
        if self.recordings and self.recordings[-1][1] is None:
            self.recordings[-1] = (self.recordings[-1][0], at)


class _Rules:
    """Each rule's outcome and evidence, from the facts."""

    def __init__(
        self,
        stored: StoredSession,
        policy: Policy,
        zone: ZoneInfo,
        facts: _Facts,
        alerts: Sequence[AlertDelivery] | None,
    ) -> None:
        self.stored, self.policy, self.zone, self.facts = stored, policy, zone, facts
        self.alerts = alerts
        self.settled = True

    def all(self) -> list[RuleResult]:
        one_to_one = self.stored.plan.kind is SessionKind.ONE_TO_ONE
        makers: list[tuple[str, Callable[[], tuple[bool, list[Said]]]]] = [
            ("staff", self.staff),
            ("parent", self.parent),
            ("duration", self.duration),
            ("class_list", self.class_list),
            ("consent", self.consent),
            ("waiting_room", self.waiting_room),
            ("mute", self.mute),
            ("chat", self.chat),
            ("removal", self.removal),
            ("recording", self.recording),
            ("end", self.end),
            ("concerns", self.concerns),
        ]
        out = []
        for key, make in makers:
            if key == "parent" and not (
                one_to_one and self.policy.one_to_one.parent_must_be_present
            ):
                continue
            held, said = make()
            clause = clause_for(self.policy.school.key, CLAUSE_RULES[key])
            out.append(
                RuleResult(key, clause, Outcome.HELD if held else Outcome.NOT_HELD, tuple(said))
            )
        return out

    # -- wording helpers -----------------------------------------------------------------------
    def hms(self, when: dt.datetime) -> str:
        return _aware(when).astimezone(self.zone).strftime("%H:%M:%S")

    def hm(self, when: dt.datetime) -> str:
        return _aware(when).astimezone(self.zone).strftime("%H:%M")

    def name(self, pid: str | None) -> str:
        if pid is None:
            return "?"
        return self.facts.names.get(pid, pid)

    def _no_end(self) -> Said:
        return Said("The log has no end: the session has not ended.")

    # -- the rules -----------------------------------------------------------------------------
    def staff(self) -> tuple[bool, list[Said]]:
        f = self.facts
        needed = self.policy.min_staff_for(self.stored.plan.kind is SessionKind.ONE_TO_ONE)
        holds = [h for h in f.holds if h.reason is ev.HoldReason.STAFF_BELOW_MINIMUM]
        said = [
            Said(
                "Adults the policy needs in the room while pupils are in it: %(num)s.",
                {"num": needed},
            )
        ]
        for h in holds:
            if h.cause is not None:
                who, how, at = h.cause
                said.append(
                    Said(
                        "%(name)s's connection dropped at %(time)s: adults fell to %(present)s "
                        "of %(required)s."
                        if how == "dropped"
                        else "%(name)s left at %(time)s: adults fell to %(present)s of "
                        "%(required)s.",
                        {
                            "name": self.name(who),
                            "time": self.hms(at),
                            "present": h.present,
                            "required": h.required,
                        },
                    )
                )
            end = h.end or f.last_at or h.start
            said.append(
                Said(
                    "Pupils held from %(start)s to %(end)s (%(span)s) for lack of staff."
                    if h.end is not None
                    else "Pupils held from %(start)s, still held at the end of the log (%(span)s).",
                    {
                        "start": self.hms(h.start),
                        "end": self.hms(end),
                        "span": _span(end - h.start),
                    },
                )
            )
        if not holds:
            said.append(Said("The room was never held for lack of staff."))
        else:
            total = sum(
                (((h.end or f.last_at or h.start) - h.start) for h in holds), dt.timedelta()
            )
            said.append(
                Said(
                    "Times held for lack of staff: %(num)s; %(span)s in all.",
                    {"num": len(holds), "span": _span(total)},
                )
            )
        return not holds, said

    def parent(self) -> tuple[bool, list[Said]]:
        f = self.facts
        holds = [h for h in f.holds if h.reason is ev.HoldReason.PARENT_ABSENT]
        said = []
        for h in holds:
            end = h.end or f.last_at or h.start
            said.append(
                Said(
                    "Held from %(start)s to %(end)s (%(span)s) waiting for a parent.",
                    {
                        "start": self.hms(h.start),
                        "end": self.hms(end),
                        "span": _span(end - h.start),
                    },
                )
            )
        if not holds:
            said.append(Said("The room was never held waiting for a parent."))
        return not holds, said

    def duration(self) -> tuple[bool, list[Said]]:
        f = self.facts
        plan, limit = self.stored.plan, self.policy.timing.max_minutes
        start = _aware(plan.starts_at)
        said = [
            Said(
                "Planned %(start)s to %(end)s (%(planned)s); the policy allows at most %(limit)s.",
                {
                    "start": self.hm(start),
                    "end": self.hm(start + dt.timedelta(minutes=plan.minutes)),
                    "planned": Span(plan.minutes * 60),
                    "limit": Span(limit * 60),
                },
            )
        ]
        began = f.first_admitted or f.started_at
        if f.ended is None:
            return False, [*said, self._no_end()]
        if began is None:
            said.append(
                Said(
                    "No pupil was admitted; the room closed at %(end)s.",
                    {"end": self.hms(f.ended.at)},
                )
            )
            return True, said
        actual = f.ended.at - began
        said.append(
            Said(
                "Pupils in from %(start)s to %(end)s: %(span)s.",
                {"start": self.hms(began), "end": self.hms(f.ended.at), "span": _span(actual)},
            )
        )
        held = actual <= dt.timedelta(minutes=limit) + GRACE
        if not held:
            said.append(Said("That is longer than the policy allows."))
        return held, said

    def class_list(self) -> tuple[bool, list[Said]]:
        f = self.facts
        strangers = [a for a in f.admissions if not a.on_list]
        pupils = {a.pupil for a in f.admissions}
        said = [
            Said(
                "Pupils admitted: %(num)s; on the class list: %(expected)s.",
                {"num": len(pupils), "expected": len(self.stored.plan.expected)},
            )
        ]
        for a in strangers:
            said.append(
                Said(
                    "%(name)s, admitted at %(time)s by %(by)s, is not on the class list.",
                    {"name": self.name(a.pupil), "time": self.hms(a.at), "by": self.name(a.by)},
                )
            )
        if not strangers and pupils:
            said.append(Said("Every pupil admitted is on the class list."))
        return not strangers, said

    def consent(self) -> tuple[bool, list[Said]]:
        f = self.facts
        explicit = self.policy.consent.basis is ConsentBasis.EXPLICIT
        said = [
            Said(
                "Only pupils whose consent is given may take part."
                if explicit
                else "Pupils take part unless their family has refused."
            )
        ]
        without = [
            a
            for a in f.admissions
            if a.on_list
            and (
                a.consent is None
                or a.consent is Consent.REFUSED
                or (explicit and a.consent is not Consent.GIVEN)
            )
        ]
        for a in without:
            said.append(
                Said(
                    "%(name)s was admitted at %(time)s without consent.",
                    {"name": self.name(a.pupil), "time": self.hms(a.at)},
                )
            )
        changed = sorted(f.consent)
        for pid in changed:
            said.append(
                Said(
                    "%(name)s's consent changed during the session; the room acted on it.",
                    {"name": self.name(pid)},
                )
            )
        if not without and f.admissions:
            said.append(Said("Every pupil admitted had consent when admitted."))
        return not without, said

    def waiting_room(self) -> tuple[bool, list[Said]]:
        f = self.facts
        skipped = [a for a in f.admissions if not a.waited]
        by: dict[str, int] = {}
        for a in f.admissions:
            by[a.by] = by.get(a.by, 0) + 1
        said = []
        for who, count in sorted(by.items(), key=lambda kv: (-kv[1], self.name(kv[0]))):
            said.append(
                Said(
                    "Admitted from the waiting room by %(name)s: %(num)s.",
                    {"num": count, "name": self.name(who)},
                )
            )
        for a in skipped:
            said.append(
                Said(
                    "%(name)s was admitted at %(time)s without waiting in the waiting room.",
                    {"name": self.name(a.pupil), "time": self.hms(a.at)},
                )
            )
        if not f.admissions:
            said.append(Said("No pupil was admitted."))
        return not skipped, said

    def mute(self) -> tuple[bool, list[Said]]:
        f = self.facts
        if self.policy.entry.mic_on_entry is EntryState.ON:
            return True, [Said("The policy lets microphones be on from entry.")]
        open_mic = [a for a in f.admissions if a.mic_on]
        said = [
            Said(
                "Admissions with the microphone off: %(num)s.",
                {"num": len(f.admissions) - len(open_mic)},
            )
        ]
        for a in open_mic:
            said.append(
                Said(
                    "%(name)s was admitted at %(time)s with the microphone on.",
                    {"name": self.name(a.pupil), "time": self.hms(a.at)},
                )
            )
        return not open_mic, said

    def chat(self) -> tuple[bool, list[Said]]:
        f = self.facts
        said = [Said("There is no private chat: every message is seen by everyone in the room.")]
        if self.policy.chat.default is ChatMode.ON:
            said.append(Said("The policy has chat on from the start."))
        else:
            said.append(Said("Chat was off at the start, as the policy says."))
        for s in f.chat:
            said.append(
                Said(
                    "Chat switched on at %(time)s by %(name)s."
                    if s.on
                    else "Chat switched off at %(time)s by %(name)s.",
                    {"time": self.hms(s.at), "name": self.name(s.by)},
                )
            )
        said.append(Said("Chat messages: %(num)s.", {"num": f.chat_posts}))
        for post in f.chat_while_off:
            said.append(
                Said(
                    "A message from %(name)s at %(time)s while chat was off.",
                    {"name": self.name(post.by), "time": self.hms(post.at)},
                )
            )
        return not f.chat_while_off, said

    def removal(self) -> tuple[bool, list[Said]]:
        f = self.facts
        if not f.removals:
            return True, [Said("Nobody was removed.")]
        said = []
        for pid, e in f.removals.items():
            said.append(
                Said(
                    "%(name)s removed at %(time)s by %(by)s.",
                    {"name": self.name(pid), "time": self.hms(e.at), "by": self.name(e.by)},
                )
            )
        for pid, at, how in f.back_after_removal:
            said.append(
                Said(
                    "%(name)s was admitted again at %(time)s after being removed."
                    if how == "admitted"
                    else "%(name)s joined the waiting room again at %(time)s after being removed.",
                    {"name": self.name(pid), "time": self.hms(at)},
                )
            )
        if not f.back_after_removal:
            said.append(Said("Nobody removed came back."))
        return not f.back_after_removal, said

    def recording(self) -> tuple[bool, list[Said]]:
        f = self.facts
        mode = self.policy.recording.mode
        if not f.recordings:
            words = "Never recorded." if mode is RecordingMode.NEVER else "Not recorded."
            return True, [Said(words)]
        said: list[Said] = []
        held = mode is not RecordingMode.NEVER
        if not held:
            said.append(Said("The policy never allows a recording."))
        for start, stop in f.recordings:
            notice = next(
                (
                    n
                    for n in reversed(f.notices)
                    if n.at <= start and _aware(n.starts_at) <= _aware(start) + GRACE
                ),
                None,
            )
            if notice is None:
                held = False
                said.append(
                    Said("Recorded from %(time)s without notice.", {"time": self.hms(start)})
                )
            else:
                told = ", ".join(self.name(p) for p in notice.told)
                said.append(
                    Said(
                        "Notice given at %(time)s by %(name)s to everyone there (%(num)s): "
                        "%(told)s.",
                        {
                            "time": self.hm(notice.at),
                            "name": self.name(notice.by),
                            "num": len(notice.told),
                            "told": told,
                        },
                    )
                )
                if mode is RecordingMode.ONE_TO_ONE_EXCEPTION and not notice.one_to_one:
                    held = False
                    said.append(
                        Said("Only a 1-to-1 without a parent may be recorded under this policy.")
                    )
            end = stop or f.last_at or start
            said.append(
                Said(
                    "Recorded from %(start)s to %(end)s (%(span)s).",
                    {"start": self.hms(start), "end": self.hms(end), "span": _span(end - start)},
                )
            )
        return held, said

    def end(self) -> tuple[bool, list[Said]]:
        f = self.facts
        if f.ended is None:
            return False, [self._no_end()]
        gone = set(f.ended.disconnected)
        staff = sum(1 for p in gone if p in f.staff)
        said = [
            Said(
                "Everyone out at %(time)s, disconnected at once: %(num)s (pupils: %(pupils)s, "
                "staff: %(staff)s).",
                {
                    "time": self.hms(f.ended.at),
                    "num": len(gone),
                    "pupils": len(gone) - staff,
                    "staff": staff,
                },
            )
        ]
        left_in = sorted(f.in_room_at_end - gone)
        for pid in left_in:
            said.append(Said("%(name)s was not disconnected at the end.", {"name": self.name(pid)}))
        late = [
            e
            for e in f.after_end
            if isinstance(e, ev.PupilAdmitted | ev.StaffJoined | ev.PupilWaiting)
        ]
        for e in late:
            said.append(
                Said("Someone came in after the end, at %(time)s.", {"time": self.hms(e.at)})
            )
        return not left_in and not late, said

    def concerns(self) -> tuple[bool, list[Said]]:
        f = self.facts
        relevant = [
            a
            for a in f.alerted
            if a.reason in (ev.AlertReason.CONCERN, ev.AlertReason.EMERGENCY_END)
        ]
        if not f.concerns and not relevant:
            return True, [Said("No concerns were raised.")]
        held = True
        said: list[Said] = []
        used: set[int] = set()
        for c in f.concerns:
            about: dict[str, Value] = {
                "num": c.number,
                "time": self.hm(c.at),
                "name": self.name(c.by),
            }
            said.append(Said("Concern %(num)s raised at %(time)s by %(name)s.", about))
            index = next(
                (
                    i
                    for i, a in enumerate(f.alerted)
                    if i not in used and a.reason is ev.AlertReason.CONCERN and a.at >= c.at
                ),
                None,
            )
            if index is None:
                held = False
                said.append(Said("No alert to the DSL is in the log for it."))
                continue
            used.add(index)
            held = self._delivered(f.alerted[index], said) and held
        for a in f.alerted:
            if a.reason is ev.AlertReason.EMERGENCY_END:
                said.append(
                    Said(
                        "Ended in an emergency at %(time)s by %(name)s.",
                        {"time": self.hms(a.at), "name": self.name(a.by)},
                    )
                )
                held = self._delivered(a, said) and held
        return held, said

    def _delivered(self, alert: ev.DslAlerted, said: list[Said]) -> bool:
        said.append(Said("DSL alert written at %(time)s.", {"time": self.hms(alert.at)}))
        if self.alerts is None:
            return True
        rows = [r for r in self.alerts if _aware(r.created_at) == _aware(alert.at)]
        sent = sorted(_aware(r.sent_at) for r in rows if r.sent_at is not None)
        if sent:
            said.append(Said("Sent to the DSL at %(time)s.", {"time": self.hms(sent[0])}))
            return True
        if any(r.status != "failed" for r in rows):
            self.settled = False  # still waiting to go: worked out again next time
        said.append(Said("Not delivered to the DSL: tell them yourself."))
        return False


def _span(delta: dt.timedelta) -> Span:
    return Span(max(0, round(delta.total_seconds())))


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


# -- words ---------------------------------------------------------------------------------------


class Words(Protocol):
    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


class English:
    """The report's own words, untranslated (the CLI, and the default)."""

    def gettext(self, message: str, /) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        return singular if n == 1 else plural


OUTCOME_WORDS: Mapping[Outcome, str] = {
    Outcome.HELD: "Held",
    Outcome.NOT_HELD: "Not held",
    Outcome.UNPROVEN: "Cannot be shown",
}
LOG_DOES_NOT_VERIFY = "The log does not verify"
LOG_VERIFIES = "The log verifies"


def span_words(span: Span, words: Words) -> str:
    """40 seconds; 2 minutes 5 seconds; 30 minutes."""
    minutes, seconds = divmod(span.seconds, 60)
    parts = []
    if minutes:
        parts.append(
            words.ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
        )
    if seconds or not minutes:
        parts.append(
            words.ngettext("%(num)d second", "%(num)d seconds", seconds) % {"num": seconds}
        )
    return " ".join(parts)


def say(said: Said, words: Words) -> str:
    """One sentence in the chosen language."""
    values = {
        k: span_words(v, words) if isinstance(v, Span) else str(v) for k, v in said.values.items()
    }
    return words.gettext(said.text) % values if values else words.gettext(said.text)


def text_lines(report: ComplianceReport, words: Words | None = None) -> list[str]:
    """The report as plain lines (the terminal)."""
    w = words or English()
    start = report.planned_start
    lines = [
        f"{report.school}: {w.gettext('Compliance report')}",
        f"{report.title}, {start:%Y-%m-%d %H:%M} ({report.timezone}); "
        + w.gettext("policy version %(num)s") % {"num": report.policy_version},
        w.gettext(LOG_VERIFIES if report.verified else LOG_DOES_NOT_VERIFY),
        "",
    ]
    for r in report.rules:
        lines.append(f"[{w.gettext(OUTCOME_WORDS[r.outcome])}] {w.gettext(r.title)} ({r.clause})")
        lines.extend(f"    - {say(s, w)}" for s in r.evidence)
    for problem in report.problems:
        lines.append(f"    ! {problem}")
    return lines


# -- reading, storing and summarising ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A session's result in short, as kept (`compliance_results`), with the log head it was
    computed from, so the summary knows when to work it out again."""

    session_id: str
    school_id: str
    starts_at: dt.datetime
    head_hash: str
    last_seq: int
    verified: bool
    outcomes: str  # JSON: {rule key: an Outcome value}
    breaches: int
    settled: bool  # False: worked out again next time (an alert was still waiting to go)
    computed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class EndedSession:
    """An ended session of the summary's range, its log's head, and the result kept of it."""

    session_id: str
    title: str
    starts_at: dt.datetime
    head: str | None  # its log's last hash (None: it has no log)
    kept: StoredResult | None  # None: no result kept yet


class ComplianceResults(Protocol):
    """The sessions a report is made of, their log heads and DSL alerts, and the results kept
    of them."""

    async def load_session(self, session_id: str, school_id: str | None = None) -> StoredSession:
        """The session's plan and governing policy; `school_id`, when given, must own it
        (else SessionNotFoundError, as for no such session)."""

    async def log_head(self, conn: AsyncConnection, session_id: str) -> tuple[str, int] | None:
        """The hash and number of the session's last log entry (None: it has no log)."""

    async def alert_deliveries(self, conn: AsyncConnection, session_id: str) -> list[AlertDelivery]:
        """The session's DSL alert rows, in the order written (`undelivered.DeliveryRows`)."""

    async def keep(self, result: StoredResult) -> None:
        """Keep a session's result in place of the one kept before, if any (another keeping
        it at the same moment, the room's end or a page, is overwritten)."""

    async def ended_sessions(
        self, school_id: str, since: dt.datetime, until: dt.datetime
    ) -> list[EndedSession]:
        """The school's ended sessions planned in [since, until), by start and id."""


async def session_compliance(
    engine: AsyncEngine,
    results: ComplianceResults,
    log: EventStore,
    session_id: str,
    school_id: str | None = None,
    now: dt.datetime | None = None,
) -> ComplianceReport:
    """The report of one session, its log verified afresh; its short form is stored.

    `log` must hold the server's chain key (the live server's, or the CLI's from the secret).
    Raises SessionNotFoundError when there is no such session (in this school)."""
    stored = await results.load_session(session_id, school_id)
    report = await _compute(engine, results, log, stored)
    await _store(results, stored, report, now or dt.datetime.now(dt.UTC))
    return report


async def _compute(
    engine: AsyncEngine, results: ComplianceResults, log: EventStore, stored: StoredSession
) -> ComplianceReport:
    session_id = stored.plan.session_id
    entries = await log.read(session_id)
    verify = await log.verify(session_id)
    async with engine.connect() as conn:  # the alerts and the head of one moment
        alerts = await results.alert_deliveries(conn, session_id)
        head = await results.log_head(conn, session_id)
    try:
        events = room_events(entries)
    except ValueError as err:  # an entry changed so that it no longer reads as an event
        verify.problems.append(f"an event cannot be read: {err}")
        events = []
    head_hash, last_seq = head if head is not None else ("", 0)
    deleted = False
    if head is None and not entries:
        deleted = session_id in await deleted_by_retention(log, {stored.school_id})
    return build_report(stored, events, verify, alerts, head_hash, last_seq, deleted)


async def _store(
    results: ComplianceResults, stored: StoredSession, report: ComplianceReport, now: dt.datetime
) -> None:
    await results.keep(
        StoredResult(
            session_id=report.session_id,
            school_id=stored.school_id,
            starts_at=_aware(stored.plan.starts_at),
            head_hash=report.head_hash,
            last_seq=report.last_seq,
            verified=report.verified,
            outcomes=json.dumps({k: v.value for k, v in report.outcomes.items()}, sort_keys=True),
            breaches=report.breaches,
            settled=report.settled and report.ended,
            computed_at=now,
        )
    )


@dataclass(frozen=True, slots=True)
class SessionLine:
    """One session in the school-wide summary."""

    session_id: str
    title: str
    starts_at: dt.datetime  # local
    verified: bool
    outcomes: Mapping[str, Outcome]
    breaches: int
    computed_at: dt.datetime

    @property
    def clean(self) -> bool:
        return self.verified and self.breaches == 0


@dataclass(frozen=True, slots=True)
class SchoolSummary:
    school_id: str
    start: dt.date
    end: dt.date  # inclusive
    timezone: str
    sessions: tuple[SessionLine, ...]
    computed: int  # how many sessions were worked out now (the rest were stored)
    pending: int = 0  # left out: still being worked out by a task when the time budget ran out

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules that appear in any session, in the report's order."""
        seen = {k for s in self.sessions for k in s.outcomes}
        return tuple(k for k in RULE_KEYS if k in seen)

    def breaches_of(self, key: str) -> int:
        return sum(1 for s in self.sessions if s.outcomes.get(key) is Outcome.NOT_HELD)

    @property
    def breaches(self) -> int:
        return sum(s.breaches for s in self.sessions)

    @property
    def unverified(self) -> int:
        """Logs that do not verify (not those the retention job deleted on their day)."""
        return sum(1 for s in self.sessions if s.outcomes.get("log") is Outcome.NOT_HELD)

    @property
    def clean(self) -> int:
        return sum(1 for s in self.sessions if s.clean)


async def school_summary(
    engine: AsyncEngine,
    results: ComplianceResults,
    log: EventStore,
    school_id: str,
    start: dt.date,
    end: dt.date,
    timezone: str,
    *,
    now: dt.datetime | None = None,
    recheck: bool = False,
    budget_s: float | None = None,
) -> SchoolSummary:
    """Every ended session of the school planned from `start` to `end` (local dates, both
    included), held or not per rule. Stored results are used while their log head has not
    moved; the rest (or, with `recheck`, all) are replayed, verified and stored now.

    With `budget_s` (a page), working out stops after that many seconds: the sessions left are
    counted in `pending`, not shown, and a task works them out (one a school at a time), so the
    first page after an upgrade answers at once and says the rest are still being checked."""
    zone = ZoneInfo(timezone)
    since = dt.datetime.combine(start, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=zone).astimezone(
        dt.UTC
    )
    moment = now or dt.datetime.now(dt.UTC)
    rows = await results.ended_sessions(school_id, since, until)
    lines: list[SessionLine] = []
    computed = 0
    began = time.monotonic()
    left: list[str] = []
    busy = CHECKING.busy(school_id)  # a task is at it: leave them to it
    seen: dict[str, Mapping[str, Outcome]] = {}  # most lessons share a handful of outcomes

    def parsed(text: str) -> Mapping[str, Outcome]:
        if text not in seen:
            seen[text] = {k: Outcome(v) for k, v in json.loads(text).items()}
        return seen[text]

    for row in rows:
        kept = row.kept
        if not recheck and kept is not None and kept.settled and kept.head_hash == (row.head or ""):
            lines.append(
                SessionLine(
                    row.session_id,
                    row.title,
                    _aware(row.starts_at).astimezone(zone),
                    kept.verified,
                    parsed(kept.outcomes),
                    kept.breaches,
                    _aware(kept.computed_at),
                )
            )
            continue
        if budget_s is not None and (busy or left or time.monotonic() - began > budget_s):
            left.append(row.session_id)
            continue
        report = await session_compliance(engine, results, log, row.session_id, school_id, moment)
        computed += 1
        lines.append(
            SessionLine(
                row.session_id,
                row.title,
                _aware(row.starts_at).astimezone(zone),
                report.verified,
                report.outcomes,
                report.breaches,
                moment,
            )
        )
    if left and not busy:
        CHECKING.finish(
            school_id,
            left,
            lambda sid: session_compliance(engine, results, log, sid, school_id, moment),
        )
    return SchoolSummary(school_id, start, end, timezone, tuple(lines), computed, len(left))


CHECKING = Leftovers("compliance results")  # worked out after a page's budget ran out


def summary_lines(summary: SchoolSummary, words: Words | None = None) -> list[str]:
    """The school-wide summary as plain lines (the terminal)."""
    w = words or English()
    out = [
        w.gettext("Compliance across sessions, %(start)s to %(end)s")
        % {"start": summary.start.isoformat(), "end": summary.end.isoformat()},
        w.gettext(
            "Sessions: %(num)s; every rule held: %(clean)s; breaches: %(breaches)s; "
            "logs that do not verify: %(unverified)s"
        )
        % {
            "num": len(summary.sessions),
            "clean": summary.clean,
            "breaches": summary.breaches,
            "unverified": summary.unverified,
        },
        "",
    ]
    for key in summary.rules:
        out.append(
            f"{w.gettext(TITLES[key])}: "
            + w.gettext("not held: %(num)s") % {"num": summary.breaches_of(key)}
        )
    out.append("")
    for s in summary.sessions:
        broken = [w.gettext(TITLES[k]) for k, v in s.outcomes.items() if v is not Outcome.HELD]
        state = w.gettext("every rule held") if s.clean else "; ".join(broken)
        out.append(f"{s.starts_at:%Y-%m-%d %H:%M} {s.title} [{s.session_id}]: {state}")
    return out
