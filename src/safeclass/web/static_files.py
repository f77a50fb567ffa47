"""`/static/{name}`: the pages' own style sheet and ES modules, served by this server.

No build step and nothing from another host: the files in `static/` are served as they are.
Only the `.css` and `.js` files found there when the server starts can be asked for (a fixed
table, so no path can reach anything else). Each answer carries an ETag; pages link the files
as `/static/NAME?v=HASH` (`static_url`), so a changed file is fetched again at once while an
unchanged one is kept a day.
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
    headers = {"ETag": etag, "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)
