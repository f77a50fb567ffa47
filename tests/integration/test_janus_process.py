"""Janus as a managed child process: config, readiness, secrets per start, restart, stop."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
import time
from pathlib import Path

import pytest

from safeclass.adapters.media.janus_client import JanusClient, JanusError
from safeclass.adapters.media.janus_process import (
    NOT_INSTALLED,
    JanusEndpoint,
    JanusOptions,
    JanusProcess,
    JanusState,
    MediaOffError,
    janus_info,
)
from tests.support.janus import janus_processes, kill_all, needs_janus


async def test_media_is_off_when_janus_is_not_installed(tmp_path: Path) -> None:
    process = JanusProcess(tmp_path / "janus", JanusOptions(binary="no-such-janus-here"))
    assert process.state is JanusState.OFF
    assert process.off_reason == NOT_INSTALLED == "media off: janus is not installed"
    with pytest.raises(MediaOffError, match="janus is not installed"):
        await process.start()
    await process.stop()
    assert process.state is JanusState.OFF


@needs_janus
async def test_starts_from_its_generated_config_and_answers_info(tmp_path: Path) -> None:
    folder = tmp_path / "janus"
    process = JanusProcess(folder)
    try:
        endpoint = await process.start()
        assert process.state is JanusState.RUNNING
        assert endpoint.url.startswith("ws://127.0.0.1:")
        info = await janus_info(endpoint.url)
        assert info["version_string"]
        assert set(info["plugins"]) == {"janus.plugin.videoroom"}  # type: ignore[arg-type]
        assert set(info["transports"]) == {"janus.transport.websockets"}  # type: ignore[arg-type]
        print(f"janus ready in {process.started_in:.3f} s")
        assert process.started_in is not None and process.started_in < 5
        conf = folder / "conf"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for name in (
            "janus.jcfg",
            "janus.plugin.videoroom.jcfg",
            "janus.transport.websockets.jcfg",
            "janus.transport.http.jcfg",
        ):
            assert stat.S_IMODE((conf / name).stat().st_mode) == 0o600
        main = (conf / "janus.jcfg").read_text()
        assert f'api_secret = "{endpoint.api_secret}"' in main
        assert 'rtp_port_range = "20000-40000"' in main
        assert (
            f'admin_key = "{endpoint.admin_key}"'
            in (conf / "janus.plugin.videoroom.jcfg").read_text()
        )
        ws = (conf / "janus.transport.websockets.jcfg").read_text()
        assert 'ws_ip = "127.0.0.1"' in ws and 'ws_acl = "127."' in ws
        assert "http = false" in (conf / "janus.transport.http.jcfg").read_text()
        assert sorted(p.name for p in (folder / "plugins").iterdir()) == ["libjanus_videoroom.so"]
        assert sorted(p.name for p in (folder / "transports").iterdir()) == [
            "libjanus_websockets.so"
        ]
        # the API wants the secret of this start
        client = await JanusClient.connect(endpoint.url, "not-the-secret")
        with pytest.raises(JanusError) as refused:
            await client.create_session()
        assert refused.value.code == 403
        await client.close()
    finally:
        await process.stop()


@needs_janus
async def test_nat_and_ice_options_reach_the_config(tmp_path: Path) -> None:
    options = JanusOptions(
        rtp_ports=(30000, 30100),
        nat_1_1_mapping="203.0.113.7",
        interface="127.0.0.1",
        ice_enforce_list="lo",
        ignore_mdns=True,
    )
    process = JanusProcess(tmp_path / "janus", options)
    try:
        await process.start()
        main = (tmp_path / "janus" / "conf" / "janus.jcfg").read_text()
        assert 'rtp_port_range = "30000-30100"' in main
        assert 'nat_1_1_mapping = "203.0.113.7"' in main
        assert 'interface = "127.0.0.1"' in main
        assert 'ice_enforce_list = "lo"' in main
        assert "ignore_mdns = true" in main
    finally:
        await process.stop()


@needs_janus
async def test_every_start_has_new_secrets(tmp_path: Path) -> None:
    process = JanusProcess(tmp_path / "janus")
    try:
        first = await process.start()
        await process.stop()
        second = await process.start()
        assert second.api_secret != first.api_secret
        assert second.admin_key != first.admin_key
        assert second.pid != first.pid
        stale = await JanusClient.connect(second.url, first.api_secret)
        with pytest.raises(JanusError) as refused:
            await stale.create_session()
        assert refused.value.code == 403
        await stale.close()
        fresh = await JanusClient.connect(second.url, second.api_secret)
        session = await fresh.create_session()
        assert session.id
        await fresh.close()
    finally:
        await process.stop()


@needs_janus
async def test_a_killed_janus_is_restarted_and_the_app_is_told(tmp_path: Path) -> None:
    downs: list[int | None] = []
    restarted: asyncio.Queue[JanusEndpoint] = asyncio.Queue()

    async def on_down(code: int | None) -> None:
        downs.append(code)

    async def on_restart(endpoint: JanusEndpoint) -> None:
        await restarted.put(endpoint)

    process = JanusProcess(tmp_path / "janus", on_restart=on_restart, on_down=on_down)
    try:
        first = await process.start()
        killed_at = time.monotonic()
        os.kill(first.pid, signal.SIGKILL)
        second = await asyncio.wait_for(restarted.get(), 10)
        back_in = time.monotonic() - killed_at
        print(f"janus back {back_in:.3f} s after SIGKILL")
        assert downs == [-signal.SIGKILL]
        assert second.pid != first.pid
        assert second.api_secret != first.api_secret
        assert process.restarts == 1
        assert process.endpoint == second
        assert (await janus_info(second.url))["janus"] == "server_info"
        assert back_in < 2.0
    finally:
        await process.stop()


@needs_janus
async def test_stop_leaves_no_process_and_an_orphan_is_cleared(tmp_path: Path) -> None:
    folder = tmp_path / "janus"
    process = JanusProcess(folder)
    try:
        endpoint = await process.start()
        assert janus_processes(folder) == [endpoint.pid]
        started = time.monotonic()
        await process.stop()
        print(f"janus stopped in {time.monotonic() - started:.3f} s")
        assert process.state is JanusState.STOPPED
        assert janus_processes(folder) == []
        assert not (folder / "janus.pid").exists()

        # a server killed without stopping Janus leaves it running: the next start ends it
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            ORPHAN_MAKER,
            str(folder),
            stdout=asyncio.subprocess.PIPE,
        )
        assert server.stdout is not None
        orphan = int(await asyncio.wait_for(server.stdout.readline(), 10))
        server.kill()
        await server.wait()
        assert janus_processes(folder) == [orphan]
        replacement = await process.start()
        assert janus_processes(folder) == [replacement.pid]
        await process.stop()
        assert janus_processes(folder) == []
    finally:
        await process.stop()
        kill_all(janus_processes(folder))


ORPHAN_MAKER = """
import asyncio, sys, pathlib
from safeclass.adapters.media.janus_process import JanusProcess
async def main():
    endpoint = await JanusProcess(pathlib.Path(sys.argv[1])).start()
    print(endpoint.pid, flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
"""


@needs_janus
async def test_a_data_dir_given_as_a_relative_path_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`./scripts/demo` keeps its data in `data/demo`: Janus runs inside its own folder, so the
    paths it is given must not be relative to where the server was started."""
    monkeypatch.chdir(tmp_path)
    process = JanusProcess(Path("data/demo/janus"))
    try:
        endpoint = await process.start()
        assert (await janus_info(endpoint.url))["version_string"]
        assert process.folder.is_absolute()
    finally:
        await process.stop()
        kill_all(janus_processes(tmp_path / "data/demo/janus"))
