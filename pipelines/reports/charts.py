"""Small SVG charts written by hand: horizontal bar charts, column charts and a line chart.

Written here rather than with matplotlib: the report needs a few bar and line charts,
and plain SVG text is deterministic, scales with the page, needs no font files and no
network to open, and adds no dependency (matplotlib's SVG backend would add ~40 MB and
~1 s of import for charts this simple). Text in the SVG uses the page's font stack.

Every value axis starts at zero, so a bar's length (or a point's height) is its value: a 5%
difference looks like 5%. A bar chart whose values span more than `BREAK_SPAN` times may cut
its longest bars (`break_above`): such a bar ends in a visible break mark, and its value is
the text after it.
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
COMPARATOR = "#93c5fd"
"""A light HIGHLIGHT: this plan's flat-year comparator beside the plan itself."""
BREAK_SPAN = 20.0
"""A bar chart cuts bars longer than this many times its shortest (`break_above`)."""
BREAK_PX = 16
"""How far a cut bar reaches past the end of the value axis, its break mark included."""
CUT_SLACK = 1.25
"""A bar chart cuts no bar when the longest is at most this many times the shortened axis."""
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


def break_above(values: Sequence[float | None], span: float = BREAK_SPAN) -> float | None:
    """Where a bar chart of `values` should cut its bars: None when the positive values span at
    most `span` times, else the largest value within `span` times the smallest (bars longer than
    that are cut; the axis still starts at zero)."""
    positive = sorted(v for v in values if v is not None and v > 0)
    if not positive or positive[-1] <= span * positive[0]:
        return None
    return max(v for v in positive if v <= span * positive[0])


def _break_mark(x: float, y: float, height: float) -> str:
    """Two slanted white strokes across a bar at `x`: the bar is cut here."""
    return "".join(
        f'<line x1="{x + dx - 3:.1f}" y1="{y + height + 2:.1f}" x2="{x + dx + 3:.1f}" '
        f'y2="{y - 2:.1f}" stroke="#ffffff" stroke-width="2.5"/>'
        for dx in (0.0, 5.0)
    )


def bar_chart(
    title: str,
    bars: list[Bar],
    axis_label: str,
    width: int = 560,
    legend: list[tuple[str, str]] | None = None,
    cut_above: float | None = None,
) -> str:
    """Horizontal bars, one per row, with the value text after each bar and a labelled value axis
    from zero.

    `cut_above`: the value axis ends at the first tick at or above it, and a bar longer than
    that is cut: drawn past the axis's end with a break mark (`break_above` says where, for
    values spanning orders of magnitude). `legend`: (colour, name) pairs.
    """
    values = [b.value for b in bars if b.value is not None]
    high = max([0.0, *values]) or 1.0
    low = min([0.0, *values])
    ticks = nice_ticks(low, high)
    if cut_above is not None and 0 < cut_above < high:
        short = nice_ticks(low, cut_above)
        if high > CUT_SLACK * short[-1]:  # else the longest bars fit, uncut
            ticks = short
    cut = ticks[-1] < high
    label_px = min(max((len(b.label) for b in bars), default=4) * CHAR_PX + 12, width * 0.42)
    text_px = max((len(b.text) for b in bars), default=4) * CHAR_PX + 10
    left, right = label_px, width - text_px - (BREAK_PX if cut else 0)
    top = 34 + (20 if legend else 0)
    row = 26
    plot_height = row * len(bars)
    height = top + plot_height + 48 + (14 if cut else 0)

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
    any_cut = False
    for i, b in enumerate(bars):
        y = top + i * row
        body.append(_text(left - 8, y + row / 2 + 4, b.label, anchor="end"))
        if b.value is None:
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
        is_cut = cut and b.value > ticks[-1]
        any_cut = any_cut or is_cut
        x0, x1 = sorted((base, right + BREAK_PX if is_cut else scale(b.value)))
        body.append(
            f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 1.5):.1f}" '
            f'height="{row - 10}" rx="2" '
            f'fill="{b.color}"><title>{escape(b.label)}: {escape(b.text)}</title></rect>'
        )
        if is_cut:
            body.append(_break_mark(right + 4, y + 5, row - 10))
        body.append(_text(x1 + 6, y + row / 2 + 4, b.text, size=11, color=INK))
    body.append(
        f'<line x1="{base:.1f}" y1="{top - 4}" x2="{base:.1f}" y2="{top + plot_height}" '
        f'stroke="{AXIS}"/>'
    )
    body.append(
        _text(
            _centered(axis_label, (left + right) / 2, width),
            top + plot_height + 34,
            axis_label,
            size=11,
            anchor="middle",
            color=MUTED,
        )
    )
    if any_cut:
        note = (
            f"bars past {tick_text(ticks[-1])} are cut (break mark); "
            "their values are the text after them"
        )
        body.append(
            _text(
                _centered(note, (left + right) / 2, width),
                height - 6,
                note,
                size=11,
                anchor="middle",
                color=MUTED,
                extra=' font-style="italic"',
            )
        )
    return _svg(width, height, title, body)


def _centered(text: str, x: float, width: float, size: int = 11) -> float:
    """`x`, moved so that `text` centred on it (at `size` px) stays within the chart's width."""
    half = len(text) * CHAR_PX * size / 12 / 2 + 2
    return min(max(x, half), width - half)


