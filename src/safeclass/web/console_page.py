"""The staff console in the room (`/room/{session}` for a member of staff on the session): who is
waiting and who is in, whether the two-adult rule holds, the time left, and the buttons the room
allows now: per-pupil controls, the chat, the recording where the policy allows it, a concern
to the safeguarding lead (issue 10, point 2; video is `static/room-media.js`'s).

The page is `console.html` (English or Welsh) and one ES module, `static/console.js`, which talks
to the room through `static/room-client.js`. Like the pupil's page, every word the module may show
is rendered here, in the page's language, into a JSON data block (never run, so the strict policy
holds); the room's own reasons (`cannot`, `session.hold`) and refusals are shown as the server
wrote them, which the room's socket does in the page's language (room_words). The module
offers a button only where the view's `can` or `can_for` does.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.responses import HTMLResponse
from starlette.requests import Request

from safeclass.policy.model import DEFAULT_CONCERN_CATEGORIES
from safeclass.web import i18n
from safeclass.web.pupil_page import minutes_left
from safeclass.web.render import render


def console_room(
    request: Request,
    session_id: str,
    title: str,
    categories: Sequence[str] = (),
    agenda: str = "",
) -> HTMLResponse:
    """The console for `session_id` (the room socket's own rule has let this member of staff in),
    with the school's concern categories and the lesson's agenda as it was scheduled (C15)."""
    return render(
        request,
        "console.html",
        session_id=session_id,
        title=title,
        agenda=agenda,
        minutes_left=minutes_left(i18n.language_of(request)),
        # what the concern form may promise: an email to the DSL only where one can be sent
        dsl_emailed=request.app.state.services.outbox is not None,
        # the school's categories (the policy's `concerns`), the last ("Other") chosen first
        concern_categories=list(categories) or list(DEFAULT_CONCERN_CATEGORIES),
    )
