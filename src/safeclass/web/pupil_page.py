"""The pupil's page in the room (`/room/{session}` for a pupil's device): what a child and the
parent beside them see, from the expectations to the end of the class.

The page is the foundation's template (`pupil_room.html`, English or Welsh) and one ES module,
`static/pupil.js`, which talks to the room through `static/room-client.js` and shows each part
of the template as the pupil's view says (agree and join, the waiting screen, the class, the end).
Every word the module may show is rendered here, in the page's language, into a JSON data block
(`<script type="application/json">`, never run, so the strict policy holds): the module holds no
words of its own. Words the server writes for the pupil (a refusal's message, why they cannot
join yet) are shown as sent: the room's socket sends them in the page's language (room_words).
"""

from __future__ import annotations

from fastapi.responses import HTMLResponse
from starlette.requests import Request

from safeclass.app.identity import PupilIdentity
from safeclass.web import i18n
from safeclass.web.deps import services_of
from safeclass.web.render import render

# "5 minutes left" for every warning a policy could set (TimeWarning's minutes_left), in the
# page's language: plural rules stay in the catalogue, not in the module.
_WARNING_MINUTES = range(1, 61)


async def pupil_room(request: Request, pupil: PupilIdentity) -> HTMLResponse:
    """The pupil's page for `pupil`'s own session (their pass is already checked), with the
    lesson's agenda and the links and files staff added for it (C15), to read before joining."""
    services = services_of(request)
    stored = await services.records.load_session(pupil.session_id)
    async with services.engine.connect() as conn:
        kept = await services.resources.resources_of(conn, pupil.session_id)
    return render(
        request,
        "pupil_room.html",
        session_id=pupil.session_id,
        name=pupil.name,
        minutes_left=minutes_left(i18n.language_of(request)),
        agenda=stored.agenda,
        resources=kept,
    )


def minutes_left(language: str) -> dict[str, str]:
    """The warning "5 minutes left" in `language`, for each number of minutes a warning could
    have (the console shows the same warnings)."""
    ngettext = i18n.translations(language).ngettext
    return {
        str(n): ngettext("%(num)d minute left", "%(num)d minutes left", n) % {"num": n}
        for n in _WARNING_MINUTES
    }
