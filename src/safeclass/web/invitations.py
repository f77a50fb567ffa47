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
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeclass.app.attempt_limits import TooManyAttemptsError
from safeclass.app.family_reports import lesson_staff
from safeclass.app.identity import STAFF_COOKIE, pupil_cookie
from safeclass.app.invitations import (
    FORM_REASONS,
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
from safeclass.web import i18n
from safeclass.web.console_page import console_room
from safeclass.web.deps import services_of, staff_in_room
from safeclass.web.lookups import client_address, lookup_limiter
from safeclass.web.pages import PRIVATE_HEADERS, link_template, page
from safeclass.web.pupil_page import pupil_room
from safeclass.web.render import remember_language
from safeclass.web.staff_words import role_words

log = logging.getLogger(__name__)

router = APIRouter(tags=["families"])


def _when(request: Request, found: OpenedLink) -> str:
    """ "Tuesday 24 November, 10:00–10:30" (or "Dydd Mawrth 24 Tachwedd, 10:00–10:30"), in the
    school's time zone and the page's language."""
    if found.starts_at is None or found.ends_at is None:
        return found.when
    language = i18n.language_of(request)
    zone = ZoneInfo(found.timezone) if found.timezone else dt.UTC
    start, end = found.starts_at.astimezone(zone), found.ends_at.astimezone(zone)
    day = format_date(start, "EEEE d MMMM", locale=language)
    times = [format_time(t, "HH:mm", locale=language) for t in (start, end)]
    return f"{day}, {times[0]}–{times[1]}"


def kind_page(request: Request, found: OpenedLink) -> HTMLResponse:
    """The page for a link that cannot be used now, saying why in plain words."""
    gettext = i18n.translations(i18n.language_of(request)).gettext
    ask = gettext("Please ask school for a new one.")
    facts = {
        "title": found.title,
        "when": _when(request, found),
        "name": found.shown_name,
        "num": MAX_PASSES_PER_LINK,
    }
    state = found.state
    if state is LinkState.CANCELLED:
        return page(
            request,
            gettext("This session was cancelled"),
            [
                gettext("%(title)s on %(when)s is not going ahead.") % facts,
                gettext("There is nothing to join."),
            ],
            status=410,
        )
    if state is LinkState.ENDED:
        return page(
            request,
            gettext("This session has ended"),
            [
                gettext("%(title)s has finished.") % facts,
                gettext("Thank you, and see you next time."),
            ],
            status=410,
        )
    if state is LinkState.WITHDRAWN:
        return page(
            request,
            gettext("This link is no longer in use"),
            [gettext("This link has been stopped.") + " " + ask],
            status=410,
        )
    if state is LinkState.EXPIRED:
        return page(
            request,
            gettext("This link has expired"),
            [gettext("This link has expired.") + " " + ask],
            status=410,
        )
    if state is LinkState.NOT_TAKING_PART:
        return page(
            request,
            gettext("Not taking part"),
            [
                gettext("%(name)s is not taking part in live sessions.") % facts,
                gettext("If this is wrong, please contact the school."),
            ],
            status=403,
        )
    if state is LinkState.FULL:
        return page(
            request,
            gettext("This link is already open on %(num)d devices") % facts,
            [
                gettext(
                    "%(name)s's link has been opened on %(num)d phones, tablets or computers, "
                    "which is as many as one link can open."
                )
                % facts,
                gettext(
                    "Please carry on with one of those, or ask school to send a new link: "
                    "a new link works on any device, and the old one stops everywhere."
                ),
            ],
            status=403,
        )
    if state is LinkState.TOO_EARLY:
        return page(
            request,
            gettext("It is not time yet"),
            [
                gettext("%(title)s is on %(when)s.") % facts,
                gettext("Please open this link again a few minutes before it starts."),
            ],
        )
    return page(
        request,
        gettext("This link does not work"),
        [
            gettext("Please check that you opened the whole link from the school's message."),
            gettext("If it still does not work, please ask school for a new one."),
        ],
        status=404,
    )


@router.get("/join/{token}", response_class=HTMLResponse, include_in_schema=False)
async def join(token: str, request: Request) -> Response:
    """Exchange a link for this device's pupil pass (the one it has, if any), then the room."""
    services = services_of(request)
    now = services.clock.now()
    if (slowed := await _slowed(request, now)) is not None:
        return slowed
    prefix = pupil_cookie("")
    held = {
        name.removeprefix(prefix): value
        for name, value in request.cookies.items()
        if name.startswith(prefix)
    }
    found = await open_link(services.invitations, token, now, held_passes=held)
    await _count_if_unknown(request, found, now)
    if found.state is LinkState.TOO_EARLY:
        return await _too_early(request, found)
    if found.state is not LinkState.OPEN or found.pass_expires_at is None:
        return kind_page(request, found)
    response = RedirectResponse(f"/room/{found.session_id}", status_code=303)
    response.headers.update({k: PRIVATE_HEADERS[k] for k in ("Cache-Control", "Referrer-Policy")})
    remember_language(request, response)
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


async def _too_early(request: Request, found: OpenedLink) -> HTMLResponse:
    """ "It is not time yet", with the lesson's agenda and what staff added for it (C15): the
    files open from here once the link opens, an hour before the start."""
    shown = kind_page(request, found)
    services = services_of(request)
    stored = await services.records.load_session(found.session_id)
    async with services.engine.connect() as conn:
        offered = await services.resources.resources_of(conn, found.session_id)
    if not stored.agenda and not offered:
        return shown
    gettext = i18n.translations(i18n.language_of(request)).gettext
    lines = [
        gettext("%(title)s is on %(when)s.") % {"title": found.title, "when": _when(request, found)}
    ]
    if stored.agenda:
        lines.append(gettext("What the lesson is about: %(agenda)s") % {"agenda": stored.agenda})
    if offered:
        titles = ", ".join(r.title for r in offered)
        lines.append(
            gettext(
                "Your teacher has added things for the lesson (%(titles)s). You can open them "
                "from this link when it opens, an hour before the start."
            )
            % {"titles": titles}
        )
    lines.append(gettext("Please open this link again a few minutes before it starts."))
    return page(request, gettext("It is not time yet"), lines)


def _report_form(request: Request, found: OpenedLink, *, missing: bool = False) -> HTMLResponse:
    """The form to tell the school (C23, CRO-16); `missing` when it came back with no answer."""
    return link_template(
        request,
        "report_form.html",
        status=400 if missing else 200,
        title=found.title,
        when=_when(request, found),
        name=found.shown_name,
        reasons=[r.value for r in FORM_REASONS],
        missing=missing,
        taking_part=found.state is not LinkState.NOT_TAKING_PART,
    )


@router.get("/join/{token}/absence", response_class=HTMLResponse, include_in_schema=False)
async def report_form(token: str, request: Request) -> HTMLResponse:
    """The form a parent fills in to tell the school (C23, CRO-16)."""
    found = await form_link(request, token)
    if isinstance(found, HTMLResponse):
        return found
    return _report_form(request, found)


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
    if (slowed := await _slowed(request, now)) is not None:
        return slowed
    if reason not in {r.value for r in FORM_REASONS}:
        found = await reportable_link(request, token, now)
        if isinstance(found, HTMLResponse):
            return found
        return _report_form(request, found, missing=True)
    found, reported = await report_to_school(
        services.invitations,
        token,
        now,
        ReportReason(reason),
        message,
        public_url=services.settings.public_url,
    )
    await _count_if_unknown(request, found, now)
    if reported is None:
        return kind_page(request, found)
    if reported is Reported.EMAILED and services.outbox is not None:
        services.outbox.wake()  # the staff's email is on record: it goes now, not at a poll
    staff = await lesson_staff(services.family_reports, found.session_id)
    before = found.starts_at is not None and now < found.starts_at
    return page(
        request,
        i18n.translations(i18n.language_of(request)).gettext("Thank you"),
        _reported(request, reported, staff, before=before),
    )


def _who_will_see(request: Request, staff: list[tuple[str, str]], *, before: bool) -> str:
    """Who will read the report, and where: the lesson's staff on its page (never "we have
    told the school" when only an unsent email was queued)."""
    translations = i18n.translations(i18n.language_of(request))
    gettext = translations.gettext
    named = [
        gettext("%(name)s (%(role)s)") % {"name": name, "role": role_words(translations, role)}
        for name, role in staff
    ]
    if not named:
        who = gettext("The school's staff")
    elif len(named) == 1:
        who = named[0]
    else:
        who = gettext("%(names)s and %(last)s") % {
            "names": ", ".join(named[:-1]),
            "last": named[-1],
        }
    if before:
        return gettext("%(who)s will see this on the lesson's page before it starts.") % {
            "who": who
        }
    return gettext("%(who)s will see this on the lesson's page.") % {"who": who}


def _reported(
    request: Request, reported: Reported, staff: list[tuple[str, str]], *, before: bool
) -> list[str]:
    translations = i18n.translations(i18n.language_of(request))
    gettext, ngettext = translations.gettext, translations.ngettext
    close = gettext("You can close this page now.")
    urgent = gettext("If it is urgent, please phone the school.")
    if reported is Reported.EMAILED:
        return [_who_will_see(request, staff, before=before), urgent, close]
    if reported is Reported.REPEATED:
        return [
            gettext("The school already has this message from you, so we have not sent it again."),
            close,
        ]
    if reported is Reported.KEPT:
        return [
            ngettext(
                "You have already sent the school %(num)d message about this session.",
                "You have already sent the school %(num)d messages about this session.",
                REPORTS_EMAILED,
            )
            % {"num": REPORTS_EMAILED},
            _who_will_see(request, staff, before=before),
            gettext("We have not emailed the staff about it again.") + " " + urgent,
        ]
    return [
        gettext(
            "You have sent the school many messages about this session already, so we could "
            "not keep this one."
        ),
        urgent,
    ]


@router.get("/room/{session_id}", response_class=HTMLResponse, include_in_schema=False)
async def room_page(session_id: str, request: Request) -> HTMLResponse:
    """The classroom page: the pupil's page (`pupil_page`) or the staff console
    (`console_page`), for this session's pupils and the staff who may be in its room; anyone else
    is asked to open their link again, whether or not the session exists."""
    services = services_of(request)
    now = services.clock.now()
    held = request.cookies.get(pupil_cookie(session_id))
    if held is not None and (slowed := await _slowed(request, now)) is not None:
        return slowed
    pupil = await services.identities.pupil_for_token(held, session_id, now)
    if pupil is not None:
        return await pupil_room(request, pupil)
    staff = await services.identities.staff_for_token(request.cookies.get(STAFF_COOKIE), now)
    if staff is not None:
        stored = await staff_in_room(services, staff, session_id)  # the room socket's own rule
        if stored is not None:
            return console_room(
                request,
                session_id,
                stored.plan.title,
                stored.policy.concerns.categories,
                stored.agenda,
            )
    if held is not None:  # a pupil cookie that opens nothing: a guess, or a stale pass
        await lookup_limiter(request).failed(client_address(request), now)
    gettext = i18n.translations(i18n.language_of(request)).gettext
    return page(
        request,
        gettext("Please open your link again"),
        [gettext("Please open the link the school sent you, on this device.")],
        status=403,
    )


# -- slowing guessers --------------------------------------------------------------------------


async def _slowed(request: Request, now: dt.datetime) -> HTMLResponse | None:
    """429 for an address with too many failed lookups this minute, before looking anything up
    (so a guess teaches nothing); None to go on."""
    try:
        await lookup_limiter(request).check(client_address(request), now)
    except TooManyAttemptsError as exc:
        log.warning("family lookups slowed", extra={"client": client_address(request)})
        gettext = i18n.translations(i18n.language_of(request)).gettext
        response = page(
            request,
            gettext("Too many tries"),
            [
                gettext("This device has opened too many links that do not work."),
                gettext(
                    "Please wait a minute, then open the link from the school's message again."
                ),
            ],
            status=429,
        )
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    return None


async def _count_if_unknown(request: Request, found: OpenedLink, now: dt.datetime) -> None:
    """A link that matches nothing counts against its address; any real link does not."""
    if found.state is LinkState.UNKNOWN:
        await lookup_limiter(request).failed(client_address(request), now)


async def reportable_link(
    request: Request, token: str, now: dt.datetime
) -> OpenedLink | HTMLResponse:
    """The link a parent's form is for (one matching nothing counted against the address), or
    the link's own page when a parent cannot tell the school or withdraw from it."""
    found, _ = await check_link(services_of(request).invitations, token, now)
    await _count_if_unknown(request, found, now)
    if found.state not in REPORTABLE:
        return kind_page(request, found)
    return found


async def form_link(request: Request, token: str) -> OpenedLink | HTMLResponse:
    """`reportable_link` for a parent's form page, once the address is not slowed (else the page
    saying to wait)."""
    now = services_of(request).clock.now()
    if (slowed := await _slowed(request, now)) is not None:
        return slowed
    return await reportable_link(request, token, now)
