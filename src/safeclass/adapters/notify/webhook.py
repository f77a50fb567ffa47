"""Invitation letters to a school's messaging platform (Class Dojo, Tapestry…) by signed webhook.

Each letter is one POST of JSON to `webhook_url`. The body carries a `timestamp` and a unique
`id`; `X-Safeclass-Signature: sha256=<hex>` is the HMAC-SHA256 of the exact body bytes with the
shared secret, and `X-Safeclass-Timestamp` repeats the timestamp. Because the timestamp is inside
the signed body, a receiver that checks the signature, that the two timestamps agree and that
the timestamp is recent (and remembers the ids it has seen for that long) cannot be fooled by a
replayed or altered request. `verify` is that check, for receivers written in Python.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx

from safeclass.app.delivery import Letter
from safeclass.settings import Settings

SIGNATURE_HEADER = "X-Safeclass-Signature"
TIMESTAMP_HEADER = "X-Safeclass-Timestamp"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    now: float | None = None,
    tolerance: float = TOLERANCE_SECONDS,
) -> bool:
    """Whether a request is genuine and fresh: signed body, matching and recent timestamp."""
    if not signature or not timestamp or not hmac.compare_digest(sign(secret, body), signature):
        return False
    try:
        stamped = json.loads(body)["timestamp"]
        sent = int(timestamp)
    except (ValueError, KeyError, TypeError):
        return False
    now = time.time() if now is None else now
    return stamped == sent and abs(now - sent) <= tolerance


def letter_payload(letter: Letter, *, timestamp: int, delivery_id: str) -> dict[str, Any]:
    """What the platform needs to put the link in front of the right family, and no more."""
    return {
        "type": "safeclass.invitation",
        "id": delivery_id,
        "timestamp": timestamp,
        "school": {"key": letter.school_key, "name": letter.school_name},
        "session": {
            "id": letter.session_id,
            "title": letter.session_title,
            "kind": letter.session_kind,
            "starts_at": letter.starts_at.isoformat(),
            "minutes": letter.minutes,
            "when": letter.when,
        },
        "pupil": {
            "id": letter.pupil_id,
            "mis_id": letter.pupil_mis_id,
            "shown_name": letter.shown_name,
        },
        "link": letter.link,
        "report_link": letter.report_link,
        "expires_at": letter.expires_at.isoformat(),
        "parent_expectations": list(letter.parent_expectations),
    }


class WebhookSender:
    """Implements `LetterChannel` for a messaging platform."""

    name = "webhook"

    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret to sign with (SAFECLASS_WEBHOOK_SECRET)")
        self.url = url
        self._secret = secret
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookSender | None:
        if not settings.webhook_url:
            return None
        return cls(settings.webhook_url, settings.webhook_secret or "")

    def reaches(self, letter: Letter) -> bool:
        return True  # the platform knows the pupil's families by the pupil's id

    async def deliver(self, letter: Letter) -> None:
        # Wall-clock time on purpose: freshness is about the request, not the school's clock.
        stamp = int(time.time())
        payload = letter_payload(letter, timestamp=stamp, delivery_id=str(uuid.uuid4()))
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, body),
            TIMESTAMP_HEADER: str(stamp),
            "User-Agent": "safeclass-webhook/1",
        }
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            response = await client.post(self.url, content=body, headers=headers)
            response.raise_for_status()
