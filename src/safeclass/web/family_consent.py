"""A parent stops their child joining live lessons, from their child's link (C17, C23).

`GET /join/{token}/withdraw` says exactly what will happen and asks them to confirm; `POST`
does it (app/family_consent.py) and then tells every live room at once, rather than at the
consent watch's next look, so a child in a lesson now leaves it within a second or two. The
pages name who will see it, and say plainly that only the school can give consent again.

Like the report form, these pages are reached with the link's token in the address: they are
sent with no-referrer and no-store (pages.PRIVATE_HEADERS), their forms post back to the same
address, and a link that matches nothing counts against the caller's address
(`LookupLimiter`), so guessing links here is slowed as everywhere else.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from safeclass.app.cluster_bus import CONSENT_CHANGED
from safeclass.app.consent_watch import ConsentWatch
from safeclass.app.family_consent import Withdrawal, withdraw_by_link
from safeclass.app.family_reports import lesson_staff
from safeclass.app.invitations import OpenedLink
from safeclass.web import i18n
from safeclass.web.deps import services_of
from safeclass.web.invitations import (
    _count_if_unknown,
    _slowed,
    _when,
    _who_will_see,
    form_link,
    kind_page,
)
from safeclass.web.pages import link_template, page

router = APIRouter(tags=["families"])

WITHDRAW = "/join/{token}/withdraw"


@router.get(WITHDRAW, response_class=HTMLResponse, include_in_schema=False)
async def withdraw_form(token: str, request: Request) -> HTMLResponse:
    """What stopping the child joining live lessons does, and the button that does it."""
    found = await form_link(request, token)
    if isinstance(found, HTMLResponse):
        return found
    return link_template(
        request,
        "withdraw_confirm.html",
        title=found.title,
        when=_when(request, found),
        name=found.shown_name,
    )


@router.post(WITHDRAW, response_class=HTMLResponse, include_in_schema=False)
async def withdraw(token: str, request: Request) -> HTMLResponse:
    """Withdraw the child's consent now; a live room takes them out at once."""
    services = services_of(request)
    now = services.clock.now()
    if (slowed := await _slowed(request, now)) is not None:
        return slowed
    found, done = await withdraw_by_link(
        services.family_consent, token, now, public_url=services.settings.public_url
    )
    await _count_if_unknown(request, found, now)
    if done is None:
        return kind_page(request, found)
    if done is Withdrawal.DONE:
        # every live room hears of it now, on this worker and the others (the watches would
        # within seconds anyway)
        await ConsentWatch(services.records, services.rooms.running).check()
        await services.bus.publish(CONSENT_CHANGED, found.pupil_id)
        if services.outbox is not None:
            services.outbox.wake()
    return await _withdrawn_page(request, found, done)


async def _withdrawn_page(request: Request, found: OpenedLink, done: Withdrawal) -> HTMLResponse:
    services = services_of(request)
    gettext = i18n.translations(i18n.language_of(request)).gettext
    facts = {"name": found.shown_name}
    again = (
        gettext(
            "Only the school can let %(name)s join live lessons again. When you want that, "
            "please contact the school."
        )
        % facts
    )
    if done is Withdrawal.ALREADY:
        return page(
            request,
            gettext("%(name)s does not join live lessons") % facts,
            [
                gettext(
                    "The school's records already say %(name)s does not join live lessons, so "
                    "nothing has changed and we have not told the staff again."
                )
                % facts,
                again,
            ],
        )
    staff = await lesson_staff(services.family_reports, found.session_id)
    before = found.starts_at is not None and services.clock.now() < found.starts_at
    return page(
        request,
        gettext("%(name)s will not join live lessons") % facts,
        [
            gettext(
                "%(name)s cannot join this or any live lesson until the school hears from you "
                "again. If %(name)s was in a lesson, they have left it."
            )
            % facts,
            _who_will_see(request, staff, before=before),
            again,
        ],
    )
