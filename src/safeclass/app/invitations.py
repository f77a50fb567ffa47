"""Invitation links (C2: WER-02, S04-02): one per invited pupil per session, and opening one.

A link is `{public_url}/join/{token}` with 256 random bits; only the token's hash is stored, so
the link exists only in the letter sent to the family. A resend makes a new token and replaces
the hash (the old link, and every device it opened, stops working); a revoke stops it outright.
A link works from an hour before the start until a little after the end. Opening it exchanges
it for a pupil pass on that device (a cookie), so the token leaves the address bar at once; the
pass admits only that pupil, only to that session's waiting room, and the room allows one
device at a time (STJ-11). Pupils whose consent does not allow them to take part (C17) get no
link, and a link opened after consent was withdrawn gives no pass. Opening a link again in a
browser that holds a pass from it reuses that pass, and one link has at most
MAX_PASSES_PER_LINK live passes, so nobody holding a link can mint passes without end.

A parent's report through the link (C23) is kept once per different answer and message, and
only the first REPORTS_EMAILED are emailed, so a report sent a hundred times is one email.

The links, passes and reports are read and written through `InvitationRecords` (on the
database: `safeclass.adapters.store.invitations`, `Services.invitations`); each step that must
stand or fall with others (a send's new links and the passes they stop, a report and its
email) takes the one transaction's connection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.app.alerts import notification_row
from safeclass.app.delivery import Letter, LetterChannel
from safeclass.app.scheduling import when_text
from safeclass.app.school_records import SchoolRecord, StoredSession
from safeclass.app.tokens import hash_token, new_token
from safeclass.app.transactions import Transactions
from safeclass.core import ExpectedPupil, consent_allows
from safeclass.policy import Policy

log = logging.getLogger(__name__)

GRACE = dt.timedelta(minutes=15)  # a link outlives the planned end by this much
OPENS_BEFORE = dt.timedelta(minutes=60)  # and starts working this long before the start
MAX_TOKEN_CHARS = 128
SEND_AT_ONCE = 8
MAX_PASSES_PER_LINK = 6  # devices one link may open: a family's few, and a mail scanner or two
REPORTS_EMAILED = 3  # different reports a link emails to the staff per session; later ones kept
REPORTS_KEPT = 20  # and how many it may keep at all


class SessionClosedError(ValueError):
    """The session is cancelled or over: no links can be sent for it."""


class NoChannelError(RuntimeError):
    """Neither email nor a messaging-platform webhook is set up on this server."""


class NotOnSessionError(LookupError):
    """That pupil is not on this session's list, or has never been sent a link."""


