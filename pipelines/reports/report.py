"""The plan report, as Markdown and as one self-contained HTML page.

The HTML page needs no network to open: CSS is inline, charts are inline SVG
(`pipelines.reports.charts`), there are no scripts, no external fonts and no images by URL.
Both reports carry the plan id, the site, the budget planned and the time resolution in their
title and show: the summary (with the site's carbon, water, availability, and revenue and
margin when the workloads have prices), for a time-resolved plan its flat-year comparators
(what of its gain over the flat year is utilization, what is tariff timing) and its months,
the annual cost by component, the fleet by system and cooling, cost per token and tokens/s per
MW against the best single-system plans (`pipelines.planning.comparisons`), what each lever is
worth (`pipelines.planning.levers`), the allocation with each row's serving configuration, the
input files, and — when a budget sweep of the same inputs is given — cost per token across
budgets. A plan made before some of these were recorded shows what it has.

Like for like: the single-system plans, the lever table and a flat sweep are flat-year plans.
Beside them a time-resolved plan shows its own cost per token and its flat-year comparator,
each labelled with its time resolution, never one under the other's label.
"""

from __future__ import annotations

import calendar
from datetime import datetime
from html import escape

from optimizer.types import INFEASIBLE, Alternative, LeverRow, PlanDocument, cost_components
from pipelines.reports.charts import (
    BASE,
    COMPARATOR,
    HIGHLIGHT,
    PALETTE,
    Bar,
    Stack,
    bar_chart,
    break_above,
    column_chart,
)
from pipelines.reports.frontier import frontier_charts, resolution_text
from pipelines.reports.text import (
    ALLOCATION_HEADERS,
    ALTERNATIVES_HEADERS,
    COST_HEADERS,
    COST_LABELS,
    FLEET_HEADERS,
    SWEEP_HEADERS,
    allocation_notes,
    allocation_rows,
    alternatives_rows,
    amount_text,
    cost_rows,
    fleet_rows,
    lever_headers,
    lever_rows,
    levers_lead,
    number_text,
    percent_text,
    seconds_text,
    summary_rows,
    sweep_rows,
    table_text,
    usd_text,
    why_no_site_figure,
)

RENTED_COLOR = "#9ca3af"
SHA_SHOWN = 16
"""Hex digits of an input file's SHA-256 the report shows (the exports' tables have all 64)."""
ENERGY_COLOR, DEMAND_COLOR = PALETTE[0], PALETTE[2]
MONTHLY_HEADERS = ["month", "energy kWh", "energy USD", "peak grid kW", "demand charges USD"]


def title(plan: PlanDocument) -> str:
    """`Build plan: arkansas-20mw · 30 MW · representative year`: the site, the budget planned
    (a `--budget-mw` override, not the one in the site's name) and the time resolution."""
    return (
        f"Build plan: {plan.get('name', 'site')} · {plan['budget_mw']:g} MW · "
        f"{resolution_text(plan.get('time_resolution'))}"
    )


def subtitle(plan: PlanDocument) -> str:
    created = plan.get("created_at")
    when = f"created {datetime.fromisoformat(created):%Y-%m-%d %H:%M} UTC · " if created else ""
    gap = plan["solver"].get("mip_gap")
    return (
        f"plan {plan.get('plan_id', 'unsaved')} · {when}objective {plan['objective']} · "
        f"solver {plan['status']}" + ("" if gap is None else f" (gap {gap:.1e})")
    )


def best_alternative(plan: PlanDocument) -> Alternative | None:
    """The cheapest single-system plan per token (the one a per-GPU TCO spreadsheet would pick)."""
    feasible = [
        (cost, r)
        for r in plan.get("alternatives", [])
        if (cost := r["cost_per_million_tokens_usd"]) is not None
    ]
    best = min(feasible, key=lambda pair: pair[0], default=None)
    return None if best is None else best[1]


def advantage_text(plan: PlanDocument) -> str | None:
    best = best_alternative(plan)
    if best is None or best["advantage_ratio"] is None:
        return None
    return (
        f"{best['advantage_ratio']:.2f}× lower cost per token than the best single-system plan "
        f"({best['sku']})"
    )


def is_time_resolved(plan: PlanDocument) -> bool:
    return bool(plan.get("time_resolution"))


def signed_usd(value: float | None) -> str:
    """`−$0.002524`, `$0.02731`: `usd_text` with a leading minus sign."""
    if value is None:
        return "-"
    return ("−" if value < 0 else "") + usd_text(abs(value))


