"""Who is asking and what they may reach: the dependencies every staff route uses.

- `current_staff`: the signed-in member of staff, or 401. For a request that can change
  something (any method but GET, HEAD, OPTIONS) it also checks the CSRF token, so no route can
  forget it: header `X-CSRF-Token`, or form field `csrf_token`, as `/auth/me` gives it.
- `require_csrf`: the same, checking the CSRF token whatever the method.
- `require_role(*roles)`: `current_staff`, then 403 unless the role is one of `roles`.
- `require_capability(capability, refusal)`: the same, by what the role table says a role may do.
- `access_session(services, staff, session_id)`: the one checked way to reach a session.

The role table is `safeclass.app.staff_roles` (docs/roles.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from safeclass.adapters.auth.identity import STAFF_COOKIE, StaffIdentity, staff_for_token
from safeclass.adapters.auth.logins import csrf_matches
from safeclass.adapters.store.sessions import SessionNotFoundError, StoredSession, load_session
from safeclass.app import staff_roles
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
    staff = await staff_for_token(services.engine, token, services.clock.now())
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


def require_role(*roles: str) -> Callable[[StaffIdentity], Awaitable[StaffIdentity]]:
    """A dependency: the signed-in member of staff if their role is one of `roles`, else 403."""
    unknown = set(roles) - set(staff_roles.ROLES)
    if unknown or not roles:
        raise ValueError(f"require_role needs roles from {staff_roles.ROLES}, not {roles}")
    allowed = frozenset(roles)

    async def dependency(staff: StaffDep) -> StaffIdentity:
        if staff.role not in allowed:
            raise HTTPException(403, f"Your role ({staff.role}) cannot do this")
        return staff

    return dependency


def require_capability(
    capability: staff_roles.Capability, refusal: str
) -> Callable[[StaffIdentity], Awaitable[StaffIdentity]]:
    """A dependency: the signed-in member of staff if their role has `capability` in the role
    table, else 403 with `refusal` (which says who can)."""

    async def dependency(staff: StaffDep) -> StaffIdentity:
        if not staff_roles.may(staff.role, capability):
            raise HTTPException(403, refusal)
        return staff

    return dependency


async def access_session(
    services: Services, staff: StaffIdentity, session_id: str
) -> StoredSession:
    """The session, if this member of staff may reach it; the one way routes fetch a session.

    A design goal is that the error is the same for a session that does not exist and for one
    the caller may not reach, so a guessed or leaked id teaches nothing. Teachers and assistants
    reach the sessions they are on; the DSL, the head and the admin any session of their school
    (the admin its details only: the room refuses admins).
    """
    try:
        stored = await load_session(services.engine, session_id)
    except SessionNotFoundError:
        raise HTTPException(404, NO_SUCH_SESSION) from None
    if stored.school_id != staff.school_id:
        raise HTTPException(404, NO_SUCH_SESSION)
    if not staff_roles.may_reach_session(staff.role, staff.staff_id in stored.staff_ids):
        raise HTTPException(404, NO_SUCH_SESSION)
    return stored
