"""A multi-year plan as one self-contained HTML page (`horizon_plan.html`).

Like the one-year report (`pipelines.reports.report`): inline CSS, inline SVG charts
(`pipelines.reports.charts`), no scripts, no fonts or images by URL. The page shows the
summary (levelized cost per million tokens, present values, power design), two charts —
GPUs in service by accelerator each year (stacked columns, rented GPUs apart from owned
ones) and each year's cost per million tokens split by component, with the levelized cost as
a dashed line — and the year-by-year, build-plan and cash-flow tables of the text report
(`pipelines.reports.horizon`), the regret table of its stress test when it has one (`tokenplan
stress PLAN --out`, the `scenario_regret` asset), the notes, the input files and the solver
line.
"""

from __future__ import annotations

from html import escape
from typing import Any

from pipelines.reports.charts import PALETTE, Stack, column_chart
from pipelines.reports.horizon import (
    BUILD_HEADERS,
    CASH_HEADERS,
    YEAR_HEADERS,
    build_rows,
    cash_rows,
    plan_span,
    solver_text,
    year_rows,
)
from pipelines.reports.report import (
    SHA_SHOWN,
    html_card,
    html_page,
    html_panel,
    html_table,
)
from pipelines.reports.stress import (
    EXPECTED_LABEL,
    REGRET_HEADERS,
    REGRET_LEAD,
    STRESS_LEAD,
    expected_text,
    regret_notes,
    regret_rows,
    robust_parts,
)
from pipelines.reports.text import (
    NONE_TEXT,
    Heading,
    Notes,
    Paragraph,
    Part,
    Title,
    number_text,
    percent_text,
    tokens_text,
    usd_per_mtok_text,
    usd_text,
)
from pipelines.reports.text import Table as TextTable

COST_PARTS = (
    ("capital_usd", "capital"),
    ("facility_usd", "facility"),
    ("energy_usd", "energy"),
    ("opex_usd", "opex"),
    ("site_usd", "site"),
)
"""The parts of a year's cost (`yearly` fields), bottom up in the cost chart."""
RENTED = "rented"


def gpu_stacks(plan: dict[str, Any]) -> list[Stack]:
    """GPUs in service each year by accelerator, owned and rented apart (`GB200`, `GB200
    rented`), in the order they first entered service (the oldest vintage first); each year's
    stacks sum to its `installed_gpus`."""
    years = [r["year"] for r in plan["yearly"]]
    index = {year: i for i, year in enumerate(years)}
    values: dict[str, list[float]] = {}
    first: dict[str, tuple[int, str]] = {}
    for row in plan["build_plan"]:
        name = row["accelerator"] + (f" {RENTED}" if row["kind"] == RENTED else "")
        layer = values.setdefault(name, [0.0] * len(years))
        layer[index[row["year"]]] += row["gpus"]
        if row["gpus"]:
            entered = (row["vintage_year"], name)
            first[name] = min(first.get(name, entered), entered)
    names = sorted((n for n in values if n in first), key=lambda n: first[n])
    return [Stack(name, values[name], PALETTE[i % len(PALETTE)]) for i, name in enumerate(names)]


def gpu_chart(plan: dict[str, Any]) -> str:
    years = [str(r["year"]) for r in plan["yearly"]]
    return column_chart(
        "GPUs in service by accelerator",
        years,
        gpu_stacks(plan),
        "GPUs in service",
        width=600,
        height=320,
    )


def cost_stacks(plan: dict[str, Any]) -> list[Stack]:
    """Each year's cost per million tokens by part (`COST_PARTS`): a year's stacks sum to its
    `cost_per_million_tokens_usd` (0 for a year with no tokens)."""
    rows = plan["yearly"]

    def per_mtok(row: dict[str, Any], field: str) -> float:
        tokens = row["tokens_per_year"]
        return row[field] / tokens * 1e6 if tokens > 0 else 0.0

    return [
        Stack(label, [per_mtok(r, field) for r in rows], PALETTE[i % len(PALETTE)])
        for i, (field, label) in enumerate(COST_PARTS)
    ]


