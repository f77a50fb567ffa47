"""A worker of a cluster is told so by its worker id, and a cluster needs PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeclass.settings import Settings


def test_a_worker_id_on_sqlite_is_refused_with_what_to_do(tmp_path: Path):
    with pytest.raises(ValueError, match="a cluster of workers needs PostgreSQL"):
        Settings(
            data_dir=tmp_path,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'db'}",
            worker_id="w1",
        )


def test_one_process_is_not_a_cluster_and_a_worker_is_reached_where_it_listens(tmp_path: Path):
    one = Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'db'}")
    assert not one.clustered
    worker = Settings(
        data_dir=tmp_path,
        database_url="postgresql+asyncpg://db/safeclass",
        worker_id="w2",
        host="10.0.0.12",
        port=8001,
    )
    assert worker.clustered and worker.peer_url == "http://10.0.0.12:8001"


def test_the_environment_names_the_worker_and_its_lease(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SAFECLASS_DATABASE_URL", "postgresql://db/safeclass")
    monkeypatch.setenv("SAFECLASS_WORKER_ID", "w3")
    monkeypatch.setenv("SAFECLASS_INTERNAL_URL", "http://10.0.0.13:8000")
    monkeypatch.setenv("SAFECLASS_LEASE_SECONDS", "1.5")
    settings = Settings.from_env(data_dir=tmp_path)
    assert settings.worker_id == "w3"
    assert settings.peer_url == "http://10.0.0.13:8000"
    assert settings.lease_seconds == 1.5
