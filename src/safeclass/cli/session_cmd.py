"""`safeclass session list | links`: a session's invitation links for staff with no email set up.

A server with no email and no webhook writes each family's link as a letter (adapters/notify/
letters.py). `session links SESSION` shows each pupil's link state and where their letter is,
never a link (the records keep only hashes; the letter is the link's one copy). `--new` makes
fresh links, writes them as letters and prints them: the old link of each of those pupils stops
at once, on every device it opened (a running server closes their sockets within seconds).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from safeclass.adapters.auth.tokens import hash_token
from safeclass.adapters.notify.letters import (
    LetterFolder,
    address_in,
    letter_path,
    letters_folder,
    token_in,
)
from safeclass.adapters.store import connect
from safeclass.adapters.store.invitations import StoreInvitations
from safeclass.adapters.store.session_links import StoreLinkRecords
from safeclass.adapters.store.sessions import SessionNotFoundError
from safeclass.app import invitations
from safeclass.app.session_links import (
    AmbiguousSessionError,
    PupilLink,
    SessionLine,
    SessionLinks,
    find_session,
    list_sessions,
    session_links,
)
from safeclass.cli.options import DatabaseUrlOption, DataDirOption, run
from safeclass.cli.store_access import fail, open_store

session_app = typer.Typer(
    help="Sessions and their invitation links (letters, where email is not set up).",
    no_args_is_help=True,
)
_out = Console(highlight=False, soft_wrap=True)
T = TypeVar("T")
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@session_app.command("list")
def list_command(
    school: Annotated[
        str | None, typer.Option("--school", metavar="KEY", help="Only this school's.")
    ] = None,
    days: Annotated[int, typer.Option("--days", help="Also those of the last DAYS days.")] = 1,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """The sessions from yesterday on, soonest first, with the id `session links` takes."""
    store = open_store(database_url, data_dir, existing=True)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=max(days, 0))
    rows = _records(_list(store.url, since, school))
    if not rows:
        _out.print("No sessions from then on.", markup=False)
        return
    for row in rows:
        start = row.starts_at.astimezone()
        _out.print(
            f"{row.session_id[:8]}  {row.school_key:<12} {start:%a %d %b %H:%M}  "
            f"{row.minutes:>3} min  {row.status:<10} {row.title}",
            markup=False,
        )


@session_app.command("links")
def links_command(
    session: Annotated[
        str, typer.Argument(help="The session's id (its first 8 characters will do).")
    ],
    pupil: Annotated[
        str | None,
        typer.Option("--pupil", help="Only this pupil (shown name, e.g. 'Amelia R.', or id)."),
    ] = None,
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help="Make new links (the old ones stop at once), write them as letters, print them.",
        ),
    ] = False,
    public_url: Annotated[
        str | None,
        typer.Option(
            envvar="SAFECLASS_PUBLIC_URL",
            help="The server's address for new links (default: the one in the session's "
            f"letters, else {DEFAULT_PUBLIC_URL}).",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Each pupil's link and letter; with --new, fresh links for them (the old ones stop)."""
    store = open_store(database_url, data_dir, existing=True)
    folder = letters_folder(store.data_dir)
    found = _records(_links(store.url, session))
    chosen = found.pupils if pupil is None else [_pupil(found.pupils, pupil)]
    _out.print(
        f"{found.title}, {found.when} ({found.status}); session {found.session_id}", markup=False
    )
    if not new:
        _show(found, chosen, folder)
        return
    address = public_url or address_in(folder / found.session_id) or DEFAULT_PUBLIC_URL
    _make_new(store.url, found, chosen, folder, address, one=pupil is not None)


def _show(found: SessionLinks, chosen: list[PupilLink], folder: Path) -> None:
    for p in chosen:
        state, letter = _state(found.session_id, p, folder)
        _out.print(f"  {p.shown_name:<20} {state:<52} {letter}".rstrip(), markup=False)
    _out.print(
        f"Links work until {found.links_expire_at.astimezone():%a %d %b %H:%M}. Each letter holds "
        "its family's link: print it or copy the link to them, and share it with no one else.\n"
        f"A new link (the old one stops): safeclass session links {found.session_id[:8]} "
        "--pupil NAME --new",
        markup=False,
    )


