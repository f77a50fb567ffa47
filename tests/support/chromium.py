"""Debian's Chromium as every browser test, browser scenario and browser bench runs it: one
list of flags (nothing from another host: every name but 127.0.0.1 resolves to nothing), the
fake camera, microphone and screen on top where media is wanted, and one way to launch it.
"""

from __future__ import annotations

from collections.abc import Sequence

from playwright.async_api import Browser, Playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
MEDIA_FLAGS = [
    *FLAGS,
    "--use-fake-ui-for-media-stream",  # the browser's camera/screen question answers yes
    "--use-fake-device-for-media-stream",  # a test picture, a beep, a fake screen capture
]


async def launch(playwright: Playwright, flags: Sequence[str] = FLAGS) -> Browser:
    """Headless Debian Chromium with `flags`."""
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=list(flags)
    )
