"""The room's protocol client (`static/room-client.js`) in Debian's Chromium, against a real room.

No page of the room is needed: the test opens one of our own pages (so the socket's Origin is
the server's and the browser sends the login cookie, as the console will), imports the module
there and drives it. What the client reports is kept in the page (`window.room.reports`) and
read back. The other side of each case is the real server: a second tab of the same login, an
assistant joining from the test, the server's own heartbeat close (issue 10; STYLE.md "The
browser: from Galène"; docs/protocol.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page

from safeclass.adapters.store import upgrade
from safeclass.app.clock import AdjustableClock
from tests.integration.live import Client, Lesson, LiveServer, pupil_cookie, staff_cookie
from tests.integration.live import seeded_lesson as seeded
from tests.support.rooms import START

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

# Start the client in the page: every report it makes is kept, in order, in window.room.
START_CLIENT = """async ([sessionId, counted]) => {
  const m = await import("/static/room-client.js");
  const sockets = [];
  class Counted extends WebSocket {
    constructor(url) { super(url); sockets.push(this); }
  }
  const options = { backoffMs: [50, 100], replyTimeoutMs: 5000 };
  if (counted) { options.WebSocket = Counted; }
  const client = new m.RoomClient(sessionId, options);
  const reports = [];
  for (const name of ["welcome", "open", "state", "event", "closed", "refused", "media_state"]) {
    client.on(name, (payload) => reports.push([name, payload]));
  }
  window.room = { client, reports, sockets, m };
  const opened = new Promise((resolve) => client.on("state", resolve));
  client.connect();
  await opened;
  return client.welcome;
}"""

# Send a command; the reply, or the refusal's fields, as plain data.
SEND = """async ([type, fields]) => {
  try {
    return { ok: await window.room.client.send(type, fields) };
  } catch (e) {
    return { refused: { kind: e.kind, code: e.code, clause: e.clause, message: e.message,
                        name: e.name } };
  }
}"""


@pytest_asyncio.fixture(loop_scope="module")
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A server (SQLite) three minutes before the lesson starts; one per test (one lesson each:
    the seeded pupils' ids are fixed)."""
    folder = tmp_path
    url = f"sqlite+aiosqlite:///{folder / 'safeclass.db'}"
    upgrade(url)
    live = LiveServer(url, folder, AdjustableClock(START - dt.timedelta(minutes=3)))
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def lesson(server: LiveServer) -> AsyncIterator[Lesson]:
    async with seeded(server, "claydon", pupils=3) as lesson:
        yield lesson


async def _page_with(browser: Browser, server: LiveServer, cookie: str) -> Page:
    """One of our pages in a fresh context carrying `cookie` ("name=value") for this server."""
    name, _, value = cookie.partition("=")
    context = await browser.new_context()
    await context.add_cookies([{"name": name, "value": value, "url": server.url}])
    page = await context.new_page()
    await page.goto(f"{server.url}/")
    return page


async def _teacher_page(
    browser: Browser, lesson: Lesson, counted: bool = False
) -> tuple[Page, str, str]:
    """A teacher's page with the client connected; returns (page, staff id, cookie)."""
    staff_id, cookie = await staff_cookie(
        lesson.server.services,
        lesson.school_id,
        "teacher",
        "Mrs Khan",
        on_session=lesson.session_id,
    )
    page = await _page_with(browser, lesson.server, cookie)
    welcome = await page.evaluate(START_CLIENT, [lesson.session_id, counted])
    assert (welcome["you"], welcome["role"], welcome["v"]) == (staff_id, "teacher", 1)
    return page, staff_id, cookie


async def _send(page: Page, kind: str, **fields: Any) -> dict[str, Any]:
    return await page.evaluate(SEND, [kind, fields])  # type: ignore[no-any-return]


async def _wait_for_report(page: Page, condition: str) -> Any:
    """The first report `[name, payload]` for which the JavaScript `condition` holds."""
    await page.wait_for_function(
        f"() => window.room.reports.some(([name, payload]) => {condition})", timeout=10_000
    )
    return await page.evaluate(f"window.room.reports.find(([name, payload]) => {condition})[1]")


def _me(view: dict[str, Any], participant: str) -> dict[str, Any]:
    return next(p for p in view["people"] if p["id"] == participant)


# covers: C4
async def test_a_teacher_joins_through_the_client_and_gets_ok_and_a_view(
    browser: Browser, lesson: Lesson
):
    page, staff_id, _ = await _teacher_page(browser, lesson)
    reply = await _send(page, "join")
    assert reply["ok"]["type"] == "ok"
    seq = reply["ok"]["seq"]
    await page.wait_for_function("(seq) => window.room.client.seq >= seq", arg=seq)
    view = await page.evaluate("window.room.client.view")
    assert _me(view, staff_id)["status"] == "admitted"
    assert await page.evaluate("window.room.client.media") == {
        "state": "off",
        "message": "Video is off on this server",
    }


