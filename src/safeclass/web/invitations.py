"""What a family's link does: `GET /join/{token}`, the parent's report, and the room's page (C2).

Opening a good link creates a pupil pass for this device, puts it in the session's own pupil
cookie (`sc_pupil_<session>`: siblings on one tablet each keep theirs) and
answers 303 to `/room/{session}`, so the token leaves the address bar (and the history) at once.
Anything else gets a kind page in plain words: an unknown, withdrawn or expired link, a cancelled
or finished session, or a pupil who is not taking part (C17). The room itself (room_socket)
accepts the pass only for this pupil, only for this session, and one device at a time (STJ-11).
A browser that opens the link again keeps the pass it has; a link opens on a few devices only.

Links and pupil cookies that match nothing count against the client's address (`LookupLimiter`):
after a few in a minute that address is answered 429 before anything is looked up. Working
links and cookies never count, so families are not slowed.

The cookie is SameSite=Lax, not Strict, on purpose: families open the link from Class Dojo,
Tapestry or a webmail page, a navigation that starts on another site. The 303 to the room page is
part of that same cross-site navigation, and a Strict cookie would not be sent with it, so the
room page would not know the child until a reload. Lax sends it on top-level navigations only;
other sites' forms, frames and scripts still never carry it, which is what matters here (and the
room's socket also checks its Origin).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeclass.adapters.auth.identity import (
    STAFF_COOKIE,
    pupil_cookie,
    pupil_for_token,
    staff_for_token,
)
from safeclass.adapters.auth.limits import TooManyAttemptsError
from safeclass.app.invitations import (
    MAX_PASSES_PER_LINK,
    REPORTABLE,
    REPORTS_EMAILED,
    LinkState,
    OpenedLink,
    Reported,
    ReportReason,
    check_link,
    open_link,
    report_to_school,
)
from safeclass.web.console_page import console_room
from safeclass.web.deps import services_of, staff_in_room
from safeclass.web.lookups import client_address, lookup_limiter
from safeclass.web.pages import PRIVATE_HEADERS, page
from safeclass.web.pupil_page import pupil_room

log = logging.getLogger(__name__)

router = APIRouter(tags=["families"])

ASK_SCHOOL = "Please ask school for a new one."


def kind_page(found: OpenedLink) -> HTMLResponse:
    """The page for a link that cannot be used now, saying why in plain words."""
    state = found.state
    if state is LinkState.CANCELLED:
        return page(
            "This session was cancelled",
            [f"{found.title} on {found.when} is not going ahead.", "There is nothing to join."],
            status=410,
        )
    if state is LinkState.ENDED:
        return page(
            "This session has ended",
            [f"{found.title} has finished.", "Thank you, and see you next time."],
            status=410,
        )
    if state is LinkState.WITHDRAWN:
        return page(
            "This link is no longer in use",
            [f"This link has been stopped. {ASK_SCHOOL}"],
            status=410,
        )
    if state is LinkState.EXPIRED:
        return page("This link has expired", [f"This link has expired. {ASK_SCHOOL}"], status=410)
    if state is LinkState.NOT_TAKING_PART:
        return page(
            "Not taking part",
            [
                f"{found.shown_name} is not taking part in live sessions.",
                "If this is wrong, please contact the school.",
            ],
            status=403,
        )
    if state is LinkState.FULL:
        return page(
            f"This link is already open on {MAX_PASSES_PER_LINK} devices",
            [
                f"{found.shown_name}'s link has been opened on {MAX_PASSES_PER_LINK} phones, "
                "tablets or computers, which is as many as one link can open.",
                "Please carry on with one of those, or ask school to send a new link: "
                "a new link works on any device, and the old one stops everywhere.",
            ],
            status=403,
        )
    if state is LinkState.TOO_EARLY:
        return page(
            "It is not time yet",
            [
                f"{found.title} is on {found.when}.",
                "Please open this link again a few minutes before it starts.",
            ],
        )
    return page(
        "This link does not work",
        [
            "Please check that you opened the whole link from the school's message.",
            f"If it still does not work, {ASK_SCHOOL[0].lower()}{ASK_SCHOOL[1:]}",
        ],
        status=404,
    )


@router.get("/join/{token}", response_class=HTMLResponse, include_in_schema=False)
async def join(token: str, request: Request) -> Response:
    """Exchange a link for this device's pupil pass (the one it has, if any), then the room."""
    services = services_of(request)
    now = services.clock.now()
    if (slowed := _slowed(request, now)) is not None:
        return slowed
    prefix = pupil_cookie("")
    held = {
        name.removeprefix(prefix): value
        for name, value in request.cookies.items()
        if name.startswith(prefix)
    }
    found = await open_link(services.engine, token, now, held_passes=held)
    _count_if_unknown(request, found, now)
    if found.state is not LinkState.OPEN or found.pass_expires_at is None:
        return kind_page(found)
    response = RedirectResponse(f"/room/{found.session_id}", status_code=303)
    response.headers.update({k: PRIVATE_HEADERS[k] for k in ("Cache-Control", "Referrer-Policy")})
    response.set_cookie(
        pupil_cookie(found.session_id),
        found.pass_token,
        max_age=max(60, int((found.pass_expires_at - now).total_seconds())),
        path="/",
        secure=services.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


_REASONS = [
    (ReportReason.ABSENT, "My child will not be there (absent or unwell)"),
    (ReportReason.NOT_TAKING_PART, "My child should not take part in live sessions"),
    (ReportReason.CANNOT_GET_IN, "We cannot get in"),
]


def _report_form(found: OpenedLink, note: str = "") -> HTMLResponse:
    choices = "\n".join(
        f'<label><input type="radio" name="reason" value="{value.value}" required> {words}</label>'
        for value, words in _REASONS
    )
    form = (
        f'<form method="post" action="">\n{choices}\n'
        "<label>Anything else the school should know (optional):\n"
        '<textarea name="message" rows="4" maxlength="1000"></textarea></label>\n'
        '<p><button type="submit">Tell the school</button></p>\n</form>'
    )
    lines = [f"{found.title}, {found.when}, for {found.shown_name}."]
    if note:
        lines.insert(0, note)
    return page("Tell the school", lines, body_html=form)


@router.get("/join/{token}/absence", response_class=HTMLResponse, include_in_schema=False)
async def report_form(token: str, request: Request) -> HTMLResponse:
    """The form a parent fills in to tell the school (C23, CRO-16)."""
    services = services_of(request)
    now = services.clock.now()
    if (slowed := _slowed(request, now)) is not None:
        return slowed
    found, _ = await check_link(services.engine, token, now)
    _count_if_unknown(request, found, now)
    if found.state not in REPORTABLE:
        return kind_page(found)
    return _report_form(found)


@router.post("/join/{token}/absence", response_class=HTMLResponse, include_in_schema=False)
async def report(
    token: str,
    request: Request,
    reason: Annotated[str, Form(max_length=40)] = "",
    message: Annotated[str, Form(max_length=4000)] = "",
) -> HTMLResponse:
    """A parent tells the school: absent, not taking part, or cannot get in (C23, CRO-16)."""
    services = services_of(request)
    now = services.clock.now()
    if (slowed := _slowed(request, now)) is not None:
        return slowed
    if reason not in {r.value for r in ReportReason}:
        found, _ = await check_link(services.engine, token, now)
        _count_if_unknown(request, found, now)
        if found.state not in REPORTABLE:
            return kind_page(found)
        return _report_form(found, "Please choose one of the answers below.")
    found, reported = await report_to_school(
        services.engine, token, now, ReportReason(reason), message
    )
    _count_if_unknown(request, found, now)
    if reported is None:
        return kind_page(found)
    if reported is Reported.EMAILED and services.outbox is not None:
        services.outbox.wake()  # the staff's email is on record: it goes now, not at a poll
    return page("Thank you", _REPORTED[reported])


_REPORTED = {
    Reported.EMAILED: ["We have told the school.", "You can close this page now."],
    Reported.REPEATED: [
        "The school already has this message from you, so we have not sent it again.",
        "You can close this page now.",
    ],
    Reported.KEPT: [
        f"You have already sent the school {REPORTS_EMAILED} messages about this session.",
        "We have kept this message, but not emailed it to the staff again. "
        "If it is urgent, please phone the school.",
    ],
    Reported.NOT_KEPT: [
        "You have sent the school many messages about this session already, so we could "
        "not keep this one.",
        "If it is urgent, please phone the school.",
    ],
}


@router.get("/room/{session_id}", response_class=HTMLResponse, include_in_schema=False)
async def room_page(session_id: str, request: Request) -> HTMLResponse:
    """The classroom page: the pupil's page (`pupil_page`) or the staff console
    (`console_page`), for this session's pupils and the staff who may be in its room; anyone else
    is asked to open their link again, whether or not the session exists."""
    services = services_of(request)
    now = services.clock.now()
    held = request.cookies.get(pupil_cookie(session_id))
    if held is not None and (slowed := _slowed(request, now)) is not None:
        return slowed
    pupil = await pupil_for_token(services.engine, held, session_id, now)
    if pupil is not None:
        return pupil_room(request, pupil)
    staff = await staff_for_token(services.engine, request.cookies.get(STAFF_COOKIE), now)
    if staff is not None:
        stored = await staff_in_room(services, staff, session_id)  # the room socket's own rule
        if stored is not None:
            return console_room(request, session_id, stored.plan.title)
    if held is not None:  # a pupil cookie that opens nothing: a guess, or a stale pass
        lookup_limiter(request).failed(client_address(request), now)
    return page(
        "Please open your link again",
        ["Please open the link the school sent you, on this device."],
        status=403,
    )


# -- slowing guessers --------------------------------------------------------------------------


def _slowed(request: Request, now: dt.datetime) -> HTMLResponse | None:
    """429 for an address with too many failed lookups this minute, before looking anything up
    (so a guess teaches nothing); None to go on."""
    try:
        lookup_limiter(request).check(client_address(request), now)
    except TooManyAttemptsError as exc:
        log.warning("family lookups slowed", extra={"client": client_address(request)})
        response = page(
            "Too many tries",
            [
                "This device has opened too many links that do not work.",
                "Please wait a minute, then open the link from the school's message again.",
            ],
            status=429,
        )
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    return None


def _count_if_unknown(request: Request, found: OpenedLink, now: dt.datetime) -> None:
    """A link that matches nothing counts against its address; any real link does not."""
    if found.state is LinkState.UNKNOWN:
        lookup_limiter(request).failed(client_address(request), now)