def gain_vs_flat(plan: PlanDocument) -> dict[str, float] | None:
    """A time-resolved plan's gain over its flat year [USD per M tokens]: `utilization` (flat
    year at the scenario's utilization − flat year at the utilization the plan realizes),
    `tariff_timing` (that − the plan's), `total`; None for a flat plan or one recorded before
    the flat year at realized utilization was (or without a plan for either flat year)."""
    if not is_time_resolved(plan):
        return None
    gain = plan.get("gain_vs_flat_usd_per_million_tokens")
    if gain is not None:
        return {k: gain[k] for k in ("utilization", "tariff_timing", "total")}
    flat = plan.get("flat_cost_per_million_tokens_usd")
    same_use = plan.get("flat_at_realized_utilization_cost_per_million_tokens_usd")
    own = plan["cost_per_million_tokens_usd"]
    if flat is None or same_use is None or own is None:
        return None
    return {"utilization": flat - same_use, "tariff_timing": same_use - own, "total": flat - own}


def utilizations(plan: PlanDocument) -> dict[str, float | None]:
    """A time-resolved plan's utilizations: `assumed` by the flat year, `realized` (the flat-year
    utilization that serves as many GPU-hours as the plan does: realized share of GPU-hours /
    availability, at most 1), `gpu_hours` (share of all GPU-hours serving), `availability`."""
    realized = plan.get("realized_utilization")
    gain = plan.get("gain_vs_flat_usd_per_million_tokens")
    availability = plan.get("availability")
    share = None if realized is None else realized["fleet"]
    assumed = realized["flat_assumption"] if realized is not None else None
    if gain is not None:
        assumed = gain["flat_utilization"]
    same_use = None if gain is None else gain["realized_flat_utilization"]
    if same_use is None and share is not None and availability:
        same_use = min(1.0, share / availability)
    return {
        "assumed": assumed,
        "realized": same_use,
        "gpu_hours": share,
        "availability": availability,
    }


def gain_text(plan: PlanDocument) -> str | None:
    """Of the gain over the flat year, what is utilization and what is tariff timing, in words;
    None without the split (`gain_vs_flat`)."""
    gain = gain_vs_flat(plan)
    if gain is None:
        return None
    use = utilizations(plan)
    resolution = resolution_text(plan.get("time_resolution"))
    flat, own = plan.get("flat_cost_per_million_tokens_usd"), plan["cost_per_million_tokens_usd"]
    realized = (
        f"{percent_text(use['realized'])} vs {percent_text(use['assumed'], 0)} assumed"
        if use["realized"] is not None and use["assumed"] is not None
        else "vs the flat year's assumption"
    )
    share = (
        f"; {percent_text(use['gpu_hours'])} of all GPU-hours serving"
        if use["gpu_hours"] is not None
        else ""
    )
    timing = gain["tariff_timing"]
    return (
        f"Of the {usd_text(abs(gain['total']))} per M tokens this plan "
        f"{'gains over' if gain['total'] >= 0 else 'loses against'} the flat year "
        f"({usd_text(flat)} → {usd_text(own)}), {signed_usd(gain['utilization'])} is the "
        f"utilization the {resolution} realizes ({realized}{share}) and {signed_usd(timing)} "
        "is tariff timing and load shape"
        + (
            " (negative: timing and load shape cost more than the flat year's average prices)."
            if timing < 0
            else "."
        )
    )


def time_rows(plan: PlanDocument) -> list[list[str]]:
    """A time-resolved plan beside its flat-year comparators (same inputs)."""
    use = utilizations(plan)
    resolution = resolution_text(plan.get("time_resolution"))
    gain = gain_vs_flat(plan)
    same_use = plan.get("flat_at_realized_utilization_cost_per_million_tokens_usd")
    rows = [
        [f"this plan ({resolution})", usd_text(plan["cost_per_million_tokens_usd"])],
        [
            f"flat year at the scenario's utilization ({percent_text(use['assumed'], 0)})",
            usd_text(plan.get("flat_cost_per_million_tokens_usd")),
        ],
    ]
    if same_use is not None:
        rows.append(
            [
                "flat year at the utilization this plan realizes "
                f"({percent_text(use['realized'])})",
                usd_text(same_use),
            ]
        )
    if gain is not None:
        rows += [
            ["gain over the flat year", signed_usd(gain["total"])],
            ["… of which utilization", signed_usd(gain["utilization"])],
            ["… of which tariff timing and load shape", signed_usd(gain["tariff_timing"])],
        ]
    if use["gpu_hours"] is not None:
        flat_share = (
            f" (flat year: {percent_text(use['assumed'], 0)} utilization × "
            f"{percent_text(use['availability'], 0)} availability = "
            f"{percent_text(use['assumed'] * use['availability'])})"
            if use["assumed"] is not None and use["availability"] is not None
            else ""
        )
        rows.append(["share of GPU-hours serving", percent_text(use["gpu_hours"]) + flat_share])
    slices = plan.get("slices")
    if slices:
        rows.append(["time slices", number_text(len(slices["grid_kw"]))])
    return rows


