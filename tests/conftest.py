"""The whole suite: how its tests are shared between pytest-xdist's workers (scripts/test).

Every test module stays on one worker (its module-scoped fixtures, a cluster of workers or a
Janus, are made once), and the browser tier, when run with the others, is one group: its
session fixtures start Janus and Chromium once, on one worker. (scripts/test runs the browser
tier on its own after the others: beside them, on two cores, it is too slow to be fair.)
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        path = item.nodeid.split("::", 1)[0]
        group = "browser" if path.startswith("tests/e2e/") else path
        item.add_marker(pytest.mark.xdist_group(group))
