"""Recording with notice through a real Janus (C13): told first, recorded as forwarded, stored
restricted, opened only by the DSL and the head, deleted on its day.

The test runs tests/support/recording_scenario.py once, as root, in a private network namespace
(`unshare -n`): a real server with media on and aiortc clients that speak only the room's
WebSocket protocol. Nothing leaves the namespace.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.janus import needs_janus, run_scenario_in_namespace


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    return run_scenario_in_namespace("tests.support.recording_scenario", timeout=240)


@needs_janus
def test_everyone_is_told_before_anything_is_recorded(scenario: dict[str, Any]) -> None:
    # covers: STJ-09, C13
    notice = scenario["notice"]
    assert notice["reply"] == "ok"
    assert notice["told"] == ["Amelia R.", "Mr Lee", "Mrs Khan", "Oliver S."]
    assert notice["views_during_notice"] == ["notice"]
    assert notice["offered_before"] is True  # the console offered what the server then did
    assert notice["views_say_when_it_starts"] is True  # every page can count down to it
    assert notice["mjr_files_during_notice"] == 0  # 1.5 s into the notice: nothing written
    assert notice["recording_on_told_p2"] == "on"  # the indicator once it runs
    assert notice["files_after_start_s"] < 2


@needs_janus
def test_each_participant_is_stored_as_one_webm_with_audio_and_video(
    scenario: dict[str, Any],
) -> None:
    # covers: C13
    stored = scenario["stored"]
    files = stored["files"]
    # Janus was killed mid-recording: the rebuilt room went on recording, a second take each
    assert sorted(files) == ["Amelia R.", "Mr Lee", "Mrs Khan"]
    assert all(len(takes) == 2 for takes in files.values())
    for takes in files.values():
        for take in takes:
            assert take["kinds"] == ["audio", "video"]
            assert take["codecs"] == ["opus", "vp8"]
            assert take["kinds_on_record"] == ["audio", "video"]
            assert take["packets"]["video"] > 15 and take["packets"]["audio"] > 50
            assert 1.5 < take["seconds"] < 8
            assert abs(take["row_seconds"] - take["seconds"]) < 0.5
            assert take["size_matches"]
    assert stored["mjr_left"] == 0
    assert stored["notice_message"] == (
        "Recording saved (6 files): only the DSL and the head can open it"
    )
    assert stored["pupils_told_saved"] is False


@needs_janus
def test_what_the_sfu_did_not_forward_is_not_recorded(scenario: dict[str, Any]) -> None:
    # covers: STJ-11, C13: Oliver was muted with his camera off the whole time
    assert "Oliver S." not in scenario["stored"]["files"]
    assert "Oliver S." not in scenario["access"]["listed_names"]


@needs_janus
def test_recordings_are_kept_restricted_with_their_retention_date(
    scenario: dict[str, Any],
) -> None:
    # covers: WER-10, C13
    assert scenario["notice"]["raw_dir_mode"] == "0o700"
    for takes in scenario["stored"]["files"].values():
        for take in takes:
            assert take["mode"] == "0o600"
            assert take["dir_mode"] == "0o700"
            assert take["keep_days"] == 30  # retention.recordings_days of St Joseph's


@needs_janus
def test_a_server_restart_mid_recording_loses_nothing_recorded(scenario: dict[str, Any]) -> None:
    # covers: STJ-09, C13: the server stops during a recording, starts again, and the session
    # ends on time with nobody back: what was recorded before the stop is stored
    restart = scenario["restart_mid_recording"]
    assert restart["mjr_files_left_by_the_stop"] > 0
    assert restart["room_restored"] is True
    assert restart["rows_after"] == restart["rows_before"] + 3  # the 3 people recorded
    assert restart["mjr_left"] == 0


@needs_janus
def test_a_school_that_never_records_cannot_start_one_and_nothing_is_written(
    scenario: dict[str, Any],
) -> None:
    # covers: CLA-09
    never = scenario["never"]
    assert never["reply"] == "refused"
    assert never["clause"] == "CLA-09"
    assert never["message"] == "Recording is switched off in this school's policy"
    assert never["raw_dir_exists"] is False
    assert never["recording_view"] == "off"


@needs_janus
def test_only_the_dsl_and_the_head_list_and_open_recordings(scenario: dict[str, Any]) -> None:
    # covers: WER-10, C13
    access = scenario["access"]
    assert access["dsl"] == {"list": 200, "open": 200}
    assert access["head"] == {"list": 200, "open": 200}
    for role in ("teacher", "assistant", "admin"):
        assert access[role] == {"list": 403, "open": 403}, role
    assert access["listed"] == 9
    assert "delete_after" in access["listed_fields"]
    assert access["open"] == {"type": "video/webm", "cache": "no-store", "same_bytes": True}
    assert access["unknown"] == 404
    assert access["other_school_list"] == 0  # another school's DSL sees none of them
    assert access["other_school_open"] == 404
    assert access["journalled_openings"] == [True, True]  # the DSL's and the head's


@needs_janus
def test_the_retention_job_deletes_recordings_on_their_day(scenario: dict[str, Any]) -> None:
    # covers: C13
    retention = scenario["retention"]
    assert retention["deleted_at_29_days"] == 0
    assert retention["deleted_at_31_days"] == retention["rows"] == 9
    assert retention["files_left"] == 0
    assert retention["listed_after"] == 0
    assert retention["problems"] == []
    assert scenario["failures"] == []
