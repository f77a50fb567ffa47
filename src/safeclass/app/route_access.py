"""Who may call each HTTP route: one row per route, the table the server enforces (C21).

Each row says who the route is for (`Caller`), which capability of the role table
(`staff_roles`) a member of staff needs, and what it reaches (`Scope`). The web layer's guards
(`safeclass.web.deps.allowed_staff`, `allowed_session`) look up the row of the route being
called, so a route's checks cannot drift from its row; the server refuses to start with a route
that has no row (`safeclass.web.app`), the authorisation matrix test calls every route as every
kind of caller against this table, and docs/roles.md's route table is generated from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from safeclass.app import staff_roles
from safeclass.app.staff_roles import Capability

_C = Capability


class Caller(StrEnum):
    """Who a route answers."""

    ANYONE = "anyone"  # no sign-in: health, sign-in, the API's own description
    LINK = "link"  # whoever holds the family's link in the path: its token is the credential
    STAFF = "staff"  # signed-in staff whose role has the row's capability (none: any role)
    ROOM = "room"  # the session's pupils (their device's pass) and staff who may be in its room
    OPERATOR = "operator"  # the monitoring system, with the metrics token (SAFECLASS_METRICS_TOKEN)


class Scope(StrEnum):
    """What the route reaches, beyond the caller's own school."""

    NONE = "none"  # no one thing: what it shows is the caller's school's (or nobody's)
    SESSION = "session"  # the session in the path, if the caller reaches it (staff_roles)
    SCHOOL = "school"  # the thing in the path, if it belongs to the caller's school


@dataclass(frozen=True, slots=True)
class Rule:
    method: str
    path: str
    caller: Caller
    capability: Capability | None = None
    scope: Scope = Scope.NONE
    what: str = ""

    def allows(self, role: str) -> bool:
        """Whether the role has what the row needs (before any session is reached)."""
        return self.capability is None or staff_roles.may(role, self.capability)


_S = "/api/sessions/{session_id}"
_P = "/staff/sessions/{session_id}"

