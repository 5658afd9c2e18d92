"""Multi-year plan: what to buy, keep and retire each year of the scenario's horizon.

`horizon_plan` reads the optimizer inputs of `design_space`, as `build_plan` does, so the
one-year and the multi-year plans of a run are made from the same tables snapshot (and the
same run config of the design step). A scenario without a `horizon:` has no multi-year plan:
the asset is then not materialized (an observation says why) and the last multi-year plan,
if any, stays as it was. The `horizon` job runs it with what it reads; `replan` runs it too
(the bundled horizon solves in a few seconds).
"""

import math
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg

from optimizer.horizon import solve_horizon
from optimizer.horizon.document import horizon_document
from optimizer.inputs import SolverOptions
from optimizer.solve import NoPlan
from optimizer.types import Objective
from pipelines.defs.automation.conditions import REPLAN
from pipelines.defs.config import MIP_GAP, THREADS, TIME_LIMIT_S, Bounds, RunConfig
from pipelines.defs.design.assets import design_inputs
from pipelines.defs.metadata import (
    COUNT,
    MW,
    TEXT,
    USD,
    USD_PER_M_TOKENS,
    Column,
    Kind,
    decimals,
    not_materialized,
    number,
    records_table,
    significant,
    whole,
)
from pipelines.defs.plan.assets import INPUTS
from pipelines.defs.resources import Warehouse
from pipelines.planning.horizon import HORIZON_OBJECTIVES
from pipelines.reports.exports import EXPORTS_FOLDER
from pipelines.reports.horizon import (
    HORIZON_HTML,
    YEAR_HEADERS,
    horizon_parts,
    solver_text,
    year_rows,
)
from pipelines.reports.horizon_report import horizon_html
from pipelines.reports.text import render_text, table_text
from pipelines.warehouse.files import write_atomically

COST_TOLERANCE = 1e-6
"""Relative difference allowed between a reported cost and the one added up from its parts."""


class HorizonConfig(RunConfig):
    """How the multi-year plan is solved (as `tokenplan horizon`'s --objective, --time-limit,
    --gap and --threads)."""

    RANGES: ClassVar[dict[str, Bounds]] = {
        "time_limit_s": TIME_LIMIT_S,
        "mip_rel_gap": MIP_GAP,
        "threads": THREADS,
    }
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"objective": HORIZON_OBJECTIVES}

    objective: str = Objective.COST_PER_TOKEN.value
    """cost-per-token (the lowest levelized cost per token over the years, each year at least
    its served floor) or min-cost (the lowest present value of the cost of each year's
    demands)."""
    time_limit_s: float = SolverOptions.time_limit_s
    """Seconds for the whole solve, > 0 and <= 604,800; at the limit the best plan found is
    kept, with its gap."""
    mip_rel_gap: float = SolverOptions.mip_rel_gap
    """Relative MIP gap at which HiGHS stops, >= 0 and < 1."""
    threads: int = SolverOptions.threads
    """HiGHS threads, 1 to 256."""


