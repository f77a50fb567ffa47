"""The families' link pages: small, kind pages in English or Welsh, on the site's templates.

A child or a parent may see these (an old link, a cancelled session, the form to tell the
school), so they never show a status code, an error name or a technical word. They are the
site's own pages (`base.html`, `site.css`, the language switch; `render`), with one difference:
their addresses hold a family's token, so they are sent with `Referrer-Policy: no-referrer`
(not the staff pages' `same-origin`): the token never leaves in a Referer, not even to this
server's own pages. The token itself is never logged or put in a page.
"""

from __future__ import annotations

from fastapi.responses import HTMLResponse
from starlette.requests import Request

from safeclass.web.render import render

# The headers of a response whose address holds a token: nothing kept, no Referer ever.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def page(
    request: Request,
    heading: str,
    lines: list[str],
    *,
    status: int = 200,
) -> HTMLResponse:
    """A page with a heading and plain lines (already in the request's language)."""
    return render(
        request,
        "problem.html",
        status=status,
        headers=PRIVATE_HEADERS,
        heading=heading,
        lines=lines,
        action_href="",
        action_text="",
    )


def link_template(
    request: Request, template: str, *, status: int = 200, **context: object
) -> HTMLResponse:
    """A families' page from its own template, with the link pages' headers."""
    return render(request, template, status=status, headers=PRIVATE_HEADERS, **context)
