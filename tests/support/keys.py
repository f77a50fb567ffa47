"""Log-chain keys for tests that write the event log directly, as the server would with its own.

`TEST_CHAIN_KEY` is a fixed key for tests of the log alone; `chain_key_for(data_dir)` is the key
of the secret a server or the CLI would use in that data directory (made if there is none), for
tests whose records a CLI command then reads, writes or verifies.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from safeclass.adapters.server_secret import ServerSecret, secret_path
from safeclass.adapters.store.event_log import CHAIN_KEY

TEST_CHAIN_KEY = hashlib.sha256(b"safeclass tests: the log-chain key").digest()


def server_secret(data_dir: Path) -> ServerSecret:
    return ServerSecret.load_or_create(secret_path(data_dir))


def chain_key_for(data_dir: Path) -> bytes:
    return server_secret(data_dir).derive(CHAIN_KEY)