class SendStatus(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    NOT_SENT = "not_sent"
    NOT_TAKING_PART = "not_taking_part"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class SendResult:
    pupil_id: str
    shown_name: str
    status: SendStatus
    detail: str
    channels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SendReport:
    results: list[SendResult]
    revoked_passes: list[str] = field(default_factory=list)  # devices opened by old links


@dataclass(frozen=True, slots=True)
class InvitationRecord:
    """A pupil's link to one session as the records keep it (only its hash, never the link)."""

    id: str
    school_id: str
    session_id: str
    pupil_id: str
    expires_at: dt.datetime
    sent_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class LinkFacts:
    """What opening a link needs, read at once: the link, its school's name, its session and
    the policy that governs it, and the pupil as the session expects them (None once they are
    no longer on it). A family's tap on a link is the busiest page of a school's morning."""

    link: InvitationRecord
    school_name: str
    title: str
    starts_at: dt.datetime
    minutes: int
    status: str  # the session's: scheduled, live, ended, cancelled
    policy: Policy
    pupil: ExpectedPupil | None


@dataclass(frozen=True, slots=True)
class EarlierReport:
    """A report a family made before through a link, as much as the next one is checked by."""

    reason: str
    message: str
    emailed: bool


class InvitationRecords(Transactions, Protocol):
    """The links, the passes they open and what families say through them, as the records hold
    them. Methods that take `conn` run in the caller's transaction (`begin`) or snapshot."""

    async def load_session(self, session_id: str, school_id: str | None = None) -> StoredSession:
        """The session's plan and governing policy; `school_id`, when given, must own it (else
        SessionNotFoundError, as for no such session)."""

    async def school(self, conn: AsyncConnection, school_id: str) -> SchoolRecord:
        """The school (its key and name go on the letters and pages)."""

    async def links_of(self, conn: AsyncConnection, session_id: str) -> dict[str, InvitationRecord]:
        """The session's links, by pupil id."""

    async def guardian_emails(
        self, conn: AsyncConnection, school_id: str, pupil_ids: Sequence[str]
    ) -> list[tuple[str, str]]:
        """(pupil id, address) of every guardian of these pupils with an email address on
        record, in the order they were recorded."""

    async def mis_ids(
        self, conn: AsyncConnection, pupil_ids: Sequence[str]
    ) -> dict[str, str | None]:
        """The MIS id of each of these pupils (None where the school gave none)."""

    async def add_link(
        self,
        conn: AsyncConnection,
        *,
        school_id: str,
        session_id: str,
        pupil_id: str,
        token_hash: str,
        expires_at: dt.datetime,
        now: dt.datetime,
    ) -> None:
        """A pupil's first link to a session."""

    async def renew_link(
        self, conn: AsyncConnection, link_id: str, token_hash: str, expires_at: dt.datetime
    ) -> None:
        """A new token for a link (the old one stops), not revoked and not yet sent."""

    async def mark_sent(self, session_id: str, pupil_ids: Sequence[str], now: dt.datetime) -> None:
        """These pupils' links to the session went out at `now` (a transaction of its own)."""

    async def link_of(
        self, conn: AsyncConnection, school_id: str, session_id: str, pupil_id: str
    ) -> InvitationRecord | None:
        """A pupil's link to one of the school's sessions, if they were ever sent one."""

    async def link_facts(self, conn: AsyncConnection, token_hash: str) -> LinkFacts | None:
        """The link whose token has this hash with all that opening it needs, in one read;
        None if no link has it."""

    async def revoke_link(self, conn: AsyncConnection, link_id: str, now: dt.datetime) -> None:
        """The link stops working from `now`."""

    async def revoke_passes(
        self, conn: AsyncConnection, link_ids: Sequence[str], now: dt.datetime
    ) -> list[str]:
        """Every live pass these links opened stops; the passes' ids."""

    async def lock_link(self, conn: AsyncConnection, link_id: str) -> None:
        """Hold the link until the transaction ends: one opening or report of a link at a time
        (SQLite's writers are serial already)."""

    async def passes_of(
        self, conn: AsyncConnection, link_id: str, pass_hash: str | None, now: dt.datetime
    ) -> tuple[int, bool]:
        """How many passes of the link are not revoked, and whether the pass whose token has
        `pass_hash` is one of them and not expired."""

    async def add_pass(
        self, conn: AsyncConnection, link: InvitationRecord, pass_hash: str, now: dt.datetime
    ) -> None:
        """A pupil pass from this link for one device, lasting as long as the link."""

    async def reports_of(
        self, conn: AsyncConnection, session_id: str, pupil_id: str
    ) -> list[EarlierReport]:
        """What the pupil's family reported about the session before."""

    async def keep_report(
        self,
        conn: AsyncConnection,
        link: InvitationRecord,
        reason: ReportReason,
        message: str,
        *,
        emailed: bool,
        now: dt.datetime,
    ) -> None:
        """Keep what a family said through their link (about its pupil and lesson), and whether
        the lesson's staff are emailed it."""

    async def lesson_staff_emails(self, conn: AsyncConnection, session_id: str) -> list[str]:
        """The addresses of the session's active staff."""

    async def emails_of_roles(
        self, conn: AsyncConnection, school_id: str, roles: Sequence[str]
    ) -> list[str]:
        """The addresses of the school's active staff who hold one of these roles."""

    async def queue(self, conn: AsyncConnection, rows: Sequence[Mapping[str, object]]) -> None:
        """Put these notifications (`alerts.notification_row`) in the outbox."""


def link_for(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/join/{token}"


def session_end(starts_at: dt.datetime, minutes: int, policy: Policy) -> dt.datetime:
    return starts_at + dt.timedelta(minutes=min(minutes, policy.timing.max_minutes))


def link_expiry(starts_at: dt.datetime, minutes: int, policy: Policy) -> dt.datetime:
    return session_end(starts_at, minutes, policy) + GRACE


def takes_part(stored: StoredSession, pupil: ExpectedPupil) -> bool:
    """The room's own consent rule (C17), so a link and the room never disagree."""
    return consent_allows(stored.policy, pupil)


# -- sending -----------------------------------------------------------------------------------


async def send_invitations(
    links: InvitationRecords,
    *,
    school_id: str,
    session_id: str,
    channels: Sequence[LetterChannel],
    public_url: str,
    now: dt.datetime,
    pupil_id: str | None = None,
    resend: bool = False,
) -> SendReport:
    """Send links: to every pupil not yet sent one, to all again (`resend`), or to one pupil.

    Sending to one pupil always makes a new link (it also undoes a revoke). Pupils whose link
    was revoked are skipped by a send to all.
    """
    stored = await links.load_session(session_id, school_id)
    plan = stored.plan
    end = session_end(plan.starts_at, plan.minutes, stored.policy)
    if stored.status in ("cancelled", "ended") or now >= end:
        raise SessionClosedError("This session is over or cancelled, so no links can be sent")
    if not channels:
        raise NoChannelError(
            "No way to send invitations is set up on this server: email (SMTP) or the "
            "messaging-platform webhook"
        )
    if pupil_id is not None and pupil_id not in plan.expected:
        raise NotOnSessionError(pupil_id)
    chosen = [plan.expected[pupil_id]] if pupil_id else list(plan.expected.values())
    async with links.connect() as conn:
        existing = await links.links_of(conn, session_id)
        letters = await _blank_letters(links, conn, stored, [p.pupil_id for p in chosen])

    results: dict[str, SendResult] = {}
    to_send: list[tuple[Letter, list[LetterChannel]]] = []
    for pupil in sorted(chosen, key=lambda p: (p.shown_name, p.pupil_id)):
        pid, name = pupil.pupil_id, pupil.shown_name
        inv = existing.get(pid)
        if not takes_part(stored, pupil):
            results[pid] = SendResult(
                pid, name, SendStatus.NOT_TAKING_PART, "Not taking part in live sessions"
            )
        elif pupil_id is None and inv is not None and inv.revoked_at is not None:
            results[pid] = SendResult(
                pid, name, SendStatus.WITHDRAWN, "Link withdrawn; send to this pupil for a new one"
            )
        elif pupil_id is None and not resend and inv is not None and inv.sent_at is not None:
            results[pid] = SendResult(pid, name, SendStatus.ALREADY_SENT, "Link already sent")
        else:
            letter = letters[pid]
            usable = [c for c in channels if c.reaches(letter)]
            if usable:
                to_send.append((letter, usable))
            else:
                results[pid] = SendResult(
                    pid, name, SendStatus.NOT_SENT, "No parent email address on record"
                )

    tokens = {letter.pupil_id: new_token() for letter, _ in to_send}
    async with links.begin() as conn:
        revoked = await _issue(links, conn, stored, existing, tokens, now)
    limit = asyncio.Semaphore(SEND_AT_ONCE)

    async def deliver(letter: Letter, usable: list[LetterChannel]) -> SendResult:
        link = link_for(public_url, tokens[letter.pupil_id])
        letter = replace(letter, link=link, report_link=f"{link}/absence")
        done: list[str] = []
        async with limit:
            for channel in usable:
                try:
                    await channel.deliver(letter)
                except Exception as exc:  # one channel failing must not stop the others
                    log.warning(
                        "invitation not delivered by %s: %s",
                        channel.name,
                        type(exc).__name__,
                        extra={"session": session_id},
                    )
                else:
                    done.append(channel.name)
        if not done:
            return SendResult(
                letter.pupil_id,
                letter.shown_name,
                SendStatus.NOT_SENT,
                "The message could not be sent; please try again later",
            )
        return SendResult(
            letter.pupil_id, letter.shown_name, SendStatus.SENT, "Link sent", tuple(done)
        )

    delivered = await asyncio.gather(*(deliver(letter, usable) for letter, usable in to_send))
    sent = [r.pupil_id for r in delivered if r.status is SendStatus.SENT]
    if sent:
        await links.mark_sent(session_id, sent, now)
    results.update({r.pupil_id: r for r in delivered})
    order = sorted(chosen, key=lambda p: (p.shown_name, p.pupil_id))
    return SendReport([results[p.pupil_id] for p in order], revoked)


async def _issue(
    links: InvitationRecords,
    conn: AsyncConnection,
    stored: StoredSession,
    existing: dict[str, InvitationRecord],
    tokens: dict[str, str],
    now: dt.datetime,
) -> list[str]:
    """Store the new tokens' hashes (replacing old ones); the passes of replaced links."""
    plan = stored.plan
    expires = link_expiry(plan.starts_at, plan.minutes, stored.policy)
    replaced: list[str] = []
    for pid, token in tokens.items():
        inv = existing.get(pid)
        if inv is None:
            await links.add_link(
                conn,
                school_id=stored.school_id,
                session_id=plan.session_id,
                pupil_id=pid,
                token_hash=hash_token(token),
                expires_at=expires,
                now=now,
            )
            continue
        await links.renew_link(conn, inv.id, hash_token(token), expires)
        replaced.append(inv.id)
    return await links.revoke_passes(conn, replaced, now)


async def _blank_letters(
    links: InvitationRecords, conn: AsyncConnection, stored: StoredSession, pupil_ids: list[str]
) -> dict[str, Letter]:
    """A letter per pupil with everything but the link (which needs the token)."""
    plan, policy = stored.plan, stored.policy
    school = await links.school(conn, stored.school_id)
    emails: dict[str, list[str]] = {}
    for pid, email in await links.guardian_emails(conn, stored.school_id, pupil_ids):
        if email and email not in emails.setdefault(pid, []):
            emails[pid].append(email)
    mis = await links.mis_ids(conn, pupil_ids)
    when = when_text(policy, plan.starts_at, plan.minutes)
    return {
        pid: Letter(
            school_key=school.key,
            school_name=school.name,
            session_id=plan.session_id,
            session_title=plan.title,
            session_kind=plan.kind.value,
            starts_at=plan.starts_at,
            minutes=plan.minutes,
            when=when,
            pupil_id=pid,
            pupil_mis_id=mis.get(pid),
            shown_name=plan.expected[pid].shown_name,
            recipients=tuple(emails.get(pid, ())),
            expires_at=link_expiry(plan.starts_at, plan.minutes, policy),
            parent_expectations=policy.expectations.parent,
            pupil_expectations=policy.expectations.pupil,
        )
        for pid in pupil_ids
    }


# -- revoking ----------------------------------------------------------------------------------


async def revoke_invitation(
    links: InvitationRecords,
    *,
    school_id: str,
    session_id: str,
    pupil_id: str,
    now: dt.datetime,
) -> list[str]:
    """Stop a pupil's link and every device it opened; the ids of those devices' passes."""
    async with links.begin() as conn:
        inv = await links.link_of(conn, school_id, session_id, pupil_id)
        if inv is None:
            raise NotOnSessionError(pupil_id)
        if inv.revoked_at is None:
            await links.revoke_link(conn, inv.id, now)
        return await links.revoke_passes(conn, [inv.id], now)


# -- opening a link ----------------------------------------------------------------------------


class LinkState(StrEnum):
    UNKNOWN = "unknown"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"
    ENDED = "ended"
    EXPIRED = "expired"
    TOO_EARLY = "too_early"
    NOT_TAKING_PART = "not_taking_part"
    FULL = "full"  # open on MAX_PASSES_PER_LINK devices already; this one gets no pass
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class OpenedLink:
    """What opening a link found; for OPEN, the new pass for this device."""

    state: LinkState
    session_id: str = ""
    pupil_id: str = ""
    school_id: str = ""
    school_name: str = ""
    title: str = ""
    when: str = ""  # in English, for the school's emails
    # the same in figures, so a page can say it in its own language
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    timezone: str = ""
    shown_name: str = ""
    pass_token: str = field(default="", repr=False)
    pass_expires_at: dt.datetime | None = None


async def check_link(
    links: InvitationRecords, token: str, now: dt.datetime
) -> tuple[OpenedLink, InvitationRecord | None]:
    """What a link is good for now, without using it."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return OpenedLink(LinkState.UNKNOWN), None
    async with links.connect() as conn:
        facts = await links.link_facts(conn, hash_token(token))
    if facts is None:
        return OpenedLink(LinkState.UNKNOWN), None
    inv, pupil, policy = facts.link, facts.pupil, facts.policy
    ends_at = facts.starts_at + dt.timedelta(minutes=facts.minutes)
    found = OpenedLink(
        LinkState.OPEN,
        session_id=inv.session_id,
        pupil_id=inv.pupil_id,
        school_id=inv.school_id,
        school_name=facts.school_name,
        title=facts.title,
        when=when_text(policy, facts.starts_at, facts.minutes),
        starts_at=facts.starts_at,
        ends_at=ends_at,
        timezone=policy.school.timezone,
        shown_name=pupil.shown_name if pupil else "",
    )
    if facts.status == "cancelled":
        state = LinkState.CANCELLED
    elif facts.status == "ended" or now >= session_end(facts.starts_at, facts.minutes, policy):
        state = LinkState.ENDED
    elif inv.revoked_at is not None or pupil is None:
        state = LinkState.WITHDRAWN
    elif now >= inv.expires_at:
        state = LinkState.EXPIRED
    elif not consent_allows(policy, pupil):
        state = LinkState.NOT_TAKING_PART
    elif now < facts.starts_at - OPENS_BEFORE:
        state = LinkState.TOO_EARLY
    else:
        state = LinkState.OPEN
    return replace(found, state=state), inv


async def open_link(
    links: InvitationRecords,
    token: str,
    now: dt.datetime,
    held_passes: Mapping[str, str] | None = None,
) -> OpenedLink:
    """Use a link on one device: its pass when the link is good now.

    `held_passes` are the pupil passes this browser holds, by session id (its cookies): one
    that is a live pass of this very link is the answer, and no new pass is made. Otherwise a
    new pass, unless the link already has MAX_PASSES_PER_LINK live ones (state FULL).
    """
    found, inv = await check_link(links, token, now)
    if found.state is not LinkState.OPEN or inv is None:
        return found
    held_pass = (held_passes or {}).get(inv.session_id)
    async with links.begin() as conn:
        # One opening of a link at a time, so that twenty devices opening it at once cannot
        # all slip under the cap.
        await links.lock_link(conn, inv.id)
        held_hash = (
            hash_token(held_pass) if held_pass and len(held_pass) <= MAX_TOKEN_CHARS else None
        )
        live, held = await links.passes_of(conn, inv.id, held_hash, now)
        if held and held_pass:
            return replace(found, pass_token=held_pass, pass_expires_at=inv.expires_at)
        if live >= MAX_PASSES_PER_LINK:
            return replace(found, state=LinkState.FULL)
        pass_token = new_token()
        await links.add_pass(conn, inv, hash_token(pass_token), now)
    return replace(found, pass_token=pass_token, pass_expires_at=inv.expires_at)


# -- parents telling the school (C23, CRO-16) ---------------------------------------------------


class ReportReason(StrEnum):
    ABSENT = "absent"
    NOT_TAKING_PART = "not_taking_part"  # no longer offered: a family withdraws consent instead
    CANNOT_GET_IN = "cannot_get_in"
    WITHDREW_CONSENT = "withdrew_consent"  # kept by app/family_consent.py, never by the form


# What the report form offers (a family who wants their child out of live lessons withdraws
# consent, which takes effect, rather than asking for it).
FORM_REASONS = (ReportReason.ABSENT, ReportReason.CANNOT_GET_IN)


REPORT_WORDS = {
    ReportReason.ABSENT: "will not be at the session (absent or unwell)",
    ReportReason.NOT_TAKING_PART: "should not take part in live sessions",
    ReportReason.CANNOT_GET_IN: "cannot get into the session",
    ReportReason.WITHDREW_CONSENT: "is withdrawn from live lessons by their parent",
}
REPORTABLE = frozenset(
    {LinkState.OPEN, LinkState.TOO_EARLY, LinkState.NOT_TAKING_PART, LinkState.EXPIRED}
)


class Reported(StrEnum):
    """What became of a parent's report, so the page can say so."""

    EMAILED = "emailed"  # the staff were told
    REPEATED = "repeated"  # the same report was made before: not kept or sent again
    KEPT = "kept"  # kept, but not emailed: the staff have had REPORTS_EMAILED already
    NOT_KEPT = "not_kept"  # REPORTS_KEPT already: please phone the school


async def report_to_school(
    links: InvitationRecords,
    token: str,
    now: dt.datetime,
    reason: ReportReason,
    message: str,
    *,
    public_url: str = "",
) -> tuple[OpenedLink, Reported | None]:
    """A parent's report through their link, queued to the session's staff (or the head).

    Each different report (answer and message) is kept once per pupil and session; the first
    REPORTS_EMAILED of them are emailed, so a parent pressing "send" again and again (or
    anyone holding the link) cannot flood the staff's inboxes. None when the link cannot
    report now (the OpenedLink says why).
    """
    found, inv = await check_link(links, token, now)
    if found.state not in REPORTABLE or inv is None:
        return found, None
    text = " ".join(message.split())[:1000]
    async with links.begin() as conn:
        # one report of a link at a time, so that the counts below hold
        await links.lock_link(conn, inv.id)
        earlier = await links.reports_of(conn, inv.session_id, inv.pupil_id)
        if any(r.reason == reason.value and r.message == text for r in earlier):
            return found, Reported.REPEATED
        if len(earlier) >= REPORTS_KEPT:
            return found, Reported.NOT_KEPT
        emailing = sum(r.emailed for r in earlier) < REPORTS_EMAILED
        await links.keep_report(conn, inv, reason, text, emailed=emailing, now=now)
        if not emailing:
            return found, Reported.KEPT
        await _email_staff(links, conn, inv, found, reason, bool(text), now, public_url)
    return found, Reported.EMAILED


async def _email_staff(
    links: InvitationRecords,
    conn: AsyncConnection,
    inv: InvitationRecord,
    found: OpenedLink,
    reason: ReportReason,
    has_note: bool,
    now: dt.datetime,
    public_url: str,
) -> None:
    """Queue a notice of the report to the session's staff (or the head and admins when it has
    none). The family's note is not in it (an inbox is not where a child's health belongs): it
    is on the lesson's page, which the notice links to."""
    recipients = await staff_to_tell(links, conn, inv.school_id, inv.session_id)
    subject = f"[safeclass] {found.shown_name} {REPORT_WORDS[reason]}: {found.title}"
    body = "\n".join(
        line
        for line in (
            f"A parent or carer of {found.shown_name} says their child {REPORT_WORDS[reason]}.",
            f"Session: {found.title} ({found.when}).",
            "They left a note: read it on the lesson's page." if has_note else "They left no note.",
            f"The lesson's page: {public_url.rstrip('/')}/staff/sessions/{inv.session_id}",
            "They sent this through their child's invitation link (CRO-16).",
        )
    )
    if not recipients:
        log.warning("a parent's report has nobody to go to", extra={"school": inv.school_id})
        return
    await links.queue(
        conn,
        [
            notification_row(
                inv.school_id, inv.session_id, "parent_report", email, subject, body, now
            )
            for email in dict.fromkeys(recipients)
        ],
    )


async def staff_to_tell(
    links: InvitationRecords, conn: AsyncConnection, school_id: str, session_id: str
) -> list[str]:
    """The addresses a family's word about a lesson goes to: its active staff, or the head and
    the office when it has none; each once."""
    recipients = await links.lesson_staff_emails(conn, session_id)
    if not recipients:
        recipients = await links.emails_of_roles(conn, school_id, ("head", "admin"))
    return list(dict.fromkeys(recipients))
