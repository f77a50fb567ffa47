"""A parent withdraws consent through their child's link (C17, C23; issue 11, point 6).

Until now a family who wanted their child out of live lessons could only ask, and the office
had to record it. Through the link the withdrawal takes effect at once, in one transaction:

- the pupil's consent becomes "refused", from "parent, by link", at this time
  (`pupil_records.set_consent`, which also appends it to the pupil's consent history: the
  history is never overwritten, so when it was given, withdrawn and given again stays known);
- the lesson's "Told by families" gets a line (a `parent_reports` row, reason
  `withdrew_consent`), so the staff see it on the lesson's page before it starts;
- the lesson's staff (or the head and the office when it has none) are emailed through the
  outbox, like every family report, with no note and nothing about the child but their name.

The room follows: a link opened afterwards gives no pass, the waiting room refuses the pupil,
and a live room takes them out at once (`ConsentWatch`, which the route runs straight away
rather than waiting for its next look; the room's log gets `ConsentChanged` with this source
and `PupilWithdrawn`).

A withdrawal is idempotent: while the consent stays refused, withdrawing again changes nothing,
keeps nothing and emails nobody. Only the school gives consent again (the office's records),
so a family cannot make the staff's inboxes fill by withdrawing over and over.

The link and the pupil's consent are read and written through `FamilyConsentRecords` (the
link's records, `invitations.InvitationRecords`, and the consent's; on the database:
`safeclass.adapters.store.family_consent`, `Services.family_consent`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.app.alerts import notification_row
from safeclass.app.invitations import (
    REPORTABLE,
    InvitationRecord,
    InvitationRecords,
    OpenedLink,
    ReportReason,
    check_link,
    staff_to_tell,
)
from safeclass.app.school_records import ConsentState
from safeclass.core import Consent
from safeclass.core.commands import PARENT_BY_LINK

log = logging.getLogger(__name__)

NOTICE_KIND = "parent_withdrawal"  # the outbox's kind for the staff's email


class FamilyConsentRecords(InvitationRecords, Protocol):
    """A family's link (`InvitationRecords`) and their child's consent, as the records hold
    them."""

    async def consent_of(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> ConsentState | None:
        """The pupil's consent on record, if any."""

    async def set_consent(
        self,
        conn: AsyncConnection,
        school_id: str,
        pupil_id: str,
        basis: Consent,
        *,
        source: str,
        now: dt.datetime,
        session_id: str | None,
    ) -> None:
        """Record the pupil's consent from `now`, and append it to their consent history (the
        lesson whose link made it: `session_id`)."""

    async def consents_from(
        self, school_id: str, pupil_ids: Sequence[str], basis: Consent, source: str
    ) -> dict[str, dt.datetime]:
        """Of these pupils, those whose consent on record is `basis` from `source`, and when it
        was recorded."""


class Withdrawal(StrEnum):
    """What became of a parent's withdrawal, so the page can say so."""

    DONE = "done"  # consent withdrawn now; the staff are told
    ALREADY = "already"  # the records already say no: nothing changed, nobody emailed again


async def withdraw_by_link(
    records: FamilyConsentRecords, token: str, now: dt.datetime, *, public_url: str = ""
) -> tuple[OpenedLink, Withdrawal | None]:
    """Withdraw the consent of the link's pupil; None when the link cannot do it now (the
    OpenedLink says why: unknown, stopped, or its lesson is over or cancelled)."""
    found, inv = await check_link(records, token, now)
    if found.state not in REPORTABLE or inv is None:
        return found, None
    async with records.begin() as conn:
        # one withdrawal (or report) of a link at a time: a double click is one withdrawal
        await records.lock_link(conn, inv.id)
        stored = await records.consent_of(conn, inv.school_id, inv.pupil_id)
        if stored is not None and stored.basis is Consent.REFUSED:
            return found, Withdrawal.ALREADY
        await records.set_consent(
            conn,
            inv.school_id,
            inv.pupil_id,
            Consent.REFUSED,
            source=PARENT_BY_LINK,
            now=now,
            session_id=inv.session_id,
        )
        await records.keep_report(
            conn, inv, ReportReason.WITHDREW_CONSENT, "", emailed=True, now=now
        )
        await _email_staff(records, conn, inv, found, now, public_url)
    log.info("consent withdrawn through a family link", extra={"session": inv.session_id})
    return found, Withdrawal.DONE


async def _email_staff(
    links: InvitationRecords,
    conn: AsyncConnection,
    inv: InvitationRecord,
    found: OpenedLink,
    now: dt.datetime,
    public_url: str,
) -> None:
    """Queue the staff's email: who, which lesson, what it means, and where to read more."""
    recipients = await staff_to_tell(links, conn, inv.school_id, inv.session_id)
    if not recipients:
        log.warning("a parent's withdrawal has nobody to email", extra={"school": inv.school_id})
        return
    name = found.shown_name
    subject = f"[safeclass] {name}'s parent has withdrawn consent for live lessons"
    body = "\n".join(
        (
            f"A parent or carer of {name} withdrew consent for live lessons through their "
            f"child's invitation link for {found.title} ({found.when}).",
            f"{name} cannot join this or any live lesson until the school records consent "
            "again; if they were in a lesson, they have been taken out of it.",
            "Only the school can give consent again, after hearing from the family.",
            f"The lesson's page: {public_url.rstrip('/')}/staff/sessions/{inv.session_id}",
        )
    )
    await links.queue(
        conn,
        [
            notification_row(inv.school_id, inv.session_id, NOTICE_KIND, to, subject, body, now)
            for to in recipients
        ],
    )


async def withdrawn_by_link(
    records: FamilyConsentRecords, school_id: str, pupil_ids: Sequence[str]
) -> dict[str, dt.datetime]:
    """Of these pupils, those whose consent is withdrawn now by a parent through a link, and
    when: what the staff's class lists say beside the pupil."""
    if not pupil_ids:
        return {}
    return await records.consents_from(school_id, pupil_ids, Consent.REFUSED, PARENT_BY_LINK)