def month_name(month: int) -> str:
    return calendar.month_abbr[month] if 1 <= month <= 12 else str(month)


def monthly_rows(plan: PlanDocument) -> list[list[str]]:
    """Energy and demand charges month by month, and the year (peak: the year's highest)."""
    months = plan.get("monthly", [])
    if not months:
        return []
    rows = [
        [
            month_name(r["month"]),
            number_text(r["energy_kwh"]),
            usd_text(r["energy_usd"]),
            number_text(r["peak_grid_kw"]),
            usd_text(r["demand_usd"]),
        ]
        for r in months
    ]
    return rows + [
        [
            "year",
            number_text(sum(r["energy_kwh"] for r in months)),
            usd_text(sum(r["energy_usd"] for r in months)),
            number_text(max(r["peak_grid_kw"] for r in months)),
            usd_text(sum(r["demand_usd"] for r in months)),
        ]
    ]


def _share(plan: PlanDocument, usd: float) -> str:
    return f"{100 * usd / plan['annual_cost_usd']:.1f}%" if plan["annual_cost_usd"] else "-"


# --------------------------------------------------------------------------- charts


def cost_chart(plan: PlanDocument) -> str:
    """Annual cost by component [USD/year]."""
    bars = [
        Bar(
            COST_LABELS.get(key, key),
            usd,
            f"{usd_text(usd)} ({_share(plan, usd)})",
            PALETTE[i % len(PALETTE)],
        )
        for i, (key, usd) in enumerate(cost_components(plan).items())
        if usd
    ]
    return bar_chart("Annual cost by component", bars, "USD per year")


def fleet_chart(plan: PlanDocument) -> str:
    """GPUs per system × cooling, coloured by cooling (rented in grey)."""
    coolings = sorted({r["cooling_id"] for r in plan["fleet"] if r["cooling_id"]})
    colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(coolings)}
    bars = [
        Bar(
            f"{r['sku']} · {r['cooling_id'] or 'rented'}",
            r["gpus"],
            f"{r['gpus']:,} GPUs · {r['nodes']:,} nodes",
            RENTED_COLOR if r["cooling_id"] is None else colors.get(r["cooling_id"], RENTED_COLOR),
        )
        for r in sorted(plan["fleet"], key=lambda r: -r["gpus"])
    ]
    legend = [(colors[c], f"cooling {c}") for c in coolings]
    if any(r["cooling_id"] is None for r in plan["fleet"]):
        legend.append((RENTED_COLOR, "rented (no site power)"))
    return bar_chart("Fleet by system and cooling", bars, "GPUs", legend=legend)


def monthly_charts(plan: PlanDocument) -> list[str]:
    """A time-resolved plan's months: energy and demand charges [USD], and the peak grid power
    against the budget [MW]; none for a flat plan."""
    months = plan.get("monthly", [])
    if not months:
        return []
    names = [month_name(r["month"]) for r in months]
    return [
        column_chart(
            "Energy and demand charges by month",
            names,
            [
                Stack("energy", [r["energy_usd"] for r in months], ENERGY_COLOR),
                Stack("demand charges", [r["demand_usd"] for r in months], DEMAND_COLOR),
            ],
            "USD per month",
        ),
        column_chart(
            "Peak grid power by month",
            names,
            [Stack("peak grid MW", [r["peak_grid_kw"] / 1000.0 for r in months], PALETTE[1])],
            "MW (monthly peak)",
            reference=(plan["budget_mw"], f"grid budget {plan['budget_mw']:g} MW"),
        ),
    ]


def plan_bars(plan: PlanDocument) -> list[tuple[str, float | None, str]]:
    """This plan's cost per million tokens beside flat-year plans, as (label, value, colour):
    the plan; a time-resolved plan also its flat-year comparator, each labelled with its time
    resolution."""
    own = plan["cost_per_million_tokens_usd"]
    if not is_time_resolved(plan):
        return [("this plan", own, HIGHLIGHT)]
    resolution = resolution_text(plan.get("time_resolution"))
    return [
        (f"this plan ({resolution})", own, HIGHLIGHT),
        ("this plan (flat year)", plan.get("flat_cost_per_million_tokens_usd"), COMPARATOR),
    ]


