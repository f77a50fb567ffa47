"""Structured logs and Prometheus metrics: what operators see, and never a token or password.

Logs are one JSON object per line. A filter scrubs anything that looks like a secret (invite
tokens, cookies, passwords, `token=` in a URL) before a record is written, so a careless log
call cannot leak a child's link.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import re
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_SECRET = re.compile(
    r"(?i)(token|password|passwd|secret|cookie|apisecret|sc_staff|sc_device|sc_pupil[\w-]*)([\"']?\s*[:=]\s*[\"']?)"
    r"([^\s\"'&;,}]+)"
)
_LINK = re.compile(r"(/join/)([A-Za-z0-9_\-]{16,})")


def scrub(text: str) -> str:
    """`text` with secret values replaced by [redacted]."""
    return _LINK.sub(r"\1[redacted]", _SECRET.sub(r"\1\2[redacted]", text))


class _ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("session", "school", "event", "clause", "code", "client"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_JsonFormatter())
    handler.addFilter(_ScrubFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class Metrics:
    """The server's Prometheus metrics, on a registry of its own (one per app instance)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.live_rooms = Gauge("safeclass_live_rooms", "Rooms running now", registry=self.registry)
        self.sockets = Gauge(
            "safeclass_sockets", "Open room WebSockets", ["role"], registry=self.registry
        )
        self.admissions = Counter("safeclass_admissions", "Pupils admitted", registry=self.registry)
        self.refusals = Counter(
            "safeclass_refusals",
            "Commands refused, by clause",
            ["clause", "code"],
            registry=self.registry,
        )
        self.holds = Counter(
            "safeclass_holds",
            "Rooms held because a safeguard failed",
            ["reason"],
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "safeclass_command_seconds",
            "Time to decide, log and publish a command",
            registry=self.registry,
        )
        self.gc_pauses = Histogram(
            "safeclass_gc_pause_seconds",
            "Pauses of Python's cycle collector, by generation (nothing else runs meanwhile)",
            ["generation"],
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )


class CollectorPauses:
    """Times every pause of the cycle collector into `Metrics.gc_pauses`, while started.

    One process holds every socket of a school's rooms, and while the collector runs nothing
    else does: a pause is added to every join, chat line and admission in flight. How long and
    how often they are is what decides the server's worst latencies (docs/cluster.md), so it is
    measured where operators can see it, and the benchmarks read it from /metrics.
    """

    def __init__(self, metrics: Metrics) -> None:
        self._by_generation = [metrics.gc_pauses.labels(generation=str(g)) for g in range(3)]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self._by_generation[info["generation"]].observe(time.perf_counter() - self._started)

    def start(self) -> None:
        gc.callbacks.append(self)

    def stop(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)
