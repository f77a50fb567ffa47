"""What staff with no email set up can learn of a session's links (`safeclass session list |
links`): the sessions, and each expected pupil's link as the records know it.

A link's token is never stored (only its hash), so nothing here can show a link: the letters
folder holds the letters the server wrote, and a fresh link is made by sending again
(`invitations.send_invitations`), which stops the old one. The records are read through
`LinkRecords` (on the database: `safeclass.adapters.store.session_links`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from safeclass.app.invitations import link_expiry, takes_part
from safeclass.app.scheduling import when_text
from safeclass.app.school_records import SessionNotFoundError, StoredSession


class AmbiguousSessionError(LookupError):
    """More than one session's id starts with what was given."""


@dataclass(frozen=True, slots=True)
class SessionLine:
    session_id: str
    school_key: str
    title: str
    starts_at: dt.datetime
    minutes: int
    status: str


@dataclass(frozen=True, slots=True)
class PupilLink:
    """One expected pupil's link, as the records know it (never the link itself)."""

    pupil_id: str
    shown_name: str
    taking_part: bool  # consent allows it (C17); those who do not get no link
    token_hash: str | None = None  # of the newest link; None: never sent one
    sent_at: dt.datetime | None = None  # when it last reached a channel
    stopped_at: dt.datetime | None = None  # withdrawn by staff


@dataclass(frozen=True, slots=True)
class SessionLinks:
    session_id: str
    school_id: str
    title: str
    when: str  # in the school's time zone
    status: str
    links_expire_at: dt.datetime
    pupils: list[PupilLink]


@dataclass(frozen=True, slots=True)
class LinkRow:
    """What the records keep of a pupil's newest link."""

    token_hash: str
    sent_at: dt.datetime | None
    revoked_at: dt.datetime | None


class LinkRecords(Protocol):
    """The sessions of every school and their links, as the records hold them."""

    async def load_session(self, session_id: str) -> StoredSession:
        """The session's plan and governing policy (else SessionNotFoundError)."""

    async def ids_starting(self, given: str, limit: int) -> list[str]:
        """Up to `limit` ids of sessions that start with `given` (taken literally)."""

    async def sessions_from(self, since: dt.datetime, school_key: str | None) -> list[SessionLine]:
        """Sessions starting from `since` on (of one school, when given), soonest first."""

    async def links_of(self, session_id: str) -> dict[str, LinkRow]:
        """The newest link of each pupil of the session that has one, by pupil id."""


async def find_session(records: LinkRecords, given: str) -> str:
    """The id of the one session whose id is `given` or starts with it (8 characters do)."""
    given = given.strip().lower()
    if not given:
        raise SessionNotFoundError(given)
    ids = await records.ids_starting(given, 2)
    if not ids:
        raise SessionNotFoundError(given)
    if len(ids) > 1:
        raise AmbiguousSessionError(given)
    return ids[0]


async def list_sessions(
    records: LinkRecords, since: dt.datetime, school_key: str | None = None
) -> list[SessionLine]:
    """Sessions starting from `since` on, soonest first."""
    return await records.sessions_from(since, school_key)


async def session_links(records: LinkRecords, session_id: str) -> SessionLinks:
    """Each expected pupil of the session, in name order, with the state of their link."""
    stored = await records.load_session(session_id)
    plan = stored.plan
    links = await records.links_of(session_id)
    pupils = []
    for pupil in sorted(plan.expected.values(), key=lambda p: (p.shown_name, p.pupil_id)):
        found = links.get(pupil.pupil_id)
        pupils.append(
            PupilLink(
                pupil.pupil_id,
                pupil.shown_name,
                takes_part(stored, pupil),
                found.token_hash if found else None,
                found.sent_at if found else None,
                found.revoked_at if found else None,
            )
        )
    return SessionLinks(
        session_id,
        stored.school_id,
        plan.title,
        when_text(stored.policy, plan.starts_at, plan.minutes),
        stored.status,
        link_expiry(plan.starts_at, plan.minutes, stored.policy),
        pupils,
    )
