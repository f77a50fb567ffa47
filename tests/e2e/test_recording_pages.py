"""The recording control on the console and the notices on the pupil's page, with a real Janus
(C13, STJ-09): offered only where the room would record, everyone told first, a red dot and words
while it runs, and stopped from the console.

The test runs tests/support/console_recording_scenario.py once, as root, in a private network
namespace (`unshare -n`): a real server with media on, the console and the pupil's page in
Debian's Chromium. Nothing leaves the namespace. Screenshots (`recording-*.png`) with
SAFECLASS_E2E_SCREENS.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.janus import needs_janus, run_scenario_in_namespace

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    return run_scenario_in_namespace("tests.support.console_recording_scenario", timeout=240)


@needs_janus
def test_the_console_offers_recording_where_the_room_would_record(
    scenario: dict[str, Any],
) -> None:
    # covers: C13, STJ-09
    before = scenario["before"]
    assert before["buttons"] == ["Record this session"]
    assert before["state"] == "This session is not being recorded."
    assert before["how"] == (
        "Everyone in the room is told first; recording begins when the notice ends."
    )
    assert before["pupil_notice"] == ""


@needs_janus
def test_everyone_is_told_before_the_recording_begins_and_while_it_runs(
    scenario: dict[str, Any],
) -> None:
    # covers: C13, STJ-09, CLA-09
    notice = scenario["notice"]
    assert notice["console_status"] == "Everyone has been told this session will be recorded."
    assert notice["state"].startswith("Everyone has been told: recording begins in 0:")
    assert notice["indicator"] == ""  # not recording yet
    assert notice["buttons"] == ["Stop recording"]  # a notice can be called off
    assert notice["pupil_notice"] == "This class will be recorded. It starts in a moment."
    assert notice["pupil_status_role"] == "status"  # a screen reader hears it

    on = scenario["on"]
    assert on["indicator"] == "Recording now"
    assert on["state"] == "This session is being recorded."
    assert on["console_status"] == "Recording has started."
    assert on["buttons"] == ["Stop recording"]
    assert on["pupil_notice"] == "This class is being recorded."
    assert on["pupil_notice_red"] is True  # a red dot beside the words, not colour alone


@needs_janus
def test_stop_recording_ends_it_and_everyone_is_told(scenario: dict[str, Any]) -> None:
    # covers: C13
    stopped = scenario["stopped"]
    assert stopped["state"] == "This session is not being recorded."
    assert stopped["console_status"] == "The recording has stopped."
    assert stopped["buttons"] == ["Record this session"]
    assert stopped["pupil_notice"] == ""
    assert stopped["pupil_latest"] == "The recording has stopped."
    assert scenario["room"]["recording"] == "off"
    assert scenario.get("console_errors", []) == []