def alternatives_charts(plan: PlanDocument) -> list[str]:
    """Cost per million tokens and tokens/s per MW: this plan against each system alone.

    Each system alone is a flat-year plan, and its ratio is to this plan's flat year
    (`pipelines.planning.comparisons`): a time-resolved plan shows both its own figure and its
    flat-year comparator, each labelled."""
    rows = plan.get("alternatives", [])
    if not rows:
        return []
    timed = is_time_resolved(plan)
    resolution = resolution_text(plan.get("time_resolution"))
    cost_bars = [
        Bar(label, value, usd_text(value) if value is not None else "no plan", color)
        for label, value, color in plan_bars(plan)
    ] + [
        Bar(
            r["sku"],
            r["cost_per_million_tokens_usd"],
            f"{usd_text(r['cost_per_million_tokens_usd'])} ({r['advantage_ratio']:.2f}×)"
            if r["advantage_ratio"]
            else "infeasible alone",
            BASE,
        )
        for r in rows
    ]
    density = plan["tokens_per_s_per_mw"]
    density_bars = [
        Bar(f"this plan ({resolution})" if timed else "this plan", density, number_text(density))
    ] + [
        Bar(
            r["sku"],
            r["tokens_per_s_per_mw"],
            number_text(r["tokens_per_s_per_mw"])
            if r["tokens_per_s_per_mw"]
            else (
                "rented: uses no site power"
                if r["rented"] and r["reason"] is None
                else "infeasible alone"
            ),
            BASE,
        )
        for r in rows
    ]
    return [
        bar_chart(
            "Cost per million tokens vs. single-system plans",
            cost_bars,
            "USD per million tokens, single systems over a flat year "
            "(× = multiple of this plan's flat year)"
            if timed
            else "USD per million tokens (× = how many times this plan's)",
            cut_above=break_above([b.value for b in cost_bars]),
        ),
        bar_chart(
            "Tokens/s per MW vs. single-system plans",
            density_bars,
            "tokens/s per MW of grid power"
            + (", single systems over a flat year" if timed else ""),
        ),
    ]


def _lever_bar_text(row: LeverRow, ratio: float | None) -> str:
    """The ratio after a lever's bar (the figures are in the table below the charts)."""
    if row["status"] == INFEASIBLE:
        return "infeasible without it"
    if ratio is None:
        return row["status"] if row["reason"] else "-"
    return f"{ratio:.2f}×" + ("" if row["in_data"] else " (not in data)")


def lever_charts(plan: PlanDocument) -> list[str]:
    """Cost per token and tokens/s per MW without each lever, as multiples of the plan's; the
    levers the plan uses highlighted."""
    rows = plan.get("levers", [])
    if not rows:
        return []
    legend = [(HIGHLIGHT, "used by the plan"), (BASE, "not used, or not in the data")]

    def color(row: LeverRow) -> str:
        return HIGHLIGHT if row["used_by_plan"] else BASE

    cost_bars = [
        Bar(
            r["name"],
            r["cost_ratio"],
            _lever_bar_text(r, r["cost_ratio"]),
            color(r),
        )
        for r in rows
    ]
    density_bars = [
        Bar(
            r["name"],
            r["tokens_per_mw_ratio"],
            _lever_bar_text(r, r["tokens_per_mw_ratio"]),
            color(r),
        )
        for r in rows
    ]
    return [
        bar_chart(
            "Cost per token without each lever",
            cost_bars,
            "× this plan's flat-year cost per token (both flat year)"
            if is_time_resolved(plan)
            else "× this plan's cost per token",
            legend=legend,
        ),
        bar_chart(
            "Tokens/s per MW with each lever",
            density_bars,
            "× tokens/s per MW without the lever"
            + (" (flat year)" if is_time_resolved(plan) else ""),
            legend=legend,
        ),
    ]


# --------------------------------------------------------------------------- Markdown


def _text_bars(items: list[tuple[str, float | None, str]], width: int = 28) -> str:
    """A bar chart in text: one line per item, bar length proportional to the value (None: no
    bar, like 0)."""
    top = max((value for _, value, _ in items if value is not None), default=0.0) or 1.0
    label = max((len(name) for name, _, _ in items), default=0)
    lines = [
        f"{name.ljust(label)}  "
        f"{'█' * max(1, round(width * value / top)) if value else '':<{width}}  {text}"
        for name, value, text in items
    ]
    return "```text\n" + "\n".join(lines) + "\n```"


def markdown_cell(text: str) -> str:
    """`text` as one Markdown table cell: `\\` and `|` escaped, line breaks as spaces, so a name
    from the inputs cannot end the cell or the row."""
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").splitlines())


def markdown_note(text: str) -> str:
    """`text` as one line of a Markdown list: as a table cell, and `*` escaped (a footnote mark
    would start a list or emphasis)."""
    return markdown_cell(text).replace("*", "\\*")


def _markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    return table_text(
        [markdown_cell(h) for h in headers], [[markdown_cell(c) for c in row] for row in rows], True
    )


