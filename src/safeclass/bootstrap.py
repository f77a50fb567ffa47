"""The composition root: the one place where the real adapters are wired into the app.

`build()` opens the database (migrating it), and makes the event log, the clock, the outbox
alerts, the WebSocket audiences and the live-room registry; `close()` stops them in order.
Tests build the same services with an adjustable clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store import EventLog, connect
from safeclass.adapters.store.db import upgrade
from safeclass.app.alerts import OutboxAlerts
from safeclass.app.clock import Clock, SystemClock
from safeclass.app.live.registry import Rooms
from safeclass.observability import Metrics
from safeclass.settings import Settings
from safeclass.web.room_socket import Audiences


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    event_log: EventLog
    clock: Clock
    metrics: Metrics
    audiences: Audiences
    alerts: OutboxAlerts
    rooms: Rooms


async def build(settings: Settings, clock: Clock | None = None) -> Services:
    upgrade(settings.database_url)
    engine = connect(settings.database_url)
    clock = clock or SystemClock()
    event_log = EventLog(engine)
    metrics = Metrics()
    audiences = Audiences(clock)
    alerts = OutboxAlerts(engine)
    rooms = Rooms(
        engine=engine,
        event_log=event_log,
        clock=clock,
        audience_for=audiences.for_session,
        alerts=alerts,
        metrics=metrics,
    )
    return Services(settings, engine, event_log, clock, metrics, audiences, alerts, rooms)


async def close(services: Services) -> None:
    await services.rooms.close()
    await services.engine.dispose()
