"""Janus as a managed child process: generated config, readiness, restart, clean stop.

Everything lives in one folder of the data dir (`janus/`): the generated configuration (secrets
inside, so the folder is private), folders of symlinks that make Janus load only the VideoRoom
plugin and the WebSocket transport, its log and its pid file. Every start writes a new API secret
and a new VideoRoom admin key, so a restarted Janus never accepts an old client. The API listens
on loopback (or the interface given, for the network-namespace tests) and nowhere else.

Janus is started without systemd (`janus -F DIR -C DIR/janus.jcfg -o`) in its own process
session, so a Ctrl-C on the server does not reach it and the server stops it in order: SIGTERM,
then SIGKILL after `stop_timeout`. If it dies, it is started again after a short backoff and
`on_restart` is called with the new endpoint so the app can rebuild its rooms. If `janus` is not
on PATH the process is in the state OFF ("media off: janus is not installed") and `start` raises
`MediaOffError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import sysconfig
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

log = logging.getLogger(__name__)

JANUS_SUBPROTOCOL = Subprotocol("janus-protocol")
PLUGINS = ("libjanus_videoroom.so",)
TRANSPORTS = ("libjanus_websockets.so",)
NOT_INSTALLED = "media off: janus is not installed"
BACKOFF = (0.1, 0.5, 1.0, 2.0, 5.0)  # seconds before restart attempt n (the last one repeats)
STABLE_AFTER = 30.0  # a Janus that ran this long resets the backoff
LOG_LIMIT = 10_000_000  # bytes of janus.log kept before it is rotated to janus.log.1


class MediaOffError(RuntimeError):
    """Janus cannot run here (not installed, or its libraries are missing)."""


class JanusStartError(RuntimeError):
    """Janus exited or did not answer in time when it was started."""


class JanusState(enum.StrEnum):
    OFF = "off"  # not installed: media is off
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"  # died; the next start is scheduled


@dataclass(frozen=True, slots=True)
class JanusEndpoint:
    """How to reach the running Janus, valid until it restarts."""

    url: str
    api_secret: str = field(repr=False)
    admin_key: str = field(repr=False)  # the VideoRoom plugin's key for creating rooms
    pid: int


@dataclass(frozen=True, slots=True)
class JanusOptions:
    ws_ip: str = "127.0.0.1"  # where the API listens: loopback, or the tests' veth address
    ws_port: int = 0  # 0: a free port is chosen at the first start and kept afterwards
    rtp_ports: tuple[int, int] = (20000, 40000)
    interface: str | None = None  # the address Janus gathers ICE candidates for
    ice_enforce_list: str | None = None  # e.g. "eth0" or "pv0"
    ice_ignore_list: str | None = None
    ignore_mdns: bool = False
    nat_1_1_mapping: str | None = None  # the public address, when Janus sits behind NAT
    session_timeout: int = 60  # the client sends a keepalive well inside this
    debug_level: int = 4
    ready_timeout: float = 10.0
    stop_timeout: float = 3.0
    binary: str | None = None  # default: `janus` on PATH
    lib_dir: Path | None = None  # default: found beside the binary (Debian: /usr/lib/<arch>/janus)


def find_binary(options: JanusOptions | None = None) -> str | None:
    """The janus executable to run, or None when it is not installed."""
    name = options.binary if options is not None and options.binary else "janus"
    return shutil.which(name)


def find_lib_dir(binary: str) -> Path | None:
    """Where Janus keeps its plugins/ and transports/ (Debian: /usr/lib/<multiarch>/janus)."""
    prefix = Path(os.path.realpath(binary)).parent.parent
    arch = sysconfig.get_config_var("MULTIARCH") or ""
    candidates = [prefix / "lib" / arch / "janus", prefix / "lib" / "janus", prefix / "lib64/janus"]
    for candidate in candidates:
        if (candidate / "plugins" / PLUGINS[0]).exists():
            return candidate
    return None


def free_port(ip: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ip, 0))
        port: int = sock.getsockname()[1]
        return port


def _q(value: str) -> str:
    """A libconfig (jcfg) string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _b(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True, slots=True)
class _Secrets:
    api_secret: str
    admin_secret: str
    admin_key: str

    @classmethod
    def new(cls) -> _Secrets:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(24))


