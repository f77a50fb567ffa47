"""The webhook signature a messaging platform checks: the exact body, the secret, freshness."""

from __future__ import annotations

import json

from safeclass.adapters.notify.webhook import sign, verify

SECRET = "shared-secret"  # noqa: S105 - a test secret
NOW = 1_800_000_000


def signed(stamp: int = NOW, **extra: object) -> tuple[bytes, str, str]:
    body = json.dumps({"id": "d1", "timestamp": stamp, **extra}).encode()
    return body, sign(SECRET, body), str(stamp)


# covers: C2, S04-02
def test_a_genuine_fresh_request_verifies():
    body, signature, stamp = signed()
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify(SECRET, body, signature, stamp, now=NOW + 10)


# covers: C2, S04-02
def test_a_changed_body_a_wrong_secret_or_a_missing_header_fails():
    body, signature, stamp = signed(link="https://school.test/join/abc")
    assert not verify(SECRET, body.replace(b"abc", b"abd"), signature, stamp, now=NOW)
    assert not verify("another-secret", body, signature, stamp, now=NOW)
    assert not verify(SECRET, body, None, stamp, now=NOW)
    assert not verify(SECRET, body, signature, None, now=NOW)


# covers: C2, S04-02
def test_an_old_request_or_a_changed_timestamp_header_fails():
    body, signature, stamp = signed()
    assert not verify(SECRET, body, signature, stamp, now=NOW + 301)  # a replay, later
    assert not verify(SECRET, body, signature, str(NOW + 60), now=NOW + 60)
    not_json = b"not json"
    assert not verify(SECRET, not_json, sign(SECRET, not_json), stamp, now=NOW)