@dg.asset(
    group_name="plan",
    kinds={"pyomo", "highs"},
    owners=["team:capacity-planning"],
    automation_condition=REPLAN,
    output_required=False,
)
def horizon_plan(
    context: dg.AssetExecutionContext,
    config: HorizonConfig,
    warehouse: Warehouse,
    design_space: dict,
):
    """The multi-year plan of the scenario's `horizon:`: from the installed fleet (fleet.csv),
    per vintage and year the nodes bought, in service and retired; each year's grid power,
    tokens, cost by part and cost per million tokens; the cash flow; GPUs in service by
    accelerator; the levelized cost per million tokens (present value of the cost / of the
    tokens). Not materialized when the scenario has no horizon. The HTML report is written to
    `exports/horizon_plan.html` in the warehouse.
    """
    inputs, files, snapshot_id = design_inputs(design_space)
    if inputs.horizon is None:
        reason = "scenario.yaml has no horizon: no multi-year plan"
        not_materialized(context, reason, horizon="none")
        return
    options = SolverOptions(
        time_limit_s=config.time_limit_s, mip_rel_gap=config.mip_rel_gap, threads=config.threads
    )
    try:
        solution = solve_horizon(inputs, config.objective, options)
    except NoPlan as error:
        raise dg.Failure(description=f"no multi-year plan: {error}", allow_retries=False) from error
    plan = horizon_document(inputs, solution) | {
        "inputs": files,
        "inputs_snapshot": snapshot_id,
    }
    report = warehouse.dir / EXPORTS_FOLDER / HORIZON_HTML
    page = horizon_html(plan)
    write_atomically(report, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    context.log.info(render_text(horizon_parts(plan)))
    metadata = horizon_metadata(plan) | {"report_html": dg.MetadataValue.path(str(report))}
    yield dg.Output(plan, metadata=metadata)


YEARLY = (
    Column("year", COUNT),
    Column("budget_mw", MW),
    Column("grid_power_mw", MW),
    Column("tokens_per_year", Kind("float", significant, "tokens, 4 significant digits")),
    Column("cost_usd", USD, "capital + facility + energy + opex + site"),
    Column("capital_usd", USD, "annuities of the nodes bought"),
    Column("facility_usd", USD, "annuities of the facility built"),
    Column("energy_usd", USD, "energy and demand charges"),
    Column("opex_usd", USD, "maintenance, rentals, other opex"),
    Column("site_usd", USD, "fixed charges, site opex, grid connection"),
    Column("cost_per_million_tokens_usd", USD_PER_M_TOKENS),
)
BUILD_PLAN = (
    Column("year", COUNT),
    Column("system", TEXT, field="sku"),
    Column("accelerator", TEXT),
    Column("cooling", TEXT, field="cooling_id"),
    Column("power", TEXT, field="power_id"),
    Column("kind", TEXT, "bought, existing (installed before the horizon) or rented"),
    Column("vintage_year", COUNT, "the year its nodes entered service, or were installed"),
    Column("bought", COUNT, "nodes bought (rented) this year"),
    Column("in_service", COUNT, "nodes"),
    Column("retired", COUNT, "nodes taken out of service at the start of the year"),
    Column("gpus", COUNT, "GPUs in service"),
)
CASH_FLOW = (
    Column("year", COUNT),
    Column("capex_usd", USD, "purchases and facility built this year, paid at once"),
    Column("opex_usd", USD),
    Column("energy_usd", USD),
    Column("site_usd", USD),
    Column("total_usd", USD),
)
GPUS_IN_SERVICE = (
    Column("year", COUNT),
    Column("accelerator", TEXT),
    Column("gpus", COUNT, "GPUs in service, owned and rented"),
)


def horizon_metadata(plan: dict[str, Any]) -> dict:
    """What the UI shows of a multi-year plan: the summary and the year-by-year table (Markdown,
    as `tokenplan horizon` prints them), the headline figures rounded as a planner reads them,
    and its tables."""
    installed = [
        {"year": int(year), "accelerator": accelerator, "gpus": gpus}
        for year, by_accelerator in plan["installed_gpus"].items()
        for accelerator, gpus in sorted(by_accelerator.items())
    ]
    return {
        "summary": dg.MetadataValue.md(render_text(horizon_parts(plan), markdown=True)),
        "year_by_year": dg.MetadataValue.md(
            table_text(YEAR_HEADERS, year_rows(plan), markdown=True)
        ),
        "cost_per_million_tokens_usd": number(plan["cost_per_million_tokens_usd"]),
        "present_value_cost_usd": number(plan["present_value_cost_usd"], whole),
        "present_value_tokens": number(plan["present_value_tokens"]),
        "start_year": plan["start_year"],
        "years": plan["years"],
        "power_design": plan["power_design"] or "",
        "status": plan["status"],
        "objective": plan["objective"],
        "solver": solver_text(plan),
        "yearly": records_table(plan["yearly"], YEARLY),
        "build_plan": records_table(plan["build_plan"], BUILD_PLAN),
        "cash_flow": records_table(plan["cash_flow"], CASH_FLOW),
        "gpus_in_service": records_table(installed, GPUS_IN_SERVICE),
        "inputs": records_table(plan["inputs"], INPUTS),
        "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in plan["notes"]) or "none"),
    }


@dg.asset_check(
    asset=horizon_plan,
    description="HiGHS proved the multi-year plan optimal within the gap (warns at a time limit).",
)
def solver_status(horizon_plan: dict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=horizon_plan["status"] == "optimal",
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "status": horizon_plan["status"],
            "mip_gap": number(horizon_plan["mip_gap"], significant),
        },
    )


@dg.asset_check(
    asset=horizon_plan,
    description="Each year's grid power is within that year's MW budget.",
)
def within_budget_every_year(horizon_plan: dict) -> dg.AssetCheckResult:
    yearly = horizon_plan["yearly"]
    over = [r["year"] for r in yearly if r["grid_power_mw"] > r["budget_mw"] * (1 + 1e-9)]
    return dg.AssetCheckResult(
        passed=not over,
        metadata={
            "years_over_budget": ", ".join(map(str, over)) or "none",
            "largest_share_of_budget": number(
                max((r["grid_power_mw"] / r["budget_mw"] for r in yearly), default=None),
                decimals(6),
            ),
        },
    )


@dg.asset_check(
    asset=horizon_plan,
    description="Each year's cost is the sum of its parts, the present value of the cost is the "
    "years' costs discounted at the wacc, and the levelized cost per token is that over the "
    "present value of the tokens.",
)
def cost_adds_up(horizon_plan: dict) -> dg.AssetCheckResult:
    plan = horizon_plan
    yearly = plan["yearly"]
    parts = ("capital_usd", "facility_usd", "energy_usd", "opex_usd", "site_usd")
    unbalanced = [
        r["year"]
        for r in yearly
        if not math.isclose(
            sum(r[p] for p in parts), r["cost_usd"], rel_tol=COST_TOLERANCE, abs_tol=1e-3
        )
    ]
    discount = [(1 + plan["wacc"]) ** -t for t in range(len(yearly))]
    present_cost = sum(d * r["cost_usd"] for d, r in zip(discount, yearly, strict=True))
    present_tokens = sum(d * r["tokens_per_year"] for d, r in zip(discount, yearly, strict=True))
    levelized = present_cost / present_tokens * 1e6 if present_tokens > 0 else None
    reported = plan["cost_per_million_tokens_usd"]
    levelized_ok = (
        reported is None
        if levelized is None
        else reported is not None and math.isclose(levelized, reported, rel_tol=COST_TOLERANCE)
    )
    present_ok = math.isclose(present_cost, plan["present_value_cost_usd"], rel_tol=COST_TOLERANCE)
    return dg.AssetCheckResult(
        passed=not unbalanced and present_ok and levelized_ok,
        metadata={
            "years_not_adding_up": ", ".join(map(str, unbalanced)) or "none",
            "present_value_cost_usd": number(plan["present_value_cost_usd"], decimals(2)),
            "recomputed_present_value_cost_usd": number(present_cost, decimals(2)),
            "cost_per_million_tokens_usd": number(reported),
            "recomputed_cost_per_million_tokens_usd": number(levelized),
        },
    )


horizon = dg.define_asset_job(
    "horizon",
    selection=dg.AssetSelection.assets("horizon_plan").upstream(),
    description="Ingest every input, rebuild the design space and solve the multi-year plan of "
    "the scenario's horizon (no multi-year plan when the scenario has none).",
)