def write_config(folder: Path, lib_dir: Path, options: JanusOptions, port: int) -> _Secrets:
    """Write Janus's whole configuration under `folder` with fresh secrets, and return them."""
    keys = _Secrets.new()
    conf, plugins, transports, empty = (
        folder / n for n in ("conf", "plugins", "transports", "empty")
    )
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for sub in (conf, plugins, transports, empty):
        sub.mkdir(exist_ok=True)
    for sub, kind, names in ((plugins, "plugins", PLUGINS), (transports, "transports", TRANSPORTS)):
        for stale in sub.iterdir():
            stale.unlink()
        for name in names:
            (sub / name).symlink_to(lib_dir / kind / name)
    nat = [f"ignore_mdns = {_b(options.ignore_mdns)}", "full_trickle = false"]
    if options.ice_enforce_list:
        nat.append(f"ice_enforce_list = {_q(options.ice_enforce_list)}")
    if options.ice_ignore_list:
        nat.append(f"ice_ignore_list = {_q(options.ice_ignore_list)}")
    if options.nat_1_1_mapping:
        nat.append(f"nat_1_1_mapping = {_q(options.nat_1_1_mapping)}")
    general = [
        f"configs_folder = {_q(str(conf))}",
        f"plugins_folder = {_q(str(plugins))}",
        f"transports_folder = {_q(str(transports))}",
        f"events_folder = {_q(str(empty))}",
        f"loggers_folder = {_q(str(empty))}",
        f"debug_level = {int(options.debug_level)}",
        "debug_timestamps = true",
        "debug_colors = false",
        f"api_secret = {_q(keys.api_secret)}",
        f"admin_secret = {_q(keys.admin_secret)}",
        "token_auth = false",
        f"session_timeout = {int(options.session_timeout)}",
        'server_name = "safeclass-janus"',
        "hide_dependencies = true",
    ]
    if options.interface:
        general.append(f"interface = {_q(options.interface)}")
    low, high = options.rtp_ports
    files = {
        "janus.jcfg": _section("general", general)
        + _section("media", [f'rtp_port_range = "{int(low)}-{int(high)}"'])
        + _section("nat", nat)
        + "".join(_section(s, []) for s in ("plugins", "transports", "loggers", "events")),
        "janus.plugin.videoroom.jcfg": _section(
            "general",
            [
                f"admin_key = {_q(keys.admin_key)}",
                "lock_rtp_forward = true",
                "string_ids = true",
                "events = false",
            ],
        ),
        "janus.transport.websockets.jcfg": _section(
            "general",
            [
                'json = "compact"',
                "ws = true",
                f"ws_port = {int(port)}",
                f"ws_ip = {_q(options.ws_ip)}",
                "wss = false",
                f"ws_acl = {_q(_acl(options.ws_ip))}",
            ],
        )
        + _section("admin", ["admin_ws = false", "admin_wss = false"]),
        # Not loaded (no symlink), but Janus 1.1.2 has been seen to crash at start when the http
        # transport has no config: if it is ever loaded, it stays off and on loopback.
        "janus.transport.http.jcfg": _section(
            "general", ["http = false", "https = false", 'ip = "127.0.0.1"', 'acl = "127."']
        )
        + _section("admin", ["admin_http = false", "admin_https = false"]),
    }
    for stale in conf.iterdir():
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        path = conf / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
    return keys


def _section(name: str, lines: list[str]) -> str:
    body = "".join(f"\t{line}\n" for line in lines)
    return f"{name}: {{\n{body}}}\n"


def _acl(ip: str) -> str:
    """Only the API's own address may connect (loopback: any 127.x)."""
    return "127." if ip.startswith("127.") else ip


async def janus_info(url: str, timeout: float = 1.0) -> dict[str, object]:
    """Janus's `info` answer (needs no secret): the readiness probe."""
    async with asyncio.timeout(timeout):
        async with ws_connect(
            url, subprotocols=[JANUS_SUBPROTOCOL], open_timeout=timeout, ping_interval=None
        ) as ws:
            await ws.send(json.dumps({"janus": "info", "transaction": secrets.token_hex(6)}))
            reply = json.loads(await ws.recv())
    if not isinstance(reply, dict) or reply.get("janus") != "server_info":
        raise JanusStartError(f"unexpected answer to info: {reply!r}")
    return reply


A = TypeVar("A")
OnRestart = Callable[[JanusEndpoint], Awaitable[None]]
OnDown = Callable[[int | None], Awaitable[None]]


