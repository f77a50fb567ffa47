"""What staff with no email set up can learn of a session's links (`safeclass session list |
links`): the sessions, and each expected pupil's link as the records know it.

A link's token is never stored (only its hash), so nothing here can show a link: the letters
folder holds the letters the server wrote, and a fresh link is made by sending again
(`invitations.send_invitations`), which stops the old one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.sessions import SessionNotFoundError, load_session
from safeclass.adapters.store.tables import Invitation, School, Session
from safeclass.app.invitations import link_expiry, takes_part
from safeclass.app.scheduling import when_text


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


async def find_session(engine: AsyncEngine, given: str) -> str:
    """The id of the one session whose id is `given` or starts with it (8 characters do)."""
    given = given.strip().lower()
    if not given:
        raise SessionNotFoundError(given)
    async with engine.connect() as conn:
        ids = list(
            (
                await conn.execute(
                    select(Session.id).where(Session.id.startswith(given, autoescape=True)).limit(2)
                )
            ).scalars()
        )
    if not ids:
        raise SessionNotFoundError(given)
    if len(ids) > 1:
        raise AmbiguousSessionError(given)
    return ids[0]


async def list_sessions(
    engine: AsyncEngine, since: dt.datetime, school_key: str | None = None
) -> list[SessionLine]:
    """Sessions starting from `since` on, soonest first."""
    query = (
        select(
            Session.id,
            School.key,
            Session.title,
            Session.starts_at,
            Session.minutes,
            Session.status,
        )
        .join(School, School.id == Session.school_id)
        .where(Session.starts_at >= since)
        .order_by(Session.starts_at, Session.id)
    )
    if school_key is not None:
        query = query.where(School.key == school_key)
    async with engine.connect() as conn:
        return [SessionLine(*row) for row in (await conn.execute(query)).all()]


async def session_links(engine: AsyncEngine, session_id: str) -> SessionLinks:
    """Each expected pupil of the session, in name order, with the state of their link."""
    stored = await load_session(engine, session_id)
    plan = stored.plan
    async with engine.connect() as conn:
        links = {
            row.pupil_id: row
            for row in (
                await conn.execute(
                    select(
                        Invitation.pupil_id,
                        Invitation.token_hash,
                        Invitation.sent_at,
                        Invitation.revoked_at,
                    ).where(Invitation.session_id == session_id)
                )
            ).all()
        }
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