# covers: CLA-02, C4
async def test_a_refused_command_rejects_with_the_servers_words_and_clause(
    browser: Browser, lesson: Lesson
):
    page, _, _ = await _teacher_page(browser, lesson)
    assert "ok" in await _send(page, "join")
    pupil = await lesson.pupil("p1")  # waiting: one teacher is below Claydon's two staff

    reply = await _send(page, "admit", pupils=[pupil.who])

    refused = reply["refused"]
    assert (refused["name"], refused["kind"], refused["code"]) == ("RoomRefusal", "refused", "rule")
    assert refused["clause"] == "CLA-02"
    assert "1 of 2 required staff present" in refused["message"]
    reported = await _wait_for_report(page, "name === 'refused'")
    assert reported["clause"] == "CLA-02"
    bad = await _send(page, "rename", name="Mr X")  # not in the protocol: an error, not a crash
    assert (bad["refused"]["kind"], bad["refused"]["code"]) == ("error", "bad_message")
    assert "ok" in await _send(page, "chat_on")  # and the client carries on


async def test_a_state_push_updates_the_view_and_seq(browser: Browser, lesson: Lesson):
    page, _, _ = await _teacher_page(browser, lesson)
    assert "ok" in await _send(page, "join")
    before = await page.evaluate("window.room.client.seq")

    assistant = await lesson.staff("assistant", "Mr Lee")  # joins from elsewhere

    state = await _wait_for_report(
        page,
        f"name === 'state' && payload.seq > {before} && "
        f"payload.view.people.some((p) => p.id === '{assistant.who}')",
    )
    assert state["view"] == await page.evaluate("window.room.client.view")
    assert await page.evaluate("window.room.client.seq") == state["seq"]
    assert _me(state["view"], assistant.who)["status"] == "admitted"


# covers: C5
async def test_the_room_opened_again_elsewhere_stops_the_client_without_reconnecting(
    browser: Browser, lesson: Lesson
):
    page, _, cookie = await _teacher_page(browser, lesson, counted=True)
    assert "ok" in await _send(page, "join")

    newer = await Client(lesson.server, lesson.session_id, cookie, "newer").connect()
    lesson.clients.append(newer)

    closed = await _wait_for_report(page, "name === 'closed'")
    assert closed == {
        "code": 4001,
        "reason": "opened_elsewhere",
        "message": "Opened again on this device",
        "reconnecting": False,
        "delayMs": 0,
    }
    assert await page.evaluate("window.room.client.stopped.reason") == "opened_elsewhere"
    assert await page.evaluate("window.room.client._retryTimer") is None  # no retry planned
    assert await page.evaluate("window.room.sockets.length") == 1
    refused = await _send(page, "chat_on")  # nothing is sent once stopped
    assert refused["refused"]["code"] == "not_connected"
    assert (await newer.send("chat_on"))["type"] == "ok"  # the newer one carries on
    assert not newer.closed.is_set()


@pytest.mark.parametrize(
    ("code", "reason"),
    [(4008, "no_heartbeat"), (1012, "restarting")],  # 1012: a worker of a cluster went away
)
async def test_a_dropped_connection_reconnects_and_takes_its_place_again(
    browser: Browser, lesson: Lesson, code: int, reason: str
):
    page, staff_id, _ = await _teacher_page(browser, lesson, counted=True)
    assert "ok" in await _send(page, "join")
    audience = lesson.server.services.audiences.for_session(lesson.session_id)

    await audience.disconnect(staff_id, code, "No heartbeat")  # the server's drop

    closed = await _wait_for_report(page, "name === 'closed'")
    assert (closed["code"], closed["reason"], closed["reconnecting"]) == (code, reason, True)
    await page.wait_for_function(
        "() => window.room.reports.filter(([name]) => name === 'welcome').length === 2",
        timeout=10_000,
    )
    assert await page.evaluate("window.room.sockets.length") == 2
    # it sent join again on its own: the teacher is in the room and connected
    await page.wait_for_function(
        """(staffId) => {
          const me = (window.room.client.view?.people || []).find((p) => p.id === staffId);
          return me && me.status === 'admitted' && me.connected;
        }""",
        arg=staff_id,
        timeout=10_000,
    )
    assert "ok" in await _send(page, "chat_on")
    assert await page.evaluate("window.room.client.stopped") is None