class JanusProcess:
    """One local Janus, kept running until `stop`."""

    def __init__(
        self,
        folder: Path,
        options: JanusOptions | None = None,
        *,
        on_restart: OnRestart | None = None,
        on_down: OnDown | None = None,
    ) -> None:
        self.folder = folder.resolve()  # Janus runs in it: relative paths would be its own
        self.options = options or JanusOptions()
        self.on_restart = on_restart  # after Janus came back (new secrets): rebuild the rooms
        self.on_down = on_down  # as soon as Janus is seen to have died (its exit code)
        self._binary = find_binary(self.options)
        self._lib_dir: Path | None = None
        if self._binary is not None:
            self._lib_dir = self.options.lib_dir or find_lib_dir(self._binary)
        self._port = self.options.ws_port
        self._proc: asyncio.subprocess.Process | None = None
        self._endpoint: JanusEndpoint | None = None
        self._state = JanusState.OFF if self.off_reason else JanusState.STOPPED
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False
        self.restarts = 0
        self.started_in: float | None = None  # seconds from spawn to ready, for the last start

    @property
    def off_reason(self) -> str | None:
        """Why media is off on this machine, or None when Janus can run."""
        if self._binary is None:
            return NOT_INSTALLED
        if self._lib_dir is None:
            return f"media off: the Janus plugins are not found beside {self._binary}"
        return None

    @property
    def state(self) -> JanusState:
        return self._state

    @property
    def endpoint(self) -> JanusEndpoint | None:
        return self._endpoint if self._state is JanusState.RUNNING else None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path:
        return self.folder / "janus.log"

    async def start(self) -> JanusEndpoint:
        """Start Janus and wait until it answers; keep it running until `stop`."""
        if reason := self.off_reason:
            raise MediaOffError(reason)
        if self._endpoint is not None and self._state is JanusState.RUNNING:
            return self._endpoint
        self._stopping = False
        try:
            endpoint = await self._spawn()
        except BaseException:
            self._state = JanusState.STOPPED
            raise
        self._watch = asyncio.create_task(self._supervise(), name="janus supervisor")
        return endpoint

    async def stop(self) -> None:
        """Stop Janus (SIGTERM, then SIGKILL) and stop restarting it."""
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        await self._terminate()
        if self._state is not JanusState.OFF:
            self._state = JanusState.STOPPED

    async def _spawn(self) -> JanusEndpoint:
        if self._binary is None or self._lib_dir is None:
            raise MediaOffError(self.off_reason or NOT_INSTALLED)
        self._state = JanusState.STARTING
        self._kill_orphan()
        if not self._port:
            self._port = free_port(self.options.ws_ip)
        keys = write_config(self.folder, self._lib_dir, self.options, self._port)
        conf = self.folder / "conf"
        self._rotate_log()
        started = time.monotonic()
        with open(self.log_path, "ab") as out:
            self._proc = await asyncio.create_subprocess_exec(
                self._binary,
                "-F",
                str(conf),
                "-C",
                str(conf / "janus.jcfg"),
                "-o",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                cwd=self.folder,
            )
        (self.folder / "janus.pid").write_text(str(self._proc.pid))
        url = f"ws://{self.options.ws_ip}:{self._port}/"
        deadline = started + self.options.ready_timeout
        while True:
            if self._proc.returncode is not None:
                raise JanusStartError(f"janus exited with {self._proc.returncode}: {self._tail()}")
            try:
                await janus_info(url, timeout=0.5)
                break
            except (OSError, TimeoutError, JanusStartError, ValueError) as exc:
                if time.monotonic() > deadline:
                    await self._terminate()
                    raise JanusStartError(f"janus did not answer at {url}: {exc}") from exc
                await asyncio.sleep(0.02)
        self.started_in = time.monotonic() - started
        self._endpoint = JanusEndpoint(url, keys.api_secret, keys.admin_key, self._proc.pid)
        self._state = JanusState.RUNNING
        log.info("janus %s ready at %s in %.3f s", self._proc.pid, url, self.started_in)
        return self._endpoint

    async def _supervise(self) -> None:
        attempt = 0
        while not self._stopping:
            proc = self._proc
            if proc is None:
                return
            ran_from = time.monotonic()
            code = await proc.wait()
            if self._stopping:
                return
            self._endpoint = None
            self._state = JanusState.RESTARTING
            log.error("janus %s died (exit %s): %s", proc.pid, code, self._tail())
            await self._call(self.on_down, code)
            if time.monotonic() - ran_from > STABLE_AFTER:
                attempt = 0
            while not self._stopping:
                await asyncio.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
                attempt += 1
                try:
                    endpoint = await self._spawn()
                except (JanusStartError, OSError) as exc:
                    log.error("janus restart failed: %s", exc)
                    self._state = JanusState.RESTARTING
                    continue
                self.restarts += 1
                await self._call(self.on_restart, endpoint)
                break

    async def _call(self, callback: Callable[[A], Awaitable[None]] | None, arg: A) -> None:
        if callback is None:
            return
        try:
            await callback(arg)
        except Exception:  # a failing listener must not stop the supervisor
            log.exception("janus callback failed")

    async def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        self._endpoint = None
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), self.options.stop_timeout)
            except TimeoutError:
                log.warning("janus %s did not stop on SIGTERM: killing it", proc.pid)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        with contextlib.suppress(FileNotFoundError):
            (self.folder / "janus.pid").unlink()

    def _kill_orphan(self) -> None:
        """A Janus left running on this folder by a server that was killed: end it."""
        pid_file = self.folder / "janus.pid"
        try:
            pid = int(pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return
        if str(self.folder / "conf").encode() in cmdline:
            log.warning("stopping an orphaned janus %s", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            for _ in range(100):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.01)

    def _rotate_log(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.log_path.stat().st_size > LOG_LIMIT:
                self.log_path.replace(self.log_path.with_suffix(".log.1"))

    def _tail(self, lines: int = 8) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return " | ".join(text.splitlines()[-lines:])
