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

A worker of a cluster (`settings.clustered`) gets, instead of what serves one process: sign-in
and family-lookup limits counted in PostgreSQL and shared by every worker
(store/shared_limits.py); the cluster bus on LISTEN/NOTIFY (store/pg_bus.py), over which a
consent withdrawn, a login or link ended, or an alert written on one worker reaches the others
at once; and the cluster's lead (store/pg_lead.py), so retention and checkpoints run on one
worker only (app/run_once.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.auth.identities import StoreIdentities
from safeclass.adapters.auth.limits import LoginLimiter, LoginLimits, LookupLimiter, LookupLimits
from safeclass.adapters.media.janus_process import JanusOptions
from safeclass.adapters.media.janus_rooms import ROOM_KEY
from safeclass.adapters.media.service import MediaService, start_media
from safeclass.adapters.notify.letters import LetterFolder, letters_folder
from safeclass.adapters.notify.mail import Mailer
from safeclass.adapters.notify.webhook import WebhookNotices, WebhookSender
from safeclass.adapters.server_secret import ServerSecret
from safeclass.adapters.store import EventLog, connect
from safeclass.adapters.store.alerts import StoreAlerts
from safeclass.adapters.store.attendance import StoreAttendance
from safeclass.adapters.store.checkpoints import StoreCheckpoints
from safeclass.adapters.store.compliance_results import StoreComplianceResults
from safeclass.adapters.store.concerns import StoreConcerns
from safeclass.adapters.store.db import upgrade
from safeclass.adapters.store.deliveries import StoreDeliveries
from safeclass.adapters.store.erasure import StoreErasure
from safeclass.adapters.store.event_log import CHAIN_KEY
from safeclass.adapters.store.family_consent import StoreFamilyConsent
from safeclass.adapters.store.family_reports import StoreFamilyReports
from safeclass.adapters.store.group_commit import GroupCommitLog
from safeclass.adapters.store.invitations import StoreInvitations
from safeclass.adapters.store.leases import RoomLeases
from safeclass.adapters.store.notifications import StoreOutbox
from safeclass.adapters.store.pg_bus import PgBus
from safeclass.adapters.store.pg_lead import PgLead
from safeclass.adapters.store.pupil_files import StorePupilFiles
from safeclass.adapters.store.recordings import StoreRecordings
from safeclass.adapters.store.records import StoreRecords
from safeclass.adapters.store.resources import StoreResources
from safeclass.adapters.store.retention import StoreRetention
from safeclass.adapters.store.shared_limits import (
    LIMIT_KEY,
    SharedLoginLimiter,
    SharedLookupLimiter,
)
from safeclass.adapters.store.timetable import StoreTimetable
from safeclass.app.after_end import AfterEnd
from safeclass.app.alerts import OutboxAlerts
from safeclass.app.checkpoints import CHECKPOINT_KEY
from safeclass.app.clock import Clock, SystemClock
from safeclass.app.cluster_bus import (
    CONSENT_CHANGED,
    DEVICE_ENDED,
    OUTBOX_DUE,
    ClusterBus,
    LocalBus,
)
from safeclass.app.concerns import CONCERN_KEY, ConcernRows
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
from safeclass.app.erasure import ErasureRecords
from safeclass.app.family_consent import FamilyConsentRecords
from safeclass.app.family_reports import FamilyReportRows
from safeclass.app.housekeeping import Housekeeping
from safeclass.app.identity import Identities
from safeclass.app.invitations import InvitationRecords
from safeclass.app.live.membership import Membership
from safeclass.app.live.ownership import RELAY_KEY
from safeclass.app.live.registry import Rooms
from safeclass.app.outbox import Outbox
from safeclass.app.oversight import AttendanceRows
from safeclass.app.pupil_files import PupilFileRecords
from safeclass.app.recordings import RecordingRows
from safeclass.app.reports.compliance import ComplianceResults
from safeclass.app.resources import ResourceRows
from safeclass.app.revocations import CloseDevice, DeviceSockets, RevocationWatch
from safeclass.app.school_records import SchoolRecords
from safeclass.app.timetable import TimetableRecords
from safeclass.app.undelivered import DeliveryRows
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
    device_sockets: DeviceSockets  # closes a login's or pupil pass's sockets on every worker
    channels: tuple[LetterChannel, ...] = ()  # email and/or webhook, else letters: for links
    outbox: Outbox | None = field(default=None)  # delivers notifications by email and/or webhook
    housekeeping: Housekeeping | None = field(default=None)
    media: MediaService | None = field(default=None)
    concern_key: bytes = b""  # chains each concern's record (app/concerns.py)
    membership: Membership | None = field(default=None)  # in a cluster: heartbeat, orphans
    # proves a relayed room socket comes from another worker (web/peers.py); none: trust none
    relay_key: bytes = b""
    # sign-in and family-lookup limits: this process's, or shared by a cluster's workers
    login_limits: LoginLimits = field(default_factory=LoginLimiter)
    lookup_limits: LookupLimits = field(default_factory=LookupLimiter)
    bus: ClusterBus = field(default_factory=LocalBus)  # tells the other workers, if any
    lead: PgLead | None = field(default=None)  # a cluster's lead (runs the once-only jobs)

    @property
    def delivers(self) -> frozenset[str]:
        """The channels notifications go out by here ("email", "webhook"); none: they wait."""
        return self.outbox.channels if self.outbox is not None else frozenset()

    @functools.cached_property
    def identities(self) -> Identities:
        """Who holds a cookie; signing staff in and out (the identity port, on the database)."""
        return StoreIdentities(self.engine)

    @functools.cached_property
    def records(self) -> SchoolRecords:
        """The school's records as the pages read them (the port, on the database)."""
        return StoreRecords(self.engine)

    @functools.cached_property
    def invitations(self) -> InvitationRecords:
        """Families' links, the passes they open and what families say through them (the
        port, on the database)."""
        return StoreInvitations(self.engine)

    @functools.cached_property
    def family_consent(self) -> FamilyConsentRecords:
        """Families' links and their children's consent (the port, on the database)."""
        return StoreFamilyConsent(self.engine)

    @functools.cached_property
    def timetable(self) -> TimetableRecords:
        """The sessions, their staff, pupils and links, as scheduling reads and writes them
        (the port, on the database)."""
        return StoreTimetable(self.engine)

    @functools.cached_property
    def family_reports(self) -> FamilyReportRows:
        """What families told the school through their links (the port, on the database)."""
        return StoreFamilyReports(self.engine)

    @functools.cached_property
    def compliance_results(self) -> ComplianceResults:
        """The sessions compliance reports are made of and their kept results (the port, on
        the database)."""
        return StoreComplianceResults(self.engine)

    @functools.cached_property
    def attendance(self) -> AttendanceRows:
        """The head's view's rows, kept per ended session (the port, on the database)."""
        return StoreAttendance(self.engine)

    @functools.cached_property
    def pupil_files(self) -> PupilFileRecords:
        """One pupil's records, for subject access and erasure (the port, on the database)."""
        return StorePupilFiles(self.engine)

    @functools.cached_property
    def concerns(self) -> ConcernRows:
        """Safeguarding concerns' records (the port, on the database)."""
        return StoreConcerns(self.engine)

    @functools.cached_property
    def deliveries(self) -> DeliveryRows:
        """The outbox's rows as the pages count and list them (the port, on the database)."""
        return StoreDeliveries(self.engine)

    @functools.cached_property
    def erasure(self) -> ErasureRecords:
        """A pupil's records as erasure counts and erases them (the port, on the database)."""
        return StoreErasure(self.engine)

    @functools.cached_property
    def recordings(self) -> RecordingRows:
        """The record of the sessions' recordings (the port, on the database)."""
        return StoreRecordings(self.engine)

    @functools.cached_property
    def resources(self) -> ResourceRows:
        """The links and files staff add to a lesson, as recorded (the port, on the database)."""
        return StoreResources(self.engine)


async def build(settings: Settings, clock: Clock | None = None) -> Services:
    secret = ServerSecret.load_or_create(settings.secret_path)
    chain_key = secret.derive(CHAIN_KEY)
    upgrade(settings.database_url, secret=secret)
    engine = connect(settings.database_url)
    clock = clock or SystemClock()
    event_log = GroupCommitLog(engine, chain_key)
    metrics = Metrics()
    audiences = Audiences(clock, settings.heartbeat_seconds)
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
        outbox = Outbox(
            StoreOutbox(engine), senders, clock, every=settings.outbox_every_seconds, backoff=retry
        )
    pg_bus = PgBus(engine, settings.worker_id) if settings.worker_id is not None else None
    bus: ClusterBus = pg_bus if pg_bus is not None else LocalBus()
    # A committed alert wakes the outbox, here and on the other workers (any may send it);
    # one process without an outbox: it waits in the table, with a warning.
    alerts = OutboxAlerts(
        StoreAlerts(engine),
        StoreConcerns(engine),
        _waker(outbox, bus) if outbox is not None or settings.clustered else None,
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
        records=StoreRecords(engine),
        recordings=StoreRecordings(engine),
        after_end=AfterEnd(
            engine, event_log, StoreComplianceResults(engine), StoreAttendance(engine)
        ),
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
        StoreIdentities(engine),
        _closer(audiences),
        since=dt.datetime.now(dt.UTC),  # the CLI's clock is real
    )
    device_sockets = DeviceSockets(_closer(audiences), bus, revocations)
    records = StoreRecords(engine)
    consents = ConsentWatch(records, rooms.running)
    login_limits, lookup_limits = _limits(settings, engine, secret)
    lead = None
    if pg_bus is not None and settings.worker_id is not None:
        _listen(pg_bus, device_sockets, consents, outbox)
        await pg_bus.start()
        lead = PgLead(engine, settings.worker_id)
        lead.start()
    housekeeping = Housekeeping(
        StoreRetention(engine),
        records,
        rooms,
        clock,
        settings.retention_every_hours,
        revocations=revocations,
        revocations_every_s=settings.revocations_every_seconds,
        event_log=event_log,
        checkpoint_key=secret.derive(CHECKPOINT_KEY),
        checkpoint_records=StoreCheckpoints(engine),
        checkpoint_every_hours=settings.checkpoint_every_hours,
        consents=consents,
        data_dir=settings.data_dir,
        lead=lead,
    )
    await housekeeping.restore_live_rooms(rooms=membership is None)
    housekeeping.start()
    if membership is not None:
        membership.start()
    return Services(
        settings=settings,
        engine=engine,
        event_log=event_log,
        clock=clock,
        metrics=metrics,
        audiences=audiences,
        alerts=alerts,
        rooms=rooms,
        device_sockets=device_sockets,
        channels=channels,
        outbox=outbox,
        housekeeping=housekeeping,
        media=media,
        concern_key=secret.derive(CONCERN_KEY),
        login_limits=login_limits,
        lookup_limits=lookup_limits,
        bus=bus,
        lead=lead,
        membership=membership,
        relay_key=secret.derive(RELAY_KEY),
    )


def _limits(
    settings: Settings, engine: AsyncEngine, secret: ServerSecret
) -> tuple[LoginLimits, LookupLimits]:
    """Sign-in and family-lookup limits: shared by a cluster's workers, else this process's."""
    if not settings.clustered:
        return LoginLimiter(), LookupLimiter()
    key = secret.derive(LIMIT_KEY)
    return SharedLoginLimiter(engine, key), SharedLookupLimiter(engine, key)


def _waker(outbox: Outbox | None, bus: ClusterBus) -> Callable[[], None]:
    """Wake this worker's outbox, and tell the other workers' (a no-op in one process)."""

    def wake() -> None:
        if outbox is not None:
            outbox.wake()
        bus.publish_soon(OUTBOX_DUE)

    return wake


def _listen(
    bus: PgBus, device_sockets: DeviceSockets, consents: ConsentWatch, outbox: Outbox | None
) -> None:
    """What this worker does with what the other workers tell it."""

    async def consent_changed(_pupil: str) -> None:
        await consents.check()

    bus.subscribe(CONSENT_CHANGED, consent_changed)
    bus.subscribe(DEVICE_ENDED, device_sockets.heard)
    if outbox is not None:

        async def outbox_due(_payload: str) -> None:
            outbox.wake()

        bus.subscribe(OUTBOX_DUE, outbox_due)


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


async def hand_over(services: Services) -> None:
    """A worker of a cluster told to stop gives its rooms up at once, before its sockets are
    closed and however long those take: the other workers take the rooms on at their next
    heartbeat, and the pages reconnect to them (docs/cluster.md)."""
    if services.membership is not None:
        await services.membership.stop()
    await services.rooms.close()
    if services.membership is not None:
        await services.membership.leave()


async def close(services: Services) -> None:
    if services.housekeeping is not None:
        await services.housekeeping.stop()
    if services.lead is not None:
        await services.lead.close()  # another worker leads at once
    await hand_over(services)  # the rooms (done already if the worker was told to stop)
    if services.media is not None:
        await services.media.close()
    if services.outbox is not None:
        await services.outbox.stop()
    if isinstance(services.bus, PgBus):
        await services.bus.close()
    await services.engine.dispose()
