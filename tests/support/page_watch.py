"""What a page in Chromium did that a test must see: every request it made, and every console
error, failed request or refused response. One watcher for the e2e tests and the browser
scenarios, so that they all count the same things as problems.
"""

from __future__ import annotations

from playwright.async_api import Page, Request


class Watch:
    """Every request a page makes, and every console error or failed request."""

    def __init__(self, page: Page) -> None:
        self.requested: list[str] = []
        self.problems: list[str] = []
        page.on("request", lambda request: self.requested.append(request.url))
        page.on("console", lambda m: self.problems.extend(console_problems(m.type, m.text)))
        page.on("requestfailed", lambda request: self.problems.append(failed(request)))
        page.on(
            "response",
            lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )


def console_problems(kind: str, text: str) -> list[str]:
    """A console error, except the browser's own report of a response's status (the favicon's,
    which Playwright does not report as a request, or a page's own 401; every request the page
    makes is checked by its response)."""
    if kind != "error" or text.startswith("Failed to load resource: the server responded"):
        return []
    return [text]


def failed(request: Request) -> str:
    return f"{request.url}: {request.failure}"
