"""What one worker of a cluster tells the others at once: the port, its channels, and one process.

Some things done on one worker must act on sockets and tasks that another holds: a family who
withdraws consent through their link (the child's socket may be on any worker), a member of
staff signing out (their console may be on another), an alert written where the outbox is not
looking. Each worker still looks every few seconds (`ConsentWatch`, `RevocationWatch`, the
outbox's poll), so nothing depends on the news arriving; the bus only makes it happen at once.

`publish` tells every *other* worker (the publisher does its own part itself, at once, without a
round trip); `subscribe` names what to do with what others publish. A payload is small (an id);
whoever hears it reads the database for the rest. In one process (`LocalBus`) there is nobody
else to tell, so publishing does nothing. A cluster's bus is PostgreSQL's LISTEN/NOTIFY
(adapters/store/pg_bus.py). After a lost connection is made again, each listener is called
once with `AGAIN` ("you may have missed something: look"), since a notice sent meanwhile is
gone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

CONSENT_CHANGED = "consent"  # a pupil's consent changed: live rooms look at the records now
DEVICE_ENDED = "device_ended"  # "staff:<login id>" or "pupil:<pass id>": close its sockets
OUTBOX_DUE = "outbox"  # a notification is on record: an outbox that is not busy sends it now
AGAIN = ""  # the payload a listener is called with after the bus reconnects

Listener = Callable[[str], Awaitable[None]]


class ClusterBus(Protocol):
    async def publish(self, channel: str, payload: str = "") -> None:
        """Tell every other worker (best effort: a failure is logged, not raised)."""
        ...

    def publish_soon(self, channel: str, payload: str = "") -> None:
        """`publish` from code that cannot wait (a callback), in a task of its own."""
        ...

    def subscribe(self, channel: str, listener: Listener) -> None:
        """Call `listener(payload)` for each notice another worker publishes on `channel`."""
        ...


class LocalBus:
    """One process: there are no other workers to tell."""

    async def publish(self, channel: str, payload: str = "") -> None:
        return None

    def publish_soon(self, channel: str, payload: str = "") -> None:
        return None

    def subscribe(self, channel: str, listener: Listener) -> None:
        return None
