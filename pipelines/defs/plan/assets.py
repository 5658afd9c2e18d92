"""Plan: the MILP that picks the fleet, cooling and power design, and its checks."""

import math

import dagster as dg
import polars as pl

from optimizer.economics import crf
from optimizer.inputs import SolverOptions
from optimizer.plan import recompute_annual_cost
from optimizer.solve import Infeasible
from optimizer.types import Objective, PlanDocument, TimeResolution, cost_components
from pipelines.defs.design.assets import INGESTED, design_inputs, snapshot_read
from pipelines.defs.resources import SNAPSHOT_ASSET, Warehouse
from pipelines.planning.make_plan import plan_from_inputs
from pipelines.planning.sweep import budget_range, rises_with_budget, sweep
from pipelines.reports.exports import EXPORTS_FOLDER, export_paths
from pipelines.reports.frontier import sweep_text
from pipelines.reports.text import COST_LABELS, plan_text
from pipelines.warehouse.history import save_plan, stamp

COST_TOLERANCE = 1e-6
"""Relative difference allowed between the reported cost and the cost recomputed from the rows."""


class PlanConfig(dg.Config):
    objective: str = Objective.COST_PER_TOKEN.value
    """cost-per-token (Dinkelbach over MILPs), min-cost (meet each workload's demand) or
    max-profit (revenue at each workload's price, at most what its market takes, less cost)."""
    time_limit_s: float = SolverOptions.time_limit_s
    mip_rel_gap: float = SolverOptions.mip_rel_gap
    threads: int = SolverOptions.threads
    time_resolution: str = TimeResolution.FLAT.value
    """flat (one average year) | representative (12 months × weekday/weekend × 24 h) | hourly
    (8760 h): time-of-use energy prices, monthly demand peaks, interactive load profiles, batch
    work moved to cheap hours."""


@dg.asset(
    group_name="plan",
    kinds={"pyomo", "highs"},
    owners=["team:capacity-planning"],
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[
        dg.AssetCheckSpec(
            "solver_status",
            asset="build_plan",
            description="HiGHS proved the plan optimal within the gap (warns at a time limit).",
        ),
        dg.AssetCheckSpec(
            "within_budget",
            asset="build_plan",
            description="Grid power provisioned is within the MW budget.",
        ),
        dg.AssetCheckSpec(
            "cost_matches_rows",
            asset="build_plan",
            description="The annual cost recomputed from the fleet rows equals the reported "
            "objective.",
        ),
    ],
)
def build_plan(
    context: dg.AssetExecutionContext, config: PlanConfig, warehouse: Warehouse, design_space: dict
):
    """The recommended build plan: fleet per system, cooling and power design; GPU allocation to
    workloads in their serving configurations; annual cost by component; cost per million
    tokens, tokens/s per MW, carbon and water per million tokens; and what each lever (FP4,
    speculative decoding, disaggregation, KV offload, liquid cooling, 800 VDC) is worth.
    """
    inputs, files, snapshot_id = design_inputs(design_space)
    options = SolverOptions(
        time_limit_s=config.time_limit_s, mip_rel_gap=config.mip_rel_gap, threads=config.threads
    )
    try:
        plan = stamp(
            plan_from_inputs(
                inputs,
                config.objective,
                options,
                config.time_resolution,
                files,
                fields={"inputs_snapshot": snapshot_id},
            )
        )
    except Infeasible as error:
        raise dg.Failure(description=f"infeasible: {error.reason}", allow_retries=False) from error
    kept = save_plan(plan, warehouse.dir)
    context.log.info(f"plan {plan['plan_id']} kept in {kept}\n{plan_text(plan)}")
    report = export_paths(plan, "html", warehouse.dir / EXPORTS_FOLDER)[0]
    yield dg.Output(
        plan, metadata=plan_metadata(plan) | {"report_html": dg.MetadataValue.path(str(report))}
    )
    yield from plan_checks(plan, recompute_annual_cost(plan, inputs))


def plan_metadata(plan: PlanDocument) -> dict:
    costs = "\n".join(
        f"| {COST_LABELS.get(k, k)} | {v:,.0f} |" for k, v in cost_components(plan).items() if v
    )
    return {
        "summary": dg.MetadataValue.md(plan_text(plan, markdown=True)),
        "cost_breakdown": dg.MetadataValue.md("| component | USD/year |\n|---|---|\n" + costs),
        "cost_per_million_tokens_usd": plan["cost_per_million_tokens_usd"],
        "tokens_per_s_per_mw": plan["tokens_per_s_per_mw"] or 0.0,
        "annual_cost_usd": plan["annual_cost_usd"],
        "grid_power_mw": plan["grid_power_mw"],
        "status": plan["status"],
        "plan_id": plan["plan_id"],
        "carbon_kg_per_million_tokens": plan.get("carbon_kg_per_million_tokens") or 0.0,
        "water_l_per_million_tokens": plan.get("water_l_per_million_tokens") or 0.0,
    } | time_metadata(plan)


