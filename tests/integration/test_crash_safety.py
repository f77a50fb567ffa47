"""Nothing acknowledged is lost: kill the writer between appends, restart, and check the log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store import EventLog, NewEntry
from tests.support.keys import TEST_CHAIN_KEY

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kill_after", [1, 37])
# covers: CLA-17, C14
async def test_every_acknowledged_event_survives_a_killed_writer(
    db_url: str, engine: AsyncEngine, kill_after: int
):
    with subprocess.Popen(
        [sys.executable, "-m", "tests.integration.appender", db_url, "s1", "100000"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as child:
        assert child.stdout is not None
        acked = 0
        deadline = time.monotonic() + 60
        while acked < kill_after and time.monotonic() < deadline:
            line = child.stdout.readline()
            assert line.startswith("ack "), line
            acked = int(line.split()[1])
        child.send_signal(signal.SIGKILL)  # no chance to flush or close anything
        child.wait(timeout=10)
        for line in child.stdout:  # acknowledgements printed before the kill landed
            if line.startswith("ack "):
                acked = int(line.split()[1])
    assert acked >= kill_after

    # "on restart": a new engine and log on the same database
    log = EventLog(engine, TEST_CHAIN_KEY)
    entries = await log.read("s1")
    assert [e.seq for e in entries[:acked]] == list(range(1, acked + 1))
    assert len(entries) in (acked, acked + 1)  # at most one written but not yet acknowledged
    report = await log.verify("s1")
    assert report.ok, report.problems
    # appending after the crash continues the same chain
    (after,) = await log.append("s1", [NewEntry("LogNoteAdded", entries[-1].at, {"text": "x"})])
    assert after.seq == len(entries) + 1
    assert (await log.verify("s1")).ok