def markdown_report(plan: PlanDocument, frontier: dict | None = None) -> str:
    """The report as Markdown (tables, and bar charts drawn in text)."""
    summary = summary_rows(plan)
    advantage = advantage_text(plan)
    if advantage:
        summary.append(["against one system", advantage])
    parts = [
        f"# {title(plan)} — plan {plan.get('plan_id', 'unsaved')}",
        subtitle(plan),
        "## Summary",
        _markdown_table(["metric", "value"], summary),
        *_markdown_time(plan),
        "## Annual cost by component",
        _markdown_table(COST_HEADERS, cost_rows(plan)),
        _text_bars(
            [(COST_LABELS.get(k, k), v, usd_text(v)) for k, v in cost_components(plan).items() if v]
        ),
        "## Fleet by system and cooling",
        _markdown_table(FLEET_HEADERS, fleet_rows(plan)),
        _text_bars(
            [
                (f"{r['sku']} · {r['cooling_id'] or 'rented'}", r["gpus"], f"{r['gpus']:,} GPUs")
                for r in plan["fleet"]
            ]
        ),
    ]
    if plan.get("alternatives"):
        parts += [
            "## Against the best single-system plans",
            "Each system alone, solved with the same budget, tariff and workloads (what a per-GPU "
            "TCO spreadsheet would pick); advantage = its cost per token / this plan's.",
            *([FLAT_ALTERNATIVES] if is_time_resolved(plan) else []),
            _markdown_table(ALTERNATIVES_HEADERS, alternatives_rows(plan)),
            _text_bars(
                [(label, value, usd_text(value)) for label, value, _ in plan_bars(plan)]
                + [
                    (
                        r["sku"],
                        r["cost_per_million_tokens_usd"],
                        usd_text(r["cost_per_million_tokens_usd"]),
                    )
                    for r in plan["alternatives"]
                    if r["cost_per_million_tokens_usd"] is not None
                ]
            ),
        ]
    if plan.get("levers"):
        parts += [
            "## What each lever is worth",
            levers_lead(plan),
            _markdown_table(lever_headers(plan), lever_rows(plan)),
            _text_bars(
                [
                    (
                        r["name"],
                        r["cost_ratio"],
                        "infeasible without it"
                        if r["status"] == INFEASIBLE
                        else f"{r['cost_ratio']:.2f}x cost per token without it"
                        if r["cost_ratio"] is not None
                        else "-",
                    )
                    for r in plan["levers"]
                ]
            ),
        ]
    parts += ["## Allocation", _markdown_table(ALLOCATION_HEADERS, allocation_rows(plan))]
    notes = allocation_notes(plan)
    if notes:
        parts.append("\n".join("- " + markdown_note(n) for n in notes))
    if frontier:
        parts += [
            "## Cost per token across grid budgets",
            frontier_lead(plan, frontier),
            _markdown_table(SWEEP_HEADERS, sweep_rows(frontier)),
        ]
    parts += ["## Inputs", _markdown_table(["file", "bytes", "SHA-256 (start)"], _input_rows(plan))]
    if plan.get("notes"):
        parts += ["## Notes", "\n".join(f"- {n}" for n in plan["notes"])]
    return "\n\n".join(parts) + "\n"


def _markdown_time(plan: PlanDocument) -> list[str]:
    """A time-resolved plan's section: its flat-year comparators and its months."""
    if not is_time_resolved(plan):
        return []
    parts = [f"## Time resolution: {resolution_text(plan.get('time_resolution'))}"]
    gain = gain_text(plan)
    parts += [gain] if gain else []
    parts.append(_markdown_table(["", "value"], time_rows(plan)))
    months = plan.get("monthly", [])
    if months:
        parts += [
            "### Month by month",
            _markdown_table(MONTHLY_HEADERS, monthly_rows(plan)),
            "Energy and demand charges, USD per month:",
            _text_bars(
                [
                    (
                        month_name(r["month"]),
                        r["energy_usd"] + r["demand_usd"],
                        f"{usd_text(r['energy_usd'])} energy + {usd_text(r['demand_usd'])} demand",
                    )
                    for r in months
                ]
            ),
        ]
    return parts


RATIO = "The ratio is that plan's cost per token divided by this plan's."
FLAT_ALTERNATIVES = (
    "Each system alone is solved over a flat year, so its ratio is its cost per token divided by "
    "this plan's flat-year comparator (same inputs): like for like. This plan's own cost per "
    "token over its time-resolved year is the first bar."
)


def frontier_lead(plan: PlanDocument, frontier: dict) -> str:
    """What the budget sweep is, and how this plan sits on it."""
    lead = (
        "The best plan at each budget, solved; "
        f"the +{frontier['marginal_mw']:g} MW columns are the change when one more MW is "
        "available (also solved)."
    )
    swept = resolution_text(frontier.get("time_resolution"))
    own = resolution_text(plan.get("time_resolution"))
    if swept != own:
        lead += (
            f" The sweep solves each budget over a {swept}: at this plan's budget its line is "
            f"this plan's comparator over a {swept}; this plan itself ({own}) is the diamond."
        )
    return lead


