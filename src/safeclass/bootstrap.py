"""The composition root: the one place where the real adapters are wired into the app.

`build()` reads (or makes) the server's secret, opens the database (migrating it), and makes
the event log (keyed with it), the clock, the outbox alerts, the WebSocket audiences and the
live-room registry; the channels that carry invitation links (email and/or the webhook when
configured, else letters written to DATA_DIR/letters), and the outbox worker that delivers the
notifications table by email when SMTP is set and by the school's signed webhook when one is
(docs/notices.md); and
the media (a local Janus child process, external Janus servers, or none:
`adapters.media.service`), whose news goes to the rooms through the registry;
`close()` stops them in order (rooms, then media, so every SFU room is destroyed).
Tests build the same services with an adjustable clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.media.janus_process import JanusOptions
from safeclass.adapters.media.janus_rooms import ROOM_KEY
from safeclass.adapters.media.service import MediaService, start_media
from safeclass.adapters.notify.letters import LetterFolder, letters_folder
from safeclass.adapters.notify.mail import Mailer
from safeclass.adapters.notify.webhook import WebhookNotices, WebhookSender
from safeclass.adapters.server_secret import ServerSecret
from safeclass.adapters.store import EventLog, connect
from safeclass.adapters.store.db import upgrade
from safeclass.adapters.store.event_log import CHAIN_KEY
from safeclass.adapters.store.group_commit import GroupCommitLog
from safeclass.adapters.store.leases import RoomLeases
from safeclass.app.alerts import OutboxAlerts
from safeclass.app.checkpoints import CHECKPOINT_KEY
from safeclass.app.clock import Clock, SystemClock
from safeclass.app.concerns import CONCERN_KEY
from safeclass.app.consent_watch import ConsentWatch
from safeclass.app.delivery import (
    EMAIL,
    PARENTS_HOOK,
    STAFF_HOOK,
    WEBHOOK,
    LetterChannel,
    NoticeChannels,
    NoticeSender,
)
from safeclass.app.housekeeping import Housekeeping
from safeclass.app.live.membership import Membership
from safeclass.app.live.registry import Rooms
from safeclass.app.outbox import Outbox
from safeclass.app.revocations import CloseDevice, RevocationWatch
from safeclass.observability import Metrics
from safeclass.settings import Settings
from safeclass.web.room_socket import CLOSE_POLICY, CLOSE_SIGNED_OUT, LINK_STOPPED, Audiences

log = logging.getLogger(__name__)


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
    channels: tuple[LetterChannel, ...] = ()  # email and/or webhook, else letters: for links
    outbox: Outbox | None = field(default=None)  # delivers notifications by email and/or webhook
    housekeeping: Housekeeping | None = field(default=None)
    media: MediaService | None = field(default=None)
    concern_key: bytes = b""  # chains each concern's record (app/concerns.py)
    membership: Membership | None = field(default=None)  # in a cluster: heartbeat, orphans

    @property
    def delivers(self) -> frozenset[str]:
        """The channels notifications go out by here ("email", "webhook"); none: they wait."""
        return self.outbox.channels if self.outbox is not None else frozenset()


async def build(settings: Settings, clock: Clock | None = None) -> Services:
    secret = ServerSecret.load_or_create(settings.secret_path)
    chain_key = secret.derive(CHAIN_KEY)
    upgrade(settings.database_url, chain_key=chain_key)
    engine = connect(settings.database_url)
    clock = clock or SystemClock()
    event_log = GroupCommitLog(engine, chain_key)
    metrics = Metrics()
    audiences = Audiences(clock)
    mailer = Mailer.from_settings(settings)
    webhook = WebhookSender.from_settings(settings)
    channels: tuple[LetterChannel, ...] = tuple(c for c in (mailer, webhook) if c is not None)
    if not channels:  # no email, no messaging platform: each family's link as a letter to print
        letters = letters_folder(settings.data_dir)
        channels = (LetterFolder(letters),)
        log.warning(
            "no email or webhook set up: invitation links are written as letters in %s "
            "(safeclass session links SESSION lists them)",
            letters,
        )
    outbox = None
    hooks = WebhookNotices.from_settings(settings)
    senders: dict[str, NoticeSender] = {}
    if mailer is not None:
        senders[EMAIL] = mailer
    if hooks is not None:
        senders[WEBHOOK] = hooks
    if senders:
        retry = dt.timedelta(seconds=settings.outbox_retry_seconds)
        outbox = Outbox(engine, senders, clock, every=settings.outbox_every_seconds, backoff=retry)
    # a committed alert wakes the outbox; without one it waits in the table, with a warning
    alerts = OutboxAlerts(
        engine,
        outbox.wake if outbox is not None else None,
        public_url=settings.public_url,
        channels=NoticeChannels(
            email=mailer is not None,
            parents_hook=hooks is not None and hooks.reaches(PARENTS_HOOK),
            staff_hook=hooks is not None and hooks.reaches(STAFF_HOOK),
        ),
        concern_key=secret.derive(CONCERN_KEY),
    )
    media = await _start_media(settings, secret.derive(ROOM_KEY))
    leases = (
        RoomLeases(engine, settings.worker_id, settings.peer_url, settings.lease_seconds)
        if settings.worker_id is not None
        else None
    )
    rooms = Rooms(
        engine=engine,
        event_log=event_log,
        clock=clock,
        audience_for=audiences.for_session,
        alerts=alerts,
        metrics=metrics,
        media=media.media,
        media_off_reason=media.off_reason,
        media_stall_seconds=settings.media_stall_seconds,
        leases=leases,
        adopt_grace=settings.reload_grace_seconds,
    )
    membership = Membership(leases, rooms) if leases is not None else None
    if membership is not None:
        await membership.join()  # alive before taking any room
    media.listen(rooms)
    if outbox is not None:
        outbox.start()
    revocations = RevocationWatch(
        engine,
        _closer(audiences),
        since=dt.datetime.now(dt.UTC),  # the CLI's clock is real
    )
    housekeeping = Housekeeping(
        engine,
        rooms,
        clock,
        settings.retention_every_hours,
        revocations=revocations,
        revocations_every_s=settings.revocations_every_seconds,
        event_log=event_log,
        checkpoint_key=secret.derive(CHECKPOINT_KEY),
        checkpoint_every_hours=settings.checkpoint_every_hours,
        consents=ConsentWatch(engine, rooms.running),
        data_dir=settings.data_dir,
    )
    await housekeeping.restore_live_rooms()
    housekeeping.start()
    if membership is not None:
        membership.start()
    return Services(
        settings,
        engine,
        event_log,
        clock,
        metrics,
        audiences,
        alerts,
        rooms,
        channels,
        outbox,
        housekeeping,
        media,
        secret.derive(CONCERN_KEY),
        membership,
    )


def _closer(audiences: Audiences) -> CloseDevice:
    """Close the sockets of a login or pupil pass ended by another process."""

    async def close(device: str, is_staff: bool) -> None:
        if is_staff:
            await audiences.disconnect_device(device, CLOSE_SIGNED_OUT, "Signed out")
        else:
            await audiences.disconnect_device(device, CLOSE_POLICY, LINK_STOPPED)

    return close


async def _start_media(settings: Settings, room_key: bytes) -> MediaService:
    options = JanusOptions(
        rtp_ports=settings.janus_rtp_ports,
        interface=settings.janus_interface,
        ice_enforce_list=settings.janus_ice_enforce_list,
        ignore_mdns=settings.janus_ignore_mdns,
        nat_1_1_mapping=settings.janus_public_ip,
        binary=settings.janus_binary,
    )
    return await start_media(
        wanted=settings.media,
        folder=settings.data_dir / "janus",
        options=options,
        urls=settings.janus_urls,
        api_secret=settings.janus_api_secret,
        admin_key=settings.janus_admin_key,
        request_timeout=settings.janus_request_timeout,
        recordings=(
            settings.janus_recordings_dir
            if settings.janus_urls
            else settings.data_dir / "recordings"
        ),
        room_key=room_key,  # every worker of a cluster derives the same (one secret file)
    )


async def close(services: Services) -> None:
    if services.membership is not None:
        await services.membership.stop()
    if services.housekeeping is not None:
        await services.housekeeping.stop()
    await services.rooms.close()
    if services.membership is not None:
        await services.membership.leave()
    if services.media is not None:
        await services.media.close()
    if services.outbox is not None:
        await services.outbox.stop()
    await services.engine.dispose()