def cost_chart(plan: dict[str, Any]) -> str:
    levelized = plan["cost_per_million_tokens_usd"]
    return column_chart(
        "Cost per million tokens by year",
        [str(r["year"]) for r in plan["yearly"]],
        cost_stacks(plan),
        "USD per million tokens",
        width=600,
        height=320,
        reference=None
        if levelized is None
        else (levelized, f"levelized {usd_per_mtok_text(levelized)}"),
    )


def _cards(plan: dict[str, Any]) -> str:
    rows = plan["yearly"]
    last = rows[-1] if rows else None
    installed = plan["installed_gpus"]
    last_gpus = sum(installed.get(str(last["year"]), {}).values()) if last else 0
    cards = [
        html_card(
            "levelized cost per million tokens",
            usd_per_mtok_text(plan["cost_per_million_tokens_usd"]),
            f"present value of the cost / of the tokens, at {percent_text(plan['wacc'])}",
            "primary",
        ),
        html_card(
            "present value of the cost",
            usd_text(plan["present_value_cost_usd"]),
            f"{plan['years']} years, discounted to {plan['start_year'] or 'the first year'}",
        ),
        html_card(
            "present value of the tokens",
            tokens_text(plan["present_value_tokens"]),
            "tokens, discounted like the cost",
        ),
        html_card(
            "power design",
            plan["power_design"] or NONE_TEXT,
            f"energy prices {plan['energy_escalation_pct_per_year']:+g}% a year",
        ),
    ]
    if last is not None:
        cards += [
            html_card(
                f"grid power {last['year']}",
                f"{last['grid_power_mw']:.2f} MW",
                f"of {last['budget_mw']:g} MW budget",
            ),
            html_card(
                f"GPUs in service {last['year']}",
                number_text(last_gpus),
                f"{tokens_text(last['tokens_per_year'])} tokens that year",
            ),
            html_card(
                "capex paid",
                usd_text(sum(r["capex_usd"] for r in plan["cash_flow"])),
                "purchases and facility, all years, undiscounted",
            ),
            html_card("objective", plan["objective"], f"solver {plan['status']}"),
        ]
    return f'<section class="cards">{"".join(cards)}</section>'


def _input_rows(plan: dict[str, Any]) -> list[list[str]]:
    return [
        [f["file"], number_text(f.get("bytes")), f["sha256"][:SHA_SHOWN] + "…"]
        for f in plan.get("inputs", [])
    ]


def _regret_section(stress: dict[str, Any]) -> list[str]:
    """The plan under the scenarios: its regret table (`pipelines.reports.stress`), and why a
    side has no plan."""
    rows = stress["regret"]
    notes = "".join(f"<li>{escape(n)}</li>" for n in regret_notes(rows))
    return [
        "<h2>Under the scenarios</h2>",
        f'<p class="lead">{escape(STRESS_LEAD)} {escape(REGRET_LEAD)} '
        f"{escape(EXPECTED_LABEL[0].upper() + EXPECTED_LABEL[1:])}: "
        f"{escape(expected_text(stress))}.</p>",
        html_panel(
            html_table(REGRET_HEADERS, regret_rows(rows), total_last=True)
            + (f'<ul class="notes">{notes}</ul>' if notes else "")
        ),
    ]


