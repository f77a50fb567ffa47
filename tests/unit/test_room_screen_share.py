"""Screen sharing (C21): staff show the room a window or tab as a second feed; pupils never can.

The room decides who shares (one screen at a time, staff in the room only) and puts it on
record; the share ends when the sharer stops it, another member of staff stops it, or the
sharer leaves, drops or the session ends. The SFU follows: the screen is a feed of its own,
admitted only once the share is on record and revoked when it ends, and everyone but its sharer
receives it. What each viewer sees of it, and whether their page offers to share or stop.
"""

from __future__ import annotations

import pytest

from safeclass.app.live.media import BadOfferError, one_of_each
from safeclass.app.live.media_calls import MediaCall, media_calls, screen_feed, visible_feeds
from safeclass.app.timeline import build_timeline
from safeclass.core import RefusalCode, Role
from safeclass.core import commands as c
from safeclass.core import events as ev
from safeclass.web.views import Views, pupil_view, staff_view
from tests.support.checks import refused_unchanged
from tests.support.rooms import Driver, make_room


def in_class() -> Driver:
    d = Driver(make_room("claydon", pupils=3))
    d.class_in(["p1", "p2"])
    return d


def calls(d: Driver, command: c.Command) -> list[MediaCall]:
    before = d.state
    d.ok(command)
    return media_calls(before, d.state)


# -- the room ------------------------------------------------------------------------------------


def test_a_teacher_shares_a_screen_and_stops_it_on_record() -> None:
    # covers: C21, C15
    d = in_class()
    assert d.ok(c.ShareScreen("t1")) == [ev.ScreenShareStarted(at=d.now, sharer="t1")]
    assert d.state.screen_sharer == "t1"
    assert d.ok(c.ShareScreen("t1")) == []  # a new offer for the same share changes nothing
    assert d.ok(c.StopSharing("t1")) == [ev.ScreenShareStopped(at=d.now, sharer="t1", by="t1")]
    assert d.state.screen_sharer is None
    assert d.ok(c.StopSharing("t1")) == []


def test_a_pupil_can_neither_share_nor_stop_a_share_and_the_attempt_is_not_permitted() -> None:
    # covers: C21
    d = in_class()
    refusal = refused_unchanged(d, c.ShareScreen("p1"), RefusalCode.NOT_PERMITTED)
    assert refusal.message == "Only staff can share a screen"
    d.ok(c.ShareScreen("t2"))
    refusal = refused_unchanged(d, c.StopSharing("p1"), RefusalCode.NOT_PERMITTED)
    assert refusal.message == "Only staff can stop a screen share"
    assert d.state.screen_sharer == "t2"


def test_one_screen_at_a_time_and_any_member_of_staff_may_stop_it() -> None:
    # covers: C21
    d = in_class()
    d.ok(c.ShareScreen("t2"))
    refusal = refused_unchanged(d, c.ShareScreen("t1"), RefusalCode.RULE)
    assert (
        refusal.message
        == "Staff t2 is sharing a screen: one screen at a time, so stop theirs first"
    )
    assert d.ok(c.StopSharing("t1")) == [ev.ScreenShareStopped(at=d.now, sharer="t2", by="t1")]
    assert d.names_of(d.ok(c.ShareScreen("t1"))) == ["ScreenShareStarted"]


def test_the_servers_stop_for_an_old_share_never_ends_a_newer_one() -> None:
    # covers: C21
    d = in_class()
    d.ok(c.ShareScreen("t1"))
    d.ok(c.StopSharing("t1"))
    d.ok(c.ShareScreen("t2"))
    assert d.ok(c.StopSharing("t1", only="t1")) == []  # t1's old screen closed late
    assert d.state.screen_sharer == "t2"
    assert d.names_of(d.ok(c.StopSharing("t2", only="t2"))) == ["ScreenShareStopped"]


def test_a_share_ends_when_its_sharer_leaves_or_drops_in_the_same_decision() -> None:
    # covers: C21, C5
    d = Driver(make_room("crofton", pupils=3))  # staff there may leave pupils with one adult
    d.class_in(["p1", "p2"], staff=("t1", "t2", "t3"))
    d.ok(c.ShareScreen("t3"))
    events = d.ok(c.Leave("t3"))
    assert d.names_of(events) == ["ParticipantLeft", "ScreenShareStopped"]
    assert events[-1] == ev.ScreenShareStopped(at=d.now, sharer="t3", by="t3")
    d.ok(c.ShareScreen("t1"))
    events = d.ok(c.ConnectionLost("t1", "dev-t1"))
    assert d.names_of(events)[:2] == ["ConnectionDropped", "ScreenShareStopped"]
    assert d.state.screen_sharer is None


def test_the_end_ends_the_share_with_everything_else() -> None:
    # covers: C21, C11
    d = in_class()
    d.ok(c.ShareScreen("t1"))
    assert d.names_of(d.ok(c.EndSession("t2"))) == ["SessionEnded"]
    assert d.state.screen_sharer is None


def test_staff_not_in_the_room_cannot_share() -> None:
    # covers: C21
    d = in_class()
    d.ok(c.ConnectionLost("t2", "dev-t2"))
    refusal = refused_unchanged(d, c.ShareScreen("t2"), RefusalCode.NOT_HERE)
    assert refusal.message == "Only staff in the session can share a screen"


# -- the SFU -------------------------------------------------------------------------------------


