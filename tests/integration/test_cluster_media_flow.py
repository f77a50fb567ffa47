"""A failover with real video: holds and mutes still apply at the SFU after another worker takes
a class over, and nothing of the old owner's SFU room stays usable.

Runs tests/support/takeover_media_scenario.py once, as root, in a private network namespace
(`unshare -n`): two whole workers on one PostgreSQL database (reached through its Unix socket)
sharing one Janus, and aiortc clients that speak only the room's WebSocket protocol, each
publishing a tone and a moving picture the whole time, muted or not: what stops is stopped by
the SFU.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.janus import needs_janus, run_pg_scenario_in_namespace

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def scenario(pg_url_for_module: str) -> dict[str, Any]:
    return run_pg_scenario_in_namespace(
        "tests.support.takeover_media_scenario", pg_url_for_module, timeout=240
    )


@needs_janus
def test_the_old_owners_sfu_room_is_destroyed_when_another_worker_takes_the_class_over(
    scenario: dict[str, Any],
) -> None:
    takeover = scenario["takeover"]
    assert takeover["lapse_to_taken_s"] < 4  # the lease is 2 s
    assert takeover["taken_to_old_room_gone_s"] < 1
    assert len(takeover["rooms_after"]) == 1
    assert not set(takeover["rooms_after"]) & set(takeover["old_rooms"])
    # the connections of the old room worked on until the takeover, and carry nothing since
    assert takeover["packets_on_old_connections_while_lapsed"] > 50
    assert takeover["last_packet_on_old_connections_s"] < 1
    assert takeover["packets_on_old_connections_in_last_1_5s"] == 0
    assert takeover["close_codes"] == [1012]  # the old owner stepped down: "reconnect"
    assert scenario["rooms_at_the_end"] == takeover["rooms_after"]


@needs_janus
def test_a_pupils_mute_still_applies_at_the_sfu_after_the_failover(
    scenario: dict[str, Any],
) -> None:
    # covers: CLA-05: a failover is no way round a mute
    before = scenario["before"]
    assert before["audio_frames_at_teacher"] == 0 and before["video_frames_at_teacher"] > 5
    after = scenario["after"]
    assert after["in_grace"]  # looked at before the assistant's absence counts
    assert after["back_to_frames_s"] < 5
    assert after["p1_sent_audio"] > 20  # the pupil's client sends…
    assert after["audio_frames_at_teacher"] == 0  # …and none of it is forwarded
    assert after["video_frames_at_teacher"] > 5  # their camera, turned on, still is
    assert after["teacher_sees_mic_on"] is False
    assert after["unmute_reply"] == "refused"
    assert after["janus_muted"] == ["audio"]  # Janus acknowledged muting the audio mid


@needs_janus
def test_a_hold_after_the_failover_cuts_the_pupils_media_at_the_sfu(
    scenario: dict[str, Any],
) -> None:
    # covers: CLA-02: the assistant never came back: one adult, and the pupil is cut off
    hold = scenario["hold"]
    assert hold["reason"] == "staff_below_minimum"
    assert hold["pupil_packets_at_teacher_in_last_1s"] == 0
    assert hold["packets_at_pupil_in_last_1s"] == 0
    assert hold["pupil_frames_at_teacher_after_0_5s"] == 0
    assert hold["frames_at_pupil_after_0_5s"] == 0
    assert scenario["failures"] == []
