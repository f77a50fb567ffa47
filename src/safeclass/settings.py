"""Server settings, from flags or SAFECLASS_* environment variables, checked once at start."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from safeclass.adapters.server_secret import secret_path
from safeclass.adapters.store.db import database_url

MIN_METRICS_TOKEN = 32


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    # The address families open links at (emails, Origin checks); https turns on Secure cookies.
    public_url: str = "http://127.0.0.1:8000"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "safeclass@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    # A separate webhook for alerts to the DSL (a staff channel), if the school has one; without
    # it they go to `webhook_url`, which carries no sensitive detail either (docs/notices.md).
    staff_webhook_url: str | None = None
    staff_webhook_secret: str | None = field(default=None, repr=False)  # else webhook_secret
    heartbeat_seconds: float = 5.0  # a silent socket is dropped after two missed heartbeats
    # A page that went away (close 1001: a reload) has this long to come back on the same device
    # before its person counts as dropped (and the class is held if they were needed); any other
    # close (the network, a crash) counts at once. 0: every close counts at once.
    reload_grace_seconds: float = 5.0
    # Messages one room socket may send: a sustained rate a second and a burst (web/rate_limit.py)
    socket_rate: float = 20.0
    socket_burst: int = 60
    retention_every_hours: float = 24.0
    revocations_every_seconds: float = 2.0  # how soon a login ended elsewhere loses its sockets
    outbox_every_seconds: float = 5.0  # how often the outbox worker looks for due notifications
    outbox_retry_seconds: float = 30.0  # the first wait after a failed send (then doubling)
    # Media (docs/media.md). None: on when janus is installed or janus_urls are given. Settings
    # built in code (tests) have no media unless asked; `from_env` (safeclass serve) is auto.
    media: bool | None = False
    janus_urls: tuple[str, ...] = ()  # external Janus servers (a pool); none: a local child
    janus_api_secret: str | None = field(default=None, repr=False)  # for janus_urls
    janus_admin_key: str = field(default="", repr=False)  # their VideoRoom admin_key
    janus_binary: str | None = None  # the local janus to run (default: `janus` on PATH)
    janus_rtp_ports: tuple[int, int] = (20000, 40000)  # UDP ports the local Janus uses for media
    janus_public_ip: str | None = None  # the address browsers reach it at, behind NAT
    janus_interface: str | None = None  # the address it gathers ICE candidates on
    janus_ice_enforce_list: str | None = None  # interfaces ICE may use (e.g. "eth0")
    janus_ignore_mdns: bool = False
    janus_request_timeout: float = 5.0  # seconds a Janus request may take
    # Where external Janus servers write recordings, as this server sees it (a shared folder);
    # the local Janus records into DATA_DIR/recordings. None with janus_urls: no recording.
    janus_recordings_dir: Path | None = None
    media_stall_seconds: float = 2.0  # an SFU call slower than this tells the staff
    # The server's secret (keys the event log; adapters/server_secret.py). None: DATA_DIR/secret.key
    secret_file: Path | None = None
    checkpoint_every_hours: float = 24.0  # how often each DSL is sent a signed log checkpoint
    # A cluster (docs/cluster.md): several workers on one PostgreSQL, each with its own id. None:
    # one process, which owns every room (the default, on SQLite or PostgreSQL).
    worker_id: str | None = None
    # The address the other workers reach this one at (relayed sockets); default http://host:port
    internal_url: str | None = None
    lease_seconds: float = 2.0  # a worker silent this long loses its rooms to another

    @property
    def secret_path(self) -> Path:
        return secret_path(self.data_dir, self.secret_file)

    # Reverse proxies (addresses or networks) whose X-Forwarded-For is believed; none by default,
    # so a client cannot pick the address that sign-in and link limits count it under.
    trusted_proxies: tuple[str, ...] = ()
    # The bearer token Prometheus sends for /metrics; None: /metrics is off (404).
    metrics_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.worker_id is not None and not self.database_url.startswith("postgresql"):
            raise ValueError(
                "SAFECLASS_WORKER_ID: a cluster of workers needs PostgreSQL "
                "(SAFECLASS_DATABASE_URL); one process on SQLite needs no worker id"
            )
        if self.metrics_token is not None and len(self.metrics_token) < MIN_METRICS_TOKEN:
            raise ValueError(
                f"SAFECLASS_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} characters "
                "(e.g. from `openssl rand -hex 32`)"
            )

    @property
    def clustered(self) -> bool:
        """Whether this process is one worker of several (rooms are leased, not just held)."""
        return self.worker_id is not None

    @property
    def peer_url(self) -> str:
        """Where the other workers reach this one."""
        return self.internal_url or f"http://{self.host}:{self.port}"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from SAFECLASS_* variables, with explicit values (flags) taking precedence."""
        env = os.environ
        data_dir = Path(
            str(overrides.pop("data_dir", None) or env.get("SAFECLASS_DATA_DIR", "data"))
        )
        url = overrides.pop("database_url", None) or env.get("SAFECLASS_DATABASE_URL")
        values: dict[str, object] = {
            "host": env.get("SAFECLASS_HOST", "127.0.0.1"),
            "port": int(env.get("SAFECLASS_PORT", "8000")),
            "smtp_host": env.get("SAFECLASS_SMTP_HOST"),
            "smtp_port": int(env.get("SAFECLASS_SMTP_PORT", "25")),
            "smtp_from": env.get("SAFECLASS_SMTP_FROM", "safeclass@localhost"),
            "smtp_starttls": env.get("SAFECLASS_SMTP_STARTTLS", "") in _YES,
            "smtp_username": env.get("SAFECLASS_SMTP_USERNAME"),
            "smtp_password": env.get("SAFECLASS_SMTP_PASSWORD"),
            "outbox_every_seconds": float(env.get("SAFECLASS_OUTBOX_EVERY_SECONDS", "5")),
            "outbox_retry_seconds": float(env.get("SAFECLASS_OUTBOX_RETRY_SECONDS", "30")),
            "reload_grace_seconds": float(env.get("SAFECLASS_RELOAD_GRACE_SECONDS", "5")),
            "webhook_url": env.get("SAFECLASS_WEBHOOK_URL"),
            "webhook_secret": env.get("SAFECLASS_WEBHOOK_SECRET"),
            "staff_webhook_url": env.get("SAFECLASS_STAFF_WEBHOOK_URL"),
            "staff_webhook_secret": env.get("SAFECLASS_STAFF_WEBHOOK_SECRET"),
            "media": _on_off_auto(env.get("SAFECLASS_MEDIA", "auto"), "SAFECLASS_MEDIA"),
            "janus_urls": _urls(
                env.get("SAFECLASS_JANUS_URLS") or env.get("SAFECLASS_JANUS_URL") or ""
            ),
            "janus_api_secret": env.get("SAFECLASS_JANUS_API_SECRET"),
            "janus_admin_key": env.get("SAFECLASS_JANUS_ADMIN_KEY", ""),
            "janus_binary": env.get("SAFECLASS_JANUS_BINARY"),
            "janus_rtp_ports": _port_range(env.get("SAFECLASS_JANUS_RTP_PORTS", "20000-40000")),
            "janus_public_ip": env.get("SAFECLASS_JANUS_PUBLIC_IP"),
            "janus_interface": env.get("SAFECLASS_JANUS_INTERFACE"),
            "janus_ice_enforce_list": env.get("SAFECLASS_JANUS_ICE_ENFORCE_LIST"),
            "janus_ignore_mdns": env.get("SAFECLASS_JANUS_IGNORE_MDNS", "") in _YES,
            "janus_recordings_dir": _path(env.get("SAFECLASS_JANUS_RECORDINGS_DIR")),
            "secret_file": _path(env.get("SAFECLASS_SECRET_FILE")),
            "trusted_proxies": _proxies(env.get("SAFECLASS_TRUSTED_PROXIES", "")),
            "metrics_token": env.get("SAFECLASS_METRICS_TOKEN") or None,
            "worker_id": env.get("SAFECLASS_WORKER_ID") or None,
            "internal_url": env.get("SAFECLASS_INTERNAL_URL") or None,
            "lease_seconds": float(env.get("SAFECLASS_LEASE_SECONDS", "2")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})  # flags win
        if "public_url" not in values:
            values["public_url"] = env.get(
                "SAFECLASS_PUBLIC_URL", f"http://{values['host']}:{values['port']}"
            )
        return cls(
            data_dir=data_dir,
            database_url=database_url(data_dir=data_dir, url=str(url) if url else None),
            **values,  # type: ignore[arg-type]
        )