def _legend(entries: list[tuple[str, str]], top: float, shape: str = "square") -> list[str]:
    """A row of colour swatches (squares, or diamonds like `Point`s) and names from the left
    edge, swatches `top` px down."""
    items, x = [], 0.0
    for color, name in entries:
        items.append(
            _diamond(x + 5.5, top + 5.5, 6, color)
            if shape == "diamond"
            else f'<rect x="{x:.1f}" y="{top}" width="11" height="11" rx="2" fill="{color}"/>'
        )
        items.append(_text(x + 16, top + 10, name, size=11, color=MUTED))
        x += 16 + len(name) * CHAR_PX * 0.92 + 18
    return items


@dataclass(frozen=True)
class Point:
    """One point drawn over a line chart (e.g. this plan, beside a frontier of other plans)."""

    x: float
    y: float
    label: str
    color: str = INK


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
    points: Sequence[Point] = (),
) -> str:
    """Lines with points over a numeric x axis; the y axis from zero (for data ≥ 0).

    `marker_x`: a dashed vertical line (e.g. the plan's budget); `missing_x`: x values with
    no point (e.g. infeasible budgets), drawn as crosses on the x axis; `points`: points drawn
    as diamonds, each with its label in the legend.
    """
    left, right, top, bottom = 64, width - 20, 44 + (24 if points else 0), height - 46
    xs = (
        [x for s in series for x, _ in s.points]
        + list(missing_x)
        + ([marker_x] if marker_x is not None else [])
        + [p.x for p in points]
    )
    ys = [y for s in series for _, y in s.points] + [p.y for p in points]
    x_ticks = nice_ticks(min(xs, default=0.0), max(xs, default=1.0))
    low, high = min([0.0, *ys]), max([0.0, *ys])
    y_ticks = nice_ticks(low, high * 1.05 if high > 0 else 1.0)

    def sx(x: float) -> float:
        return left + (x - x_ticks[0]) / (x_ticks[-1] - x_ticks[0]) * (right - left)

    def sy(y: float) -> float:
        return bottom - (y - y_ticks[0]) / (y_ticks[-1] - y_ticks[0]) * (bottom - top)

    body = [_text(0, 18, title, size=14, weight="bold")]
    legend = [(s.color, s.name) for s in series] if len(series) > 1 or missing_x or points else []
    legend += [("#dc2626", "infeasible")] if missing_x else []
    if legend:
        body += _legend(legend, top=26)
    if points:
        body += _legend([(p.color, p.label) for p in points], top=44, shape="diamond")
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
        anchor = "end" if x > (left + right) / 2 else "start"
        body.append(
            _text(
                x - 4 if anchor == "end" else x + 4,
                bottom - 6,
                marker_label,
                size=11,
                anchor=anchor,
                color=MUTED,
            )
        )
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
    for p in points:
        body.append(_diamond(sx(p.x), sy(p.y), 6, p.color, f"{p.label}"))
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


def _diamond(cx: float, cy: float, r: float, color: str, title: str = "") -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<path d="M{cx:.1f},{cy - r:.1f} L{cx + r:.1f},{cy:.1f} L{cx:.1f},{cy + r:.1f} '
        f'L{cx - r:.1f},{cy:.1f} Z" fill="{color}" stroke="#ffffff" stroke-width="1.5">'
        f"{tip}</path>"
    )


@dataclass(frozen=True)
class Stack:
    """One layer of a column chart: a value per column."""

    name: str
    values: list[float]
    color: str = HIGHLIGHT


def column_chart(
    title: str,
    columns: list[str],
    stacks: list[Stack],
    y_label: str,
    width: int = 560,
    height: int = 300,
    reference: tuple[float, str] | None = None,
) -> str:
    """Vertical columns, one per label of `columns`, each the stack of `stacks` (drawn bottom
    up, in order), on a y axis from zero. `reference`: a dashed horizontal line at a value, with
    its label (e.g. the grid budget over monthly peaks)."""
    left, right, top, bottom = 64, width - 20, 44 + (18 if len(stacks) > 1 else 0), height - 46
    totals = [sum(s.values[i] for s in stacks) for i in range(len(columns))]
    high = max([0.0, *totals, *([reference[0]] if reference else [])])
    y_ticks = nice_ticks(0.0, high * 1.05 if high > 0 else 1.0)
    slot = (right - left) / max(len(columns), 1)
    bar = slot * 0.68

    def sy(y: float) -> float:
        return bottom - (y - y_ticks[0]) / (y_ticks[-1] - y_ticks[0]) * (bottom - top)

    body = [_text(0, 18, title, size=14, weight="bold")]
    if len(stacks) > 1:
        body += _legend([(s.color, s.name) for s in stacks], top=28)
    for t in y_ticks:
        y = sy(t)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 6, y + 4, tick_text(t), size=11, anchor="end", color=MUTED))
    for i, label in enumerate(columns):
        x = left + i * slot + (slot - bar) / 2
        base = 0.0
        for s in stacks:
            value = s.values[i]
            y0, y1 = sy(base), sy(base + value)
            body.append(
                f'<rect x="{x:.1f}" y="{y1:.1f}" width="{bar:.1f}" height="{max(y0 - y1, 0):.1f}" '
                f'fill="{s.color}"><title>{escape(label)} {escape(s.name)}: '
                f"{tick_text(value, 4)}</title></rect>"
            )
            base += value
        body.append(_text(x + bar / 2, bottom + 17, label, size=11, anchor="middle", color=MUTED))
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{AXIS}"/>')
    if reference is not None:
        y = sy(reference[0])
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{MUTED}" '
            f'stroke-dasharray="5 3"/>'
        )
        body.append(_text(right, y - 5, reference[1], size=11, anchor="end", color=MUTED))
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
