"""The app's own guard on its routes: a socket served straight from the app (past the
middleware and routers, for the room's sockets) must still be one of its routes, with its row in
route_access, so no socket can be added there that skips the table."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from safeclass.settings import Settings
from safeclass.web import room_socket
from safeclass.web.app import SafeclassApp, create_app
from safeclass.web.deps import check_routes


async def _elsewhere(websocket: WebSocket) -> None:
    await websocket.close()


def test_a_socket_served_straight_from_the_app_must_be_one_of_its_routes(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db")
    app = create_app(settings)
    assert isinstance(app, SafeclassApp)
    assert app.direct_sockets == (room_socket.ROUTE,)
    check_routes(app)  # as built: the room's socket is a route with its row
    app.direct_sockets = (*app.direct_sockets, WebSocketRoute("/ws/other", _elsewhere))
    with pytest.raises(RuntimeError, match="/ws/other: served directly"):
        check_routes(app)