RULES: tuple[Rule, ...] = (
    Rule("GET", "/healthz", Caller.ANYONE, what="database, live rooms, media, undelivered alerts"),
    Rule("GET", "/metrics", Caller.OPERATOR, what="Prometheus metrics (off without a token)"),
    Rule("GET", "/openapi.json", Caller.ANYONE, what="the API's description"),
    Rule("HEAD", "/openapi.json", Caller.ANYONE, what="the same, headers only"),
    Rule("GET", "/docs", Caller.ANYONE, what="the API's page (Swagger UI, served from here)"),
    Rule("GET", "/docs/assets/{name}", Caller.ANYONE, what="that page's script and style"),
    Rule("POST", "/auth/login", Caller.ANYONE, what="sign in"),
    Rule("POST", "/auth/logout", Caller.STAFF, what="sign out"),
    Rule("GET", "/auth/me", Caller.STAFF, what="who is signed in, their CSRF token and `may`"),
    Rule("POST", "/api/sessions", Caller.STAFF, _C.SCHEDULE_SESSIONS, what="schedule"),
    Rule("GET", "/api/sessions", Caller.STAFF, what="list the sessions they reach"),
    Rule("GET", _S, Caller.STAFF, scope=Scope.SESSION, what="staff, class list, link states"),
    Rule("PATCH", _S, Caller.STAFF, _C.SCHEDULE_SESSIONS, Scope.SESSION, "change"),
    Rule("POST", f"{_S}/cancel", Caller.STAFF, _C.SCHEDULE_SESSIONS, Scope.SESSION, "cancel"),
    Rule("POST", f"{_S}/staff", Caller.STAFF, _C.SCHEDULE_SESSIONS, Scope.SESSION, "add staff"),
    Rule(
        "POST",
        f"{_S}/invitations/send",
        Caller.STAFF,
        _C.SCHEDULE_SESSIONS,
        Scope.SESSION,
        "send links; resend (every old link stops)",
    ),
    Rule(
        "POST",
        f"{_S}/invitations/{{pupil_id}}/revoke",
        Caller.STAFF,
        _C.REVOKE_LINKS,
        Scope.SESSION,
        "stop one pupil's link and its devices",
    ),
    Rule("GET", "/api/recordings", Caller.STAFF, _C.VIEW_RECORDINGS, what="list recordings"),
    Rule(
        "GET",
        "/api/recordings/{recording_id}/file",
        Caller.STAFF,
        _C.VIEW_RECORDINGS,
        Scope.SCHOOL,
        "open one (journalled)",
    ),
    Rule(
        "GET",
        "/api/concerns/{concern_id}",
        Caller.STAFF,
        scope=Scope.SCHOOL,
        what="one concern's record; only the DSL and its writer (else 404)",
    ),
    Rule("GET", "/", Caller.ANYONE, what="the start page: what safeclass is, sign in"),
    Rule("GET", "/sign-in", Caller.ANYONE, what="the sign-in page (its form posts to /auth/login)"),
    Rule("GET", "/staff", Caller.STAFF, what="the staff home: today's sessions they reach, Join"),
    # the staff's pages for scheduling, a lesson and a class (web/schedule_page.py,
    # web/session_page.py, web/class_page.py)
    Rule("GET", "/staff/sessions/new", Caller.STAFF, _C.SCHEDULE_SESSIONS, what="the form"),
    Rule("POST", "/staff/sessions/new", Caller.STAFF, _C.SCHEDULE_SESSIONS, what="schedule"),
    Rule("GET", _P, Caller.STAFF, scope=Scope.SESSION, what="a lesson's page: staff, class, links"),
    Rule("POST", f"{_P}/links/send", Caller.STAFF, _C.SCHEDULE_SESSIONS, Scope.SESSION, "email"),
    Rule(
        "POST",
        f"{_P}/links/{{pupil_id}}/new",
        Caller.STAFF,
        _C.SCHEDULE_SESSIONS,
        Scope.SESSION,
        "a new link shown once, to copy or print (the old one stops)",
    ),
    Rule(
        "POST",
        f"{_P}/links/{{pupil_id}}/stop",
        Caller.STAFF,
        _C.REVOKE_LINKS,
        Scope.SESSION,
        "stop one pupil's link and its devices",
    ),
    Rule(
        "GET",
        f"{_P}/register.csv",
        Caller.STAFF,
        _C.READ_REGISTERS,
        Scope.SESSION,
        "the register (CSV), once it has ended",
    ),
    Rule(
        "GET",
        f"{_P}/register.pdf",
        Caller.STAFF,
        _C.READ_REGISTERS,
        Scope.SESSION,
        "the register and timeline (PDF)",
    ),
    # a lesson's resources (web/resources_page.py, C15)
    Rule(
        "POST",
        f"{_P}/resources",
        Caller.STAFF,
        _C.SCHEDULE_SESSIONS,
        Scope.SESSION,
        "add a link or a file families can open from their link",
    ),
    Rule(
        "POST",
        f"{_P}/resources/{{resource_id}}/remove",
        Caller.STAFF,
        _C.SCHEDULE_SESSIONS,
        Scope.SESSION,
        "stop offering a link or file (its file is deleted)",
    ),
    Rule(
        "GET",
        f"{_P}/resources/{{resource_id}}",
        Caller.STAFF,
        scope=Scope.SESSION,
        what="a lesson's file, as a download",
    ),
    Rule(
        "GET",
        f"{_P}/compliance",
        Caller.STAFF,
        _C.READ_REGISTERS,
        Scope.SESSION,
        "the compliance report: each rule of the policy held or not, with the log's evidence",
    ),
    Rule(
        "GET",
        f"{_P}/compliance.pdf",
        Caller.STAFF,
        _C.READ_REGISTERS,
        Scope.SESSION,
        "the compliance report (PDF)",
    ),
    Rule(
        "GET",
        "/staff/compliance",
        Caller.STAFF,
        _C.REVIEW_COMPLIANCE,
        what="compliance across the school's sessions over a date range, breaches counted",
    ),
    Rule(
        "GET",
        "/staff/classes/{class_id}",
        Caller.STAFF,
        scope=Scope.SCHOOL,
        what="a class's pupils with their consent",
    ),
    # safeguarding concerns (C16, web/concerns_page.py): the DSL's page; one concern is read
    # by the DSL and its writer (staff_roles.may_read_concern), else "not found"
    Rule("GET", "/staff/concerns", Caller.STAFF, _C.READ_CONCERNS, what="open concerns first"),
    Rule(
        "GET",
        "/staff/concerns/export.csv",
        Caller.STAFF,
        _C.READ_CONCERNS,
        what="concerns between two dates, for CPOMS or MyConcern (CSV)",
    ),
    Rule("GET", "/staff/concerns/export.pdf", Caller.STAFF, _C.READ_CONCERNS, what="as a PDF"),
    Rule(
        "GET",
        "/staff/concerns/{concern_id}",
        Caller.STAFF,
        scope=Scope.SCHOOL,
        what="one concern's record; only the DSL and its writer (else 404)",
    ),
    Rule(
        "POST",
        "/staff/concerns/{concern_id}/entries",
        Caller.STAFF,
        scope=Scope.SCHOOL,
        what="add to it, or record an action taken; only the DSL and its writer (else 404)",
    ),
    Rule(
        "POST",
        "/staff/concerns/{concern_id}/read",
        Caller.STAFF,
        _C.READ_CONCERNS,
        Scope.SCHOOL,
        "mark it read",
    ),
    Rule(
        "GET",
        "/staff/concerns/{concern_id}/export.csv",
        Caller.STAFF,
        _C.READ_CONCERNS,
        Scope.SCHOOL,
        "one concern for CPOMS or MyConcern (CSV)",
    ),
    Rule(
        "GET",
        "/staff/concerns/{concern_id}/export.pdf",
        Caller.STAFF,
        _C.READ_CONCERNS,
        Scope.SCHOOL,
        "one concern as a PDF",
    ),
    Rule(
        "GET",
        "/staff/pupils/{pupil_id}/concerns",
        Caller.STAFF,
        _C.READ_CONCERNS,
        Scope.SCHOOL,
        "a pupil's chronology, in the order things happened",
    ),
    Rule(
        "GET",
        f"{_P}/concerns/new",
        Caller.STAFF,
        _C.RAISE_CONCERNS,
        Scope.SESSION,
        "the form to raise a concern after the lesson",
    ),
    Rule(
        "POST",
        f"{_P}/concerns/new",
        Caller.STAFF,
        _C.RAISE_CONCERNS,
        Scope.SESSION,
        "raise it: the DSL is alerted at once",
    ),
    # a pupil's records: subject access and erasure (web/subject_access_page.py)
    Rule(
        "GET",
        "/staff/pupils/{pupil_id}/records",
        Caller.STAFF,
        _C.HANDLE_SUBJECT_ACCESS,
        Scope.SCHOOL,
        "what is held about one pupil",
    ),
    Rule(
        "GET",
        "/staff/pupils/{pupil_id}/records.zip",
        Caller.STAFF,
        _C.HANDLE_SUBJECT_ACCESS,
        Scope.SCHOOL,
        "all of it in one archive (journalled)",
    ),
    Rule(
        "GET",
        "/staff/pupils/{pupil_id}/erase",
        Caller.STAFF,
        _C.HANDLE_SUBJECT_ACCESS,
        Scope.SCHOOL,
        "what erasing would take and keep",
    ),
    Rule(
        "POST",
        "/staff/pupils/{pupil_id}/erase",
        Caller.STAFF,
        _C.HANDLE_SUBJECT_ACCESS,
        Scope.SCHOOL,
        "erase where the law allows (journalled)",
    ),
    # the head teacher's view across sessions (web/oversight_page.py, C19)
    Rule(
        "GET",
        "/staff/oversight",
        Caller.STAFF,
        _C.OVERSEE_SESSIONS,
        what="attendance, punctuality and behaviour by week, class and pupil, with charts; "
        "compliance; the policy's review date",
    ),
    Rule(
        "GET",
        "/staff/oversight/{table}.csv",
        Caller.STAFF,
        _C.OVERSEE_SESSIONS,
        what="a chart's figures (weeks, classes, pupils, behaviour) as CSV",
    ),
    Rule(
        "GET",
        "/staff/oversight/pupils/{pupil_id}",
        Caller.STAFF,
        _C.OVERSEE_SESSIONS,
        Scope.SCHOOL,
        "one pupil's own record in each lesson",
    ),
    Rule("GET", "/static/{name}", Caller.ANYONE, what="the pages' own style sheet and scripts"),
    Rule("GET", "/join/{token}", Caller.LINK, what="open a family's link"),
    Rule("GET", "/join/{token}/absence", Caller.LINK, what="the parent's report form"),
    Rule("POST", "/join/{token}/absence", Caller.LINK, what="tell the school"),
    Rule("GET", "/join/{token}/withdraw", Caller.LINK, what="stop the child joining: confirm"),
    Rule("POST", "/join/{token}/withdraw", Caller.LINK, what="withdraw consent for live lessons"),
    Rule("GET", "/room/{session_id}", Caller.ROOM, scope=Scope.SESSION, what="the room's page"),
    Rule(
        "GET",
        "/room/{session_id}/resources/{resource_id}",
        Caller.ROOM,
        scope=Scope.SESSION,
        what="a lesson's file, as a download, for its pupils",
    ),
    Rule(
        "WEBSOCKET",
        "/ws/sessions/{session_id}",
        Caller.ROOM,
        scope=Scope.SESSION,
        what="the live room (docs/protocol.md)",
    ),
)

