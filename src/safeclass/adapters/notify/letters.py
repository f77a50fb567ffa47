"""Invitation letters as files, for schools with no email or messaging platform set up (and the
demo): each family's letter (the invitation email's words), with its child's own link, to print or
copy.

A server with neither SMTP nor a webhook writes every link it sends as a letter in
`DATA_DIR/letters/<session id>/<shown name>-<pupil>.txt` (the folder 0700, each letter 0600:
the link is the pupil's key to the waiting room). Staff find them with `safeclass session links`.
A letter is rewritten whenever its pupil gets a new link, so the file always holds the newest;
a link stops working 15 minutes after the session ends, and its letter is then harmless.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from safeclass.adapters.notify.mail import invitation_text
from safeclass.app.delivery import Letter

FOLDER = "letters"
_LINK = re.compile(r"/join/([A-Za-z0-9_-]+)")
_ADDRESS = re.compile(r"(https?://\S+?)/join/[A-Za-z0-9_-]+")
_UNSAFE = re.compile(r"[^\w-]+")


def letters_folder(data_dir: Path) -> Path:
    return data_dir / FOLDER


def letter_path(folder: Path, session_id: str, pupil_id: str, shown_name: str) -> Path:
    """Where one pupil's letter for one session is (whether or not it has been written)."""
    name = _UNSAFE.sub("_", shown_name).strip("_") or "pupil"
    return folder / session_id / f"{name}-{pupil_id[:8]}.txt"


def token_in(path: Path) -> str | None:
    """The link's token in a letter, if there is a letter there with a link in it."""
    try:
        found = _LINK.search(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    return found.group(1) if found else None


class LetterFolder:
    """Implements `LetterChannel`: writes each letter to a file in the letters folder."""

    name = "letters"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def reaches(self, letter: Letter) -> bool:
        return True  # every family can be handed a printed letter

    def path(self, letter: Letter) -> Path:
        return letter_path(self.folder, letter.session_id, letter.pupil_id, letter.shown_name)

    async def deliver(self, letter: Letter) -> None:
        path = self.path(letter)
        for folder in (self.folder, path.parent):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.new")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(invitation_text(letter))
        os.replace(temp, path)  # a reader sees the old letter or the new one, never half


def address_in(folder: Path) -> str | None:
    """The server's public address as the links in a session's letters show it, if any."""
    for path in sorted(folder.glob("*.txt")) if folder.is_dir() else ():
        try:
            found = _ADDRESS.search(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        if found:
            return found.group(1)
    return None
