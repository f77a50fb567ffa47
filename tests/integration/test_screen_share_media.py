"""Screen sharing through a real Janus (C21): staff share a screen as a second feed that pupils
decode; a pupil's modified client cannot publish a second feed by any route.

Runs tests/support/screen_share_scenario.py once, as root, in a private network namespace, like
test_live_media.py: a real server with media on and aiortc clients speaking only the room's
WebSocket protocol.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.janus import needs_janus, run_scenario_in_namespace

ONLY_STAFF = {
    "type": "refused",
    "code": "not_permitted",
    "message": "Only staff can share a screen",
}
ONE_OF_EACH = {
    "type": "refused",
    "code": "invalid",
    "message": "Send at most one microphone and one camera (or screen) on a connection",
}
ONE_AT_A_TIME = "Mrs Khan is sharing a screen: one screen at a time, so stop theirs first"


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    return run_scenario_in_namespace("tests.support.screen_share_scenario", timeout=180)


# covers: C21
@needs_janus
def test_a_pupil_cannot_publish_a_second_feed_by_any_route(scenario: dict[str, Any]) -> None:
    attempts = scenario["pupil_attempts"]
    assert attempts["media_share"] == ONLY_STAFF
    assert attempts["trickle_to_screen"] == ONLY_STAFF
    assert attempts["publish_two_videos"] == ONE_OF_EACH
    assert attempts["publish_with_data"] == ONE_OF_EACH
    assert attempts["stop_a_share"]["code"] == "not_permitted"
    assert attempts["stop_a_share"]["message"] == "Only staff can stop a screen share"
    assert scenario["share"]["pupil_share_during"] == ONLY_STAFF
    # nothing of theirs but their one camera and microphone is offered to anyone
    after = scenario["after_attempts"]
    assert after["p1_streams_at_teacher"] == [
        {"kind": "audio", "source": "camera"},
        {"kind": "video", "source": "camera"},
    ]
    assert after["screens_at_teacher"] == [] and after["screens_at_p2"] == []
    assert "media_share" not in scenario["before"]["pupil_can"]
    # the room's refusals are on record as attempts (the trickle never reaches the room)
    assert scenario["log"].count("AttemptRefused") == 3


# covers: C21
@needs_janus
def test_pupils_decode_the_teachers_screen_as_a_second_feed(scenario: dict[str, Any]) -> None:
    share = scenario["share"]
    assert scenario["before"]["teacher_can_share"] and scenario["before"]["screen"] is None
    assert share["share_to_frames_at_pupils_s"] < 3
    assert share["p1_screen_frames_in_1s"] >= 5  # 10 fps sent
    assert share["screen_streams_at_p1"] == [
        {"kind": "video", "name": "Mrs Khan", "role": "staff", "source": "screen"}
    ]
    assert share["p1_view_screen"] == {"name": "Mrs Khan"}
    assert share["teacher_view_screen"] == {"name": "Mrs Khan", "by": share["teacher_id"]}
    assert "media_share_stop" in share["teacher_can"] and "media_share" not in share["teacher_can"]
    assert share["teacher_got_own_screen"] == 0


# covers: C21
@needs_janus
def test_one_screen_at_a_time(scenario: dict[str, Any]) -> None:
    share = scenario["share"]
    assert share["second_share"] == {"type": "refused", "code": "rule", "message": ONE_AT_A_TIME}
    assert share["assistant_cannot"]["message"] == ONE_AT_A_TIME


# covers: C21, C15
@needs_janus
def test_stopping_ends_the_screen_and_not_the_camera(scenario: dict[str, Any]) -> None:
    stop = scenario["stop"]
    assert stop["screen_frames_at_pupils_after_0_5s"] == 0
    assert stop["teacher_camera_frames_at_p1_after"] > 5
    assert stop["p1_view_screen"] is None
    assert stop["teacher_can_share_again"]
    starts_and_stops = [e for e in scenario["log"] if e.startswith("ScreenShare")]
    assert starts_and_stops == ["ScreenShareStarted", "ScreenShareStopped"] * 4
    assert scenario["failures"] == []


# covers: C21, C5
@needs_janus
def test_a_share_ends_with_its_connection_a_reload_or_a_drop(scenario: dict[str, Any]) -> None:
    # the browser's own "Stop sharing" closes the screen's connection
    assert scenario["closed"]["ended_after_s"] < 2
    # the teacher's page opened again on the same device: the old page and its screen are gone
    assert scenario["reloaded"]["old_close_code"] == 4001
    assert scenario["reloaded"]["ended_after_s"] < 2
    assert not scenario["reloaded"]["held"]  # a reload is not a drop
    # the assistant's laptop vanishes while sharing: the share ends with the drop
    assert scenario["dropped"]["ended_after_s"] < 5
    assert scenario["dropped"]["held"]
