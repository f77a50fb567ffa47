"""Small, kind HTML pages for families: big plain words, no scripts, nothing from elsewhere.

A child or a parent may see these (an old link, a cancelled session), so they never show a
status code, an error name or a technical word. Each page is sent with headers that keep it
out of caches and keep its address (which may hold a link's token) out of any Referer.
"""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse

PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

_STYLE = (
    "body{font-family:Arial,Helvetica,sans-serif;font-size:22px;line-height:1.5;color:#1a1a1a;"
    "background:#f6f8fb;margin:0;padding:2em 1em}"
    "main{max-width:30em;margin:0 auto;background:#fff;border-radius:12px;padding:1.5em 2em}"
    "h1{font-size:30px;margin-top:0}label{display:block;margin:.4em 0}"
    "textarea{width:100%;font-size:18px}button{font-size:22px;padding:.5em 1.2em;"
    "border-radius:8px;border:0;background:#1d5fbf;color:#fff}"
)


def page(
    heading: str, paragraphs: list[str], *, status: int = 200, body_html: str = ""
) -> HTMLResponse:
    """A page of escaped paragraphs (and optional ready-made HTML, e.g. a form)."""
    text = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    document = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{html.escape(heading)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{html.escape(heading)}</h1>\n{text}\n{body_html}\n</main>\n"
        "</body>\n</html>\n"
    )
    return HTMLResponse(document, status_code=status, headers=PRIVATE_HEADERS)
