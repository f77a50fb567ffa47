"""A page that reconnects picks up where it was: the notices and chat it missed, once, in order.

The client puts the last `seq` it saw on the socket's address (`?since=N`, docs/protocol.md).
The room reads its events after that point back from the session's log, the one source of
truth, and the first `state` of the new connection carries them as its `events`, filtered for
this viewer exactly as a live `state`'s are (`RoomAudience.notices_for`). The chat lines among
them stand for the chat history such a view would otherwise carry, so no line comes twice; and
live `state`s up to that `seq` carry no events for it (`Connection.events_upto`), should the
room tell everyone of the last of them only after the page connected.

Bounded: a page more than `RESUME_LIMIT` entries behind, or with a `since` that is not a point
of this room's log (ahead of it, negative, not a number), gets what a page that loads gets: the
current view with the chat so far, and no events. Notices that are not in the log (`notice`,
`media_notice`) are not resumed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket

from safeclass.app.live.runtime import LiveRoom
from safeclass.core.events import Event

if TYPE_CHECKING:
    from safeclass.web.room_socket import Connection, RoomAudience

RESUME_LIMIT = 500  # log entries a page may be behind and still be sent what it missed
_MAX_DIGITS = 12


def since_of(websocket: WebSocket) -> int | None:
    """The `seq` the page last saw, from `?since=`; None when absent or not a seq at all."""
    text = websocket.query_params.get("since")
    if text is None or not text.isascii() or not text.isdigit() or len(text) > _MAX_DIGITS:
        return None
    return int(text)


async def missed(room: LiveRoom, since: int | None) -> tuple[int, list[Event]] | None:
    """What the page missed, and the `seq` it reaches (the room's, when this returns); None
    when it cannot be resumed. Call it just before the connection joins the audience, with no
    `await` between, so nothing happens in the room in between."""
    if since is None:
        return None
    return await room.events_since(since, RESUME_LIMIT)


def first_state(
    audience: RoomAudience,
    room: LiveRoom,
    conn: Connection,
    resumed: tuple[int, list[Event]] | None,
) -> dict[str, Any]:
    """The connection's first `state`: with what it missed when it resumes, else the current
    view alone, with the chat so far (as for a page that loads)."""
    if resumed is None or resumed[0] != room.seq:
        return audience.state_message(room.state, conn, room.seq)
    seq, events = resumed
    # the page has the chat up to `since`: the lines after it come as events, where it may
    # see the chat now (staff, a pupil's device in the room); another device of a pupil gets
    # the chat in a view once it is theirs in the room, as a page that loads does
    conn.has_chat = conn.is_staff or audience.bound(room.state, conn)
    conn.events_upto = seq
    message = audience.state_message(room.state, conn, seq)
    notices = audience.notices_for(room.state, conn, events)
    if notices:
        message["events"] = notices
    return message