async def test_the_video_helpers_send_the_protocols_messages_and_return_the_replies(
    browser: Browser, lesson: Lesson
):
    page, _, _ = await _teacher_page(browser, lesson)
    offer = {"type": "offer", "sdp": "v=0\r\n"}
    # not in the room yet: refused, as the protocol says
    early = await page.evaluate(
        "async (offer) => window.room.client.publish(offer).catch((e) => e.reply)", offer
    )
    assert (early["type"], early["code"]) == ("refused", "not_here")
    assert "ok" in await _send(page, "join")
    # this server has no video: each helper's reply is the server's media_off error
    for call in (
        "window.room.client.publish({type: 'offer', sdp: 'v=0\\r\\n'})",
        "window.room.client.subscribe()",
        "window.room.client.answer({type: 'answer', sdp: 'v=0\\r\\n'})",
    ):
        reply = await page.evaluate(f"async () => {call}.catch((e) => e.reply)")
        assert (reply["type"], reply["code"]) == ("error", "media_off"), call
    sent = await page.evaluate(
        "window.room.client.trickle('publisher', {candidate: '', sdpMid: '0'})"
    )
    assert sent is True
    # sharing a screen is the room's to allow: on a server without video it says why
    share = await page.evaluate(
        "async () => window.room.client.shareScreen({type: 'offer', sdp: 'v=0\\r\\n'})"
        ".catch((e) => e.reply)"
    )
    assert (share["type"], share["code"]) == ("refused", "rule")
    assert share["message"] == "Sharing a screen needs video, which is off on this server"
    stop = await page.evaluate("async () => window.room.client.stopSharing()")
    assert stop["type"] == "ok"  # nobody is sharing: nothing to do, and nothing refused


# covers: C21
async def test_a_pupils_client_is_refused_sharing_a_screen(browser: Browser, lesson: Lesson):
    page = await _page_with(
        browser,
        lesson.server,
        await pupil_cookie(lesson.server.services, lesson.school_id, lesson.session_id, "p3"),
    )
    await page.evaluate(START_CLIENT, [lesson.session_id, False])
    assert "ok" in await _send(page, "join", acknowledged_expectations=True)
    for call in (
        "window.room.client.shareScreen({type: 'offer', sdp: 'v=0\\r\\n'})",
        "window.room.client.stopSharing()",
    ):
        reply = await page.evaluate(f"async () => {call}.catch((e) => e.reply)")
        assert (reply["type"], reply["code"]) == ("refused", "not_permitted"), call
    assert (await _wait_for_report(page, "name === 'refused'"))["message"] == (
        "Only staff can share a screen"
    )


async def test_a_pupils_device_uses_its_own_cookie_and_waits(browser: Browser, lesson: Lesson):
    cookie = await pupil_cookie(lesson.server.services, lesson.school_id, lesson.session_id, "p2")
    page = await _page_with(browser, lesson.server, cookie)
    welcome = await page.evaluate(START_CLIENT, [lesson.session_id, False])
    assert (welcome["you"], welcome["role"]) == ("p2", "pupil")
    reply = await _send(page, "join", acknowledged_expectations=True)
    assert reply["ok"]["type"] == "ok"
    await page.wait_for_function(
        "() => window.room.client.view?.me?.status === 'waiting'", timeout=10_000
    )


# covers: C4
async def test_the_end_of_the_session_is_reported_and_stops_the_client(
    browser: Browser, lesson: Lesson
):
    page, _, _ = await _teacher_page(browser, lesson, counted=True)
    assert "ok" in await _send(page, "join")
    assert "ok" in await _send(page, "chat_on")
    assert "ok" in await _send(page, "chat", text="Good morning, class")
    chat = await _wait_for_report(
        page, "name === 'event' && JSON.stringify(payload).includes('Good morning, class')"
    )
    assert chat["type"]

    ended = await _send(page, "end")
    assert "ok" in ended  # whoever ends it hears so before everyone is disconnected

    closed = await _wait_for_report(page, "name === 'closed'")
    assert (closed["code"], closed["reason"], closed["reconnecting"]) == (4000, "ended", False)
    assert await page.evaluate("window.room.sockets.length") == 1
    assert await page.evaluate("window.room.client._retryTimer") is None


