"""A budget sweep's frontier for people: its table, its charts, and the frontier kept beside a plan.

The frontier document is what `pipelines.planning.sweep.sweep` returns (one row per budget
with the marginal value of one more MW).
"""

from __future__ import annotations

import json
from pathlib import Path

from optimizer.types import PlanDocument
from pipelines.reports.charts import Series, line_chart, tick_text
from pipelines.reports.text import number_text, table_text, usd_text
from pipelines.warehouse.history import inputs_digest


def design_text(point: dict) -> str:
    """`power dc800: GB200 NVL72 × dlc 126, B200 neocloud rental (rented) 193`, or the reason."""
    if point["reason"]:
        return f"{point['status']}: {point['reason']}"
    parts = [
        f"{r['sku']} × {r['cooling_id']} {r['nodes']}"
        if r["cooling_id"]
        else f"{r['sku']} (rented) {r['nodes']}"
        for r in point["fleet"]
    ]
    return f"power {point['power_design'] or '-'}: " + ", ".join(parts)


SWEEP_HEADERS = [
    "budget MW",
    "cost per M tokens",
    "tokens/s per MW",
    "grid MW",
    "+1 MW: Δ tokens/year",
    "+1 MW: Δ cost per M tokens",
    "+1 MW: USD per extra M tokens",
    "design (systems × cooling: nodes)",
]


def sweep_rows(frontier: dict) -> list[list[str]]:
    """Formatted rows; the +1 MW changes also as a percentage of the value at the budget."""

    def change(delta: float | None, base: float | None, text: str) -> str:
        if delta is None or not base:
            return "-"
        return f"{'+' if delta >= 0 else '-'}{text} ({100 * delta / base:+.2f}%)"

    return [
        [
            f"{r['budget_mw']:g}",
            usd_text(r["cost_per_million_tokens_usd"]),
            number_text(r["tokens_per_s_per_mw"]),
            number_text(r["grid_power_mw"], 2),
            change(
                r["marginal_tokens_per_year"],
                r["tokens_per_year"],
                tick_text(abs(r["marginal_tokens_per_year"] or 0.0), digits=4),
            ),
            change(
                r["marginal_cost_per_million_tokens_usd"],
                r["cost_per_million_tokens_usd"],
                f"${abs(r['marginal_cost_per_million_tokens_usd'] or 0.0):.6f}",
            ),
            usd_text(r["marginal_usd_per_million_extra_tokens"]),
            r["design"],
        ]
        for r in frontier["rows"]
    ]


def sweep_text(frontier: dict, markdown: bool = False) -> str:
    """The frontier as an aligned table (or Markdown)."""
    return table_text(SWEEP_HEADERS, sweep_rows(frontier), markdown) + "\n"


def frontier_charts(frontier: dict, plan_budget_mw: float | None = None) -> list[str]:
    """SVG line charts over the budget: cost per million tokens, and tokens/s per MW."""
    feasible = [r for r in frontier["rows"] if r["cost_per_million_tokens_usd"] is not None]
    missing = [r["budget_mw"] for r in frontier["rows"] if r["cost_per_million_tokens_usd"] is None]
    marker_label = "this plan" if plan_budget_mw is not None else ""
    cost = line_chart(
        "Cost per million tokens by grid budget",
        [
            Series(
                "cost per M tokens",
                [(r["budget_mw"], r["cost_per_million_tokens_usd"]) for r in feasible],
            )
        ],
        "grid budget (MW)",
        "USD per million tokens",
        marker_x=plan_budget_mw,
        marker_label=marker_label,
        missing_x=missing,
    )
    density = line_chart(
        "Tokens/s per MW by grid budget",
        [
            Series(
                "tokens/s per MW",
                [
                    (r["budget_mw"], r["tokens_per_s_per_mw"])
                    for r in feasible
                    if r["tokens_per_s_per_mw"] is not None
                ],
                color="#0d9488",
            )
        ],
        "grid budget (MW)",
        "tokens/s per MW of grid power",
        marker_x=plan_budget_mw,
        marker_label=marker_label,
        missing_x=missing,
    )
    return [cost, density]


FRONTIER_FILE = "pareto_frontier.json"
"""Where the Dagster asset `pareto_frontier` keeps the frontier in the warehouse."""


def frontier_for(plan: PlanDocument, path: Path | None, warehouse: Path) -> dict | None:
    """The frontier to chart with `plan`: the file at `path`, else the warehouse's
    `pareto_frontier.json` when it was made from the same input files (same content hashes)."""
    if path is not None:
        return json.loads(path.read_text())
    kept = warehouse / FRONTIER_FILE
    if not kept.is_file():
        return None
    frontier = json.loads(kept.read_text())
    return frontier if inputs_digest(frontier) == inputs_digest(plan) else None
