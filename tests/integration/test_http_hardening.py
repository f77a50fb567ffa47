"""What every HTTP answer carries, and the two operational pages: `/docs` and `/metrics`.

A real server on loopback: `/docs` loads nothing from another host (it works on a school
network without the internet, and tells no third party) under a strict Content-Security-Policy;
`/metrics` answers only the bearer of the metrics token and is off without one; every response
has the security headers, and Strict-Transport-Security once the public URL is https.
"""

from __future__ import annotations

import gc
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from safeclass.app.clock import AdjustableClock
from safeclass.observability import CollectorPauses
from safeclass.settings import Settings
from tests.integration.live import LiveServer
from tests.support.rooms import START

TOKEN = "t" * 48


async def running(db_url: str, tmp_path: Path, **settings: Any) -> LiveServer:
    return await LiveServer(db_url, tmp_path, AdjustableClock(START), **settings).start()


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await running(db_url, tmp_path, metrics_token=TOKEN)
    try:
        yield live
    finally:
        await live.stop()


# covers: C21
async def test_the_api_page_loads_only_from_this_server_under_a_strict_policy(
    server: LiveServer,
):
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/docs")
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
        assert "http://" not in page.text and "https://" not in page.text  # no CDN, no host
        assert "<script>" not in page.text  # no inline script: the policy would block it
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sorted(assets) == [
            "/docs/assets/api-docs.js",
            "/docs/assets/favicon.png",
            "/docs/assets/swagger-ui-bundle.js",
            "/docs/assets/swagger-ui.css",
        ]
        for asset in assets:
            answer = await http.get(asset)
            assert answer.status_code == 200, asset
            assert len(answer.content) > 100
        bundle = await http.get("/docs/assets/swagger-ui-bundle.js")
        assert bundle.headers["content-type"].startswith("text/javascript")
        assert b"SwaggerUIBundle" in bundle.content
        assert (await http.get("/docs/assets/../settings.py")).status_code == 404
        assert (await http.get("/docs/assets/index.html")).status_code == 404
        assert (await http.get("/redoc")).status_code == 404  # it loaded from a CDN too
        spec = (await http.get("/openapi.json")).json()
        assert "/api/sessions" in spec["paths"]


# covers: C21
async def test_metrics_answer_only_the_bearer_of_the_metrics_token(server: LiveServer):
    async with httpx.AsyncClient(base_url=server.url) as http:
        nobody = await http.get("/metrics")
        assert nobody.status_code == 401
        assert nobody.headers["www-authenticate"] == "Bearer"
        wrong = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN[:-1]}x"})
        assert wrong.status_code == 401
        basic = await http.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
        assert basic.status_code == 401
        right = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200
        assert "safeclass_" in right.text


def _pauses(metrics: str) -> dict[str, float]:
    """How many collector pauses /metrics counts, by generation."""
    return {
        sample.labels["generation"]: sample.value
        for family in text_string_to_metric_families(metrics)
        if family.name == "safeclass_gc_pause_seconds"
        for sample in family.samples
        if sample.name == "safeclass_gc_pause_seconds_count"
    }


async def test_metrics_count_the_collectors_pauses_while_the_server_runs(
    db_url: str, tmp_path: Path
):
    """While Python's collector runs nothing else does, so its pauses are a busy server's worst
    latencies: an operator sees each one in /metrics, and a stopped server stops counting."""
    live = await running(db_url, tmp_path, metrics_token=TOKEN)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with httpx.AsyncClient(base_url=live.url, headers=bearer) as http:
            before = _pauses((await http.get("/metrics")).text)
            assert set(before) == {"0", "1", "2"}
            gc.collect()
            gc.collect()
            after = _pauses((await http.get("/metrics")).text)
    finally:
        await live.stop()
    assert after["2"] >= before["2"] + 2
    assert not [c for c in gc.callbacks if isinstance(c, CollectorPauses)]


# covers: C21
async def test_metrics_are_off_without_a_token_and_a_short_token_is_refused(
    db_url: str, tmp_path: Path
):
    live = await running(db_url, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=live.url) as http:
            assert (await http.get("/metrics")).status_code == 404
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await live.stop()
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings(data_dir=tmp_path, database_url=db_url, metrics_token="short")  # noqa: S106


def _assert_security_headers(response: httpx.Response) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", response.url
    assert headers["referrer-policy"] == "no-referrer", response.url
    assert "frame-ancestors 'none'" in headers["content-security-policy"], response.url


# covers: C21
async def test_every_answer_carries_the_security_headers_and_no_hsts_over_http(
    server: LiveServer,
):
    async with httpx.AsyncClient(base_url=server.url) as http:
        answers = [
            await http.get("/healthz"),
            await http.get("/openapi.json"),
            await http.get("/docs"),
            await http.get("/auth/me"),  # 401
            await http.get("/api/sessions/nothing"),  # 401
            await http.get("/no/such/page"),  # 404
            await http.get("/join/not-a-real-link"),  # a family's page
            await http.post("/auth/login", json={}),  # 400
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 401, 401, 404, 404, 400]
    for answer in answers:
        _assert_security_headers(answer)
        assert "strict-transport-security" not in answer.headers


# covers: C21
async def test_behind_https_every_answer_tells_the_browser_to_stay_on_https(
    db_url: str, tmp_path: Path
):
    live = await running(db_url, tmp_path, public_url="https://school.example")
    try:
        async with httpx.AsyncClient(base_url=live.url) as http:
            for path in ("/healthz", "/docs", "/auth/me", "/join/not-a-real-link", "/nowhere"):
                answer = await http.get(path)
                _assert_security_headers(answer)
                assert answer.headers["strict-transport-security"] == "max-age=31536000"
    finally:
        await live.stop()
