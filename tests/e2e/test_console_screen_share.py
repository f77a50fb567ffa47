"""The console's "Share my screen" in Debian's Chromium with a real Janus (C21, issue 10 point 2).

Runs tests/support/console_share_scenario.py once, as root, in a private network namespace: the
teacher's console in Chromium shares its (fake) screen; an aiortc pupil decodes it as the
stream marked `"source": "screen"`; "Stop sharing my screen" stops it. Screenshots of the
console before and while sharing go to SAFECLASS_E2E_SCREENS when it is set.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.janus import needs_janus, run_scenario_in_namespace

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return run_scenario_in_namespace("tests.support.console_share_scenario", timeout=180)


# covers: C21
@needs_janus
def test_the_teachers_console_shares_a_screen_that_the_pupil_decodes_and_stops_it(
    results: dict[str, Any],
) -> None:
    console = results["console"]
    assert console["share_to_frames_at_pupil_s"] < 5
    assert {"kind": "video", "name": "Mrs Khan", "source": "screen"} in console[
        "screen_streams_at_p1"
    ]
    assert console["frames_after_stop_0_5s"] == 0
    assert console["pupil_view_screen_after"] is None
    assert console["page_problems"] == []  # no script error, nothing refused by the policy
    assert console["requests_elsewhere"] == []


# covers: C21
@needs_janus
def test_the_button_is_in_welsh_and_big_enough_on_a_phone(results: dict[str, Any]) -> None:
    phone = results["welsh_phone"]
    assert phone["height"] >= 44
    assert not phone["scrolls_sideways"]
