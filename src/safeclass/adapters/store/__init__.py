"""Storage on SQLAlchemy 2 (async): SQLite by default, PostgreSQL for larger deployments."""

from safeclass.adapters.store.db import connect, database_url, upgrade
from safeclass.adapters.store.event_log import EventLog, LogEntry, NewEntry, VerifyReport

__all__ = [
    "EventLog",
    "LogEntry",
    "NewEntry",
    "VerifyReport",
    "connect",
    "database_url",
    "upgrade",
]
