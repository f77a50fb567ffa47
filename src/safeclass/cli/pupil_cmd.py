"""`safeclass pupil export | erase`: a subject access request, and erasure where the law allows.

`export PUPIL` writes one zip of everything held about the pupil (docs/subject-access.md);
`erase PUPIL --by EMAIL` says what it will erase and what it must keep and why, asks (unless
`--yes`), erases, and says what it did. PUPIL is safeclass's id for the pupil, or their MIS
number with `--school KEY`. Both are written in the school's journal without their content.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from safeclass.adapters.store import EventLog, connect
from safeclass.adapters.store.erasure import StoreErasure
from safeclass.adapters.store.event_log import CHAIN_KEY
from safeclass.adapters.store.pupil_files import StorePupilFiles
from safeclass.adapters.store.school_records import school_by_key, staff_by_email
from safeclass.app import staff_roles
from safeclass.app.erasure import ErasurePlan, LessonLiveError, erase_pupil, plan_erasure
from safeclass.app.pupil_files import PupilNotFoundError
from safeclass.app.subject_access import export_pupil, journal_export
from safeclass.cli.options import DatabaseUrlOption, DataDirOption, run
from safeclass.cli.store_access import fail, open_store
from safeclass.web import i18n

pupil_app = typer.Typer(
    help="One pupil's records: a subject access export, and erasure where the law allows.",
    no_args_is_help=True,
)

PupilArg = Annotated[
    str,
    typer.Argument(
        metavar="PUPIL",
        help="The pupil's safeclass id (or MIS number with --school).",
        show_default=False,
    ),
]
SchoolOption = Annotated[
    str | None, typer.Option("--school", help="The school's key, to find PUPIL by MIS number.")
]


@pupil_app.command("export")
def export_command(
    pupil: PupilArg,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="The zip to write (default: its own name).")
    ] = None,
    school: SchoolOption = None,
    language: Annotated[
        str, typer.Option("--lang", help="The summary's language: en or cy (Cymraeg).")
    ] = "en",
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Everything held about one pupil in one zip: summary.html and the records as JSON/CSV."""
    if language not in i18n.LANGUAGES:
        raise typer.BadParameter(f"--lang must be one of {', '.join(i18n.LANGUAGES)}")
    store = open_store(database_url, data_dir, existing=True, secret_must_exist=True)

    async def go() -> tuple[str, bytes]:
        engine = connect(store.url)
        try:
            school_id = await _school_id(engine, school)
            archive = await export_pupil(
                engine,
                StorePupilFiles(engine),
                pupil,
                school_id,
                translations=i18n.translations(language),
                language=language,
            )
            log = EventLog(engine, store.secret.derive(CHAIN_KEY))
            found = archive.file
            await journal_export(
                log, found.school_id, found.pupil_id, "cli", found.made_at, found.counts()
            )
            return archive.filename, archive.data
        except PupilNotFoundError:
            fail(f"no pupil {pupil}" + ("" if school else " (an MIS number needs --school)"))
        finally:
            await engine.dispose()

    name, data = run(go())
    target = out or Path(name)
    try:
        target.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {target}: {exc}")
    typer.echo(f"Wrote {target} ({len(data):,} bytes). Read summary.html first.")


@pupil_app.command("erase")
def erase_command(
    pupil: PupilArg,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="The email of the DSL or head on whose authority this is done.",
            show_default=False,
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before erasing.")] = False,
    school: SchoolOption = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Erase what the law allows about one pupil; keep safeguarding records until their date."""
    store = open_store(database_url, data_dir, existing=True, secret_must_exist=True)
    now = dt.datetime.now(dt.UTC)

    async def who_and_plan() -> tuple[str, ErasurePlan]:
        engine = connect(store.url)
        try:
            school_id = await _school_id(engine, school)
            files = StorePupilFiles(engine)
            async with engine.connect() as conn:
                row = await files.find_pupil(conn, pupil, school_id)
                staff = await staff_by_email(conn, row.school_id, by)
            capability = staff_roles.Capability.HANDLE_SUBJECT_ACCESS
            if staff is None or not staff.active or not staff_roles.may(staff.role, capability):
                fail(
                    f"{by} is not a DSL or head of this pupil's school: "
                    f"{staff_roles.refusal(capability)}"
                )
            return staff.id, await plan_erasure(
                engine,
                row.id,
                row.school_id,
                now.date(),
                files=files,
                records=StoreErasure(engine),
            )
        except PupilNotFoundError:
            fail(f"no pupil {pupil}" + ("" if school else " (an MIS number needs --school)"))
        finally:
            await engine.dispose()

    staff_id, plan = run(who_and_plan())
    typer.echo(f"Erasing what the law allows about {plan.name}:")
    _say(plan, done=False)
    if not yes and not typer.confirm("Erase this now? It cannot be undone.", default=False):
        typer.echo("Nothing erased.")
        raise typer.Exit(1)

    async def erase() -> tuple[str, ...]:
        engine = connect(store.url)
        try:
            log = EventLog(engine, store.secret.derive(CHAIN_KEY))
            result = await erase_pupil(
                engine,
                log,
                plan.pupil_id,
                plan.school_id,
                staff_id,
                now,
                files=StorePupilFiles(engine),
                records=StoreErasure(engine),
            )
            return result.problems
        except LessonLiveError:
            fail(f"a lesson of {plan.name} is live now: erase once it has ended")
        finally:
            await engine.dispose()

    problems = run(erase())
    for problem in problems:
        typer.echo(f"Problem: {problem}", err=True)
    _say(plan, done=True)
    typer.echo("The erasure is in the school's journal (who, when, how many; never what).")
    if problems:
        raise typer.Exit(1)


def _say(plan: ErasurePlan, *, done: bool) -> None:
    gone, stays = ("Erased", "Kept") if done else ("Will erase", "Will keep")
    typer.echo(f"{gone}:" if plan.erase else f"{gone}: nothing")
    for kind, count in plan.erase.items():
        typer.echo(f"  {kind}: {count}")
    typer.echo(f"{stays}:" if plan.kept else f"{stays}: nothing")
    for k in plan.kept:
        until = f"until {k.until.isoformat()}" if k.until else "until the DSL sets a date"
        typer.echo(f"  {k.kind}: {k.count}, {until}: {k.why}")


async def _school_id(engine: object, key: str | None) -> str | None:
    if key is None:
        return None
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        school = await school_by_key(conn, key)
    if school is None:
        fail(f"no school {key}")
    return school.id
