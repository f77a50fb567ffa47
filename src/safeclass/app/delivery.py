"""What leaves safeclass for families and staff, and the ports that carry it (mail, webhooks).

A `Letter` carries one pupil's invitation link to the family. It is made, delivered and
forgotten: the link holds the token, which the database never keeps, so letters are sent at
once and never queued in the outbox (a resend makes a new link instead). A `Notice` is an
ordinary message from the outbox (DSL alerts, parents' notices), which holds no secret.
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
    recipient: str
    subject: str
    body: str  # plain text; the HTML part is made from it
    key: str = ""  # the same on every try (the outbox row's), so a resend is recognisably one


class NoticeSender(Protocol):
    async def send_notice(self, notice: Notice) -> None:
        """Send it, or raise (the outbox retries)."""
