"""A budget sweep's frontier for people: its table, its charts, and the frontier kept beside a plan.

The frontier document is what `pipelines.planning.sweep.sweep` returns (one row per budget
with the marginal value of one more MW).
"""

from __future__ import annotations

import json
from pathlib import Path

from optimizer.types import PlanDocument, TimeResolution
from pipelines.reports.charts import Point, Series, line_chart
from pipelines.reports.text import SWEEP_HEADERS, number_text, sweep_rows, table_text, usd_text
from pipelines.warehouse.history import inputs_digest

PLAN_COLOR = "#d97706"
"""This plan's own point over a frontier (amber: apart from the frontier's line)."""


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


def sweep_text(frontier: dict, markdown: bool = False) -> str:
    """The frontier as an aligned table (or Markdown)."""
    return table_text(SWEEP_HEADERS, sweep_rows(frontier), markdown) + "\n"


def resolution_text(time_resolution: str | None) -> str:
    """`flat year`, `representative year`, `hourly year` (None: a flat year, as plans and
    frontiers made before time resolutions were recorded)."""
    return f"{time_resolution or TimeResolution.FLAT.value} year"


def frontier_charts(frontier: dict, plan: PlanDocument | None = None) -> list[str]:
    """SVG line charts over the budget: cost per million tokens, and tokens/s per MW; y axes
    from zero.

    With `plan`: a dashed line at its budget, and the plan's own figure as a point labelled
    with its time resolution. A frontier of another time resolution than the plan's (a flat
    sweep beside a representative-year plan) is labelled with its own: the frontier at the
    plan's budget is then the plan's comparator at that resolution, not the plan.
    """
    resolution = resolution_text(frontier.get("time_resolution"))
    feasible = [r for r in frontier["rows"] if r["cost_per_million_tokens_usd"] is not None]
    missing = [r["budget_mw"] for r in frontier["rows"] if r["cost_per_million_tokens_usd"] is None]
    budget = None if plan is None else plan["budget_mw"]
    plan_resolution = None if plan is None else resolution_text(plan.get("time_resolution"))
    marker_label = "" if plan is None else f"this plan's budget, {budget:g} MW"

    def plan_point(field: str, text) -> list[Point]:
        value = None if plan is None else plan.get(field)
        if plan is None or budget is None or not isinstance(value, int | float):
            return []
        return [Point(budget, value, f"this plan ({plan_resolution}): {text(value)}", PLAN_COLOR)]

    cost = line_chart(
        f"Cost per million tokens by grid budget ({resolution})",
        [
            Series(
                f"best plan at each budget ({resolution})",
                [(r["budget_mw"], r["cost_per_million_tokens_usd"]) for r in feasible],
            )
        ],
        "grid budget (MW)",
        "USD per million tokens",
        marker_x=budget,
        marker_label=marker_label,
        missing_x=missing,
        points=plan_point("cost_per_million_tokens_usd", usd_text),
    )
    density = line_chart(
        f"Tokens/s per MW by grid budget ({resolution})",
        [
            Series(
                f"best plan at each budget ({resolution})",
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
        marker_x=budget,
        marker_label=marker_label,
        missing_x=missing,
        points=plan_point("tokens_per_s_per_mw", number_text),
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
