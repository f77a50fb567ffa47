"""`/healthz` for load balancers and `/metrics` for Prometheus.

`/metrics` says how many rooms, sockets, holds and refusals there are, and how long the
collector paused the server (`observability.CollectorPauses`), which is nobody else's
business: it answers only a request with `Authorization: Bearer <SAFECLASS_METRICS_TOKEN>`
(401 otherwise), and is off (404) while no token is set.

`/healthz` also says when notifications wait undelivered (`app/undelivered.py`): a DSL alert or
a parent's notice waiting longer than two minutes, one the outbox gave up on, or any at all that
waits for a way out this server does not have (no mail server, no webhook). Then `status` is
"undelivered" and `undelivered` holds the counts (`dsl_alerts`, `parent_notices`, and `other`:
everything but DSL alerts, parents' notices included) and the `reason` in words. The HTTP
status stays 200: the rooms still work and another server would not deliver the mail either,
so a load balancer must not take this one out; monitoring should alert on `status != "ok"`.
Only a database that does not answer is 503.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from safeclass.app.undelivered import health_undelivered

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, object]:
    """200 when the database answers (503 otherwise), with the live rooms, notifications that
    wait undelivered (status "undelivered"), and whether video is on, off (and why) or
    reconnecting: media is not needed for the rooms to keep their rules."""
    services = request.app.state.services
    try:
        waiting = await health_undelivered(
            services.deliveries, services.clock.now(), can_deliver=services.delivers
        )
    except Exception as exc:  # any driver error means not healthy
        detail = {"status": "unhealthy", "reason": f"database: {type(exc).__name__}"}
        raise HTTPException(status_code=503, detail=detail) from None
    health: dict[str, object] = {"status": "ok", "live_rooms": len(services.rooms.running())}
    if waiting.total:
        health["status"] = "undelivered"
        health["undelivered"] = {
            "dsl_alerts": waiting.dsl_alerts,
            "parent_notices": waiting.parent_notices,
            "other": waiting.other,
            "reason": waiting.reason,
        }
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
