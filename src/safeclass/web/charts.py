"""Charts drawn on the server as inline SVG (C19), for the head teacher's view.

Made for the pages' strict Content-Security-Policy: no script, no `style` attribute, no
inline `<style>`; every colour and pattern comes from site.css through class names (`.chart
.s-0` …). Accessible by construction:
- each chart is `role="img"` with a `<title>` and a `<desc>` that say what it shows, and the
  page puts the same figures in a table beside it (and a CSV to download);
- no meaning by colour alone: each series has its own pattern (solid, hatched, dotted, plain
  outline) as well as its colour, the legend shows the same swatches with words, and each bar
  ends with its figure in words.
The patterns live once per page (`pattern_defs`), since CSS can only name a pattern by its id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640
NARROW_WIDTH = 340  # for a phone: the labels above the bars
FIGURE_WIDTH = 70  # the figure at the end of each bar
ROW = 30
BAR = 20
AXIS = 26


@dataclass(frozen=True, slots=True)
class Series:
    name: str  # in the legend
    css: str  # s-0 … s-3: the colour and pattern in site.css


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    values: tuple[int, ...]  # one per series
    figure: str  # what the bar's end says ("92%", "14")


def _text(x: float, y: float, words: str, css: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{css}" text-anchor="{anchor}">{escape(words)}</text>'
    )


def _legend(series: Sequence[Series], width: float) -> tuple[list[str], float]:
    """The legend's swatches and words, wrapped to `width`; and the height it takes."""
    out: list[str] = []
    if len(series) < 2:
        return out, 8.0
    x, y = 0.0, 6.0
    for s in series:
        wide = 34 + 8.5 * len(s.name)
        if x and x + wide > width:
            x, y = 0.0, y + 26
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="18" height="18" class="swatch {s.css}">')
        out.append("</rect>")
        out.append(_text(x + 24, y + 14, s.name, "chart-legend"))
        x += wide
    return out, y + 28


def stacked_bars(
    chart_id: str,
    title: str,
    description: str,
    series: Sequence[Series],
    bars: Sequence[Bar],
    *,
    share: bool = True,
    narrow: bool = False,
    axis_words: tuple[str, str, str] = ("0%", "50%", "100%"),
) -> Markup:
    """Horizontal bars, one per row; with `share`, each bar is its row's total split by series
    (a 100% bar), else bars of one series drawn against the largest value. `narrow` draws for a
    phone: each row's label and figure above its bar, the bar the whole width."""
    width = NARROW_WIDTH if narrow else WIDTH
    label_width = (
        0.0 if narrow else min(max((8.2 * len(b.label) for b in bars), default=0) + 16, 260)
    )
    figure_width = 0.0 if narrow else FIGURE_WIDTH
    row = ROW + (20 if narrow else 0)
    legend, top = _legend(series, width)
    span = width - label_width - figure_width
    height = top + row * max(len(bars), 1) + AXIS
    largest = max((sum(b.values) for b in bars), default=0) or 1
    out = [
        f'<svg class="chart{" narrow" if narrow else ""}" id="{chart_id}" '
        f'viewBox="0 0 {width} {height:.0f}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        *legend,
    ]
    for i, bar in enumerate(bars):
        y = top + i * row + (20 if narrow else 0)
        if narrow:
            out.append(_text(0, y - 6, bar.label, "chart-label"))
            out.append(_text(width, y - 6, bar.figure, "chart-figure", "end"))
        else:
            out.append(_text(label_width - 8, y + BAR - 5, bar.label, "chart-label", "end"))
        total = sum(bar.values) if share else largest
        left = label_width
        for value, s in zip(bar.values, series, strict=True):
            if not value or not total:
                continue
            wide = span * value / total
            out.append(
                f'<rect x="{left:.1f}" y="{y:.1f}" width="{wide:.1f}" height="{BAR}" '
                f'class="bar {s.css}"><title>{escape(bar.label)}: {escape(s.name)} {value}'
                "</title></rect>"
            )
            left += wide
        if not narrow:
            end = label_width + span if share else left
            out.append(_text(end + 6, y + BAR - 5, bar.figure, "chart-figure"))
    base = top + row * max(len(bars), 1)
    out.append(
        f'<line x1="{label_width:.1f}" y1="{base - 6:.1f}" x2="{label_width + span:.1f}" '
        f'y2="{base - 6:.1f}" class="chart-axis"></line>'
    )
    if share:
        for fraction, words in zip((0.0, 0.5, 1.0), axis_words, strict=True):
            anchor = ("start", "middle", "end")[int(fraction * 2)]
            out.append(_text(label_width + span * fraction, base + 12, words, "chart-tick", anchor))
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every word in it went through escape()


def pattern_defs() -> Markup:
    """The patterns the series use (once per page; site.css fills with `url(#chart-hatch)`…)."""
    return Markup(
        '<svg class="chart-defs" width="0" height="0" aria-hidden="true" focusable="false" '
        'xmlns="http://www.w3.org/2000/svg"><defs>'
        '<pattern id="chart-hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="8" height="8" class="hatch-ground"></rect>'
        '<rect width="3" height="8" class="hatch-line"></rect></pattern>'
        '<pattern id="chart-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="6" class="dots-ground"></rect>'
        '<circle cx="3" cy="3" r="1.4" class="dots-dot"></circle></pattern>'
        "</defs></svg>"
    )
