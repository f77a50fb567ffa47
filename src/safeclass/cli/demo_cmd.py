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
from safeclass.adapters.store.event_log import CHAIN_KEY
from safeclass.app.demo import STAFF, Demo, prepare
from safeclass.cli.serve_cmd import serve

_out = Console()


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
    upgrade(url, chain_key=secret.derive(CHAIN_KEY))
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
    _out.print(
        "[bold]safeclass demo school[/bold] (school key [cyan]demo[/cyan], Claydon's protocol)"
    )
    _out.print(
        f"Session: Year 2 Maths (demo), class 2B, starts at {local}; "
        "the waiting room opens 5 minutes before."
    )
    if made.new_passwords:
        _out.print(f"Staff accounts (also saved in {made.accounts_file}):")
        for role, name, email in STAFF:
            _out.print(f"  {role:<9} {name:<9} {email:<24} {made.new_passwords.get(email, '')}")
    else:
        _out.print(f"Staff accounts and passwords: {made.accounts_file}")
    _out.print(f"Each family's invitation letter, with its own link: {made.letters_dir}/")
    _out.print(
        f"Sign in: POST {public_url}/auth/login  ·  API: {public_url}/docs  ·  "
        f"health: {public_url}/healthz"
    )
