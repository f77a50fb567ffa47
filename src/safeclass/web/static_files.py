"""`/static/{name}`: the pages' own style sheet and ES modules, served by this server.

No build step and nothing from another host: the files in `static/` are served as they are.
Only the `.css` and `.js` files found there when the server starts can be asked for (a fixed
table, so no path can reach anything else). Each answer carries an ETag. Pages link their
entry files as `/static/NAME?v=HASH` (`static_url`): such an address names one content for
ever, so it is kept a year. The modules those import by plain name (`./room-client.js`) have
no hash in their address, so the browser must ask again each time (`no-cache`: a cheap 304
while unchanged): otherwise, after an upgrade, a new `pupil.js` could run for a day beside an
old `room-client.js` from the cache.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

_FOLDER = resources.files("safeclass.web") / "static"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@functools.cache
def assets() -> dict[str, tuple[bytes, str, str]]:
    """name -> (content, media type, short hash) for every file we serve."""
    found: dict[str, tuple[bytes, str, str]] = {}
    for entry in _FOLDER.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in _TYPES:
            content = entry.read_bytes()
            found[entry.name] = (
                content,
                _TYPES[suffix],
                hashlib.sha256(content).hexdigest()[:12],
            )
    return found


def static_url(name: str) -> str:
    """The address of one of our files, changing whenever its content does."""
    return f"/static/{name}?v={assets()[name][2]}"


@router.get("/static/{name}")
async def static_file(name: str, request: Request) -> Response:
    found = assets().get(name)
    if found is None:
        raise HTTPException(404, "Not Found")
    content, media_type, digest = found
    etag = f'"{digest}"'
    versioned = request.query_params.get("v") == digest
    cache = "public, max-age=31536000, immutable" if versioned else "no-cache"
    headers = {"ETag": etag, "Cache-Control": cache}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)
