"""Server settings, from flags or SAFECLASS_* environment variables, checked once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from safeclass.adapters.store.db import database_url


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
    heartbeat_seconds: float = 5.0  # a silent socket is dropped after two missed heartbeats
    retention_every_hours: float = 24.0
    outbox_every_seconds: float = 5.0  # how often the outbox worker looks for due notifications

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
            "smtp_starttls": env.get("SAFECLASS_SMTP_STARTTLS", "") in ("1", "true", "yes"),
            "smtp_username": env.get("SAFECLASS_SMTP_USERNAME"),
            "smtp_password": env.get("SAFECLASS_SMTP_PASSWORD"),
            "webhook_url": env.get("SAFECLASS_WEBHOOK_URL"),
            "webhook_secret": env.get("SAFECLASS_WEBHOOK_SECRET"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "public_url" not in values:
            values["public_url"] = env.get(
                "SAFECLASS_PUBLIC_URL", f"http://{values['host']}:{values['port']}"
            )
        return cls(
            data_dir=data_dir,
            database_url=database_url(data_dir=data_dir, url=str(url) if url else None),
            **values,  # type: ignore[arg-type]
        )
