"""Staff sign-in over HTTP: `POST /auth/login`, `POST /auth/logout`, `GET /auth/me` (C21).

The login cookie `sc_staff` is HttpOnly (no script reads it), SameSite=Strict (no other site's
page or form sends it; staff open safeclass themselves, and a page opened from an email link
still fetches with it, since the page's own requests are same-site), Secure when the public URL
is https, Path=/, and lasts as long as the login. A sign-in POST from another site's page is
refused by its Origin, so nobody can sign a teacher into someone else's account. Signing out
revokes the login and closes its live-room sockets at once (close code 4009).

Scripts get JSON. A browser's form post from the sign-in page (`/sign-in`, `staff_pages`: a form
body and `Accept: text/html`) gets pages instead: a 303 to `/staff` once signed in, else the
sign-in page again with an error summary naming each field to fix (same status codes); the
sign-out button's post gets a 303 to the sign-in page. The checks are the same either way.

A sign-in also sets the device cookie `sc_device` (HttpOnly, SameSite=Strict, Path=/auth/login,
180 days): the browser's device tokens, which keep sign-in limits from locking staff out of
their own browsers (`app.attempt_limits`). Signing out leaves it: it opens nothing.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict

from safeclass.app import staff_roles
from safeclass.app.attempt_limits import LoginLimits, TooManyAttemptsError
from safeclass.app.identity import (
    DEVICE_COOKIE,
    DEVICE_LIFETIME,
    STAFF_COOKIE,
    SignInRefusedError,
    StaffIdentity,
    csrf_token,
    device_cookie,
    device_tokens_in,
)
from safeclass.bootstrap import Services
from safeclass.settings import Settings
from safeclass.web.deps import allowed_staff, services_of
from safeclass.web.room_socket import CLOSE_SIGNED_OUT
from safeclass.web.staff_pages import SIGN_IN, STAFF_HOME, sign_in_page

log = logging.getLogger(__name__)

router = APIRouter(prefix="/auth", tags=["sign-in"])

_FIELDS = ("email", "school", "password")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_MAX_FIELD = 1024
_LOGIN_BODY = {
    "required": True,
    "content": {
        media: {
            "schema": {
                "type": "object",
                "required": list(_FIELDS),
                "properties": {
                    "email": {"type": "string"},
                    "school": {"type": "string", "description": "the school's key"},
                    "password": {"type": "string", "format": "password"},
                },
            }
        }
        for media in ("application/x-www-form-urlencoded", "application/json")
    },
}


class Me(BaseModel):
    """The signed-in member of staff, their CSRF token, and what their role may do."""

    model_config = ConfigDict(extra="forbid")

    staff_id: str
    school_id: str
    name: str
    role: str
    csrf_token: str
    may: list[str]


def _me(staff: StaffIdentity, login_token: str) -> Me:
    may = sorted(c.value for c in staff_roles.CAPABILITIES.get(staff.role, frozenset()))
    return Me(
        staff_id=staff.staff_id,
        school_id=staff.school_id,
        name=staff.name,
        role=staff.role,
        csrf_token=csrf_token(login_token),
        may=may,
    )


@router.post(
    "/login",
    response_model=Me,
    responses={401: {"description": "Not recognised"}, 429: {"description": "Too many attempts"}},
    openapi_extra={"requestBody": _LOGIN_BODY},
)
async def login(request: Request) -> Response:
    """Sign in with email, school key and password (a form or JSON); sets the `sc_staff` cookie."""
    services = services_of(request)
    page = _from_a_page(request)
    if request.headers.get("origin", services.settings.origin) != services.settings.origin:
        if page:
            return sign_in_page(request, errors=[("email", "other_site")], status=403)
        raise HTTPException(403, "Sign in from safeclass's own page")
    fields = await _login_fields(request)
    if page and (missing := [name for name in _FIELDS if fields[name] is None]):
        shown = {k: v for k, v in fields.items() if k != "password" and v is not None}
        errors = [(name, f"{name}_missing") for name in missing]
        return sign_in_page(request, errors=errors, values=shown, status=400)
    if any(value is None for value in fields.values()):
        raise HTTPException(400, "Enter your email, your school's key and your password")
    email, school, password = (str(fields[name]) for name in _FIELDS)
    typed = {"email": email, "school": school}
    client = request.client.host if request.client else "unknown"
    now = services.clock.now()
    held = device_tokens_in(request.cookies.get(DEVICE_COOKIE))
    try:
        signed = await services.identities.sign_in(
            _limiter(request),
            school_key=school,
            email=email,
            password=password,
            client=client,
            now=now,
            device_tokens=held,
        )
    except TooManyAttemptsError as exc:
        log.warning("sign-in refused: too many attempts", extra={"client": client})
        if page:
            return sign_in_page(
                request,
                errors=[("email", "too_many")],
                values=typed,
                status=429,
                wait_seconds=exc.retry_after_seconds,
                headers={"Retry-After": str(exc.retry_after_seconds)},
            )
        return JSONResponse(
            {"detail": str(exc)},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )
    except SignInRefusedError as exc:
        log.info("sign-in refused", extra={"client": client})
        if page:
            return sign_in_page(
                request, errors=[("email", "not_recognised")], values=typed, status=401
            )
        return JSONResponse({"detail": str(exc)}, status_code=401)
    await _end_previous_login(request, services)
    staff = signed.identity
    log.info(
        "staff %s (%s) signed in",
        staff.staff_id,
        staff.role,
        extra={"school": staff.school_id, "client": client},
    )
    response: Response
    if page:  # the sign-in page's form: on to the staff's home
        response = RedirectResponse(STAFF_HOME, status_code=303, headers=_NO_STORE)
    else:
        response = JSONResponse(_me(staff, signed.token).model_dump(), headers=_NO_STORE)
    response.set_cookie(
        STAFF_COOKIE,
        signed.token,
        max_age=int((signed.expires_at - now).total_seconds()),
        path="/",
        secure=services.settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        DEVICE_COOKIE,
        device_cookie(held, signed.device_token),
        max_age=int(DEVICE_LIFETIME.total_seconds()),
        path="/auth/login",  # only the sign-in form ever needs it
        secure=services.settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/logout", status_code=204, response_class=Response)
async def logout(
    request: Request, staff: Annotated[StaffIdentity, Depends(allowed_staff)]
) -> Response:
    """Sign this browser out: the cookie stops working and its live-room sockets close."""
    services = services_of(request)
    await services.identities.revoke_login(staff.login_id, services.clock.now())
    await services.device_sockets.close_everywhere(staff.login_id, is_staff=True)
    log.info("staff %s signed out", staff.staff_id, extra={"school": staff.school_id})
    response: Response = Response(status_code=204)
    if _from_a_page(request):  # the sign-out button: back to the sign-in page, which says so
        response = RedirectResponse(f"{SIGN_IN}?signed_out=1", status_code=303)
    _forget_cookie(response, services.settings)
    return response


@router.get("/me", response_model=Me)
async def me(request: Request, staff: Annotated[StaffIdentity, Depends(allowed_staff)]) -> Response:
    """Who is signed in, the CSRF token for their forms, and what their role may do."""
    token = request.cookies.get(STAFF_COOKIE, "")
    return JSONResponse(_me(staff, token).model_dump(), headers=_NO_STORE)


async def sign_out_everywhere(services: Services, staff_id: str, reason: str) -> list[str]:
    """End every login of a member of staff and close their sockets (for an admin route)."""
    login_ids = await services.identities.revoke_all(staff_id, services.clock.now())
    for login_id in login_ids:
        await services.audiences.disconnect_device(login_id, CLOSE_SIGNED_OUT, reason)
        await services.device_sockets.close_everywhere(login_id, is_staff=True)  # other workers
    return login_ids


_NO_STORE = {"Cache-Control": "no-store"}


def _limiter(request: Request) -> LoginLimits:
    """This server's limiter (bootstrap.py's: this process's, or a cluster's shared one)."""
    limiter: LoginLimits = request.app.state.login_limiter
    return limiter


async def _login_fields(request: Request) -> dict[str, str | None]:
    """Each field's value, or None where it is missing, blank, too long or not text."""
    content_type = request.headers.get("content-type", "")
    data: Any
    try:
        if content_type.startswith("application/json"):
            data = await request.json()
        else:
            data = await request.form()
    except Exception:  # malformed JSON or form: treated like missing fields
        data = None
    fields: dict[str, str | None] = {}
    for name in _FIELDS:
        value = data.get(name) if hasattr(data, "get") else None
        ok = isinstance(value, str) and value.strip() and len(value) <= _MAX_FIELD
        fields[name] = str(value) if ok else None
    return fields


def _from_a_page(request: Request) -> bool:
    """A browser's form post (from our pages) rather than a script's call: it is answered with
    a page or a redirect, not JSON."""
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(_FORMS) and "text/html" in request.headers.get("accept", "")


async def _end_previous_login(request: Request, services: Services) -> None:
    """A browser that signs in again (perhaps as someone else) leaves its old login behind."""
    old = await services.identities.staff_for_token(
        request.cookies.get(STAFF_COOKIE), services.clock.now()
    )
    if old is not None:
        await services.identities.revoke_login(old.login_id, services.clock.now())
        await services.device_sockets.close_everywhere(old.login_id, is_staff=True)


def _forget_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        STAFF_COOKIE, path="/", secure=settings.secure_cookies, httponly=True, samesite="strict"
    )
