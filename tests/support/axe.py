"""axe-core, run inside a page in Chromium, for the browser tests and the browser scenarios.

axe-core comes from npm (`tests/e2e/npm`, installed by `scripts/install --dev`) and is put into
the page with `page.evaluate` of its text: the page's policy stays as strict as it is, and the
server never serves it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE = (
    Path(__file__).resolve().parents[1] / "e2e" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
)


async def serious_problems(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (axe must be there:
    check `AXE.exists()` first)."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text() + "\n;0")  # run by the browser's devtools, not a tag
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const result = await window.axe.run(document, { resultTypes: ["violations"] });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                where: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
            }));
        }"""
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['where']}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