def _state(session_id: str, p: PupilLink, folder: Path) -> tuple[str, str]:
    """What is known of one pupil's link, and their letter's path if it holds that link."""
    if not p.taking_part:
        return "not taking part (consent): no link", ""
    if p.token_hash is None:
        return "no link yet", ""
    if p.stopped_at is not None:
        return "link stopped by staff", ""
    path = letter_path(folder, session_id, p.pupil_id, p.shown_name)
    token = token_in(path)
    if token is not None and hash_token(token) == p.token_hash:
        return f"letter written {_hhmm(p.sent_at)}", str(path)
    if p.sent_at is None:
        return "link made but not sent: make a new one with --new", ""
    return f"link sent {_hhmm(p.sent_at)} by email or webhook (no letter here)", ""


def _make_new(
    url: str,
    found: SessionLinks,
    chosen: list[PupilLink],
    folder: Path,
    address: str,
    *,
    one: bool,
) -> None:
    channel = LetterFolder(folder)
    pupil_id = chosen[0].pupil_id if one else None
    try:
        report = run(_send(url, found, channel, address, pupil_id))
    except invitations.SessionClosedError as exc:
        fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        fail(f"cannot use the database: {type(exc).__name__}: {exc}")
    if any(r.status is invitations.SendStatus.SENT for r in report.results):
        _out.print(
            "New links: each pupil's old link below has stopped, on every device it opened.",
            markup=False,
        )
    for result in report.results:
        if result.status is not invitations.SendStatus.SENT:
            _out.print(f"  {result.shown_name:<20} {result.detail}", markup=False)
            continue
        path = letter_path(folder, found.session_id, result.pupil_id, result.shown_name)
        token = token_in(path)
        link = f"{address.rstrip('/')}/join/{token}" if token else "(letter not readable)"
        _out.print(f"  {result.shown_name:<20} {link}  letter: {path}", markup=False)
    if report.revoked_passes:
        _out.print(
            f"{len(report.revoked_passes)} device(s) opened by the old links were signed out.",
            markup=False,
        )


def _pupil(pupils: list[PupilLink], given: str) -> PupilLink:
    wanted = " ".join(given.split()).casefold()
    matches = [p for p in pupils if wanted in (p.shown_name.casefold(), p.pupil_id.casefold())]
    if not matches:
        fail(f"no pupil '{given}' on this session; leave out --pupil to see them all")
    if len(matches) > 1:
        fail(f"more than one pupil is '{given}': give the pupil's id instead")
    return matches[0]


def _hhmm(when: dt.datetime | None) -> str:
    return f"at {when.astimezone():%a %d %b %H:%M}" if when else ""


def _records(work: Coroutine[Any, Any, T]) -> T:
    """Run a records coroutine; an unknown session or a database failure is a message."""
    try:
        return run(work)
    except SessionNotFoundError as exc:
        fail(f"no session {exc}: `safeclass session list` shows them")
    except AmbiguousSessionError as exc:
        fail(f"more than one session's id starts with {exc}: give more of it")
    except (SQLAlchemyError, OSError) as exc:
        fail(f"cannot use the database: {type(exc).__name__}: {exc}")


async def _list(url: str, since: dt.datetime, school: str | None) -> list[SessionLine]:
    engine = connect(url)
    try:
        return await list_sessions(StoreLinkRecords(engine), since, school)
    finally:
        await engine.dispose()


async def _links(url: str, given: str) -> SessionLinks:
    engine = connect(url)
    try:
        records = StoreLinkRecords(engine)
        return await session_links(records, await find_session(records, given))
    finally:
        await engine.dispose()


async def _send(
    url: str, found: SessionLinks, channel: LetterFolder, address: str, pupil_id: str | None
) -> invitations.SendReport:
    engine = connect(url)
    try:
        return await invitations.send_invitations(
            StoreInvitations(engine),
            school_id=found.school_id,
            session_id=found.session_id,
            channels=[channel],
            public_url=address,
            now=dt.datetime.now(dt.UTC),
            pupil_id=pupil_id,
            resend=True,
        )
    finally:
        await engine.dispose()
