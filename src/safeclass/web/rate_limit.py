"""How fast one room socket may send: a token bucket, so a flooding client is slowed, then closed.

Each connection may send `rate` messages a second on average and `burst` at once. The defaults
(settings.py: 20 a second, 60 at once) are far above a teacher clicking fast or a browser's
burst of ICE candidates, so staff are never slowed in a real lesson. A message over the limit
is not read: the client is told `rate_limited`. A client that goes on sending regardless
(`patience` messages over the limit, each forgiven after a second) is to be closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    READ = "read"
    SLOW_DOWN = "slow_down"  # over the limit: not read, the client told
    CLOSE = "close"  # over the limit again and again: a flood


@dataclass(slots=True)
class MessageLimit:
    rate: float  # messages a second, sustained
    burst: int  # messages at once
    patience: int = 30  # messages over the limit before the connection is closed
    forgive: float = 1.0  # over-limit messages forgiven a second
    tokens: float = field(init=False)
    strikes: float = 0.0
    _at: float | None = None

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self, now: float) -> Verdict:
        """The verdict on one message arriving at `now` (a monotonic time in seconds)."""
        elapsed = 0.0 if self._at is None else max(now - self._at, 0.0)
        self._at = now
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self.strikes = max(0.0, self.strikes - elapsed * self.forgive)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return Verdict.READ
        self.strikes += 1.0
        return Verdict.CLOSE if self.strikes >= self.patience else Verdict.SLOW_DOWN
