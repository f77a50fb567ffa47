"""What a live test server logs, kept so a test can fail on any error or traceback.

uvicorn logs an exception in the application ("Exception in ASGI application") on its own
`uvicorn` logger, which does not reach the root logger (pytest's caplog), so the handler is put
on both. Attach it after the `LiveServer` is made: uvicorn configures its loggers then.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

WATCHED = ("", "uvicorn")  # the root logger (safeclass, asyncio) and uvicorn's own


class ServerLog(logging.Handler):
    """Every record at ERROR or above, and every record that carries a traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.problems: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.problems.append(self.format(record))


@contextmanager
def server_log() -> Iterator[ServerLog]:
    handler = ServerLog()
    loggers = [logging.getLogger(name) for name in WATCHED]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
