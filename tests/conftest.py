"""The whole suite: how its tests are shared between pytest-xdist's workers (scripts/test).

Every test module stays on one worker (its module-scoped fixtures, a cluster of workers or a
Janus, are made once), and the browser tier, when run with the others, is one group: its
session fixtures start Janus and Chromium once, on one worker. (scripts/test runs the browser
tier on its own after the others: beside them, on two cores, it is too slow to be fair.)

The modules that send real audio and video through Janus in a network namespace and judge what
arrives by the time it is decoded (a frame after a mute, after a screen share stops) are one
group too, so they run one after another: each keeps a Janus and its aiortc clients busy on
both cores, and two of them at once decoded frames late enough to count as after the fact.
They are marked `media_flow`, and scripts/test runs them on their own, after the rest of the
integration tier and before the browser tier: beside the cluster tests' worker processes they
were late in the same way.
"""

from __future__ import annotations

import pytest

MEDIA_FLOW = frozenset(
    f"tests/integration/{name}.py"
    for name in (
        "test_cluster_media_flow",
        "test_cluster_media_kill9",
        "test_janus_media",
        "test_live_media",
        "test_recording",
        "test_screen_share_media",
    )
)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        path = item.nodeid.split("::", 1)[0]
        if path.startswith("tests/e2e/"):
            group = "browser"
        elif path in MEDIA_FLOW:
            group = "media_flow"
            item.add_marker(pytest.mark.media_flow)
        else:
            group = path
        item.add_marker(pytest.mark.xdist_group(group))
