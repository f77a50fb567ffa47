"""Who is on the other end of a request, and how staff sign in: the identity port.

The app owns these values (the cookies' names, a signed-in member of staff, a pupil's device,
a login's CSRF token, the browser's device cookie) and the `Identities` interface; the auth
adapter implements it on the database (`safeclass.adapters.auth.identities.StoreIdentities`)
and the composition root hands it to the web layer as `Services.identities`.

The CSRF token of a login is an HMAC keyed by the login's own token: the browser's scripts
cannot read the HttpOnly cookie and another site can read neither it nor `/auth/me`, so only
the signed-in page can know the CSRF token, and the CSRF token does not reveal the cookie. It
needs no server secret (several workers agree on it) and no column: it ends with the login.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from safeclass.app.attempt_limits import LoginLimits
from safeclass.core import Role

STAFF_COOKIE = "sc_staff"
PUPIL_COOKIE = "sc_pupil"  # the prefix: each session's pass has a cookie of its own


def pupil_cookie(session_id: str) -> str:
    """The name of the cookie that holds a pupil's pass for one session. One per session, so
    siblings who open their own links on a shared tablet do not overwrite each other's."""
    return f"{PUPIL_COOKIE}_{session_id}"


@dataclass(frozen=True, slots=True)
class StaffIdentity:
    staff_id: str
    school_id: str
    role: str  # teacher, assistant, dsl, head, admin
    name: str
    login_id: str  # the device: one signed-in browser

    @property
    def room_role(self) -> Role | None:
        """The role in a live room (admins do not join rooms)."""
        return Role(self.role) if self.role in Role.__members__.values() else None


@dataclass(frozen=True, slots=True)
class PupilIdentity:
    pupil_id: str
    school_id: str
    session_id: str
    name: str  # the session's roster name for the pupil
    pass_id: str  # the device


DEVICE_COOKIE = "sc_device"
DEVICE_LIFETIME = dt.timedelta(days=180)  # renewed at every sign-in on that browser
MAX_DEVICE_TOKENS = 5  # accounts one browser remembers
MAX_TOKEN_CHARS = 64
NOT_RECOGNISED = "Email, school or password not recognised"
_CSRF_CONTEXT = b"safeclass csrf v1"


class SignInRefusedError(Exception):
    """Sign-in refused; the message is the same whatever the reason."""

    def __init__(self) -> None:
        super().__init__(NOT_RECOGNISED)


@dataclass(frozen=True, slots=True)
class SignedIn:
    identity: StaffIdentity
    token: str = field(repr=False)  # for the cookie, once; only its hash is stored
    expires_at: dt.datetime
    device_token: str = field(repr=False)  # this browser's device token for the account

    @property
    def csrf_token(self) -> str:
        return csrf_token(self.token)


def csrf_token(login_token: str) -> str:
    """The CSRF token that goes with a login (see the module docstring for why it is safe)."""
    return hmac.new(login_token.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def csrf_matches(login_token: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(csrf_token(login_token), given)


def device_tokens_in(cookie: str | None) -> list[str]:
    """The device tokens a `sc_device` cookie holds, oldest first (at most MAX_DEVICE_TOKENS)."""
    tokens = [t for t in (cookie or "").split(".") if 0 < len(t) <= MAX_TOKEN_CHARS]
    return tokens[-MAX_DEVICE_TOKENS:]


def device_cookie(held: Sequence[str], token: str) -> str:
    """The `sc_device` cookie after signing in: `token` last, the other accounts' kept."""
    kept = [t for t in held if t != token][-(MAX_DEVICE_TOKENS - 1) :]
    return ".".join([*kept, token])


@dataclass(frozen=True, slots=True)
class EndedDevice:
    """A staff login or pupil pass that was revoked (signed out, stopped, an account disabled)."""

    id: str
    at: dt.datetime  # its `revoked_at`
    is_staff: bool


class Identities(Protocol):
    """Finding who holds a cookie, signing staff in and out."""

    async def staff_for_token(self, token: str | None, now: dt.datetime) -> StaffIdentity | None:
        """The member of staff whose live login this token is, else None (for every reason)."""

    async def pupil_for_token(
        self, token: str | None, session_id: str, now: dt.datetime
    ) -> PupilIdentity | None:
        """The pupil whose live pass for this very session this token is, else None."""

    async def sign_in(
        self,
        limiter: LoginLimits,
        *,
        school_key: str,
        email: str,
        password: str,
        client: str,
        now: dt.datetime,
        device_tokens: Sequence[str] = (),
    ) -> SignedIn:
        """A new login for the member of staff, or SignInRefusedError / TooManyAttemptsError."""

    async def revoke_login(self, login_id: str, now: dt.datetime) -> None:
        """Sign one browser out: its cookie stops working at once."""

    async def revoke_all(self, staff_id: str, now: dt.datetime) -> list[str]:
        """Sign a member of staff out everywhere; the ids of the logins that were still live."""

    async def ended_since(self, since: dt.datetime) -> list[EndedDevice]:
        """Every staff login and pupil pass revoked after `since`, by this process or another."""
