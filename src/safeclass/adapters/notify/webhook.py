"""Letters and notices to a school's messaging platform (Class Dojo, Tapestry…) by signed webhook.

Invitation letters (`WebhookSender`) and the outbox's notices (`WebhookNotices`: parents' notices
and DSL alerts, docs/notices.md) are each one POST of JSON to the school's webhook URL (DSL alerts
to the staff webhook URL when the school has one). The body carries a `timestamp` and a unique `id`;
`X-Safeclass-Signature: sha256=<hex>` is the HMAC-SHA256 of the exact body bytes with the shared
secret, and `X-Safeclass-Timestamp` repeats the timestamp. Because the timestamp is inside the
signed body, a receiver that checks the signature, that the two timestamps agree and that the
timestamp is recent (and remembers the ids it has seen for that long) cannot be fooled by a replayed
or altered request. `verify` is that check, for receivers written in Python.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from safeclass.app.delivery import PARENTS_HOOK, STAFF_HOOK, Letter, Notice
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
        await post_signed(self.url, self._secret, payload, stamp, self._timeout)


async def post_signed(
    url: str, secret: str, payload: Mapping[str, Any], stamp: int, timeout: float
) -> None:
    """POST `payload` (which carries `stamp` as its timestamp) signed; raise unless 2xx."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, body),
        TIMESTAMP_HEADER: str(stamp),
        "User-Agent": "safeclass-webhook/1",
    }
    async with httpx.AsyncClient(timeout=timeout) as client:
        response = await client.post(url, content=body, headers=headers)
        response.raise_for_status()


def delivery_id(key: str) -> str:
    """The delivery's id, the same on every try of one outbox row (so a receiver that has seen
    it can drop the repeat), and unique (the key holds the row's id and the school's)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"safeclass:{key}"))


class WebhookNotices:
    """Implements `NoticeSender` for the outbox's webhook rows (parents' notices, DSL alerts).

    The row's body is the notice as JSON (written when it was queued, alerts.py); each try adds
    the delivery's stable `id` and a fresh `timestamp`, then signs it as letters are signed, so
    `verify` accepts it. A row for "staff" goes to the staff webhook, else to the school's."""

    def __init__(self, hooks: Mapping[str, tuple[str, str]], timeout: float = 10.0) -> None:
        for url, secret in hooks.values():
            if not secret:
                raise ValueError(
                    f"the webhook {url} needs a secret to sign with (SAFECLASS_WEBHOOK_SECRET)"
                )
        self._hooks = dict(hooks)  # "parents"/"staff" -> (url, secret)
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookNotices | None:
        hooks: dict[str, tuple[str, str]] = {}
        if settings.webhook_url:
            school = (settings.webhook_url, settings.webhook_secret or "")
            hooks[PARENTS_HOOK] = hooks[STAFF_HOOK] = school
        if settings.staff_webhook_url:
            secret = settings.staff_webhook_secret or settings.webhook_secret or ""
            hooks[STAFF_HOOK] = (settings.staff_webhook_url, secret)
        return cls(hooks) if hooks else None

    def reaches(self, hook: str) -> bool:
        return hook in self._hooks

    async def send_notice(self, notice: Notice) -> None:
        found = self._hooks.get(notice.recipient)
        if found is None:
            raise LookupError(f"no webhook is set up for {notice.recipient} notices")
        url, secret = found
        stamp = int(time.time())
        payload = {**json.loads(notice.body), "id": delivery_id(notice.key), "timestamp": stamp}
        await post_signed(url, secret, payload, stamp, self._timeout)
