"""Helpers for the Janus tests: the skip rule, a publisher offer that needs no WebRTC stack,
what a Janus says its rooms are (a session's among them), and a look for Janus processes left
behind."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from safeclass.adapters.media.janus_client import JanusClient
from safeclass.adapters.media.janus_process import JanusEndpoint
from safeclass.adapters.media.janus_rooms import ListedRoom

F = TypeVar("F", bound=Callable[..., object])

JANUS_MISSING = shutil.which("janus") is None


def needs_janus(test: F) -> F:
    """The `janus` marker, and a skip only where Janus is not installed (CI installs it with
    scripts/install, so there these tests run)."""
    skip = pytest.mark.skipif(
        JANUS_MISSING, reason="janus is not installed (scripts/install as root installs it)"
    )
    marked: F = pytest.mark.janus(skip(test))
    return marked


_FINGERPRINT = ":".join(["AB"] * 32)


def _m_line(kind: str, payload: str, rtpmap: str, mid: str, ssrc: int) -> list[str]:
    return [
        f"m={kind} 9 UDP/TLS/RTP/SAVPF {payload}",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:safe",
        "a=ice-pwd:safeclasssafeclasssafecl",
        f"a=fingerprint:sha-256 {_FINGERPRINT}",
        "a=setup:actpass",
        f"a=mid:{mid}",
        "a=sendonly",
        "a=rtcp-mux",
        f"a=rtpmap:{payload} {rtpmap}",
        f"a=ssrc:{ssrc} cname:safeclass",
    ]


# A publisher's offer (audio mid 0, video mid 1) with no candidates: Janus accepts it and creates
# the publisher's streams, so `moderate` and `kick` can be tried without any media flowing.
FAKE_OFFER = {
    "type": "offer",
    "sdp": "\r\n".join(
        [
            "v=0",
            "o=- 1 1 IN IP4 127.0.0.1",
            "s=-",
            "t=0 0",
            "a=group:BUNDLE 0 1",
            *_m_line("audio", "111", "opus/48000/2", "0", 1111),
            *_m_line("video", "96", "VP8/90000", "1", 2222),
            "",
        ]
    ),
}


async def listed_rooms(endpoint: JanusEndpoint) -> list[ListedRoom]:
    """Every room on a Janus, as its `list` says (asked on a connection of the test's own)."""
    client = await JanusClient.connect(endpoint.url, endpoint.api_secret)
    try:
        control = await (await client.create_session()).attach_videoroom()
        listed = await control.list_rooms(admin_key=endpoint.admin_key)
        return [
            ListedRoom(str(r["room"]), str(r["description"]), int(r["num_participants"]))
            for r in listed
        ]
    finally:
        await client.close()


async def session_rooms(endpoint: JanusEndpoint, session_id: str) -> list[str]:
    """The Janus ids of a session's rooms on one Janus (its `list`: each room's description is
    its session's id), whichever worker made them."""
    return [r.janus_id for r in await listed_rooms(endpoint) if r.description == session_id]


def janus_processes(folder: Path) -> list[int]:
    """Pids of running janus processes whose command line mentions `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(folder).encode() in cmdline and b"janus" in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)


def run_scenario_in_namespace(module: str, timeout: float) -> dict[str, Any]:
    """Run `python -m module` in a private network namespace; its last line, parsed as JSON.

    Skips the test when this is not root (`unshare -n` needs it). The scenario prints its
    results as one JSON line last; they are printed again here, for the numbers.
    """
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("the media test needs root (unshare -n) for a private network namespace")
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", module],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-6000:]
    results: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(results, indent=1))
    return results


PG_SOCKETS = Path(os.environ.get("SAFECLASS_TEST_PG_SOCKETS", "/var/run/postgresql"))


def run_pg_scenario_in_namespace(module: str, pg_url: str, timeout: float) -> dict[str, Any]:
    """`run_scenario_in_namespace` for a scenario on the PostgreSQL database `pg_url`, reached
    through its Unix socket (a socket file is not in the network namespace; TCP is): the
    scenario reads its URL from SAFECLASS_SCENARIO_DATABASE_URL. Skips without the socket."""
    if not (PG_SOCKETS / ".s.PGSQL.5432").exists():
        pytest.skip(f"no PostgreSQL socket in {PG_SOCKETS} (the namespace cannot reach TCP)")
    name = pg_url.rpartition("/")[2]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(
            "SAFECLASS_SCENARIO_DATABASE_URL",
            f"postgresql+asyncpg://postgres@/{name}?host={PG_SOCKETS}",
        )
        return run_scenario_in_namespace(module, timeout)


def run_browser_scenario_in_namespace(module: str, screens: Path, timeout: float) -> dict[str, Any]:
    """`run_scenario_in_namespace` for a scenario that drives Debian's Chromium: skips when
    Chromium or Janus is missing; the scenario's screenshots go to SAFECLASS_E2E_SCREENS or, when
    that is unset, to `screens`. The results' "folder" says where they went."""
    from tests.support.chromium import CHROMIUM

    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (scripts/install --dev)")
    if JANUS_MISSING:
        pytest.skip("janus is not installed (scripts/install as root installs it)")
    folder = os.environ.get("SAFECLASS_E2E_SCREENS") or str(screens)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAFECLASS_E2E_SCREENS", folder)
        results = run_scenario_in_namespace(module, timeout=timeout)
    results["folder"] = folder
    return results