def _input_rows(plan: PlanDocument) -> list[list[str]]:
    return [
        [f["file"], number_text(f.get("bytes")), f["sha256"][:SHA_SHOWN] + "…"]
        for f in plan.get("inputs", [])
    ]


# --------------------------------------------------------------------------- HTML


CSS = """
* { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: #1f2937;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Liberation Sans",
    "DejaVu Sans", Arial, sans-serif;
  font-size: 14px; line-height: 1.45; }
header { background: #0f172a; color: #f8fafc; padding: 28px 0 24px; }
.wrap { max-width: 1180px; margin: 0 auto; padding: 0 28px; }
.eyebrow { margin: 0; text-transform: uppercase; letter-spacing: .08em; font-size: 11px;
  color: #93c5fd; }
h1 { margin: 6px 0 6px; font-size: 28px; font-weight: 650; }
.meta { margin: 0; color: #cbd5e1; font-size: 13px; }
.meta code { color: #f8fafc; background: #1e293b; padding: 1px 6px; border-radius: 4px; }
h2 { font-size: 17px; margin: 30px 0 4px; }
.lead { margin: 0 0 12px; color: #6b7280; font-size: 13px; }
.finding { margin: 0 0 12px; padding: 10px 14px; background: #eff6ff;
  border-left: 4px solid #2563eb; border-radius: 6px; font-size: 14px; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; margin-top: -14px; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 10px; padding: 14px 16px;
  box-shadow: 0 1px 2px rgba(15, 23, 42, .06); }
.card .label { font-size: 12px; color: #6b7280; text-transform: uppercase;
  letter-spacing: .04em; }
.card .value { font-size: 24px; font-weight: 650; margin-top: 2px;
  font-variant-numeric: tabular-nums; }
.card .sub { font-size: 12px; color: #6b7280; margin-top: 2px; }
.card.primary { border-top: 4px solid #2563eb; }
.card.good { border-top: 4px solid #0d9488; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.panel { background: #fff; border: 1px solid #e5e7eb; border-radius: 10px; padding: 16px;
  overflow-x: auto; }
.panel svg.chart { width: 100%; height: auto; display: block; }
.grid + .panel { margin-top: 16px; }
table { border-collapse: collapse; width: 100%; font-size: 13px;
  font-variant-numeric: tabular-nums; }
th { text-align: left; font-weight: 600; color: #374151; background: #f9fafb;
  border-bottom: 2px solid #e5e7eb; padding: 7px 10px; vertical-align: bottom; }
td { padding: 6px 10px; border-bottom: 1px solid #f1f5f9; vertical-align: top; }
tr:nth-child(even) td { background: #fafafa; }
td.num, th.num { text-align: right; }
td.num { white-space: nowrap; }
td.mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px;
  color: #4b5563; }
tr.total td { font-weight: 650; border-top: 2px solid #e5e7eb; }
ul.notes { margin: 6px 0 0; padding-left: 18px; color: #4b5563; }
footer { color: #6b7280; font-size: 12px; margin: 28px 0 40px; }
@media (max-width: 900px) {
  .cards { grid-template-columns: repeat(2, 1fr); }
  .grid { grid-template-columns: 1fr; }
}
"""


def _is_number(cell: str) -> bool:
    return cell[:1] in "$-+0123456789"


