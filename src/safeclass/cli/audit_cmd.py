"""`safeclass audit`: check the event logs against the server's key, and make checkpoints.

`verify` checks one session's log, or every log there is and every session that should have
one; `--against FILE` also compares them with a signed checkpoint made earlier. `checkpoint`
writes that checkpoint. Both need the server's secret (DATA_DIR/secret.key or
SAFECLASS_SECRET_FILE) and never make a new one: records checked with a new key would all look
forged.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from safeclass.adapters.server_secret import ServerSecret
from safeclass.adapters.store import EventLog, VerifyReport, connect
from safeclass.adapters.store.event_log import CHAIN_KEY
from safeclass.adapters.store.records import StoreRecords
from safeclass.app.checkpoints import (
    ALL,
    CHECKPOINT_KEY,
    Checkpoint,
    CheckpointError,
    make_checkpoint,
    parse,
    render,
)
from safeclass.app.log_audit import LogAudit, against_checkpoint, audit_all
from safeclass.cli.options import DatabaseUrlOption, DataDirOption, run
from safeclass.cli.store_access import fail, open_with_secret

audit_app = typer.Typer(help="Check that the records have not been altered.", no_args_is_help=True)
_out = Console(highlight=False, soft_wrap=True)


@audit_app.command("verify")
def verify_command(
    session: Annotated[
        str | None, typer.Argument(help="A session id; every session when left out.")
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="A checkpoint file (or a saved checkpoint email): also name anything it "
            "recorded that is missing or different now.",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Find any changed, deleted, inserted or reordered event, and any log deleted whole.

    Exit 1 if anything is found.
    """
    checkpoint = _read_checkpoint(against) if against is not None else None
    url, secret = open_with_secret(database_url, data_dir, must_exist=True)
    if checkpoint is not None and not checkpoint.signed_by(secret.derive(CHECKPOINT_KEY)):
        fail(
            f"the checkpoint in {against} does not carry this server's signature: it was "
            "changed after it was made, or made by a server with another secret"
        )
    audit, drift = run(_verify(url, secret, session, checkpoint))
    if session is not None and not audit.reports:
        fail(f"no event log for session {session}")
    bad = not audit.ok
    for report in audit.reports:
        _print_report(report, audit)
    for session_id in audit.never_opened:
        _out.print(
            f"[yellow]NO LOG[/yellow] {session_id}: its start has passed but its room never "
            "opened (a checkpoint shows whether it ever had a log)"
        )
    if checkpoint is not None:
        _out.print(
            f"Against the checkpoint of {checkpoint.made_at} "
            f"({len(checkpoint.heads)} logs): "
            + ("[red]differences found[/red]" if drift else "[green]all still there[/green]")
        )
        for session_id, problems in drift.items():
            bad = True
            _out.print(f"[red]SINCE CHECKPOINT[/red] {session_id}:")
            for problem in problems:
                _out.print(f"  - {escape(problem)}")
    if not audit.reports and session is None:
        _out.print("No session logs yet.")
    if bad:
        raise typer.Exit(1)


def _print_report(report: VerifyReport, audit: LogAudit) -> None:
    what = "school journal" if report.session_id in audit.schools else "session"
    label = f"{what} {report.session_id}"
    if not report.ok:
        _out.print(f"[red]ALTERED[/red] {label}: {report.entries} events")
        for problem in report.problems:
            _out.print(f"  - {escape(problem)}")
        return
    line = f"[green]OK[/green] {label}: {report.entries} events, chain intact"
    if report.legacy_seq is not None:
        old = "1" if report.legacy_seq == 1 else f"1-{report.legacy_seq}"
        line += (
            f"; events {old} predate keyed chains and are checked by plain SHA-256 only "
            "(anyone who could write the database could have recomputed them before the upgrade)"
        )
    _out.print(line)


def _read_checkpoint(path: Path) -> Checkpoint:
    try:
        return parse(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        fail(f"cannot read the checkpoint {path}: {exc.strerror or exc}")
    except CheckpointError as exc:
        fail(f"{path}: {exc}")


async def _verify(
    url: str, secret: ServerSecret, session: str | None, checkpoint: Checkpoint | None
) -> tuple[LogAudit, dict[str, list[str]]]:
    engine = connect(url)
    try:
        log = EventLog(engine, secret.derive(CHAIN_KEY))
        records = StoreRecords(engine)
        if session is not None:
            audit = LogAudit()
            if session in await log.sessions():
                audit.reports.append(await log.verify(session))
        else:
            audit = await audit_all(records, log, dt.datetime.now(dt.UTC))
        drift = await against_checkpoint(records, log, checkpoint) if checkpoint else {}
        if session is not None:
            drift = {k: v for k, v in drift.items() if k == session}
        return audit, drift
    finally:
        await engine.dispose()


@audit_app.command("checkpoint")
def checkpoint_command(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write it to this file (default: print it).", show_default=False
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write a signed checkpoint of every log's head; keep it away from this server."""
    url, secret = open_with_secret(database_url, data_dir, must_exist=True)
    checkpoint = run(_checkpoint(url, secret))
    text = render(checkpoint)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    _out.print(
        f"Checkpoint of {len(checkpoint.heads)} logs written to {out}. Keep a copy off this "
        "server; check the records against it with: safeclass audit verify --against FILE"
    )


async def _checkpoint(url: str, secret: ServerSecret) -> Checkpoint:
    engine = connect(url)
    try:
        heads = await EventLog(engine, secret.derive(CHAIN_KEY)).heads()
        return make_checkpoint(heads, dt.datetime.now(dt.UTC), secret.derive(CHECKPOINT_KEY), ALL)
    finally:
        await engine.dispose()