_YES = ("1", "true", "yes", "on")


def _on_off_auto(value: str, name: str) -> bool | None:
    value = value.strip().lower()
    if value in ("", "auto"):
        return None
    if value in _YES:
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be on, off or auto, not {value!r}")


def _urls(value: str) -> tuple[str, ...]:
    """Janus WebSocket URLs, separated by commas or spaces."""
    urls = tuple(u for u in value.replace(",", " ").split() if u)
    for url in urls:
        if urlsplit(url).scheme not in ("ws", "wss"):
            raise ValueError(f"a Janus URL must be ws:// or wss://, not {url!r}")
    return urls


def _port_range(value: str) -> tuple[int, int]:
    """'20000-40000' as (20000, 40000)."""
    low, sep, high = value.partition("-")
    try:
        ports = (int(low), int(high))
    except ValueError:
        ports = (0, 0)
    if not sep or not 1024 <= ports[0] < ports[1] <= 65535:
        raise ValueError(f"SAFECLASS_JANUS_RTP_PORTS must be like 20000-40000, not {value!r}")
    return ports


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _proxies(value: str) -> tuple[str, ...]:
    """Proxy addresses or networks (10.0.0.2, 192.168.1.0/24), separated by commas or spaces."""
    proxies = tuple(p for p in value.replace(",", " ").split() if p)
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ValueError(
                "SAFECLASS_TRUSTED_PROXIES must list proxy addresses or networks "
                f"(like 10.0.0.2 or 192.168.1.0/24), not {proxy!r}"
            ) from None
    return proxies
