"""The server's secret: one random key in a file only the server's user can read, and named keys
derived from it.

Whoever can write the database can rewrite anything whose integrity is checked with public
arithmetic alone (a plain SHA-256 chain can simply be recomputed). So the integrity of the
records rests on a key kept *outside* the database: `DATA_DIR/secret.key` (or the file named by
SAFECLASS_SECRET_FILE), made once with mode 0600 and read by the server and by the CLI. Each
use gets its own key derived from it by name (`derive("log-chain")`), so one purpose's key
never serves another. Losing the file does not lose records, but nothing written with it can be
proved intact any more: back it up apart from the database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

ENV_SECRET_FILE = "SAFECLASS_SECRET_FILE"  # noqa: S105 (the variable's name, not a secret)
FILE_NAME = "secret.key"
_HEADER = "# safeclass server secret: keep it apart from the database backups; never share it\n"


class SecretFileError(Exception):
    """The secret file is missing, unreadable, malformed or readable by other users."""


def secret_path(data_dir: str | Path, explicit: str | Path | None = None) -> Path:
    """Where the secret lives: `explicit`, else SAFECLASS_SECRET_FILE, else DATA_DIR/secret.key."""
    chosen = explicit or os.environ.get(ENV_SECRET_FILE)
    return Path(chosen) if chosen else Path(data_dir) / FILE_NAME


@dataclass(frozen=True, slots=True)
class ServerSecret:
    """The master key (never printed) and where it came from."""

    path: Path
    _master: bytes = field(repr=False)
    created: bool = False  # made just now by `load_or_create`

    def derive(self, name: str) -> bytes:
        """The 32-byte key for one purpose, e.g. `derive("log-chain")`."""
        return hmac.new(self._master, b"safeclass key:" + name.encode(), hashlib.sha256).digest()

    @classmethod
    def load(cls, path: Path) -> ServerSecret:
        """Read an existing secret; a clear error if it is missing or others can read it."""
        try:
            info = path.stat()
        except FileNotFoundError:
            raise SecretFileError(
                f"no server secret at {path}: the server makes it on its first start; "
                f"point --data-dir (or {ENV_SECRET_FILE}) at the server's"
            ) from None
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretFileError(
                f"the server secret {path} can be read by other users "
                f"(mode {stat.S_IMODE(info.st_mode):o}); run: chmod 600 {path}"
            )
        lines = [
            line.strip()
            for line in path.read_text(encoding="ascii", errors="replace").splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        try:
            master = bytes.fromhex(lines[0]) if len(lines) == 1 else b""
        except ValueError:
            master = b""
        if len(master) < 32:
            raise SecretFileError(f"the server secret {path} is not a safeclass secret file")
        return cls(path, master)

    @classmethod
    def load_or_create(cls, path: Path) -> ServerSecret:
        """Read the secret, or make it (0600, written whole before it appears) if there is none.

        Two processes starting together agree: the file is linked into place only if absent,
        so the second reads the first's.
        """
        if path.exists():
            return cls.load(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(_HEADER + secrets.token_hex(32) + "\n")
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(temp, path)
            except FileExistsError:
                return cls.load(path)
        finally:
            temp.unlink(missing_ok=True)
        return ServerSecret(path, cls.load(path)._master, created=True)