def test_the_screen_is_a_feed_of_its_own_admitted_after_the_share_and_revoked_at_its_end() -> None:
    # covers: C21
    d = in_class()
    feed = screen_feed("t1")
    assert calls(d, c.ShareScreen("t1")) == [
        MediaCall("admit", feed, role=Role.TEACHER),
        MediaCall("set_media", feed, audio=True, video=True),
    ]
    assert feed in visible_feeds(d.state, "p1")
    assert feed in visible_feeds(d.state, "t2")
    assert feed not in visible_feeds(d.state, "t1")  # the sharer has their own preview
    assert calls(d, c.StopSharing("t2")) == [MediaCall("revoke", feed)]
    assert feed not in visible_feeds(d.state, "p1")


def test_a_sharer_who_drops_loses_the_screen_first_then_their_camera() -> None:
    # covers: C21, C5
    d = in_class()
    d.ok(c.ShareScreen("t2"))
    made = calls(d, c.ConnectionLost("t2", "dev-t2"))
    assert made[:3] == [
        MediaCall("hold", held=True),
        MediaCall("revoke", screen_feed("t2")),
        MediaCall("revoke", "t2"),
    ]


def test_a_pupil_never_has_a_screen_feed() -> None:
    # covers: C21
    d = in_class()
    before = d.state
    d.do(c.ShareScreen("p1"))
    assert media_calls(before, d.state) == []
    assert screen_feed("p1") not in visible_feeds(d.state, "t1")


# -- the views -----------------------------------------------------------------------------------


def test_the_views_say_who_shares_and_offer_only_what_the_room_would_do() -> None:
    # covers: C21
    d = in_class()
    teacher = staff_view(d.state, "t1", d.now)
    assert teacher.session.screen is None
    assert "media_share" in teacher.can and "media_share_stop" not in teacher.can
    assert "media_share" not in pupil_view(d.state, "p1", d.now).can
    d.ok(c.ShareScreen("t1"))
    views = Views(d.state, d.now)
    sharer, other = views.staff("t1"), views.staff("t2")
    assert sharer["session"]["screen"] == {"name": "Staff t1", "by": "t1"}
    assert "media_share_stop" in sharer["can"] and "media_share" not in sharer["can"]
    assert "media_share_stop" in other["can"]
    assert other["cannot"]["media_share"]["message"] == (
        "Staff t1 is sharing a screen: one screen at a time, so stop theirs first"
    )
    pupil = views.pupil("p1")
    assert pupil["session"]["screen"] == {"name": "Staff t1"}  # a name, never an id
    assert not {"media_share", "media_share_stop"} & (set(pupil["can"]) | set(pupil["cannot"]))


def test_a_server_without_video_does_not_offer_sharing_and_says_why() -> None:
    # covers: C21
    d = in_class()
    view = Views(d.state, d.now, no_video="Sharing a screen needs video").staff("t1")
    assert "media_share" not in view["can"]
    assert view["cannot"]["media_share"]["message"] == "Sharing a screen needs video"


# -- what one publishing connection may carry ---------------------------------------------------


def _offer(*lines: tuple[str, int, str]) -> dict[str, str]:
    sdp = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0"]
    for kind, port, direction in lines:
        sdp += [f"m={kind} {port} UDP/TLS/RTP/SAVPF 96", f"a={direction}"]
    return {"type": "offer", "sdp": "\r\n".join(sdp) + "\r\n"}


@pytest.mark.parametrize(
    "offer",
    [
        _offer(("audio", 9, "sendrecv"), ("video", 9, "sendrecv")),
        _offer(("video", 9, "sendonly")),  # a screen without sound
        _offer(("audio", 9, "sendonly"), ("video", 9, "inactive"), ("video", 9, "sendonly")),
        _offer(("audio", 9, "sendonly"), ("video", 0, "sendonly"), ("video", 9, "sendonly")),
    ],
)
def test_a_camera_or_a_screen_with_its_sound_may_be_published(offer: dict[str, str]) -> None:
    # covers: C21
    one_of_each(offer)  # a track a page removed (inactive, or port 0) does not count


@pytest.mark.parametrize(
    "offer",
    [
        _offer(("audio", 9, "sendrecv"), ("video", 9, "sendrecv"), ("video", 9, "sendrecv")),
        _offer(("audio", 9, "sendrecv"), ("audio", 9, "sendonly")),
        _offer(("audio", 9, "sendrecv"), ("video", 9, "sendrecv"), ("application", 9, "sendrecv")),
    ],
)
def test_a_second_feed_or_a_data_channel_in_one_connection_is_refused(
    offer: dict[str, str],
) -> None:
    # covers: C21, C8
    with pytest.raises(BadOfferError, match="Send at most one microphone and one camera"):
        one_of_each(offer)


def test_the_timeline_says_who_shared_and_who_stopped_it() -> None:
    # covers: C21, C15
    d = in_class()
    d.ok(c.ShareScreen("t1"))
    d.ok(c.StopSharing("t2"))
    d.ok(c.ShareScreen("t2"))
    d.ok(c.ConnectionLost("t2", "dev-t2"))
    lines = [line.text for line in build_timeline(d.log, "Europe/London", {})]
    shared = [line for line in lines if "screen" in line]
    assert shared == [
        "Staff t1 started sharing a screen",
        "Staff t2 stopped Staff t1's screen share",
        "Staff t2 started sharing a screen",
        "Staff t2 stopped sharing a screen",
    ]
