"""The head's charts (C19): SVG the pages' strict policy allows, that says what it shows."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from safeclass.web.charts import Bar, Series, pattern_defs, stacked_bars

SERIES = [Series("On time", "s-0"), Series("Late", "s-1")]
SVG = "{http://www.w3.org/2000/svg}"


# covers: C19
def test_a_chart_is_an_image_with_a_title_a_description_and_every_figure_in_words():
    bars = [Bar("Week of 2 Nov", (6, 2), "75%"), Bar("<script>", (0, 0), "0%")]
    svg = str(stacked_bars("c", "Attendance by week", "The share who came.", SERIES, bars))
    root = ET.fromstring(svg)  # noqa: S314 - our own output: well-formed, every name escaped
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{SVG}title").text == "Attendance by week"
    assert root.find(f"{SVG}desc").text == "The share who came."
    words = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Week of 2 Nov", "75%", "<script>", "On time", "Late"} <= set(words)
    bars_drawn = [r for r in root.iter(f"{SVG}rect") if "bar" in r.get("class", "")]
    assert [r.get("class") for r in bars_drawn] == ["bar s-0", "bar s-1"]  # nothing for zero
    on_time, late = (float(r.get("width") or 0) for r in bars_drawn)
    assert abs(on_time - 3 * late) < 0.5  # 6 to 2


# covers: C19
def test_no_chart_carries_a_style_the_pages_policy_would_block():
    for narrow in (False, True):
        svg = str(stacked_bars("c", "t", "d", SERIES, [Bar("a", (1, 1), "1")], narrow=narrow))
        assert "style" not in svg and "fill=" not in svg and "<script" not in svg
    assert "style" not in str(pattern_defs())
