"""What the media benchmarks (bench/media.py, bench/class_load.py) share.

- `enter_namespace()`: run the benchmark in a private network namespace of its own. Janus never
  uses `lo` (see /work/shared/janus-notes.md), so, as the media tests do, the process re-executes
  itself under `unshare -n` (root only) and then brings up `lo` and a veth with 127.0.0.2 (Janus)
  and 127.0.0.3 (the aiortc clients). No packet can leave the namespace or come in from outside.
- `/proc` readings of a process: CPU seconds (user + system, all threads) and memory.
- `SafeclassProcess`: `safeclass serve` as a separate process (bench/server_process.py) with
  media on (it starts its own Janus as a child), so the server's CPU and memory are its own.
- `last_growth`: when a packet counter last grew after an instant (polled every few ms).
- `percentile`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import AudioStreamTrack  # noqa: E402
from tests.support.janus_scenario import (  # noqa: E402
    JANUS_IP,
    SyntheticVideo,
    setup_namespace,
    use_client_address,
)

from bench.server_process import ServerProcess, cpu_seconds, memory_mb  # noqa: E402
from safeclass.adapters.media.janus_client import (  # noqa: E402
    JanusClient,
    JanusSession,
    VideoRoomHandle,
)
from safeclass.adapters.media.janus_process import (  # noqa: E402
    JanusEndpoint,
    JanusOptions,
    JanusProcess,
)

NETNS_ENV = "SAFECLASS_BENCH_IN_NETNS"


def enter_namespace() -> None:
    """Re-exec this script under `unshare -n` unless it already runs in the namespace it made;
    then set up the namespace's addresses. Exits with a message when that is impossible."""
    if os.environ.get(NETNS_ENV) != "1":
        unshare = shutil.which("unshare")
        if os.geteuid() != 0 or unshare is None:
            why = "not root" if os.geteuid() != 0 else "no `unshare` on PATH"
            print(
                f"{Path(sys.argv[0]).name}: needs root and `unshare` to run in a private network "
                f"namespace (Janus never uses lo; see /work/shared/janus-notes.md): {why}",
                file=sys.stderr,
            )
            raise SystemExit(1)
        env = {**os.environ, NETNS_ENV: "1"}
        script = str(Path(sys.argv[0]).resolve())
        os.execve(unshare, [unshare, "-n", sys.executable, script, *sys.argv[1:]], env)  # noqa: S606
    setup_namespace()
    use_client_address()


class BareJanusRoom:
    """A second Janus (RTP ports 21000-21999) and one room on it made with safeclass's room
    options, where a teacher publishes synthetic audio and video straight through JanusClient:
    the media benches' baseline, a join with nothing of safeclass's in the way."""

    def __init__(self, folder: Path) -> None:
        options = JanusOptions(
            ws_ip="127.0.0.1",
            rtp_ports=(21000, 21999),
            interface=JANUS_IP,
            ice_enforce_list="pv0",
            ignore_mdns=True,
        )
        self.process = JanusProcess(folder, options)
        self.room = "bench-bare"
        self.secret, self.pin, self.token = (secrets.token_urlsafe(16) for _ in range(3))
        self.pcs: list[RTCPeerConnection] = []
        self.joined = 0

    async def start(self) -> None:
        self.endpoint: JanusEndpoint = await self.process.start()
        self.client = await JanusClient.connect(self.endpoint.url, self.endpoint.api_secret)
        self.session: JanusSession = await self.client.create_session()
        control = await self.session.attach_videoroom()
        await control.create_room(  # the room options safeclass uses (JanusMedia._build)
            self.room,
            admin_key=self.endpoint.admin_key,
            secret=self.secret,
            pin=self.pin,
            allowed=[self.token],
            description=self.room,
        )
        self.teacher = RTCPeerConnection()
        self.pcs.append(self.teacher)
        handle, _ = await self.publish(self.teacher, "teacher")
        await handle.next_event(lambda m: m.get("janus") == "webrtcup", timeout=10)

    async def stop(self) -> None:
        for pc in self.pcs:
            with contextlib.suppress(Exception):
                await pc.close()
        with contextlib.suppress(Exception):
            await self.client.close()
        await self.process.stop()

    async def publish(self, pc: RTCPeerConnection, participant: str) -> tuple[VideoRoomHandle, int]:
        """Join as publisher and publish synthetic audio and video; the handle and the
        `private_id` to subscribe with."""
        pc.addTrack(AudioStreamTrack())
        pc.addTrack(SyntheticVideo())
        await pc.setLocalDescription(await pc.createOffer())
        handle = await self.session.attach_videoroom()
        joined = await handle.join_publisher(
            self.room, participant=participant, pin=self.pin, token=self.token
        )
        _, answer = await handle.publish({"type": "offer", "sdp": pc.localDescription.sdp})
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        return handle, int(joined["private_id"])