# Drive the client with a WebSocket that never opens (or opens only when told) and timers the
# test runs by hand: no server behind it, so each wait it plans can be read exactly.
WITHOUT_A_SERVER = """async () => {
  const m = await import("/static/room-client.js");
  const sockets = [];
  class Fake {
    constructor(url) { this.url = url; this.readyState = 0; this.sent = []; sockets.push(this); }
    send(text) { this.sent.push(JSON.parse(text)); }
    close() {}
  }
  let timers = [];
  const options = {
    WebSocket: Fake, random: () => 0.5, maxAttempts: 8, base: "https://school.example/room/s1",
    setTimeout: (fn, ms) => { const t = { fn, ms }; timers.push(t); return t; },
    clearTimeout: (t) => { timers = timers.filter((x) => x !== t); },
  };
  const client = new m.RoomClient("s1", options);
  const closed = [];
  client.on("closed", (report) => closed.push(report));
  const runRetry = () => { const t = timers.shift(); t.fn(); };
  const socket = () => sockets[sockets.length - 1];

  client.connect();
  socket().onclose({ code: 1006, reason: "" });  // never opened
  runRetry();
  socket().readyState = 1;                        // opens this time
  socket().onmessage({ data: JSON.stringify({ type: "welcome", v: 1, heartbeat_s: 0 }) });
  socket().onmessage({ data: JSON.stringify({ type: "ping" }) });
  const pong = socket().sent.shift();
  const waiting = client.send("chat_on").catch((e) => ({ kind: e.kind, code: e.code }));
  const asked = socket().sent[0];
  const replyTimer = timers.find((t) => t.ms === 15000);
  timers = timers.filter((t) => t !== replyTimer);
  replyTimer.fn();                                // no reply in time
  const timedOut = await waiting;
  socket().onclose({ code: 1006, reason: "" });  // dropped after opening: the waits start again
  for (let i = 0; i < 8; i++) {
    runRetry();
    socket().onclose({ code: 1006, reason: "" });
  }
  return {
    url: client.url, pong, asked, timedOut, waits: closed.map((r) => [r.reason, r.delayMs]),
    stopped: client.stopped, left: timers.length, sockets: sockets.length,
  };
}"""


async def test_the_client_waits_longer_after_each_failed_try_and_gives_up_in_the_end(
    browser: Browser, server: LiveServer
):
    page = await browser.new_page()
    await page.goto(f"{server.url}/")
    result = await page.evaluate(WITHOUT_A_SERVER)
    assert result["url"] == "wss://school.example/ws/sessions/s1"
    assert result["pong"] == {"type": "pong"}
    assert result["asked"] == {"type": "chat_on", "id": "c1"}
    assert result["timedOut"] == {"kind": "error", "code": "timeout"}
    assert result["waits"] == [
        ["unreachable", 500],
        ["dropped", 500],  # a welcome resets the waits
        ["unreachable", 1000],
        ["unreachable", 2000],
        ["unreachable", 4000],
        ["unreachable", 8000],
        ["unreachable", 15000],
        ["unreachable", 15000],
        ["unreachable", 15000],
        ["gave_up", 0],
    ]
    assert result["stopped"]["reason"] == "gave_up"
    assert (result["left"], result["sockets"]) == (0, 10)
    await page.close()


# A client that reconnects says where it was, and reports each event once.
RESUMING = """async () => {
  const m = await import("/static/room-client.js");
  const sockets = [];
  class Fake {
    constructor(url) { this.url = url; this.readyState = 1; this.sent = []; sockets.push(this); }
    send(text) { this.sent.push(JSON.parse(text)); }
    close() {}
  }
  const timers = [];
  const client = new m.RoomClient("s1", {
    WebSocket: Fake, random: () => 0.5, base: "https://school.example/room/s1",
    setTimeout: (fn, ms) => { const t = { fn, ms }; timers.push(t); return t; },
    clearTimeout: () => {},
  });
  const reported = [];
  client.on("event", (event) => reported.push(event.text || event.type));
  const say = (message) => sockets[sockets.length - 1].onmessage({ data: JSON.stringify(message) });
  const view = { kind: "staff" };
  const chat = (text) => ({ type: "ChatPosted", text });
  client.connect();
  say({ type: "welcome", v: 1, heartbeat_s: 0 });
  say({ type: "state", seq: 5, view, events: [chat("one")] });
  sockets[0].onclose({ code: 1006, reason: "" });
  timers.shift().fn();                             // the retry, after the wait
  say({ type: "welcome", v: 1, heartbeat_s: 0 });
  say({ type: "state", seq: 8, view, events: [chat("two"), { type: "SpeakingAllowed" }] });
  say({ type: "state", seq: 8, view, events: [chat("two")] });  // never twice
  say({ type: "state", seq: 8, view });
  say({ type: "state", seq: 9, view, events: [chat("three")] });
  return { urls: sockets.map((s) => s.url), reported, seq: client.seq };
}"""


async def test_a_client_that_reconnects_says_where_it_was_and_reports_each_event_once(
    browser: Browser, server: LiveServer
):
    page = await browser.new_page()
    await page.goto(f"{server.url}/")
    result = await page.evaluate(RESUMING)
    assert result["urls"] == [
        "wss://school.example/ws/sessions/s1",  # a page that loads: from the current view
        "wss://school.example/ws/sessions/s1?since=5",
    ]
    assert result["reported"] == ["one", "two", "SpeakingAllowed", "three"]
    assert result["seq"] == 9
    await page.close()
