"""What leaves safeclass for families and staff, and the ports that carry it (mail, webhooks).

A `Letter` carries one pupil's invitation link to the family. It is made, delivered and
forgotten: the link holds the token, which the database never keeps, so letters are sent at
once and never queued in the outbox (a resend makes a new link instead). A `Notice` is an
ordinary message from the outbox (DSL alerts, parents' notices), which holds no secret; it goes
by each channel the server has (`NoticeChannels`): email, and the school's signed webhook.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Letter:
    """One pupil's invitation to one session, for that pupil's parents or carers."""

    school_key: str
    school_name: str
    session_id: str
    session_title: str
    session_kind: str
    starts_at: dt.datetime
    minutes: int
    when: str  # "Tuesday 24 November, 10:00–10:30", in the school's time zone
    pupil_id: str
    pupil_mis_id: str | None
    shown_name: str
    recipients: tuple[str, ...]  # the guardians' email addresses
    expires_at: dt.datetime
    parent_expectations: tuple[str, ...] = ()
    pupil_expectations: tuple[str, ...] = ()
    link: str = field(default="", repr=False)  # the only place the token ever appears
    report_link: str = field(default="", repr=False)  # the same link's "tell the school" page


class LetterChannel(Protocol):
    """A way to get a letter to a family: email, or the school's messaging platform."""

    @property
    def name(self) -> str: ...

    def reaches(self, letter: Letter) -> bool:
        """Whether this channel has somewhere to send this letter (e.g. a parent's email)."""

    async def deliver(self, letter: Letter) -> None:
        """Send it, or raise."""


@dataclass(frozen=True, slots=True)
class Notice:
    recipient: str  # an email address; for the webhook, whose hook: "parents" or "staff"
    subject: str
    body: str  # plain text, the HTML part made from it; for the webhook the JSON to sign
    key: str = ""  # the same on every try (the outbox row's), so a resend is recognisably one


EMAIL = "email"
WEBHOOK = "webhook"
PARENTS_HOOK = "parents"  # the school's messaging platform: it routes a notice to the family
STAFF_HOOK = "staff"  # the staff alerts webhook, or the school's when it has no separate one


@dataclass(frozen=True, slots=True)
class NoticeChannels:
    """The ways out this server has, so writers queue a row for each (and only each) of them.

    With none at all, notices are still queued by email, to wait (and be shown as waiting) until
    one is set up: nothing is dropped because a server was set up without mail."""

    email: bool = True
    parents_hook: bool = False  # the school's webhook (SAFECLASS_WEBHOOK_URL)
    staff_hook: bool = False  # a webhook for staff alerts: the staff one, else the school's

    @property
    def any(self) -> bool:
        return self.email or self.parents_hook or self.staff_hook

    @property
    def names(self) -> frozenset[str]:
        webhook = self.parents_hook or self.staff_hook
        return frozenset(n for n, on in ((EMAIL, self.email), (WEBHOOK, webhook)) if on)


class NoticeSender(Protocol):
    async def send_notice(self, notice: Notice) -> None:
        """Send it, or raise (the outbox retries)."""
