"""`safeclass school add | list`: the schools one server hosts, each with its own policy (C20).

A trust or local authority runs one server for several schools; each is added from a preset or
its own policy file, which is stored as the school's policy version 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from safeclass.adapters.store import connect
from safeclass.adapters.store.pupil_records import count_pupils
from safeclass.adapters.store.school_records import (
    PolicyRecord,
    RecordsError,
    SchoolRecord,
    create_school,
    current_policy_version,
    list_schools,
)
from safeclass.cli.options import DatabaseUrlOption, DataDirOption, run
from safeclass.cli.store_access import fail, open_database
from safeclass.policy import Policy, PolicyError, loads
from safeclass.policy.loading import preset_path

school_app = typer.Typer(
    help="The schools on this server, each with its own policy, staff and pupils.",
    no_args_is_help=True,
)


@school_app.command("add")
def add_command(
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            metavar="NAME",
            help="Start from a preset: claydon, werrington, st-josephs, crofton, s04.",
            show_default=False,
        ),
    ] = None,
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy", metavar="FILE", help="The school's own policy file.", show_default=False
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="The school's key (default: the policy's [school].key).",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="The school's name (default: the policy's).", show_default=False
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Add a school governed by a preset or a policy file (recorded as its policy version 1)."""
    if preset is not None and policy_file is not None:
        raise typer.BadParameter(
            "give --preset NAME or --policy FILE, not both", param_hint="--preset"
        )
    policy, text = _policy(preset, policy_file)
    url = open_database(database_url, data_dir)
    try:
        school, version = run(_add(url, policy, text, key, name))
    except RecordsError as exc:
        hint = "; choose another with --key" if "already exists" in str(exc) else ""
        fail(f"{exc}{hint}")
    except (SQLAlchemyError, OSError) as exc:
        fail(f"cannot use the database: {type(exc).__name__}: {exc}")
    typer.echo(
        f"Added school '{school.key}': {school.name}, policy version {version.version} "
        f"(adopted {version.adopted}, review {version.review})."
    )


@school_app.command("list")
def list_command(database_url: DatabaseUrlOption = None, data_dir: DataDirOption = None) -> None:
    """List the schools on this server with their policy version and number of pupils."""
    url = open_database(database_url, data_dir, existing=True)
    try:
        rows = run(_list(url))
    except (SQLAlchemyError, OSError) as exc:
        fail(f"cannot use the database: {type(exc).__name__}: {exc}")
    if not rows:
        typer.echo("No schools yet. Add one with: safeclass school add --preset claydon")
        return
    table = Table(title="Schools")
    for heading in ("Key", "Name", "Policy", "Adopted", "Review", "Pupils"):
        table.add_column(heading, overflow="fold")
    for school, version, pupils in rows:
        cells = (
            school.key,
            school.name,
            f"v{version.version}",
            version.adopted.isoformat(),
            version.review.isoformat(),
            str(pupils),
        )
        table.add_row(*(Text(cell) for cell in cells))
    Console(highlight=False).print(table)


def _policy(preset: str | None, policy_file: Path | None) -> tuple[Policy, str]:
    """The policy and its exact text (stored as the version that governs sessions)."""
    source = preset or str(policy_file)
    try:
        if preset is not None:
            path = preset_path(preset)
        elif policy_file is not None:
            path = policy_file
        else:
            raise typer.BadParameter("give --preset NAME or --policy FILE", param_hint="--preset")
        text = path.read_text(encoding="utf-8-sig")
        return loads(text, source=source), text
    except PolicyError as exc:
        lines = [f"{exc.source}: the policy cannot be used:"]
        lines += [f"  - {problem}" for problem in exc.problems]
        fail("\n".join(lines))
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the policy file {source}: {getattr(exc, 'strerror', None) or exc}")


async def _add(
    url: str, policy: Policy, text: str, key: str | None, name: str | None
) -> tuple[SchoolRecord, PolicyRecord]:
    engine = connect(url)
    try:
        async with engine.begin() as conn:
            school = await create_school(conn, policy, text, key=key, name=name)
            return school, await current_policy_version(conn, school.id)
    finally:
        await engine.dispose()


async def _list(url: str) -> list[tuple[SchoolRecord, PolicyRecord, int]]:
    engine = connect(url)
    try:
        async with engine.connect() as conn:
            return [
                (s, await current_policy_version(conn, s.id), await count_pupils(conn, s.id))
                for s in await list_schools(conn)
            ]
    finally:
        await engine.dispose()
