"""Requests that another worker of the cluster sent here, and the client address they vouch for.

A worker that relays a room's socket to the room's owner (`room_relay`) proves the request is
its own with the header `x-safeclass-relay`: the hex of a key every worker derives from the
shared server secret (`Services.relay_key`). Only then does the owner believe the request's
X-Forwarded-For, which the relaying worker wrote with one address, the client's as it saw it;
so sign-in and link limits count the pupil, not the worker in between. HAProxy strips the
header from every request from outside (docs/cluster.md); a request whose header is wrong is
simply an untrusted one (no error, no log: it is only a guess).
"""

from __future__ import annotations

import hmac
import ipaddress

from starlette.requests import HTTPConnection

from safeclass.app.live.ownership import RELAY_HEADER

MIN_KEY_BYTES = 16  # a Services built without a relay key trusts no header


def relay_proof(key: bytes) -> str:
    """The header's value a worker sends with a relayed request."""
    return key.hex()


def from_peer(connection: HTTPConnection) -> bool:
    """Whether another worker of this cluster sent this request (its relay header is right)."""
    given = connection.headers.get(RELAY_HEADER)
    if given is None:
        return False
    key: bytes = getattr(connection.app.state.services, "relay_key", b"")
    if len(key) < MIN_KEY_BYTES:
        return False
    return hmac.compare_digest(given.strip().encode(), relay_proof(key).encode())


def vouched_address(connection: HTTPConnection) -> str | None:
    """The client's address a relaying worker vouches for, or None if nobody does.

    The relaying worker writes X-Forwarded-For with one address; were anything between the
    workers to add its own, it would come after, so the first is the worker's."""
    if not from_peer(connection):
        return None
    first = connection.headers.get("x-forwarded-for", "").split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(first))
    except ValueError:
        return None
