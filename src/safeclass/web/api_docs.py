"""`/docs`: the API's page (Swagger UI), served entirely from this server.

FastAPI's own page loads Swagger UI from a CDN: blank on a school network without the internet,
and a third party told whenever staff open it. Here the page, its script and its style come
from this server (Swagger UI's files as the `fastapi-offline` package ships them, and our own
small start-up script, `static/api-docs.js`), under a Content-Security-Policy that lets the page
load nothing from anywhere else and run no inline script. `/openapi.json` is FastAPI's.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)

DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
_SWAGGER = resources.files("fastapi_offline") / "static"
_OURS = resources.files("safeclass.web") / "static"
# name -> (file, media type): only these, so no other file can be asked for.
ASSETS: dict[str, tuple[Traversable, str]] = {
    "swagger-ui-bundle.js": (_SWAGGER / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (_SWAGGER / "swagger-ui.css", "text/css"),
    "favicon.png": (_SWAGGER / "favicon.png", "image/png"),
    "api-docs.js": (_OURS / "api-docs.js", "text/javascript"),
}
_HEADERS = {"Content-Security-Policy": DOCS_CSP, "X-Content-Type-Options": "nosniff"}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>safeclass API</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/api-docs.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
async def docs_page() -> HTMLResponse:
    return HTMLResponse(_PAGE, headers=_HEADERS)


@router.get("/docs/assets/{name}")
async def docs_asset(name: str) -> Response:
    found = ASSETS.get(name)
    if found is None:
        raise HTTPException(404, "Not Found")
    headers = {**_HEADERS, "Cache-Control": "public, max-age=86400"}
    return Response(_content(name), media_type=found[1], headers=headers)


@functools.cache
def _content(name: str) -> bytes:
    return ASSETS[name][0].read_bytes()
