"""`safeclass demo`: make the demo school (idempotently), print how to try it, and serve it."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from safeclass.adapters.server_secret import ServerSecret, secret_path
from safeclass.adapters.store import connect
from safeclass.adapters.store.db import database_url, upgrade
from safeclass.cli.demo_school import STAFF, Demo, prepare
from safeclass.cli.serve_cmd import serve

_out = Console(highlight=False, soft_wrap=True)  # a link is never folded


def demo(
    data_dir: Annotated[
        Path, typer.Option(help="Where the demo school's database and letters live.")
    ] = Path("data/demo"),
    port: Annotated[int, typer.Option(help="Port to serve the demo on.")] = 8000,
    prepare_only: Annotated[
        bool, typer.Option("--prepare-only", help="Make the demo school, then stop.")
    ] = False,
) -> None:
    """Run a demo school on SQLite: staff accounts, class 2B, a session starting soon."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url = database_url(data_dir=data_dir)
    public_url = f"http://127.0.0.1:{port}"
    secret = ServerSecret.load_or_create(secret_path(data_dir))
    upgrade(url, secret=secret)
    made = asyncio.run(_prepare(url, data_dir, public_url))
    _tell(made, public_url)
    if not prepare_only:
        serve(
            host="127.0.0.1",
            port=port,
            public_url=public_url,
            database_url=url,
            data_dir=data_dir,
            log_level="warning",
        )


async def _prepare(url: str, data_dir: Path, public_url: str) -> Demo:
    engine = connect(url)
    try:
        return await prepare(engine, data_dir, public_url, dt.datetime.now(dt.UTC))
    finally:
        await engine.dispose()


def _tell(made: Demo, public_url: str) -> None:
    local = made.starts_at.astimezone().strftime("%H:%M")

    def out(text: str) -> None:
        _out.print(text, markup=text.startswith("[bold]"))  # names and paths are never markup

    out("[bold]safeclass demo school[/bold] (school key [cyan]demo[/cyan], Claydon's protocol)")
    age = "made now" if made.session_is_new else "made by an earlier run, reused"
    out(
        f"Session: Year 2 Maths (demo), class 2B, starts at {local} ({age}); "
        "the waiting room opens 5 minutes before."
    )
    out("")
    out(f"[bold]Staff[/bold]: sign in at {public_url}/sign-in (school key: demo),")
    out(f"  then the console is on the staff home, {public_url}/staff")
    passwords = made.passwords()
    for role, name, email in STAFF:
        password = passwords.get(email, f"(see {made.accounts_file})")
        out(f"  {role:<9} {name:<9} {email:<24} {password}")
    out(f"  The passwords are also in {made.accounts_file}")
    out("")
    out("[bold]Pupils[/bold]: open each link in a browser of its own (each pupil is one device):")
    for name, link in made.pupil_links:
        out(f"  {name}: {link}")
    out(
        "These links, and every family's, were made afresh just now: "
        "links from an earlier run no longer work."
    )
    out(f"Every family's letter with its own link: {made.letters_dir}/")
    out(
        f"A session's links without email: safeclass session links {made.session_id[:8]}"
        "  (safeclass session list shows the sessions)"
    )
    out(f"API: {public_url}/docs  ·  health: {public_url}/healthz")
