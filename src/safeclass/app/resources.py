"""A lesson's resources (C15): links and files its pupils can open from their link beforehand.

A link is an http or https address, nothing else (no `javascript:`, no `file:`). A file is one of
a few kinds a school hands out (PDF, PNG, JPEG, plain text, Word and PowerPoint), at most 10 MB,
and it must be what its name says: the first bytes are checked, and the type the server sends it
back with is the server's own, never the uploader's. Files are kept under the server's data
folder by a random name, never run, never shown by the browser as a page: they go out as
downloads (`attachment`, `nosniff`), to the session's own pupils and the staff who reach it.

Resources are the lesson's records, not the room's events: they are kept in their own table (who
added each and when, who removed it and when), not in the session's hash-chained event log, which
only the live room writes. The register's PDF and CSV list them from there, beside the log.
The rows are read and written through `ResourceRows` (on the database:
`safeclass.adapters.store.resources`, `Services.resources`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

MAX_BYTES = 10 * 1024 * 1024
MAX_TITLE = 200
MAX_URL = 2000
FOLDER = "resources"


@dataclass(frozen=True, slots=True)
class FileKind:
    content_type: str
    magic: tuple[bytes, ...]  # the file starts with one of these (empty: plain text)


_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_ZIP = (b"PK\x03\x04",)
KINDS: dict[str, FileKind] = {
    ".pdf": FileKind("application/pdf", (b"%PDF-",)),
    ".png": FileKind("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": FileKind("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": FileKind("image/jpeg", (b"\xff\xd8\xff",)),
    ".txt": FileKind("text/plain; charset=utf-8", ()),
    ".docx": FileKind(_DOCX, _ZIP),
    ".pptx": FileKind(_PPTX, _ZIP),
}
_UNSAFE_NAME = re.compile(r"[^\w.\- ]+")


class ResourceRefusedError(ValueError):
    """What is wrong with a resource, as codes the page words (nothing is saved)."""

    def __init__(self, codes: list[tuple[str, str]]) -> None:
        self.codes = codes  # (field, code)
        super().__init__(", ".join(code for _, code in codes))


class NoSuchResourceError(LookupError):
    """Not a resource of this session (or removed): the same for both."""


@dataclass(frozen=True, slots=True)
class Resource:
    id: str
    title: str
    url: str | None
    filename: str | None
    content_type: str | None
    size_bytes: int | None
    added_by: str  # the staff member's name
    added_at: dt.datetime
    removed_by: str | None = None
    removed_at: dt.datetime | None = None
    stored_name: str | None = None

    @property
    def is_file(self) -> bool:
        return self.url is None


@dataclass(frozen=True, slots=True)
class NewResource:
    """A link (`url`) or a kept file (`filename`, `content_type`, `size_bytes`, `stored_name`)
    added to a lesson by a member of staff."""

    id: str
    school_id: str
    session_id: str
    added_by: str  # the staff member's id
    added_at: dt.datetime
    title: str
    url: str | None = None
    filename: str | None = None
    content_type: str | None = None
    size_bytes: int | None = None
    stored_name: str | None = None


class ResourceRows(Protocol):
    """The lessons' resources as the records hold them (the files are this module's)."""

    async def add(self, resource: NewResource) -> None:
        """Record a resource, in its own transaction."""

    async def remove(
        self, session_id: str, resource_id: str, staff_id: str, now: dt.datetime
    ) -> str | None:
        """Mark one of the session's resources on offer as removed (by whom, when), in one
        transaction; the name its file is kept under (None: a link). NoSuchResourceError if
        the session has no such resource on offer."""

    async def resources_of(
        self, conn: AsyncConnection, session_id: str, *, with_removed: bool = False
    ) -> list[Resource]:
        """The session's resources in the order they were added (the removed ones too, if
        asked), with the names of the staff who added and removed them."""

    async def resource(self, session_id: str, resource_id: str) -> Resource | None:
        """One of the session's resources on offer; None otherwise."""


def folder_of(data_dir: Path) -> Path:
    return data_dir / FOLDER


def check_link(title: str, url: str) -> tuple[str, str]:
    """The title and address to keep, or ResourceRefusedError."""
    title, url = " ".join(title.split()), url.strip()
    problems: list[tuple[str, str]] = []
    if len(title) > MAX_TITLE:
        problems.append(("link-title", "title_long"))
    if not url:
        problems.append(("url", "url_missing"))
    elif len(url) > MAX_URL or not _web_address(url):
        problems.append(("url", "url_bad"))
    if problems:
        raise ResourceRefusedError(problems)
    return title or url, url


