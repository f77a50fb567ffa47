"""A family tells the school from their link and the teacher sees it, in a real browser (C23,
CRO-16; issue 11): the parent sends the form on a phone, the thank-you names who will see it,
the teacher's home says a family has told the school something, its link opens the lesson's
page at "Told by families", and the pupil's line says it too. Then in Welsh. Screenshots go to
SAFECLASS_E2E_SCREENS when it is set.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import Site
from tests.e2e.family_pages import parent_on_a_phone, teacher_at_a_desk
from tests.e2e.test_schedule_pages import shot

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


# covers: C23, CRO-16, C18
@pytest.mark.parametrize(
    ("locale", "forename", "words"),
    [
        (
            "en-GB",
            "Isla",
            {
                "absent": "My child will not be there (absent or unwell)",
                "note": "Anything else",
                "send": "Tell the school",
                "thanks": "Mrs Khan (teacher) and Mr Lee (teaching assistant) will see this on "
                "the lesson's page before it starts.",
                "home": "1 family has told the school something about today's lessons.",
                "heading": "Told by families",
                "said": "Will not be there (absent or unwell)",
                "beside": "Their family says: Will not be there (absent or unwell)",
            },
        ),
        (
            "cy-GB",
            "Oliver",
            {
                "absent": "Fydd fy mhlentyn ddim yno (yn absennol neu'n sâl)",
                "note": "Unrhyw beth arall",
                "send": "Dweud wrth yr ysgol",
                "thanks": "Bydd Mrs Khan (athro) a Mr Lee (cynorthwyydd addysgu) yn gweld hyn ar "
                "dudalen y wers cyn iddi ddechrau.",
                "home": "wedi dweud rhywbeth wrth yr ysgol am wersi heddiw.",
                "heading": "Yr hyn mae teuluoedd wedi'i ddweud",
                "said": "Fydd ddim yno (yn absennol neu'n sâl)",
                "beside": "Mae eu teulu'n dweud: Fydd ddim yno (yn absennol neu'n sâl)",
            },
        ),
    ],
)
async def test_a_family_tells_the_school_and_the_teacher_sees_it_on_the_lessons_page(
    browser: Browser, site: Site, locale: str, forename: str, words: dict[str, str]
):
    language = locale[:2]
    async with parent_on_a_phone(browser, site, locale, forename) as parent:
        await parent.get_by_label(words["absent"]).check()
        await parent.get_by_label(words["note"]).fill(f"{forename} has a cold.")
        await parent.get_by_role("button", name=words["send"]).click()
        await expect(parent.locator("main")).to_contain_text(words["thanks"])
        await shot(parent, f"family-told-{language}")

    async with teacher_at_a_desk(browser, site, locale) as teacher:
        told = teacher.locator(".told[role=status]")
        await expect(told).to_contain_text(words["home"])
        await shot(teacher, f"home-told-{language}")
        await told.get_by_role("link", name="Year 2 Maths").click()
        section = teacher.locator("section.told")
        await expect(section.get_by_role("heading", name=words["heading"])).to_be_visible()
        await expect(section).to_contain_text(forename)
        await expect(section).to_contain_text(words["said"])
        await expect(section).to_contain_text(f"“{forename} has a cold.”")
        line = teacher.locator(".pupil-line", has_text=forename)
        await expect(line.locator(".told-beside")).to_contain_text(words["beside"])
        await shot(teacher, f"lesson-told-{language}")
