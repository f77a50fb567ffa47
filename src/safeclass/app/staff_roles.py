"""What each staff role may do (C21: CLA-16, CRO-03, STJ-02): the one table of capabilities.

`safeclass.app.route_access` says which capability each HTTP route needs; the web layer
enforces both (`safeclass.web.deps`), `/auth/me` returns the caller's capabilities so a page
shows only what its user may do, and docs/roles.md is generated from these tables
(`scripts/roles-doc`; a test fails when the page and the code differ).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

TEACHER = "teacher"
ASSISTANT = "assistant"
DSL = "dsl"
HEAD = "head"
ADMIN = "admin"
ROLES = (TEACHER, ASSISTANT, DSL, HEAD, ADMIN)

# How a refusal names the roles that may do something ("Only teachers, heads and admins can …").
ROLE_PLURALS: Mapping[str, str] = {
    TEACHER: "teachers",
    ASSISTANT: "assistants",
    DSL: "DSLs",
    HEAD: "heads",
    ADMIN: "admins",
}


class Capability(StrEnum):
    SCHEDULE_SESSIONS = "schedule_sessions"
    SEE_ANY_SESSION = "see_any_session"
    REVOKE_LINKS = "revoke_links"
    RUN_SESSIONS = "run_sessions"
    JOIN_ANY_SESSION = "join_any_session"
    RAISE_CONCERNS = "raise_concerns"
    READ_CONCERNS = "read_concerns"
    READ_REGISTERS = "read_registers"
    OVERSEE_SESSIONS = "oversee_sessions"
    REVIEW_COMPLIANCE = "review_compliance"
    MANAGE_POLICY = "manage_policy"
    MANAGE_STAFF = "manage_staff"
    MANAGE_ROSTER = "manage_roster"
    VIEW_RECORDINGS = "view_recordings"
    HANDLE_SUBJECT_ACCESS = "handle_subject_access"


_C = Capability

# What each capability lets a role do: (the words after "can" in a refusal, the docs' sentence).
MEANINGS: Mapping[Capability, tuple[str, str]] = {
    _C.SCHEDULE_SESSIONS: (
        "schedule or change sessions",
        "schedule sessions; change and cancel them, add staff, send and resend the families' "
        "links, in the sessions they reach (CLA-01, CLA-03, CRO-01)",
    ),
    _C.SEE_ANY_SESSION: (
        "see sessions they are not on",
        "reach every session of the school, not only those they are on: its details, class list "
        "and links (and change it, with `schedule_sessions`)",
    ),
    _C.REVOKE_LINKS: (
        "stop a pupil's link",
        "stop one pupil's link at once in a session they reach (a leaked link: it only takes "
        "access away)",
    ),
    _C.RUN_SESSIONS: (
        "run sessions",
        "join the live room of a session they are on: admit, mute, remove, end (STJ-06)",
    ),
    _C.JOIN_ANY_SESSION: (
        "join any session",
        "join any session of the school, and count as an adult while there",
    ),
    _C.RAISE_CONCERNS: (
        "raise concerns",
        "record a safeguarding concern in a session (CLA-07, STJ-08)",
    ),
    _C.READ_CONCERNS: (
        "read concerns",
        "read the concerns and their chronology, export them for CPOMS (C16). Who may read a "
        "concern's text (and an emergency end's note) is one rule, `staff_roles.may_read_concern`, "
        "for the room, the pages, the API and the reports: this role and the one who wrote it; "
        "everyone else sees that a concern was raised, by whom, about whom and when, never the "
        "text, and the timeline and register (which may be printed) never carry it",
    ),
    _C.READ_REGISTERS: (
        "read registers",
        "the register, the timeline of its log and the compliance report of the sessions they "
        "reach, once each has ended (CLA-17): the lesson's own staff, and the DSL and the head "
        "for any session of the school",
    ),
    _C.OVERSEE_SESSIONS: (
        "oversee sessions",
        "attendance, punctuality, behaviour and compliance across every session (CRO-01, CRO-02)",
    ),
    _C.REVIEW_COMPLIANCE: (
        "review compliance across the school",
        "the compliance of every ended session of the school over a date range: each rule of "
        "the policy held or not, the breaches counted (C15)",
    ),
    _C.MANAGE_POLICY: (
        "change the policy",
        "adopt a new version of the school's policy, see its review date (STJ-01, CRO-17)",
    ),
    _C.MANAGE_STAFF: ("manage staff", "add and disable staff accounts, set new passwords"),
    _C.MANAGE_ROSTER: (
        "import the roster",
        "import the class lists, guardians and consent from the MIS",
    ),
    _C.VIEW_RECORDINGS: (
        "see recordings",
        "list and open a session's recordings, each opening journalled (C13: WER-10 "
        '"a restricted store")',
    ),
    _C.HANDLE_SUBJECT_ACCESS: (
        "answer subject access or erasure requests",
        "gather everything held about one pupil into one archive (a subject access request), "
        "and erase it where the law allows: never a safeguarding record before its retention "
        "date; each export and erasure journalled without its content (UK GDPR arts. 15, 17)",
    ),
}

CAPABILITIES: Mapping[str, frozenset[Capability]] = {
    TEACHER: frozenset(
        {
            _C.SCHEDULE_SESSIONS,
            _C.REVOKE_LINKS,
            _C.RUN_SESSIONS,
            _C.RAISE_CONCERNS,
            _C.READ_REGISTERS,
        }
    ),
    ASSISTANT: frozenset({_C.REVOKE_LINKS, _C.RUN_SESSIONS, _C.RAISE_CONCERNS, _C.READ_REGISTERS}),
    DSL: frozenset(
        {
            _C.SEE_ANY_SESSION,
            _C.REVOKE_LINKS,
            _C.JOIN_ANY_SESSION,
            _C.RAISE_CONCERNS,
            _C.READ_CONCERNS,
            _C.READ_REGISTERS,
            _C.REVIEW_COMPLIANCE,
            _C.VIEW_RECORDINGS,
            _C.HANDLE_SUBJECT_ACCESS,
        }
    ),
    HEAD: frozenset(
        {
            _C.SCHEDULE_SESSIONS,
            _C.SEE_ANY_SESSION,
            _C.REVOKE_LINKS,
            _C.JOIN_ANY_SESSION,
            _C.RAISE_CONCERNS,
            _C.READ_REGISTERS,
            _C.OVERSEE_SESSIONS,
            _C.REVIEW_COMPLIANCE,
            _C.MANAGE_POLICY,
            _C.VIEW_RECORDINGS,
            _C.HANDLE_SUBJECT_ACCESS,
        }
    ),
    ADMIN: frozenset(
        {
            _C.SCHEDULE_SESSIONS,
            _C.SEE_ANY_SESSION,
            _C.REVOKE_LINKS,
            _C.MANAGE_STAFF,
            _C.MANAGE_ROSTER,
        }
    ),
}


def may(role: str, capability: Capability) -> bool:
    return capability in CAPABILITIES.get(role, frozenset())


def roles_with(capability: Capability) -> tuple[str, ...]:
    return tuple(role for role in ROLES if may(role, capability))


def refusal(capability: Capability) -> str:
    """'Only teachers, heads and admins can schedule or change sessions', from the table."""
    names = [ROLE_PLURALS[role] for role in roles_with(capability)]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Only {who} can {MEANINGS[capability][0]}"


# Who may schedule (CLA-01 staff schedule; CRO-01 the head sets the timetable; the office
# admin often does it for them). Assistants are added to sessions, they do not create them.
SCHEDULERS = frozenset(roles_with(_C.SCHEDULE_SESSIONS))
# Who runs sessions, and only the sessions they are on (STJ-06: either adult may act).
SESSION_STAFF = frozenset(roles_with(_C.RUN_SESSIONS))
# Who may join any session of their school (the DSL to step in, the head for oversight).
SCHOOL_WIDE = frozenset(roles_with(_C.JOIN_ANY_SESSION))
# Who may be in a live room at all: admins keep accounts, rosters and the timetable, not lessons.
SESSION_ROLES = SESSION_STAFF | SCHOOL_WIDE


def may_reach_session(role: str, is_on_it: bool) -> bool:
    """Whether this role may reach a session of its school: those they are on, or any with
    `see_any_session` (the DSL, the head, the admin)."""
    return is_on_it or may(role, _C.SEE_ANY_SESSION)


def may_read_concern(role: str, is_author: bool) -> bool:
    """Whether this member of staff may read a concern's text, or the note written when ending a
    session in an emergency (C16): the role with `read_concerns` (the DSL, to whom CLA-07,
    STJ-08, WER-14/16 and S04-19 send them) and the one who wrote it. Everyone else who reaches
    the session is told that a concern was raised, by whom, about whom and when, never what it
    says. The one rule for the room's socket, the pages, the API and the reports."""
    return is_author or may(role, _C.READ_CONCERNS)


def may_join_room(role: str, is_on_it: bool) -> bool:
    """Whether this role may be in the session's live room (never an admin)."""
    return may(role, _C.JOIN_ANY_SESSION) or (may(role, _C.RUN_SESSIONS) and is_on_it)
