"""`safeclass cluster`: what running several workers needs around them (docs/cluster.md).

`safeclass cluster config` writes HAProxy's configuration for the workers named on the command
line (`cli/haproxy_config.py` holds it, every line with its reason).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safeclass.cli.haproxy_config import Worker, haproxy_config, parse_worker

cluster_app = typer.Typer(
    help="Several workers on one PostgreSQL: the load balancer in front of them.",
    no_args_is_help=True,
)


@cluster_app.command("config")
def config(
    worker: Annotated[
        list[str],
        typer.Option(
            "--worker",
            help="A worker as NAME=HOST:PORT (NAME: its SAFECLASS_WORKER_ID); once per worker.",
            show_default=False,
        ),
    ],
    bind: Annotated[
        str, typer.Option(help="The address and port HAProxy listens on, HOST:PORT.")
    ] = "0.0.0.0:80",
    cert: Annotated[
        Path | None,
        typer.Option(
            help="End TLS in HAProxy with this PEM file (certificate and key); without it, HTTP.",
            show_default=False,
        ),
    ] = None,
    user: Annotated[
        str,
        typer.Option(help="The user HAProxy drops to (chrooted); '' to stay who starts it."),
    ] = "haproxy",
    log: Annotated[
        str, typer.Option(help="Where HAProxy logs: a syslog socket, or 'stdout'.")
    ] = "/dev/log",
    stats_socket: Annotated[
        str,
        typer.Option(help="HAProxy's admin socket (each worker's state); '' for none."),
    ] = "/run/haproxy/admin.sock",
    maxconn: Annotated[
        int,
        typer.Option(min=100, help="Connections HAProxy holds at once (one per open room page)."),
    ] = 10_000,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the configuration to this file instead of printing it."),
    ] = None,
) -> None:
    """HAProxy's configuration for these workers: a session's sockets to one worker by its id
    (consistent hashing), the rest to the least busy, /healthz checked twice a second, the
    client's address passed on and the workers' relay header stripped from outside."""
    try:
        workers: list[Worker] = [parse_worker(w) for w in worker]
        text = haproxy_config(
            workers,
            bind=bind,
            cert=cert,
            user=user or None,
            log_target=log,
            stats_socket=Path(stats_socket) if stats_socket else None,
            maxconn=maxconn,
        )
    except ValueError as err:
        typer.echo(f"safeclass cluster config: {err}", err=True)
        raise typer.Exit(2) from None
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"Wrote HAProxy's configuration for {len(workers)} workers to {out}.", err=True)
