"""The two layout rules every browser test checks on every page state it looks at: the page
never scrolls sideways (WCAG 1.4.10, reflow), and the controls shown are targets big enough for
a child's finger (the project's 44 px; WCAG 2.5.8 asks 24).
"""

from __future__ import annotations

from playwright.async_api import Page


async def assert_fits(
    page: Page,
    name: str,
    *,
    controls: str = "a, button, input",
    minimum: int = 44,
    in_text: bool = False,
) -> None:
    """Fail when the page scrolls sideways, or when a shown control (a CSS selector list) is
    under `minimum` px wide or high. Links and buttons inside a paragraph are left out unless
    `in_text` (WCAG's exception for a target in a sentence)."""
    wide = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wide, f"{name}: the page scrolls sideways"
    small = await page.evaluate(
        """([controls, minimum, inText]) => [...document.querySelectorAll(controls)]
            .filter(e => e.offsetParent !== null && e.type !== 'hidden')
            .filter(e => inText || !e.closest('p'))
            .map(e => [e.textContent.trim() || e.id, e.getBoundingClientRect()])
            .filter(([, r]) => r.width < minimum || r.height < minimum)
            .map(([what, r]) => `${what}: ${Math.round(r.width)}×${Math.round(r.height)}`)""",
        [controls, minimum, in_text],
    )
    assert small == [], f"{name}: targets under {minimum} px: {small}"