def parts_html(parts: list[Part], eyebrow: str, footer: str) -> str:
    """Text parts (`pipelines.reports.text`) as one HTML page in the report's style: the title
    as the page's heading, each heading a section, each table a panel."""
    title = next((p for p in parts if isinstance(p, Title)), None)
    heading = "" if title is None else title.text
    meta = "" if title is None or not title.status else f"solver {title.status}"
    sections = []
    for part in parts:
        if isinstance(part, Heading):
            sections.append(f"<h2>{escape(part.text)}</h2>")
        elif isinstance(part, Paragraph):
            sections.append(f'<p class="lead">{escape(part.text)}</p>')
        elif isinstance(part, Notes):
            items = "".join(f"<li>{escape(line)}</li>" for line in part.lines)
            lead = f'<p class="lead">{escape(part.lead)}</p>' if part.lead else ""
            sections.append(lead + html_panel(f'<ul class="notes">{items}</ul>'))
        elif isinstance(part, TextTable):
            sections.append(html_panel(_table_html(part)))
    return _page(heading, eyebrow, meta, "".join(sections), footer)


def _table_html(table: TextTable) -> str:
    if table.headers is not None:
        return html_table(table.headers, table.rows)
    rows = "".join(  # label: value
        f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in table.rows
    )
    return f"<table><tbody>{rows}</tbody></table>"


def _page(title: str, eyebrow: str, meta: str, body: str, footer: str) -> str:
    return html_page(
        title,
        title,
        f"tokenplan · {eyebrow}",
        escape(meta),
        body,
        f"Made by tokenplan · {escape(footer)}",
    )


def robust_html(document: dict[str, Any]) -> str:
    """The robust plan document (`pipelines.planning.stress.make_robust_plan`) as one HTML page:
    the parts `tokenplan horizon --robust` prints, the regret table among them."""
    solver = document["solver"]
    footer = f"HiGHS, {document['status']}, {solver['seconds']:.2f} s"
    return parts_html(robust_parts(document), "robust multi-year plan", footer)


def horizon_html(plan: dict[str, Any], stress: dict[str, Any] | None = None) -> str:
    """The multi-year plan document (`optimizer.horizon.document`) as one HTML page; with its
    stress test (`pipelines.planning.stress.stress_document`), its regret table too."""
    title = f"Multi-year plan: {plan['name']} · {plan_span(plan)}"
    sections = [
        _cards(plan),
        "<h2>Capacity and cost over the years</h2>",
        '<p class="lead">GPUs in service each year, by accelerator (rented apart from owned), and '
        "each year's cost per million tokens by part: capital and facility annuities, energy, "
        "other opex (maintenance, rentals, cooling and power chain upkeep) and site costs. The "
        "dashed line is the levelized cost over the horizon.</p>",
        f'<div class="grid">{html_panel(gpu_chart(plan))}{html_panel(cost_chart(plan))}</div>',
        "<h2>Year by year</h2>",
        html_panel(html_table(YEAR_HEADERS, year_rows(plan))),
        "<h2>Build plan</h2>",
        '<p class="lead">Per vintage (the year its nodes entered service, or were installed) and '
        "year: nodes bought, in service, and retired at the start of the year (early, or at the "
        "end of their lifetime: the row of the year after their last, with none in service).</p>",
        html_panel(html_table(BUILD_HEADERS, build_rows(plan))),
        "<h2>Cash flow</h2>",
        '<p class="lead">When the money is paid: purchases and facility at once, the rest each '
        "year.</p>",
        html_panel(html_table(CASH_HEADERS, cash_rows(plan))),
    ]
    if stress is not None:
        sections += _regret_section(stress)
    if plan.get("inputs"):
        sections += [
            "<h2>Inputs</h2>",
            '<p class="lead">The input files this plan was made from, with their content '
            "hashes.</p>",
            html_panel(
                html_table(["file", "bytes", "SHA-256 (start)"], _input_rows(plan), mono=(2,))
            ),
        ]
    if plan.get("notes"):
        notes = "".join(f"<li>{escape(n)}</li>" for n in plan["notes"])
        sections += ["<h2>Notes</h2>", html_panel(f'<ul class="notes">{notes}</ul>')]
    meta = (
        f"objective {plan['objective']} · solver {plan['status']} · "
        f"{plan['years']} years from {plan['start_year'] or 'the first year'}"
    )
    return _page(title, "multi-year plan", meta, "".join(sections), solver_text(plan))
