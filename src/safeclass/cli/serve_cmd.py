"""`safeclass serve`: run the server (HTTP API, the live room over WebSocket) on uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
from types import FrameType
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from safeclass.adapters.media.janus_process import JanusOptions, find_binary, find_lib_dir
from safeclass.bootstrap import Services, hand_over
from safeclass.cli.options import DatabaseUrlOption, DataDirOption, data_dir_for
from safeclass.observability import configure_logging
from safeclass.settings import Settings
from safeclass.web import protocol
from safeclass.web.app import create_app


def serve(
    host: Annotated[str, typer.Option(envvar="SAFECLASS_HOST", help="Address to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(envvar="SAFECLASS_PORT", help="Port to listen on.")] = 8000,
    public_url: Annotated[
        str | None,
        typer.Option(
            envvar="SAFECLASS_PUBLIC_URL",
            help="The address families use (links, Origin checks); https turns on Secure cookies.",
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    media: Annotated[
        bool | None,
        typer.Option(
            "--media/--no-media",
            help=(
                "Video through Janus: --media requires it (a local janus, or SAFECLASS_JANUS_URLS),"
                " --no-media runs rooms without video. Default (or SAFECLASS_MEDIA=auto): on when"
                " janus is installed or Janus URLs are set."
            ),
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run safeclass. Migrates the database first; stops cleanly on Ctrl-C."""
    try:
        settings = Settings.from_env(
            data_dir=data_dir_for(data_dir, database_url),
            database_url=database_url,
            host=host,
            port=port,
            public_url=public_url,
            media=media,
        )
    except ValueError as err:  # a SAFECLASS_* setting that makes no sense: say which
        typer.echo(str(err), err=True)
        raise typer.Exit(2) from None
    configure_logging(log_level)
    if settings.media and not settings.janus_urls:
        binary = find_binary(JanusOptions(binary=settings.janus_binary))
        if binary is None or find_lib_dir(binary) is None:
            typer.echo(
                "--media: janus is not installed here; install it (scripts/install), "
                "set SAFECLASS_JANUS_URLS, or run with --no-media",
                err=True,
            )
            raise typer.Exit(2)
    app = create_app(settings)
    typer.echo(
        f"safeclass is listening on http://{host}:{port} (public address {settings.public_url})"
    )
    server = _Server(server_config(app, settings), app)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:  # the port was taken, or startup failed (already logged)
        raise typer.Exit(3)


class _Server(uvicorn.Server):
    """uvicorn's server, which first marks the app as stopping when told to stop: a worker of
    a cluster then hands its rooms over at once (`bootstrap.hand_over`) and closes its room
    sockets (1012) without recording everyone as dropped; the rooms' next owners give them the
    grace to come back (app/live/registry.py)."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app
        self._handing_over: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._app.state.stopping = True
        services = getattr(self._app.state, "services", None)
        if services is not None and services.settings.clustered and self._handing_over is None:
            with contextlib.suppress(RuntimeError):  # no loop yet: nothing is running to hand
                loop = asyncio.get_running_loop()
                loop.call_soon_threadsafe(self._hand_over, loop, services)
        super().handle_exit(sig, frame)

    def _hand_over(self, loop: asyncio.AbstractEventLoop, services: Services) -> None:
        self._handing_over = loop.create_task(hand_over(services), name="hand rooms over")


def server_config(app: FastAPI, settings: Settings, log_level: str | None = None) -> uvicorn.Config:
    """How uvicorn runs safeclass. X-Forwarded-For (and -Proto) are believed only from the
    proxies the operator names (SAFECLASS_TRUSTED_PROXIES); uvicorn's own default would believe
    them from loopback, so anything on the server's machine could claim any address."""
    trusted = list(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=log_level,
        # the room's own heartbeat (web/room_socket.py) already pings every socket and drops a
        # silent one; a protocol ping from uvicorn as well doubled that work (bench/ceiling.py:
        # link → waiting p99 at 5,120 sockets 271 → 216 ms without it)
        ws_ping_interval=None,
        ws_max_size=protocol.MAX_FRAME_BYTES,
        # room messages are small JSON; compressing each for every tablet costs more CPU than
        # the bandwidth it saves beside the video
        ws_per_message_deflate=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )
