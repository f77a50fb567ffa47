"""Failed family-link and cookie lookups, counted per address and shared by every door.

A made-up invitation link, a made-up pupil cookie at the room's page or at its socket: each is
a guess (or a stale pass), and the lookup limiter (`safeclass.app.attempt_limits.LookupLimits`)
slows an address that makes too many. The link pages and the room's socket use the same limiter,
so a guesser is slowed wherever they try, and a family whose link works is never counted.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from safeclass.app.attempt_limits import LookupLimits
from safeclass.web.peers import vouched_address


def lookup_limiter(connection: HTTPConnection) -> LookupLimits:
    """This server's limiter (bootstrap.py's: this process's, or a cluster's shared one)."""
    limiter: LookupLimits = connection.app.state.lookup_limiter
    return limiter


def client_address(connection: HTTPConnection) -> str:
    """The caller's address: the one another worker of the cluster vouches for when it relayed
    the request (`peers`), else the connection's (a trusted proxy's X-Forwarded-For already
    applied by the server)."""
    vouched = vouched_address(connection)
    if vouched is not None:
        return vouched
    return connection.client.host if connection.client else "unknown"
