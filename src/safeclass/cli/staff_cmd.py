"""`safeclass staff add | list | disable | password`: staff accounts of a school (C21).

A password is never an argument (it would sit in the shell's history and in `ps`): it is asked
for twice with hidden input at a terminal, or read as one line from standard input with
`--password-stdin` (for scripts: `printf '%s\\n' "$PW" | safeclass staff add … --password-stdin`).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from safeclass.adapters.auth import accounts
from safeclass.adapters.auth.passwords import WeakPasswordError, check_password, hash_password
from safeclass.adapters.store import connect
from safeclass.adapters.store.school_records import (
    RecordsError,
    StaffRecord,
    StaffRole,
    add_staff,
    require_school,
)
from safeclass.cli.options import DatabaseUrlOption, DataDirOption, run
from safeclass.cli.store_access import fail, open_database

T = TypeVar("T")

staff_app = typer.Typer(
    help="Staff accounts: add, list, disable, set a new password.", no_args_is_help=True
)

SchoolOption = Annotated[
    str, typer.Option("--school", metavar="KEY", help="The school's key.", show_default=False)
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password as one line from standard input."),
]
ROLES = ", ".join(r.value for r in StaffRole)


@staff_app.command("add")
def add_command(
    school: SchoolOption,
    name: Annotated[str, typer.Option("--name", help="Full name, as colleagues know them.")],
    email: Annotated[str, typer.Option("--email", help="Their sign-in email.")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {ROLES}.")],
    password_stdin: PasswordStdinOption = False,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Add a member of staff with a role and a password (asked for, never an argument)."""
    if role.strip().casefold() not in {r.value for r in StaffRole}:
        fail(f"'{role}' is not a role: use one of {ROLES}")
    password_hash = hash_password(_new_password(password_stdin))
    url = open_database(database_url, data_dir, existing=True)
    staff = _records(_add(url, school, name, email, role.strip().casefold(), password_hash))
    typer.echo(f"Added {staff.name} <{staff.email}> as {staff.role.value} at '{school}'.")


@staff_app.command("list")
def list_command(
    school: SchoolOption,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """List the school's staff: role, whether they can sign in, and browsers signed in now."""
    url = open_database(database_url, data_dir, existing=True)
    rows = _records(_list(url, school))
    if not rows:
        typer.echo(
            f"No staff at '{school}' yet. Add one with: safeclass staff add --school {school}"
        )
        return
    table = Table(title=f"Staff of {school}")
    for heading in ("Name", "Email", "Role", "Account", "Signed in"):
        table.add_column(heading, overflow="fold")
    for account in rows:
        staff = account.staff
        state = "active" if staff.active else "disabled"
        if staff.active and not account.has_password:
            state = "no password"
        cells = (staff.name, staff.email, staff.role.value, state, str(account.live_logins))
        table.add_row(*(Text(cell) for cell in cells))
    Console(highlight=False).print(table)


@staff_app.command("disable")
def disable_command(
    email: Annotated[str, typer.Argument(help="The member of staff's sign-in email.")],
    school: SchoolOption,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Disable an account: it cannot sign in any more, and its logins end now."""
    url = open_database(database_url, data_dir, existing=True)
    staff, revoked = _records(_disable(url, school, email))
    typer.echo(
        f"Disabled {staff.name} <{staff.email}>; signed out of {len(revoked)} browser(s). "
        "A running server closes their live-room windows within seconds."
    )


@staff_app.command("password")
def password_command(
    email: Annotated[str, typer.Argument(help="The member of staff's sign-in email.")],
    school: SchoolOption,
    password_stdin: PasswordStdinOption = False,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Set a new password (a forgotten one, or a leaked one); signs the account out everywhere."""
    password_hash = hash_password(_new_password(password_stdin))
    url = open_database(database_url, data_dir, existing=True)
    staff, revoked = _records(_set_password(url, school, email, password_hash))
    typer.echo(
        f"New password set for {staff.name} <{staff.email}>; "
        f"signed out of {len(revoked)} browser(s)."
    )


def _new_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            fail("no password on standard input")
    elif not sys.stdin.isatty():
        fail("no terminal to ask for the password: give it on standard input with --password-stdin")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        check_password(password)
    except WeakPasswordError as exc:
        fail(str(exc))
    return password


def _records(work: Coroutine[Any, Any, T]) -> T:
    """Run a records coroutine; a refusal or a database failure is a message, not a traceback."""
    try:
        return run(work)
    except RecordsError as exc:
        fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        fail(f"cannot use the database: {type(exc).__name__}: {exc}")


async def _add(
    url: str, school_key: str, name: str, email: str, role: str, password_hash: str
) -> StaffRecord:
    engine = connect(url)
    try:
        async with engine.begin() as conn:
            school = await require_school(conn, school_key)
            return await add_staff(
                conn, school.id, name=name, email=email, role=role, password_hash=password_hash
            )
    finally:
        await engine.dispose()


async def _list(url: str, school_key: str) -> list[accounts.Account]:
    engine = connect(url)
    try:
        async with engine.connect() as conn:
            school = await require_school(conn, school_key)
            return await accounts.accounts(conn, school.id, _now())
    finally:
        await engine.dispose()


async def _disable(url: str, school_key: str, email: str) -> tuple[StaffRecord, list[str]]:
    engine = connect(url)
    try:
        async with engine.begin() as conn:
            school = await require_school(conn, school_key)
            return await accounts.disable_staff(conn, school.id, email, _now())
    finally:
        await engine.dispose()


async def _set_password(
    url: str, school_key: str, email: str, password_hash: str
) -> tuple[StaffRecord, list[str]]:
    engine = connect(url)
    try:
        async with engine.begin() as conn:
            school = await require_school(conn, school_key)
            staff = await accounts.require_staff(conn, school.id, email)
            revoked = await accounts.set_password(conn, school.id, staff.id, password_hash, _now())
            return staff, revoked
    finally:
        await engine.dispose()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
