"""The `safeclass` command (entry point `safeclass.cli.main:app`); each area is a sub-app."""

from __future__ import annotations

from typing import Annotated

import typer

from safeclass import __version__
from safeclass.cli.audit_cmd import audit_app
from safeclass.cli.cluster_cmd import cluster_app
from safeclass.cli.db_cmd import db_app
from safeclass.cli.demo_cmd import demo
from safeclass.cli.policy_cmd import policy_app
from safeclass.cli.pupil_cmd import pupil_app
from safeclass.cli.recordings_cmd import recordings_app
from safeclass.cli.report_cmd import report_app
from safeclass.cli.retention_cmd import retention_app
from safeclass.cli.roster_cmd import roster_app
from safeclass.cli.school_cmd import school_app
from safeclass.cli.serve_cmd import serve
from safeclass.cli.session_cmd import session_app
from safeclass.cli.staff_cmd import staff_app

app = typer.Typer(
    name="safeclass",
    help="safeclass: a live classroom whose safeguarding protocol is enforced by the server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(policy_app, name="policy")
app.add_typer(report_app, name="report")
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
app.add_typer(recordings_app, name="recordings")
app.command("serve")(serve)
app.command("demo")(demo)
app.add_typer(school_app, name="school")
app.add_typer(roster_app, name="roster")
app.add_typer(staff_app, name="staff")
app.add_typer(session_app, name="session")
app.add_typer(pupil_app, name="pupil")
app.add_typer(cluster_app, name="cluster")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"safeclass {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """safeclass: a live classroom whose safeguarding protocol is enforced by the server."""


if __name__ == "__main__":
    app()
