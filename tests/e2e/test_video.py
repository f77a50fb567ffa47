"""Real video on both room pages (issue 10): Debian's Chromium with a fake camera and microphone,
a real server with media on and its own Janus, all in a private network namespace.

The whole class runs once (tests/support/browser_media_scenario.py, as root under `unshare -n`):
the teacher and the assistant sign in and open the console, three pupils open their families'
links (one checks the camera first), tick and wait, and are admitted together. Each test reads
one part of what the pages saw. Screenshots of every step go to SAFECLASS_E2E_SCREENS, or to
`screens/` in the test's temporary folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.janus import needs_janus, run_browser_scenario_in_namespace

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    screens = Path(tmp_path_factory.mktemp("video")) / "screens"
    return run_browser_scenario_in_namespace(
        "tests.support.browser_media_scenario", screens, timeout=180
    )


# covers: C22
@needs_janus
def test_the_camera_check_shows_the_picture_and_the_microphone_before_joining(
    scenario: dict[str, Any],
) -> None:
    assert scenario["preview_level_seen"] > 0  # the fake microphone's beep moved the bar
    assert any("camera-check" in name for name in scenario["screens"])


# covers: C22
@needs_janus
def test_each_admitted_pupil_decodes_the_teachers_video(scenario: dict[str, Any]) -> None:
    for pupil, seconds in scenario["admit_to_teacher_frames_s"].items():
        assert seconds < 10, pupil
    for pupil, frames in scenario["teacher_frames_per_s_at_pupils"].items():
        assert frames >= 5, pupil  # still rising a second later: about 15 a second


@needs_janus
def test_the_pupil_sees_the_adults_large_and_classmates_small_each_named(
    scenario: dict[str, Any],
) -> None:
    assert scenario["staff_tiles_at_oliver"] == [
        "Mrs Khan (Teacher)",  # what each adult is, as the list says it
        "Mr Lee (Teaching assistant)",
    ]
    assert scenario["staff_tiles_at_isla_cy"] == [  # a Welsh family's page
        "Mrs Khan (Athro)",
        "Mr Lee (Cynorthwyydd addysgu)",
    ]
    assert scenario["tiles_at_amelia"][2:] == [
        "Amelia R. (You, microphone off)",
        "Oliver S. (microphone off)",
        "Isla J. (microphone off)",
    ]


# covers: C7, CRO-13
@needs_janus
def test_the_console_shows_everyone_with_microphone_and_camera_in_words(
    scenario: dict[str, Any],
) -> None:
    assert scenario["tiles_at_teacher"] == [
        "Mrs Khan (you, microphone on, camera on)",
        "Mr Lee (teaching assistant, microphone on, camera on)",
        "Amelia R. (microphone off, camera on)",
        "Oliver S. (microphone off, camera on)",
        "Isla J. (microphone off, camera on)",
    ]


# covers: C7, CRO-13
@needs_janus
def test_a_muted_pupils_sound_stops_reaching_classmates_while_the_teachers_goes_on(
    scenario: dict[str, Any],
) -> None:
    mute = scenario["mute"]
    assert mute["audio_from_pupil_while_speaking_1s"] > 20  # unmuted: ~50 packets a second
    assert mute["audio_from_pupil_after_mute_1_5s"] == 0
    assert mute["audio_from_teacher_after_mute_1_5s"] > 30
    assert mute["frames_from_pupil_after_mute_1_5s"] > 5  # her camera is still on


@needs_janus
def test_a_receiving_connection_that_drops_is_made_again(scenario: dict[str, Any]) -> None:
    dropped = scenario["dropped"]
    assert dropped["closed"] == 1
    assert dropped["drop_to_teacher_frames_s"] < 10  # told `hangup`, it subscribed afresh
    assert dropped["connections"] >= 3  # camera, the closed one, the new one


@needs_janus
def test_the_pages_say_video_reconnecting_when_the_video_server_restarts(
    scenario: dict[str, Any],
) -> None:
    restart = scenario["restart"]
    for notices in (restart["pupil_notices"], restart["teacher_notices"]):
        assert notices[0] == "Video reconnecting…"
        assert notices[-1] == ""  # gone once the video is back
    assert restart["kill_to_teacher_frames_at_pupil_s"] < 15


# covers: C22
@needs_janus
def test_a_removed_pupil_stops_receiving_and_her_camera_goes_off(scenario: dict[str, Any]) -> None:
    removal = scenario["removal"]
    assert removal["teacher_frames_before_0_5s"] > 0
    assert removal["connections_open_after"] == 0
    assert removal["tiles_after"] == 0
    assert removal["cameras_asked"] == 1
    assert removal["camera_tracks_live_after"] == 0


@needs_janus
def test_at_the_end_every_page_closes_its_connections_and_cameras(
    scenario: dict[str, Any],
) -> None:
    assert scenario["end"]["open_connections"] == [0, 0, 0, 0]
    assert scenario["end"]["live_camera_tracks"] == [0, 0, 0, 0]


@needs_janus
def test_no_page_had_a_script_error_and_every_step_was_photographed(
    scenario: dict[str, Any],
) -> None:
    assert scenario["page_problems"] == []
    assert len(scenario["screens"]) >= 14
    for name in scenario["screens"]:
        assert (Path(scenario["folder"]) / name).stat().st_size > 0
    assert scenario["seconds"] < 120