BY_ROUTE: Mapping[tuple[str, str], Rule] = {(r.method, r.path): r for r in RULES}
if len(BY_ROUTE) != len(RULES):
    raise RuntimeError("route_access.RULES has two rows for one route")


class NoRuleError(LookupError):
    """A route with no row in RULES: nobody has said who may call it."""


def rule_for(method: str, path: str) -> Rule:
    try:
        return BY_ROUTE[(method, path)]
    except KeyError:
        raise NoRuleError(f"{method} {path} has no row in safeclass.app.route_access") from None


class Reach(StrEnum):
    """How far a staff role gets with a route."""

    NOTHING = "nothing"  # refused
    ON_IT = "on_it"  # only the sessions they are on
    ALL = "all"  # everything the route offers their school


def staff_reach(rule: Rule, role: str) -> Reach:
    """What a member of staff with `role` reaches through this route, by the two tables."""
    if rule.caller is Caller.ANYONE:
        return Reach.ALL
    if rule.caller is Caller.ROOM:
        if staff_roles.may_join_room(role, False):
            return Reach.ALL
        return Reach.ON_IT if staff_roles.may_join_room(role, True) else Reach.NOTHING
    if rule.caller is not Caller.STAFF:
        return Reach.NOTHING  # a link's holder, the metrics token: not staff as such
    if not rule.allows(role):
        return Reach.NOTHING
    if rule.scope is Scope.SESSION and not staff_roles.may_reach_session(role, False):
        return Reach.ON_IT
    return Reach.ALL