def html_table(
    headers: list[str], rows: list[list[str]], mono: tuple[int, ...] = (), total_last: bool = False
) -> str:
    """Rows of formatted strings as an HTML table; numeric columns right-aligned."""
    numeric = [bool(rows) and all(_is_number(r[i]) for r in rows) for i in range(len(headers))]
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if n else f"<th>{escape(h)}</th>"
        for h, n in zip(headers, numeric, strict=True)
    )
    body = []
    for index, row in enumerate(rows):
        cells = "".join(
            f'<td class="{"num" if numeric[i] else "mono" if i in mono else ""}">{escape(c)}</td>'
            for i, c in enumerate(row)
        )
        total = ' class="total"' if total_last and index == len(rows) - 1 else ""
        body.append(f"<tr{total}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def html_text(text: str) -> str:
    """`text` escaped for HTML, with no line break between a minus sign and its amount."""
    return escape(text).replace("−$", "−\u2060$")


def html_card(label: str, value: str, sub: str = "", kind: str = "") -> str:
    return (
        f'<div class="card {kind}"><div class="label">{escape(label)}</div>'
        f'<div class="value">{html_text(value)}</div><div class="sub">{html_text(sub)}</div></div>'
    )


def _cards(plan: PlanDocument) -> str:
    best = best_alternative(plan)
    timed = is_time_resolved(plan)
    resolution = resolution_text(plan.get("time_resolution"))
    cards = [
        html_card(
            "cost per million tokens",
            usd_text(plan["cost_per_million_tokens_usd"]),
            f"{resolution} · {plan['tokens_per_year']:.3g} tokens per year",
            "primary",
        ),
        *_flat_year_cards(plan),
        html_card(
            "tokens/s per MW",
            number_text(plan["tokens_per_s_per_mw"]),
            "owned fleet, per MW of grid power",
        ),
        html_card(
            "annual cost", usd_text(plan["annual_cost_usd"]), "capex annualized + opex, USD/year"
        ),
        html_card("capex", usd_text(plan["capex_usd"]), "upfront, owned fleet"),
        html_card(
            "grid power",
            f"{plan['grid_power_mw']:.2f} MW",
            f"of {plan['budget_mw']:g} MW budget · IT {plan['it_power_mw']:.2f} MW",
        ),
        html_card(
            "PUE", number_text(plan["pue"], 3), f"power design {plan['power_design'] or '-'}"
        ),
        html_card(
            "GPUs",
            number_text(sum(r["gpus"] for r in plan["fleet"])),
            f"{sum(r['gpus'] for r in plan['fleet'] if r['rented']):,} of them rented",
        ),
        *_site_cards(plan),
    ]
    if best is not None and best["advantage_ratio"] is not None:
        cards.append(
            html_card(
                "vs. one system",
                f"{best['advantage_ratio']:.2f}×",
                f"lower cost per token than {best['sku']} alone"
                + (" (both flat year)" if timed else ""),
                "good",
            )
        )
    return f'<section class="cards">{"".join(cards)}</section>'


def _flat_year_cards(plan: PlanDocument) -> list[str]:
    """A time-resolved plan's flat-year comparator and its gain over it."""
    if not is_time_resolved(plan):
        return []
    use = utilizations(plan)
    cards = [
        html_card(
            "flat year, same inputs",
            usd_text(plan.get("flat_cost_per_million_tokens_usd")),
            f"per M tokens at {percent_text(use['assumed'], 0)} utilization (assumed)",
        )
    ]
    gain = gain_vs_flat(plan)
    if gain is not None:
        cards.append(
            html_card(
                "gain over flat year",
                signed_usd(gain["total"]),
                f"per M tokens: {signed_usd(gain['utilization'])} utilization, "
                f"{signed_usd(gain['tariff_timing'])} tariff timing",
                "good" if gain["total"] >= 0 else "",
            )
        )
    return cards


def _site_cards(plan: PlanDocument) -> list[str]:
    """Carbon, water, availability; margin and revenue when the workloads have prices. None of
    them for a plan made before they were recorded."""
    cards = []
    if "carbon_kg_per_million_tokens" in plan:
        carbon = plan["carbon_kg_per_million_tokens"]
        cards.append(
            html_card(
                "carbon per M tokens",
                "-" if carbon is None else f"{amount_text(carbon)} kg",
                why_no_site_figure(plan, "carbon")
                if carbon is None
                else "CO2e of the site's grid energy",
            )
        )
    if "water_l_per_million_tokens" in plan:
        water = plan["water_l_per_million_tokens"]
        cards.append(
            html_card(
                "water per M tokens",
                "-" if water is None else f"{amount_text(water)} L",
                why_no_site_figure(plan, "water")
                if water is None
                else "cooling water, owned fleet",
            )
        )
    if "availability" in plan:
        cards.append(
            html_card("availability", percent_text(plan["availability"]), "of on-site GPUs serving")
        )
    margin, revenue = plan.get("margin_usd_per_year"), plan.get("revenue_usd_per_year")
    if margin is not None:
        cards.append(
            html_card(
                "margin",
                usd_text(margin),
                f"per year, on revenue {usd_text(revenue)}",
                "good" if margin >= 0 else "",
            )
        )
    return cards


def html_panel(content: str) -> str:
    return f'<div class="panel">{content}</div>'


def _allocation_notes(plan: PlanDocument) -> str:
    notes = allocation_notes(plan)
    if not notes:
        return ""
    return '<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>"


def _html_time(plan: PlanDocument) -> list[str]:
    """A time-resolved plan's sections: against its flat year, and month by month."""
    if not is_time_resolved(plan):
        return []
    resolution = resolution_text(plan.get("time_resolution"))
    gain = gain_text(plan)
    lead = (
        f"This plan is solved over a {resolution}: time-of-use prices, monthly demand peaks and "
        "load shapes. Beside it, the flat year of the same inputs."
    )
    sections = [
        f"<h2>Time resolution: {escape(resolution)}</h2>",
        f'<p class="lead">{escape(lead)}</p>',
    ]
    if gain:
        sections.append(f'<p class="finding">{html_text(gain)}</p>')
    sections.append(html_panel(html_table(["", "value"], time_rows(plan))))
    if plan.get("monthly"):
        sections += [
            "<h2>Month by month</h2>",
            '<p class="lead">Energy and demand charges of each month, and its peak grid power '
            "(demand charges are billed on it).</p>",
            f'<div class="grid">{"".join(html_panel(c) for c in monthly_charts(plan))}</div>',
            html_panel(html_table(MONTHLY_HEADERS, monthly_rows(plan), total_last=True)),
        ]
    return sections


def html_report(plan: PlanDocument, frontier: dict | None = None) -> str:
    """The report as one HTML page with inline CSS and inline SVG charts."""
    plan_id = plan.get("plan_id", "unsaved")
    charts = [cost_chart(plan), fleet_chart(plan), *alternatives_charts(plan)]
    levers = lever_charts(plan)
    sections = [_cards(plan), *_html_time(plan)]
    sections += [
        "<h2>Cost and fleet</h2>",
        '<p class="lead">Where the annual cost goes, and what is bought (or rented) on which '
        "cooling.</p>",
        f'<div class="grid">{"".join(html_panel(c) for c in charts[:2])}</div>',
    ]
    if plan.get("alternatives"):
        sections += [
            "<h2>Against the best single-system plans</h2>",
            '<p class="lead">Each system alone, solved with the same budget, tariff, workloads and '
            "SLOs — the plan a per-GPU TCO spreadsheet would pick. Rented systems are their own "
            "alternative (rent everything). "
            + escape(FLAT_ALTERNATIVES if is_time_resolved(plan) else RATIO)
            + "</p>",
            f'<div class="grid">{"".join(html_panel(c) for c in charts[2:])}</div>',
            html_panel(html_table(ALTERNATIVES_HEADERS, alternatives_rows(plan))),
        ]
    if plan.get("levers"):
        sections += [
            "<h2>What each lever is worth</h2>",
            f'<p class="lead">{escape(levers_lead(plan))}</p>',
            f'<div class="grid">{"".join(html_panel(c) for c in levers)}</div>',
            html_panel(html_table(lever_headers(plan), lever_rows(plan))),
        ]
    if frontier:
        frontier_panels = "".join(html_panel(c) for c in frontier_charts(frontier, plan))
        sections += [
            "<h2>Cost per token across grid budgets</h2>",
            f'<p class="lead">{escape(frontier_lead(plan, frontier))}</p>',
            f'<div class="grid">{frontier_panels}</div>',
            html_panel(html_table(SWEEP_HEADERS, sweep_rows(frontier))),
        ]
    sections += [
        "<h2>Fleet</h2>",
        html_panel(html_table(FLEET_HEADERS, fleet_rows(plan))),
        "<h2>Annual cost</h2>",
        html_panel(html_table(COST_HEADERS, cost_rows(plan), total_last=True)),
        "<h2>Allocation</h2>",
        '<p class="lead">GPUs per workload and system, at the best operating point that meets the '
        "workload's SLO.</p>",
        html_panel(html_table(ALLOCATION_HEADERS, allocation_rows(plan)) + _allocation_notes(plan)),
        "<h2>Inputs</h2>",
        '<p class="lead">The input files this plan was made from, with their content hashes.</p>',
        html_panel(html_table(["file", "bytes", "SHA-256 (start)"], _input_rows(plan), mono=(2,))),
    ]
    if plan.get("notes"):
        notes = "".join(f"<li>{escape(n)}</li>" for n in plan["notes"])
        sections += ["<h2>Notes</h2>", html_panel(f'<ul class="notes">{notes}</ul>')]
    solver = plan["solver"]
    meta = escape(subtitle(plan)).replace(escape(plan_id), f"<code>{escape(plan_id)}</code>", 1)
    footer = (
        f"Made by tokenplan · plan {escape(plan_id)} · HiGHS {escape(solver['status'])}, "
        f"{len(solver['iterations'])} Dinkelbach iteration(s){seconds_text(plan)}"
    )
    title_text = f"{title(plan)} · plan {plan_id}"
    head = f'<meta name="tokenplan-plan-id" content="{escape(plan_id)}">\n'
    eyebrow = "tokenplan · AI inference factory build plan"
    return html_page(title_text, title(plan), eyebrow, meta, "".join(sections), footer, head)


def html_page(
    title: str, heading: str, eyebrow: str, meta: str, body: str, footer: str, head: str = ""
) -> str:
    """One self-contained report page: `title`, `heading` and `eyebrow` as text; `meta` (under
    the heading), `body`, `footer` and `head` (more of the page's head) as HTML."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{head}<title>{escape(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header><div class="wrap">
<p class="eyebrow">{escape(eyebrow)}</p>
<h1>{escape(heading)}</h1>
<p class="meta">{meta}</p>
</div></header>
<main class="wrap">
{body}
<footer>{footer}</footer>
</main>
</body>
</html>
"""
