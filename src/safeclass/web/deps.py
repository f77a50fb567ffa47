"""Who is asking and what they may reach: the dependencies every staff route uses.

- `current_staff`: the signed-in member of staff, or 401. For a request that can change
  something (any method but GET, HEAD, OPTIONS) it also checks the CSRF token, so no route can
  forget it: header `X-CSRF-Token`, or form field `csrf_token`, as `/auth/me` gives it.
- `require_csrf`: the same, checking the CSRF token whatever the method.
- `allowed_staff`: `current_staff`, then 403 unless the role has the capability the route's row
  in `safeclass.app.route_access` names. Every staff route without a session in its path.
- `allowed_session`: the same, then the session in the path through `access_session`, as a
  `SessionAccess`. Every staff route with a session in its path.
- `access_session(services, staff, session_id)`: the one checked way to reach a session.
- `check_routes(app)`: every route of the app has a row, and guards that match it.

The tables are `safeclass.app.staff_roles` and `safeclass.app.route_access` (docs/roles.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import fastapi.routing
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.dependencies.models import Dependant
from starlette.routing import Mount

from safeclass.app import route_access, staff_roles
from safeclass.app.identity import STAFF_COOKIE, StaffIdentity, csrf_matches
from safeclass.app.route_access import Caller, Rule, Scope
from safeclass.app.school_records import SessionNotFoundError, StoredSession
from safeclass.bootstrap import Services

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
NOT_SIGNED_IN = "Please sign in"
CSRF_REFUSED = "This form has expired or came from another site: reload the page and try again"
NO_SUCH_SESSION = "No such session"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def _signed_in(request: Request) -> tuple[StaffIdentity, str]:
    services = services_of(request)
    token = request.cookies.get(STAFF_COOKIE)
    staff = await services.identities.staff_for_token(token, services.clock.now())
    if staff is None or token is None:
        raise HTTPException(401, NOT_SIGNED_IN)
    return staff, token


async def _check_csrf(request: Request, login_token: str) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(_FORMS):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not csrf_matches(login_token, given):
        raise HTTPException(403, CSRF_REFUSED)


async def current_staff(request: Request) -> StaffIdentity:
    """The signed-in member of staff (401 if none); CSRF-checked if the request changes things."""
    staff, token = await _signed_in(request)
    if request.method not in SAFE_METHODS:
        await _check_csrf(request, token)
    return staff


async def require_csrf(request: Request) -> StaffIdentity:
    """The signed-in member of staff, with a valid CSRF token whatever the method."""
    staff, token = await _signed_in(request)
    await _check_csrf(request, token)
    return staff


StaffDep = Annotated[StaffIdentity, Depends(current_staff)]


def _rule(request: Request) -> Rule:
    """The row of the route being called, found by the endpoint answering (`check_routes`)."""
    rules: dict[tuple[Any, str], Rule] = getattr(request.app.state, _RULES_KEY, {})
    rule = rules.get((request.scope.get("endpoint"), request.method))
    if rule is None:
        raise RuntimeError(f"{request.method} {request.url.path}: no row (check_routes not run?)")
    return rule


def _capable(staff: StaffIdentity, rule: Rule) -> None:
    if rule.capability is not None and not rule.allows(staff.role):
        raise HTTPException(403, staff_roles.refusal(rule.capability))


async def allowed_staff(request: Request, staff: StaffDep) -> StaffIdentity:
    """The signed-in member of staff, if the route's row lets their role call it (else 403)."""
    rule = _rule(request)
    if rule.caller is not Caller.STAFF or rule.scope is Scope.SESSION:
        raise RuntimeError(f"{rule.method} {rule.path}: allowed_staff does not match its row")
    _capable(staff, rule)
    return staff


@dataclass(frozen=True, slots=True)
class SessionAccess:
    """A member of staff and a session they reach, as the route's row allows."""

    staff: StaffIdentity
    session: StoredSession


async def allowed_session(request: Request, session_id: str, staff: StaffDep) -> SessionAccess:
    """The session in the path, reached by this member of staff (404 like a missing one), and
    then 403 unless the route's row lets their role do this to it."""
    rule = _rule(request)
    if rule.caller is not Caller.STAFF or rule.scope is not Scope.SESSION:
        raise RuntimeError(f"{rule.method} {rule.path}: allowed_session does not match its row")
    stored = await access_session(services_of(request), staff, session_id)
    _capable(staff, rule)
    return SessionAccess(staff, stored)


