"""`safeclass serve` as a separate process for the benchmarks, so its CPU and memory are its own.

Used by bench/join_storm.py (media off) and the media benchmarks (media on: the server starts its
own Janus as a child, on the namespace's veth). Its output goes to `server.log` in its data dir;
`ready()` waits for `/healthz`; `stop()` sends SIGINT (the server closes its rooms and stops its
Janus), then SIGKILL. With SAFECLASS_BENCH_PROFILE naming a file, it runs under cProfile.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

CLK_TCK = os.sysconf("SC_CLK_TCK")
METRICS_TOKEN = "bench-" + "m" * 40  # the server's /metrics answers this bearer


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds of a process so far (every thread of it)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_mb(pid: int | str = "self") -> tuple[float, float]:
    """(current RSS, peak RSS) in MB."""
    rss = hwm = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) / 1024
    return rss, hwm


def _command() -> list[str]:
    """`safeclass`, or under cProfile when SAFECLASS_BENCH_PROFILE names an output file."""
    profile = os.environ.get("SAFECLASS_BENCH_PROFILE")
    if profile:
        return [sys.executable, "-m", "cProfile", "-o", profile, "-m", "safeclass.cli.main"]
    return [str(Path(sys.executable).with_name("safeclass"))]


class ServerProcess:
    """One `safeclass serve` on 127.0.0.1:`port`, with `env` added to its environment."""

    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        port: int,
        *,
        media: bool | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """`media`: True `--media` (it must start), False `--no-media`, None as configured
        (on where Janus is installed)."""
        self.data_dir = data_dir
        self.port = port
        self.media = media
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir / "server.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        argv = [*_command(), "serve", "--port", str(port), "--data-dir", str(data_dir)]
        argv += ["--log-level", "warning"]
        if media is not None:
            argv.append("--media" if media else "--no-media")
        self.proc = subprocess.Popen(
            argv,
            env={
                **os.environ,
                "SAFECLASS_DATABASE_URL": database_url,
                "SAFECLASS_METRICS_TOKEN": METRICS_TOKEN,
                **(env or {}),
            },
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def peak_mb(self) -> float:
        return memory_mb(self.proc.pid)[1]

    def janus_pid(self) -> int:
        return int((self.data_dir / "janus" / "janus.pid").read_text())

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    async def ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"safeclass serve exited:\n{self.tail()}")
                with contextlib.suppress(httpx.TransportError):
                    reply = await client.get(f"http://127.0.0.1:{self.port}/healthz")
                    if reply.status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"safeclass serve did not start in {timeout} s:\n{self.tail()}")

    async def collector_pauses(self) -> dict[str, float]:
        """The server's collector pauses so far, from its /metrics (all generations): how many,
        their total, and how many were over 50, 100 and 250 ms."""
        async with httpx.AsyncClient() as client:
            reply = await client.get(
                f"http://127.0.0.1:{self.port}/metrics",
                headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            )
        reply.raise_for_status()
        total: dict[str, float] = {"count": 0.0, "sum": 0.0, "0.05": 0.0, "0.1": 0.0, "0.25": 0.0}
        for family in text_string_to_metric_families(reply.text):
            if family.name != "safeclass_gc_pause_seconds":
                continue
            for sample in family.samples:  # summed over the generations
                kind = sample.name.removeprefix(family.name + "_")
                if kind == "bucket":
                    kind = sample.labels["le"]
                if kind in total:
                    total[kind] += sample.value
        return {
            "gc_pause_count": total["count"],
            "gc_pause_total_ms": total["sum"] * 1000,
            "gc_pauses_over_50ms_count": total["count"] - total["0.05"],
            "gc_pauses_over_100ms_count": total["count"] - total["0.1"],
            "gc_pauses_over_250ms_count": total["count"] - total["0.25"],
        }

    def stop(self, timeout: float = 20.0) -> None:
        """SIGINT (the server closes its rooms and stops its Janus), then SIGKILL."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.media is not False:
            with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
                os.kill(self.janus_pid(), signal.SIGKILL)  # only if the server left it behind
        self._log.close()