def time_metadata(plan: PlanDocument) -> dict:
    """A time-resolved plan's resolution, its flat-year comparison, realized utilization and
    monthly peaks."""
    if "time_resolution" not in plan:
        return {"time_resolution": "flat"}
    months = "\n".join(
        f"| {r['month']} | {r['energy_kwh']:,.0f} | {r['energy_usd']:,.0f} "
        f"| {r['peak_grid_kw']:,.0f} | {r['demand_usd']:,.0f} |"
        for r in plan["monthly"]
    )
    return {
        "time_resolution": plan["time_resolution"],
        "flat_cost_per_million_tokens_usd": plan["flat_cost_per_million_tokens_usd"] or 0.0,
        "realized_utilization": plan["realized_utilization"]["fleet"] or 0.0,
        "monthly": dg.MetadataValue.md(
            "| month | kWh | energy USD | peak grid kW | demand USD |\n|---|---|---|---|---|\n"
            + months
        ),
    }


def plan_checks(plan: PlanDocument, recomputed_cost_usd: float):
    gap = plan["solver"]["mip_gap"]
    yield dg.AssetCheckResult(
        check_name="solver_status",
        passed=plan["status"] == "optimal",
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"status": plan["status"], "mip_gap": gap or 0.0},
    )
    yield dg.AssetCheckResult(
        check_name="within_budget",
        passed=plan["grid_power_mw"] <= plan["budget_mw"] * (1 + 1e-9),
        metadata={"grid_power_mw": plan["grid_power_mw"], "budget_mw": plan["budget_mw"]},
    )
    yield dg.AssetCheckResult(
        check_name="cost_matches_rows",
        passed=math.isclose(recomputed_cost_usd, plan["annual_cost_usd"], rel_tol=COST_TOLERANCE),
        metadata={"reported_usd": plan["annual_cost_usd"], "recomputed_usd": recomputed_cost_usd},
    )


class FrontierConfig(dg.Config):
    start_mw: float | None = None
    """First budget [MW]; empty: a quarter of the scenario's budget."""
    stop_mw: float | None = None
    """Last budget [MW], included; empty: twice the scenario's budget."""
    step_mw: float | None = None
    """Step [MW]; empty: a quarter of the scenario's budget."""
    objective: str = Objective.COST_PER_TOKEN.value
    time_resolution: str = TimeResolution.FLAT.value
    """As `PlanConfig.time_resolution`, for every budget."""
    jobs: int | None = None
    """Worker processes; empty: the CPU count."""
    time_limit_s: float = SolverOptions.time_limit_s
    """Per budget."""
    mip_rel_gap: float = SolverOptions.mip_rel_gap


@dg.asset(
    group_name="plan",
    ins={table: dg.AssetIn(table) for table in INGESTED},
    deps=[SNAPSHOT_ASSET],
    kinds={"pyomo", "highs"},
    owners=["team:capacity-planning"],
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[
        dg.AssetCheckSpec(
            "cost_never_rises_with_budget",
            asset="pareto_frontier",
            description="Cost per token does not rise with the budget (up to the MIP gap and "
            "the interconnect cost of the extra MW).",
        )
    ],
)
def pareto_frontier(
    context: dg.AssetExecutionContext,
    config: FrontierConfig,
    warehouse: Warehouse,
    **tables: pl.DataFrame,
):
    """Cost per million tokens, tokens/s per MW, grid MW and the chosen design at each grid budget
    of the range, solved in parallel; with the solved value of one more MW at each budget."""
    budget_mw = tables["scenario"].row(0, named=True)["budget_mw"]
    budgets = budget_range(
        config.start_mw or budget_mw / 4,
        config.stop_mw or 2 * budget_mw,
        config.step_mw or budget_mw / 4,
    )
    options = SolverOptions(time_limit_s=config.time_limit_s, mip_rel_gap=config.mip_rel_gap)
    snapshot_id, files = snapshot_read(context, warehouse)
    frontier = sweep(
        tables,
        budgets,
        config.objective,
        options,
        config.jobs,
        inputs_files=files,
        time_resolution=config.time_resolution,
    ) | {"inputs_snapshot": snapshot_id}
    scenario = tables["scenario"].row(0, named=True)
    grid_usd_per_mw_year = (
        1000.0
        * (scenario.get("grid_connection_capex_usd_per_kw") or 0.0)
        * crf(scenario["wacc"], scenario["facility_lifetime_years"])
    )
    rises = rises_with_budget(frontier["rows"], grid_usd_per_mw_year, config.mip_rel_gap)
    yield dg.Output(
        frontier,
        metadata={
            "frontier": dg.MetadataValue.md(sweep_text(frontier, markdown=True)),
            "budgets": len(frontier["rows"]),
            "infeasible_budgets": sum(
                r["cost_per_million_tokens_usd"] is None for r in frontier["rows"]
            ),
            "seconds": frontier["seconds"],
            "jobs": frontier["jobs"],
        },
    )
    yield dg.AssetCheckResult(
        check_name="cost_never_rises_with_budget", passed=not rises, metadata={"rises": len(rises)}
    )
