"""Refused attempts in a session's permanent log, kept as evidence but bounded.

A participant whose client sends what their role may not do (a pupil's `admit`) is refused, and
the attempt goes in the log: that is evidence a school may need. But a modified client can send
thousands a second, and the log is append-only and kept for years. So, per actor, the first
FIRST_LOGGED attempts in a window of WINDOW are logged one by one (`AttemptRefused`) and the
rest are counted into one `AttemptsRefused` entry: how many, of which commands, from when to
when. The runtime writes it when the window closes (the room wakes for it), when the session
ends and when the server stops, so the count is exact and nothing is lost.

This class only keeps the windows and says which entries to write; the runtime writes them, and
app/room_log.py reads them back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from safeclass.app.event_store import NewEntry
from safeclass.app.room_log import ATTEMPT_REFUSED, ATTEMPTS_REFUSED

FIRST_LOGGED = 10
WINDOW = dt.timedelta(minutes=1)


@dataclass(slots=True)
class _Window:
    opened: dt.datetime
    logged: int = 0
    commands: Counter[str] = field(default_factory=Counter)
    first: dt.datetime | None = None  # the first attempt counted, not logged
    last: dt.datetime | None = None

    @property
    def counted(self) -> int:
        return sum(self.commands.values())


class RefusedAttempts:
    """The open window of each actor whose attempts were refused."""

    def __init__(self, first_logged: int = FIRST_LOGGED, window: dt.timedelta = WINDOW) -> None:
        self.first_logged = first_logged
        self.window = window
        self._windows: dict[str, _Window] = {}

    def refused(
        self, actor: str, command: str, message: str, clause: str, at: dt.datetime
    ) -> list[NewEntry]:
        """The entries to write for one refused attempt (with any summaries now due).

        An empty list: the attempt was counted, for the window's summary."""
        entries = self.due(at)
        window = self._windows.get(actor)
        if window is None:
            window = self._windows[actor] = _Window(at)
        if window.logged < self.first_logged:
            window.logged += 1
            attempt = {"actor": actor, "command": command, "message": message, "clause": clause}
            entries.append(NewEntry(ATTEMPT_REFUSED, at.isoformat(), attempt))
        else:
            window.commands[command] += 1
            window.first = window.first or at
            window.last = at
        return entries

    def counting(self, actor: str) -> bool:
        """Whether this actor's attempts are now counted rather than logged one by one."""
        window = self._windows.get(actor)
        return window is not None and window.logged >= self.first_logged

    @property
    def wake_at(self) -> dt.datetime | None:
        """When the next window with a count closes (its summary is due then)."""
        closes = [w.opened + self.window for w in self._windows.values() if w.counted]
        return min(closes, default=None)

    def due(self, now: dt.datetime) -> list[NewEntry]:
        """The summaries of the windows that have closed by `now`; those windows end."""
        closed = [a for a, w in self._windows.items() if w.opened + self.window <= now]
        return self._close(closed, now)

    def flush(self, now: dt.datetime) -> list[NewEntry]:
        """The summaries of every window (the session ended, or the server stops)."""
        return self._close(list(self._windows), now)

    def _close(self, actors: list[str], now: dt.datetime) -> list[NewEntry]:
        entries = []
        for actor in actors:
            window = self._windows.pop(actor)
            if not window.counted or window.first is None or window.last is None:
                continue
            summary = {
                "actor": actor,
                "count": window.counted,
                "commands": dict(sorted(window.commands.items())),
                "first": window.first.isoformat(),
                "last": window.last.isoformat(),
            }
            entries.append(NewEntry(ATTEMPTS_REFUSED, now.isoformat(), summary))
        return entries
