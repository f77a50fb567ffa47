"""What each staff role may do (C21: CLA-16, CRO-03, STJ-02); docs/roles.md is this table in words.

The web layer enforces it (`safeclass.web.deps`: `require_role`, `access_session`) and
`/auth/me` returns the caller's capabilities so a page shows only what its user may do. A test
checks that docs/roles.md and this table say the same.
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

# Who runs sessions, and only the sessions they are on (STJ-06: either adult may act).
SESSION_STAFF = frozenset({TEACHER, ASSISTANT})
# Who may join any session of their school (the DSL to step in, the head for oversight).
SCHOOL_WIDE = frozenset({DSL, HEAD})
# Who may be in a live room at all: admins keep accounts, rosters and the timetable, not lessons.
SESSION_ROLES = SESSION_STAFF | SCHOOL_WIDE
# Who may schedule (CLA-01 staff schedule; CRO-01 the head sets the timetable; the office
# admin often does it for them). Assistants are added to sessions, they do not create them.
SCHEDULERS = frozenset({TEACHER, HEAD, ADMIN})


class Capability(StrEnum):
    SCHEDULE_SESSIONS = "schedule_sessions"
    RUN_SESSIONS = "run_sessions"
    JOIN_ANY_SESSION = "join_any_session"
    RAISE_CONCERNS = "raise_concerns"
    READ_CONCERNS = "read_concerns"
    READ_OWN_REGISTERS = "read_own_registers"
    OVERSEE_SESSIONS = "oversee_sessions"
    MANAGE_POLICY = "manage_policy"
    MANAGE_STAFF = "manage_staff"
    MANAGE_ROSTER = "manage_roster"
    VIEW_RECORDINGS = "view_recordings"


_C = Capability
CAPABILITIES: Mapping[str, frozenset[Capability]] = {
    TEACHER: frozenset(
        {_C.SCHEDULE_SESSIONS, _C.RUN_SESSIONS, _C.RAISE_CONCERNS, _C.READ_OWN_REGISTERS}
    ),
    ASSISTANT: frozenset({_C.RUN_SESSIONS, _C.RAISE_CONCERNS, _C.READ_OWN_REGISTERS}),
    DSL: frozenset({_C.JOIN_ANY_SESSION, _C.RAISE_CONCERNS, _C.READ_CONCERNS, _C.VIEW_RECORDINGS}),
    HEAD: frozenset(
        {
            _C.SCHEDULE_SESSIONS,
            _C.JOIN_ANY_SESSION,
            _C.RAISE_CONCERNS,
            _C.OVERSEE_SESSIONS,
            _C.MANAGE_POLICY,
            _C.VIEW_RECORDINGS,
        }
    ),
    ADMIN: frozenset({_C.SCHEDULE_SESSIONS, _C.MANAGE_STAFF, _C.MANAGE_ROSTER}),
}


def may(role: str, capability: Capability) -> bool:
    return capability in CAPABILITIES.get(role, frozenset())


def may_reach_session(role: str, is_on_it: bool) -> bool:
    """Whether this role may see a session's details (schedulers and school-wide roles: any of
    their school's; teachers and assistants: those they are on)."""
    return role in SCHOOL_WIDE or role == ADMIN or is_on_it


def may_join_room(role: str, is_on_it: bool) -> bool:
    """Whether this role may be in the session's live room (never an admin)."""
    return role in SCHOOL_WIDE or (role in SESSION_STAFF and is_on_it)
