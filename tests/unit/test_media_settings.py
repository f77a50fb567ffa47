"""Media settings from the environment and flags: auto by default, external Janus as a pool."""

from __future__ import annotations

import uuid

import pytest

from safeclass.settings import Settings


def test_media_is_auto_from_the_environment_and_off_for_settings_built_in_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SAFECLASS_MEDIA", raising=False)
    assert Settings.from_env().media is None  # safeclass serve: on where janus can run
    assert Settings.from_env(media=False).media is False  # --no-media
    monkeypatch.setenv("SAFECLASS_MEDIA", "off")
    assert Settings.from_env().media is False
    assert Settings.from_env(media=True).media is True  # a flag wins over the environment
    monkeypatch.setenv("SAFECLASS_MEDIA", "maybe")
    with pytest.raises(ValueError, match="on, off or auto"):
        Settings.from_env()


def test_external_janus_servers_their_secrets_and_the_local_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAFECLASS_JANUS_URLS", "ws://10.0.0.5:8188/, wss://sfu2.example/janus")
    secret = uuid.uuid4().hex
    monkeypatch.setenv("SAFECLASS_JANUS_API_SECRET", secret)
    monkeypatch.setenv("SAFECLASS_JANUS_RTP_PORTS", "30000-30999")
    monkeypatch.setenv("SAFECLASS_JANUS_PUBLIC_IP", "203.0.113.7")
    settings = Settings.from_env()
    assert settings.janus_urls == ("ws://10.0.0.5:8188/", "wss://sfu2.example/janus")
    assert settings.janus_api_secret == secret
    assert secret not in repr(settings)
    assert settings.janus_rtp_ports == (30000, 30999)
    assert settings.janus_public_ip == "203.0.113.7"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SAFECLASS_JANUS_URLS", "http://10.0.0.5:8088/janus", "ws:// or wss://"),
        ("SAFECLASS_JANUS_RTP_PORTS", "40000-20000", "like 20000-40000"),
        ("SAFECLASS_JANUS_RTP_PORTS", "many", "like 20000-40000"),
    ],
)
def test_bad_media_settings_are_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        Settings.from_env()