AllowedStaff = Annotated[StaffIdentity, Depends(allowed_staff)]
AllowedSession = Annotated[SessionAccess, Depends(allowed_session)]


async def access_session(
    services: Services, staff: StaffIdentity, session_id: str
) -> StoredSession:
    """The session, if this member of staff may reach it; the one way routes fetch a session.

    The error is the same for a session that does not exist, one of another school and one the
    caller may not reach, so a guessed or leaked id teaches nothing. Teachers and assistants
    reach the sessions they are on; roles with `see_any_session` (the DSL, the head, the admin)
    any session of their school (the admin its details only: the room refuses admins).
    """
    try:
        stored = await services.records.load_session(session_id)
    except SessionNotFoundError:
        raise HTTPException(404, NO_SUCH_SESSION) from None
    if stored.school_id != staff.school_id:
        raise HTTPException(404, NO_SUCH_SESSION)
    if not staff_roles.may_reach_session(staff.role, staff.staff_id in stored.staff_ids):
        raise HTTPException(404, NO_SUCH_SESSION)
    return stored


async def staff_in_room(
    services: Services, staff: StaffIdentity, session_id: str
) -> StoredSession | None:
    """The session, if this member of staff may be in its live room (the room socket's rule,
    `staff_roles.may_join_room`); None otherwise, whatever the reason."""
    try:
        stored = await services.records.load_session(session_id, staff.school_id)
    except SessionNotFoundError:
        return None
    if not staff_roles.may_join_room(staff.role, staff.staff_id in stored.staff_ids):
        return None
    return stored


# -- every route has a row, and guards that match it --------------------------------------------

_GUARDS = {allowed_staff: Scope.NONE, allowed_session: Scope.SESSION}
_RULES_KEY = "route_rules"


@dataclass(frozen=True, slots=True)
class RouteFacts:
    method: str
    path: str
    endpoint: Any
    dependant: Dependant | None


def app_routes(app: FastAPI) -> Iterator[RouteFacts]:
    """Every (method, path) the app answers, with the endpoint and dependencies that answer it."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)  # FastAPI >= 0.160
    routes: Iterable[Any] = flatten(app.routes) if flatten is not None else app.routes
    for route in routes:
        if isinstance(getattr(route, "original_route", route), Mount):
            raise RuntimeError(f"{route.path}: no mounted sub-application; add routes with rows")
        methods = getattr(route, "methods", None) or {"WEBSOCKET"}
        for method in sorted(methods):
            yield RouteFacts(
                method, str(route.path), route.endpoint, getattr(route, "dependant", None)
            )


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def check_routes(app: FastAPI) -> None:
    """Give every route its row of route_access (the guards find it by the endpoint answering),
    and refuse an app with a route that has no row, a row with no route, or a staff route whose
    guard does not match its row: so no route can skip its checks."""
    rules: dict[tuple[Any, str], Rule] = {}
    for found in app_routes(app):
        rule = route_access.rule_for(found.method, found.path)
        rules[(found.endpoint, found.method)] = rule
        if found.dependant is None or found.method == "WEBSOCKET":
            continue
        guards = {_GUARDS[c] for c in _calls(found.dependant) if c in _GUARDS}
        wanted = {rule.scope} if rule.caller is Caller.STAFF else set()
        if rule.caller is Caller.STAFF and rule.scope is Scope.SCHOOL:
            wanted = {Scope.NONE}  # the route reaches its school's thing itself
        if guards != wanted:
            raise RuntimeError(
                f"{found.method} {found.path}: its guards do not match its row in route_access"
            )
    missing = set(route_access.BY_ROUTE) - {(r.method, r.path) for r in rules.values()}
    if missing:
        raise RuntimeError(f"route_access has rows for routes that do not exist: {sorted(missing)}")
    for direct in getattr(app, "direct_sockets", ()):  # web/app.py SafeclassApp
        if (direct.endpoint, "WEBSOCKET") not in rules:
            raise RuntimeError(f"{direct.path}: served directly, but not one of the app's routes")
    setattr(app.state, _RULES_KEY, rules)