def _web_address(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url


def check_file(title: str, filename: str, data: bytes) -> tuple[str, str, FileKind]:
    """The title, the safe file name and its kind, or ResourceRefusedError. `data` may hold
    one byte more than the limit (so a file too large is known without reading it all)."""
    title = " ".join(title.split())
    name = safe_name(filename)
    problems: list[tuple[str, str]] = []
    if len(title) > MAX_TITLE:
        problems.append(("file-title", "title_long"))
    kind = KINDS.get(Path(name).suffix.lower())
    if not filename or not data:
        problems.append(("file", "file_missing"))
    elif len(data) > MAX_BYTES:
        problems.append(("file", "file_large"))
    elif kind is None or not _looks_like(kind, data):
        problems.append(("file", "file_type"))
    if problems or kind is None:
        raise ResourceRefusedError(problems or [("file", "file_type")])
    return title or name, name, kind


def _looks_like(kind: FileKind, data: bytes) -> bool:
    if kind.magic:
        return data.startswith(kind.magic)
    if b"\x00" in data:  # plain text: readable UTF-8, nothing binary
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def safe_name(filename: str) -> str:
    """A file name to show and to download as: no folders, no odd characters, not too long."""
    base = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE_NAME.sub("-", base).strip(" .-")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = stem[: 150 - len(ext)]
    return (f"{stem}.{ext}" if ext else stem) or "file"


async def add_link(
    rows: ResourceRows,
    *,
    school_id: str,
    session_id: str,
    staff_id: str,
    title: str,
    url: str,
    now: dt.datetime,
) -> str:
    title, url = check_link(title, url)
    return await _insert(
        rows,
        school_id=school_id,
        session_id=session_id,
        staff_id=staff_id,
        now=now,
        title=title,
        url=url,
    )


async def add_file(
    rows: ResourceRows,
    data_dir: Path,
    *,
    school_id: str,
    session_id: str,
    staff_id: str,
    title: str,
    filename: str,
    data: bytes,
    now: dt.datetime,
) -> str:
    """Keep an uploaded file (checked first: nothing is written for one refused)."""
    title, name, kind = check_file(title, filename, data)
    folder = folder_of(data_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored = uuid.uuid4().hex
    path = folder / stored
    path.write_bytes(data)
    path.chmod(0o600)
    try:
        return await _insert(
            rows,
            school_id=school_id,
            session_id=session_id,
            staff_id=staff_id,
            now=now,
            title=title,
            filename=name,
            content_type=kind.content_type,
            size_bytes=len(data),
            stored_name=stored,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise


async def _insert(
    rows: ResourceRows,
    *,
    school_id: str,
    session_id: str,
    staff_id: str,
    now: dt.datetime,
    title: str,
    url: str | None = None,
    filename: str | None = None,
    content_type: str | None = None,
    size_bytes: int | None = None,
    stored_name: str | None = None,
) -> str:
    resource_id = str(uuid.uuid4())
    await rows.add(
        NewResource(
            id=resource_id,
            school_id=school_id,
            session_id=session_id,
            added_by=staff_id,
            added_at=now,
            title=title,
            url=url,
            filename=filename,
            content_type=content_type,
            size_bytes=size_bytes,
            stored_name=stored_name,
        )
    )
    return resource_id


async def remove(
    rows: ResourceRows,
    data_dir: Path,
    *,
    session_id: str,
    resource_id: str,
    staff_id: str,
    now: dt.datetime,
) -> None:
    """Stop offering a resource: its row stays (for the register), its file is deleted."""
    stored_name = await rows.remove(session_id, resource_id, staff_id, now)
    if stored_name:
        (folder_of(data_dir) / stored_name).unlink(missing_ok=True)


async def file_of(
    rows: ResourceRows, data_dir: Path, session_id: str, resource_id: str
) -> tuple[Resource, Path]:
    """A file resource of this session and where it is; NoSuchResourceError otherwise (a link,
    a removed one, another session's: the same)."""
    found = await rows.resource(session_id, resource_id)
    if found is None or found.stored_name is None:
        raise NoSuchResourceError(resource_id)
    path = folder_of(data_dir) / found.stored_name
    if not path.is_file():
        raise NoSuchResourceError(resource_id)
    return found, path
