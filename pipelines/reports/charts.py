"""Small SVG charts written by hand: horizontal bar charts and a line chart.

Written here rather than with matplotlib: the report needs a few bar and line charts,
and plain SVG text is deterministic, scales with the page, needs no font files and no
network to open, and adds no dependency (matplotlib's SVG backend would add ~40 MB and
~1 s of import for charts this simple). Text in the SVG uses the page's font stack.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

INK, MUTED, GRID, AXIS = "#1f2937", "#6b7280", "#e5e7eb", "#9ca3af"
PALETTE = (
    "#2563eb",
    "#0d9488",
    "#d97706",
    "#7c3aed",
    "#dc2626",
    "#0891b2",
    "#65a30d",
    "#db2777",
    "#4b5563",
    "#92400e",
)
HIGHLIGHT, BASE = "#2563eb", "#94a3b8"
ZERO_BASED_SPREAD = 0.02
"""A line chart's y axis starts at zero when the data spread is below this fraction of the largest
value."""
CHAR_PX = 6.8
"""Average width of a character at the charts' 12 px font, for laying out labels."""


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    """None: no bar, `text` says why (e.g. infeasible)."""
    text: str
    """Shown after the bar (the value, formatted with its unit)."""
    color: str = HIGHLIGHT


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[float, float]]
    color: str = HIGHLIGHT


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2 or 5 × 10^k."""
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9) * step
    ticks = [first]
    while ticks[-1] < high - 1e-9 * step:
        ticks.append(ticks[-1] + step)
    return [round(t, 12) for t in ticks]


def tick_text(value: float, digits: int = 6) -> str:
    """A number with a scale suffix, to `digits` significant digits: 1.5M, 20k, 0.12."""
    size = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{value / limit:.{digits}g}{suffix}"
    return f"{value:.{min(digits, 4)}g}"


def _text(
    x: float,
    y: float,
    content: str,
    size: int = 12,
    anchor: str = "start",
    color: str = INK,
    weight: str = "normal",
    extra: str = "",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{color}" '
        f'font-weight="{weight}"{extra}>{escape(content)}</text>'
    )


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{escape(title)}" '
        f'font-family="inherit"><title>{escape(title)}</title>'
        f'<rect width="100%" height="100%" fill="#ffffff"/>' + "".join(body) + "</svg>"
    )


def bar_chart(
    title: str,
    bars: list[Bar],
    axis_label: str,
    log_scale: bool = False,
    width: int = 560,
    legend: list[tuple[str, str]] | None = None,
) -> str:
    """Horizontal bars, one per row, with the value text after each bar and a labelled value axis.

    `log_scale`: a log₁₀ axis (for values spanning orders of magnitude, e.g. cost per token
    across systems); it needs every value > 0. `legend`: (colour, name) pairs.
    """
    label_px = min(max((len(b.label) for b in bars), default=4) * CHAR_PX + 12, width * 0.42)
    text_px = max((len(b.text) for b in bars), default=4) * CHAR_PX + 10
    left, right = label_px, width - text_px
    top = 34 + (20 if legend else 0)
    row = 26
    plot_height = row * len(bars)
    height = top + plot_height + 48
    values = [b.value for b in bars if b.value is not None and (b.value > 0 or not log_scale)]
    if log_scale and values:
        low_exp, high_exp = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
        high_exp = max(high_exp, low_exp + 1)
        ticks = [10.0**e for e in range(low_exp, high_exp + 1)]

        def scale(v: float) -> float:
            return left + (math.log10(v) - low_exp) / (high_exp - low_exp) * (right - left)

        base = left
    else:
        ticks = nice_ticks(min([0.0, *values]), max([0.0, *values]) or 1.0)

        def scale(v: float) -> float:
            return left + (v - ticks[0]) / (ticks[-1] - ticks[0]) * (right - left)

        base = scale(0.0)
    body = [_text(0, 18, title, size=14, weight="bold")]
    if legend:
        body += _legend(legend, top=28)
    for t in ticks:
        x = scale(t)
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + plot_height}" '
            f'stroke="{GRID}"/>'
        )
        body.append(
            _text(x, top + plot_height + 16, tick_text(t), size=11, anchor="middle", color=MUTED)
        )
    for i, b in enumerate(bars):
        y = top + i * row
        body.append(_text(left - 8, y + row / 2 + 4, b.label, anchor="end"))
        if b.value is None or (log_scale and b.value <= 0):
            body.append(
                _text(
                    left + 4,
                    y + row / 2 + 4,
                    b.text,
                    size=11,
                    color=MUTED,
                    extra=' font-style="italic"',
                )
            )
            continue
        x0, x1 = sorted((base, scale(b.value)))
        body.append(
            f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 1.5):.1f}" '
            f'height="{row - 10}" rx="2" '
            f'fill="{b.color}"><title>{escape(b.label)}: {escape(b.text)}</title></rect>'
        )
        body.append(_text(x1 + 6, y + row / 2 + 4, b.text, size=11, color=INK))
    body.append(
        f'<line x1="{base:.1f}" y1="{top - 4}" x2="{base:.1f}" y2="{top + plot_height}" '
        f'stroke="{AXIS}"/>'
    )
    scale_note = " (log scale)" if log_scale else ""
    body.append(
        _text(
            (left + right) / 2,
            height - 8,
            axis_label + scale_note,
            size=11,
            anchor="middle",
            color=MUTED,
        )
    )
    return _svg(width, height, title, body)


def _legend(entries: list[tuple[str, str]], top: float) -> list[str]:
    """A row of colour swatches and names from the left edge, swatches `top` px down."""
    items, x = [], 0.0
    for color, name in entries:
        items.append(f'<rect x="{x:.1f}" y="{top}" width="11" height="11" rx="2" fill="{color}"/>')
        items.append(_text(x + 16, top + 10, name, size=11, color=MUTED))
        x += 16 + len(name) * CHAR_PX * 0.92 + 18
    return items


def line_chart(
    title: str,
    series: list[Series],
    x_label: str,
    y_label: str,
    width: int = 560,
    height: int = 300,
    marker_x: float | None = None,
    marker_label: str = "",
    missing_x: Sequence[float] = (),
) -> str:
    """Lines with points over a numeric x axis; y axis fitted to the data (not from zero).

    `marker_x`: a dashed vertical line (e.g. the plan's budget); `missing_x`: x values with
    no point (e.g. infeasible budgets), drawn as crosses on the x axis.
    """
    left, right, top, bottom = 64, width - 20, 44, height - 46
    xs = (
        [x for s in series for x, _ in s.points]
        + list(missing_x)
        + ([marker_x] if marker_x is not None else [])
    )
    ys = [y for s in series for _, y in s.points]
    x_ticks = nice_ticks(min(xs, default=0.0), max(xs, default=1.0))
    low, high = (min(ys), max(ys)) if ys else (0.0, 1.0)
    if low > 0 and high - low < ZERO_BASED_SPREAD * high:
        low = 0.0  # a spread this small is noise: zooming in would make it look like a trend
    pad = (high - low) * 0.08 or abs(high) * 0.05 or 1.0
    y_ticks = nice_ticks(max(low - pad, 0.0) if low >= 0 else low - pad, high + pad)

    def sx(x: float) -> float:
        return left + (x - x_ticks[0]) / (x_ticks[-1] - x_ticks[0]) * (right - left)

    def sy(y: float) -> float:
        return bottom - (y - y_ticks[0]) / (y_ticks[-1] - y_ticks[0]) * (bottom - top)

    body = [_text(0, 18, title, size=14, weight="bold")]
    if len(series) > 1 or missing_x:
        body += _legend(
            [(s.color, s.name) for s in series]
            + ([("#dc2626", "infeasible")] if missing_x else []),
            top=26,
        )
    for t in y_ticks:
        y = sy(t)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 6, y + 4, tick_text(t), size=11, anchor="end", color=MUTED))
    for t in x_ticks:
        x = sx(t)
        body.append(
            f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="{AXIS}"/>'
        )
        body.append(_text(x, bottom + 17, tick_text(t), size=11, anchor="middle", color=MUTED))
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{AXIS}"/>')
    if marker_x is not None:
        x = sx(marker_x)
        body.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{MUTED}" '
            f'stroke-dasharray="4 3"/>'
        )
        body.append(_text(x + 4, top + 10, marker_label, size=11, color=MUTED))
    for s in series:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(s.points)
        )
        body.append(f'<path d="{path}" fill="none" stroke="{s.color}" stroke-width="2"/>')
        for x, y in s.points:
            body.append(
                f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{s.color}">'
                f"<title>{tick_text(x)}: {y:.6g}</title></circle>"
            )
    for x in missing_x:
        cx, cy = sx(x), bottom
        body.append(
            f'<path d="M{cx - 4:.1f},{cy - 4:.1f} L{cx + 4:.1f},{cy + 4:.1f} '
            f"M{cx - 4:.1f},{cy + 4:.1f} "
            f'L{cx + 4:.1f},{cy - 4:.1f}" stroke="#dc2626" stroke-width="2"/>'
        )
    body.append(
        _text((left + right) / 2, height - 8, x_label, size=11, anchor="middle", color=MUTED)
    )
    body.append(
        _text(
            14,
            (top + bottom) / 2,
            y_label,
            size=11,
            anchor="middle",
            color=MUTED,
            extra=f' transform="rotate(-90 14 {(top + bottom) / 2:.1f})"',
        )
    )
    return _svg(width, height, title, body)