# -- /proc ------------------------------------------------------------------------------------
def threads(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def udp_counters() -> dict[str, int]:
    """This network namespace's UDP counters (/proc/net/snmp): InDatagrams, RcvbufErrors..."""
    rows = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()]
    udp = [row[1:] for row in rows if row and row[0] == "Udp:"]
    return dict(zip(udp[0], (int(v) for v in udp[1]), strict=True)) if len(udp) >= 2 else {}


def udp_socket_drops() -> dict[tuple[str, int], int]:
    """Datagrams each UDP socket of this namespace dropped so far, by (local IP, port)."""
    drops: dict[tuple[str, int], int] = {}
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        ip_hex, port_hex = fields[1].split(":")
        ip = ".".join(str(int(ip_hex[i : i + 2], 16)) for i in (6, 4, 2, 0))
        drops[(ip, int(port_hex, 16))] = int(fields[-1])
    return drops


@dataclass
class Usage:
    """CPU and memory of one process over a measuring window, sampled by `sample`."""

    name: str
    pid: int | str
    cpu_start: float = 0.0
    cpu_end: float = 0.0
    t_start: float = 0.0
    t_end: float = 0.0
    rss_peak: float = 0.0
    rss_sum: float = 0.0
    samples: int = 0
    hwm: float = 0.0

    def start(self) -> None:
        self.cpu_start, self.t_start = cpu_seconds(self.pid), time.monotonic()
        self.sample()

    def sample(self) -> None:
        rss, self.hwm = memory_mb(self.pid)
        self.rss_peak = max(self.rss_peak, rss)
        self.rss_sum += rss
        self.samples += 1

    def stop(self) -> None:
        self.sample()
        self.cpu_end, self.t_end = cpu_seconds(self.pid), time.monotonic()

    @property
    def cpu_s(self) -> float:
        return self.cpu_end - self.cpu_start

    @property
    def cpu_pct(self) -> float:
        """Percent of one core over the window."""
        window = self.t_end - self.t_start
        return 100 * self.cpu_s / window if window > 0 else 0.0

    @property
    def rss_avg(self) -> float:
        return self.rss_sum / self.samples if self.samples else 0.0

    def figures(self, prefix: str) -> dict[str, float]:
        return {
            f"{prefix}_cpu_s": round(self.cpu_s, 2),
            f"{prefix}_cpu_pct": round(self.cpu_pct, 1),
            f"{prefix}_rss_mb_avg": round(self.rss_avg, 1),
            f"{prefix}_rss_mb_peak": round(max(self.rss_peak, 0.0), 1),
            f"{prefix}_vmhwm_mb": round(self.hwm, 1),
        }

    def line(self) -> str:
        return (
            f"{self.name}: CPU {self.cpu_s:.1f} s = {self.cpu_pct:.1f} % of a core; "
            f"RSS avg {self.rss_avg:.0f} MB, peak {self.rss_peak:.0f} MB (VmHWM {self.hwm:.0f} MB)"
        )


# -- a separate safeclass server ---------------------------------------------------------------
class SafeclassProcess(ServerProcess):
    """`safeclass serve` on 127.0.0.1 with media on, its local Janus on the namespace's veth."""

    def __init__(
        self, data_dir: Path, database_url: str, port: int, rtp_ports: tuple[int, int]
    ) -> None:
        janus = {
            "SAFECLASS_JANUS_INTERFACE": "127.0.0.2",
            "SAFECLASS_JANUS_ICE_ENFORCE_LIST": "pv0",
            "SAFECLASS_JANUS_IGNORE_MDNS": "1",
            "SAFECLASS_JANUS_RTP_PORTS": f"{rtp_ports[0]}-{rtp_ports[1]}",
        }
        super().__init__(data_dir, database_url, port, media=True, env=janus)


def quiet_closed_connections(loop: asyncio.AbstractEventLoop) -> None:
    """Do not print aiortc's "RTCIceTransport is closed" from a PeerConnection closed while it
    was still connecting (a client leaving right after a renegotiation): it is expected here."""

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if exc is not None and "RTCIceTransport is closed" in str(exc):
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


# -- measures ---------------------------------------------------------------------------------
async def last_growth(
    count: Callable[[], Awaitable[int]],
    since: float,
    window: float,
    first: int | None = None,
    every: float = 0.005,
) -> tuple[float, int, int]:
    """Poll a packet count every `every` s until `since + window`. Returns when it last grew,
    in s from `since` (0: it never grew past `first`, the count taken before the cut, or at the
    first look); the packets in the whole window; and those in its second half, which must be
    none once something was cut. A count that goes down (a renegotiated stream) is no growth."""
    now = await count() if first is None else first
    start, last, half = now, since, None
    while time.monotonic() < since + window:
        await asyncio.sleep(every)
        value = await count()
        if half is None and time.monotonic() >= since + window / 2:
            half = value
        if value > now:
            last = time.monotonic()
        now = value
    return last - since, max(0, now - start), max(0, now - (half if half is not None else now))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (inclusive method: between the smallest and the largest value)."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def summary(values: list[float], *qs: float) -> dict[str, float]:
    return {f"p{int(q)}": round(percentile(values, q), 1) for q in qs}
