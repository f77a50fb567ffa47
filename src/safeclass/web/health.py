"""`/healthz` for load balancers and `/metrics` for Prometheus.

`/metrics` says how many rooms, sockets, holds and refusals there are, which is nobody else's
business: it answers only a request with `Authorization: Bearer <SAFECLASS_METRICS_TOKEN>`
(401 otherwise), and is off (404) while no token is set.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, object]:
    """200 when the database answers (503 otherwise), with the live rooms and whether video is
    on, off (and why) or reconnecting: media is not needed for the rooms to keep their rules."""
    services = request.app.state.services
    try:
        async with services.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means not healthy
        detail = {"status": "unhealthy", "reason": f"database: {type(exc).__name__}"}
        raise HTTPException(status_code=503, detail=detail) from None
    health: dict[str, object] = {"status": "ok", "live_rooms": len(services.rooms.running())}
    media = services.media
    if media is not None:
        health["media"] = media.health
        if media.off_reason:
            health["media_off"] = media.off_reason
    return health


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus metrics, for the bearer of the metrics token."""
    services = request.app.state.services
    token = services.settings.metrics_token
    if token is None:
        raise HTTPException(404, "Not Found")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    matches = hmac.compare_digest(given.strip().encode(), token.encode())
    if scheme.lower() != "bearer" or not matches:
        raise HTTPException(
            401, "Send the metrics token as a bearer token", {"WWW-Authenticate": "Bearer"}
        )
    counts = services.audiences.count()
    for role, n in counts.items():
        services.metrics.sockets.labels(role=role).set(n)
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
