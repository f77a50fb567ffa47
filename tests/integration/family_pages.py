"""Reading the families' pages as a parent's browser does: an HTML client (signed in as staff
with a cookie, or not), the page's main text as a reader hears it, and a Welsh browser."""

from __future__ import annotations

import html

import httpx

from tests.integration.live import LiveServer
from tests.integration.test_pages import main_text as tagless

WELSH = {"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"}


def main_text(page: str) -> str:
    """The page's main text as a reader hears it (entities such as &#39; read back)."""
    return html.unescape(tagless(page))


def browser(
    server: LiveServer, cookie: str = "", headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    sent = {"Accept": "text/html", **(headers or {})}
    if cookie:
        sent["Cookie"] = cookie
    return httpx.AsyncClient(base_url=server.url, headers=sent, timeout=15)
