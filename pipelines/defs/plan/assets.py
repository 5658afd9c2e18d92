"""Plan: the MILP that picks the fleet, cooling and power design, and its checks."""

import math
from typing import ClassVar

import dagster as dg
import polars as pl

from optimizer.economics import crf
from optimizer.inputs import SolverOptions
from optimizer.plan import recompute_annual_cost
from optimizer.solve import Infeasible
from optimizer.types import Objective, PlanDocument, TimeResolution, cost_components
from pipelines.contract.ranges import MAX_BUDGETS
from pipelines.defs.automation.conditions import REPLAN
from pipelines.defs.config import (
    BUDGET_MW,
    JOBS,
    MIP_GAP,
    OBJECTIVES,
    THREADS,
    TIME_LIMIT_S,
    TIME_RESOLUTIONS,
    Bounds,
    RunConfig,
)
from pipelines.defs.design.assets import INGESTED, design_inputs, snapshot_read
from pipelines.defs.metadata import (
    COUNT,
    FLAG,
    FRACTION,
    GPUS,
    KW,
    KWH,
    MW,
    PER_M_TOKENS,
    PERCENT,
    RATE,
    RATIO,
    SECONDS,
    TEXT,
    TOKENS_PER_S,
    USD,
    USD_PER_M_TOKENS,
    Column,
    decimals,
    number,
    records_table,
    significant,
    whole,
)
from pipelines.defs.resources import SNAPSHOT_ASSET, InputFolder, Warehouse
from pipelines.planning.make_plan import plan_from_inputs
from pipelines.planning.sweep import budget_range, rises_with_budget, sweep
from pipelines.reports.exports import EXPORTS_FOLDER, export_paths
from pipelines.reports.frontier import sweep_text
from pipelines.reports.text import COST_LABELS, plan_text
from pipelines.warehouse.history import save_plan, stamp

COST_TOLERANCE = 1e-6
"""Relative difference allowed between the reported cost and the cost recomputed from the rows."""
BLOCKING_CHECKS = ("within_budget", "cost_matches_rows")
"""`build_plan`'s checks that stop the run: the exports are not made from a plan failing one,
and the plan is not kept in the plan history."""


class PlanConfig(RunConfig):
    """How the build plan is solved (as `tokenplan replan`'s --objective, --time-limit, --gap,
    --threads and --time-resolution)."""

    RANGES: ClassVar[dict[str, Bounds]] = {
        "time_limit_s": TIME_LIMIT_S,
        "mip_rel_gap": MIP_GAP,
        "threads": THREADS,
    }
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "objective": OBJECTIVES,
        "time_resolution": TIME_RESOLUTIONS,
    }

    objective: str = Objective.COST_PER_TOKEN.value
    """cost-per-token (Dinkelbach over MILPs), min-cost (meet each workload's demand) or
    max-profit (revenue at each workload's price, at most what its market takes, less cost)."""
    time_limit_s: float = SolverOptions.time_limit_s
    """Seconds for the whole solve, > 0 and <= 604,800 (a week); at the limit the best plan
    found is kept, with its gap."""
    mip_rel_gap: float = SolverOptions.mip_rel_gap
    """Relative MIP gap at which HiGHS stops, >= 0 and < 1 (0 proves the optimum)."""
    threads: int = SolverOptions.threads
    """HiGHS threads, 1 to 256."""
    time_resolution: str = TimeResolution.FLAT.value
    """flat (one average year) | representative (12 months × weekday/weekend × 24 h) | hourly
    (8760 h): time-of-use energy prices, monthly demand peaks, interactive load profiles, batch
    work moved to cheap hours."""


@dg.asset(
    group_name="plan",
    kinds={"pyomo", "highs"},
    owners=["team:capacity-planning"],
    automation_condition=REPLAN,
    check_specs=[
        dg.AssetCheckSpec(
            "solver_status",
            asset="build_plan",
            description="HiGHS proved the plan optimal within the gap (warns at a time limit; "
            "does not stop the run).",
        ),
        dg.AssetCheckSpec(
            "within_budget",
            asset="build_plan",
            blocking=True,
            description="Grid power provisioned is within the MW budget. Blocking: a plan "
            "failing it is not exported nor kept in the plan history.",
        ),
        dg.AssetCheckSpec(
            "cost_matches_rows",
            asset="build_plan",
            blocking=True,
            description="The annual cost recomputed from the fleet rows equals the reported "
            "objective. Blocking: a plan failing it is not exported nor kept in the plan history.",
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
    A plan failing a blocking check (`within_budget`, `cost_matches_rows`) is materialized for
    the record, but the run stops there: no exports, and the plan history keeps the last good
    plan.
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
    checks = list(plan_checks(plan, recompute_annual_cost(plan, inputs)))
    failed = [c.check_name for c in checks if c.check_name in BLOCKING_CHECKS and not c.passed]
    metadata = plan_metadata(plan)
    if failed:
        context.log.error(
            f"plan {plan['plan_id']} failed {', '.join(failed)}: not exported and not kept in "
            f"the plan history\n{plan_text(plan)}"
        )
    else:
        kept = save_plan(plan, warehouse.dir)
        context.log.info(f"plan {plan['plan_id']} kept in {kept}\n{plan_text(plan)}")
        report = export_paths(plan, "html", warehouse.dir / EXPORTS_FOLDER)[0]
        metadata["report_html"] = dg.MetadataValue.path(str(report))
    yield dg.Output(plan, metadata=metadata)
    yield from checks


FLEET = (
    Column("system", TEXT, field="sku"),
    Column("rented", FLAG),
    Column("cooling", TEXT, "cooling design (none when rented)", field="cooling_id"),
    Column("power", TEXT, "power design (none when rented)", field="power_id"),
    Column("nodes", COUNT),
    Column("gpus", COUNT),
    Column("it_kw", KW, "IT power", field="it_power_kw"),
    Column("grid_kw", KW, "grid power, with cooling and power losses", field="grid_power_kw"),
    Column("annual_cost_usd", USD, "per year; time-resolved plans: without energy and demand"),
    Column("capex_usd", USD, "upfront"),
)
ALLOCATION = (
    Column("workload", TEXT),
    Column("system", TEXT, field="sku"),
    Column("configuration", TEXT, "serving configuration"),
    Column("gpus", GPUS),
    Column("tokens_per_s", TOKENS_PER_S),
    Column("tokens_per_s_per_gpu", RATE, "tokens/s per GPU"),
    Column("tokens_per_s_per_user", RATE, field="interactivity_tokens_per_s_per_user"),
    Column("ttft_s", SECONDS, "time to first token"),
    Column("interpolated", FLAG, "interpolated between two measured points"),
    Column("derived", FLAG, "scaled from another accelerator's measurements"),
)
COSTS = (
    Column("component", TEXT),
    Column("usd_per_year", USD),
    Column("share_pct", PERCENT, "of the annual cost"),
)
LEVERS = (
    Column("lever", TEXT, field="name"),
    Column("without", TEXT, "what the solve took away"),
    Column("in_data", FLAG, "the inputs have the lever at all"),
    Column("used_by_plan", FLAG),
    Column("status", TEXT, "of the solve without the lever"),
    Column("cost_per_million_tokens_usd", USD_PER_M_TOKENS, "without the lever"),
    Column("tokens_per_s_per_mw", TOKENS_PER_S, "without the lever"),
    Column("annual_cost_usd", USD, "without the lever"),
    Column("cost_ratio", RATIO, "cost per token without it / the plan's: what it is worth"),
    Column("tokens_per_mw_ratio", RATIO, "the plan's tokens/s per MW / without it"),
    Column("reason", TEXT, "why there is no plan without it"),
)
ALTERNATIVES = (
    Column("system", TEXT, "the only system allowed", field="sku"),
    Column("rented", FLAG),
    Column("status", TEXT),
    Column("nodes", COUNT),
    Column("gpus", COUNT),
    Column("cost_per_million_tokens_usd", USD_PER_M_TOKENS),
    Column("tokens_per_s_per_mw", TOKENS_PER_S),
    Column("annual_cost_usd", USD),
    Column("grid_power_mw", MW),
    Column("advantage_ratio", RATIO, "its cost per token / the plan's"),
    Column("reason", TEXT, "why there is no plan with it alone"),
)
MONTHS = (
    Column("month", COUNT),
    Column("energy_kwh", KWH),
    Column("energy_usd", USD),
    Column("peak_grid_kw", KW),
    Column("demand_usd", USD),
)
INPUTS = (
    Column("file", TEXT, "relative to the input folder"),
    Column("bytes", COUNT, "size (none: the file changed since it was ingested)"),
    Column("sha256", TEXT, "SHA-256 of its content"),
)


def plan_metadata(plan: PlanDocument) -> dict:
    """What the UI shows of a plan: the summary (Markdown, as `tokenplan plan` prints it), its
    tables, and the headline figures rounded as a planner reads them (they are plotted across
    materializations)."""
    costs = {k: v for k, v in cost_components(plan).items() if v}
    total = sum(costs.values())
    cost_rows = [
        {
            "component": COST_LABELS.get(k, k),
            "usd_per_year": v,
            "share_pct": 100 * v / total if total else None,
        }
        for k, v in costs.items()
    ] + [{"component": "total", "usd_per_year": total, "share_pct": 100.0 if total else None}]
    metadata = {
        "summary": dg.MetadataValue.md(plan_text(plan, markdown=True)),
        "cost_per_million_tokens_usd": number(plan["cost_per_million_tokens_usd"]),
        "tokens_per_s_per_mw": number(plan["tokens_per_s_per_mw"], whole),
        "annual_cost_usd": number(plan["annual_cost_usd"], whole),
        "capex_usd": number(plan["capex_usd"], whole),
        "grid_power_mw": number(plan["grid_power_mw"], MW.round),
        "budget_mw": number(plan["budget_mw"], MW.round),
        "kwh_per_million_tokens": number(plan["kwh_per_million_tokens"]),
        "carbon_kg_per_million_tokens": number(plan.get("carbon_kg_per_million_tokens")),
        "water_l_per_million_tokens": number(plan.get("water_l_per_million_tokens")),
        "status": plan["status"],
        "objective": plan["objective"],
        "plan_id": plan["plan_id"],
        "fleet": records_table(plan["fleet"], FLEET),
        "allocation": records_table(plan["allocation"], ALLOCATION),
        "cost_breakdown": records_table(cost_rows, COSTS),
        "inputs": records_table(plan["inputs"], INPUTS),
    }
    if "levers" in plan:
        metadata["levers"] = records_table(plan["levers"], LEVERS)
    if "alternatives" in plan:
        metadata["alternatives"] = records_table(plan["alternatives"], ALTERNATIVES)
    return metadata | time_metadata(plan)


def time_metadata(plan: PlanDocument) -> dict:
    """A time-resolved plan's resolution, its flat-year comparison, realized utilization and
    monthly energy and demand."""
    if "time_resolution" not in plan:
        return {"time_resolution": "flat"}
    utilization = plan.get("realized_utilization")
    return {
        "time_resolution": plan["time_resolution"],
        "flat_cost_per_million_tokens_usd": number(plan.get("flat_cost_per_million_tokens_usd")),
        "realized_utilization": number(
            utilization["fleet"] if utilization else None, FRACTION.round
        ),
        "monthly": records_table(plan.get("monthly", []), MONTHS),
    }


def plan_checks(plan: PlanDocument, recomputed_cost_usd: float) -> list[dg.AssetCheckResult]:
    gap = plan["solver"]["mip_gap"]
    return [
        dg.AssetCheckResult(
            check_name="solver_status",
            passed=plan["status"] == "optimal",
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"status": plan["status"], "mip_gap": number(gap, significant)},
        ),
        dg.AssetCheckResult(
            check_name="within_budget",
            passed=plan["grid_power_mw"] <= plan["budget_mw"] * (1 + 1e-9),
            metadata={
                "grid_power_mw": number(plan["grid_power_mw"], decimals(6)),
                "budget_mw": number(plan["budget_mw"], decimals(6)),
            },
        ),
        dg.AssetCheckResult(
            check_name="cost_matches_rows",
            passed=math.isclose(
                recomputed_cost_usd, plan["annual_cost_usd"], rel_tol=COST_TOLERANCE
            ),
            metadata={
                "reported_usd": number(plan["annual_cost_usd"], decimals(2)),
                "recomputed_usd": number(recomputed_cost_usd, decimals(2)),
                "difference_usd": number(
                    recomputed_cost_usd - plan["annual_cost_usd"], decimals(2)
                ),
            },
        ),
    ]


class FrontierConfig(RunConfig):
    """The budgets `pareto_frontier` solves and how (as `tokenplan sweep`)."""

    RANGES: ClassVar[dict[str, Bounds]] = {
        "start_mw": BUDGET_MW,
        "stop_mw": BUDGET_MW,
        "step_mw": BUDGET_MW,
        "jobs": JOBS,
        "time_limit_s": TIME_LIMIT_S,
        "mip_rel_gap": MIP_GAP,
    }
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "objective": OBJECTIVES,
        "time_resolution": TIME_RESOLUTIONS,
    }

    start_mw: float | None = None
    """First budget [MW], > 0 and <= 10,000; empty: a quarter of the scenario's budget."""
    stop_mw: float | None = None
    """Last budget [MW], included, > 0 and <= 10,000; empty: twice the scenario's budget."""
    step_mw: float | None = None
    """Step [MW], > 0; empty: a quarter of the scenario's budget. At most 1,000 budgets."""
    objective: str = Objective.COST_PER_TOKEN.value
    """As `PlanConfig.objective`, for every budget."""
    time_resolution: str = TimeResolution.FLAT.value
    """As `PlanConfig.time_resolution`, for every budget."""
    jobs: int | None = None
    """Worker processes at most, 1 to 256 (1: this process; short solves stay in this process);
    empty: the CPU count."""
    time_limit_s: float = SolverOptions.time_limit_s
    """Seconds per budget, > 0 and <= 604,800."""
    mip_rel_gap: float = SolverOptions.mip_rel_gap
    """Relative MIP gap, >= 0 and < 1."""


FRONTIER = (
    Column("budget_mw", MW),
    Column("status", TEXT),
    Column("cost_per_million_tokens_usd", USD_PER_M_TOKENS),
    Column("tokens_per_s_per_mw", TOKENS_PER_S),
    Column("grid_power_mw", MW),
    Column("annual_cost_usd", USD),
    Column(
        "marginal_usd_per_million_extra_tokens",
        PER_M_TOKENS,
        "USD per extra million tokens of one more MW",
    ),
    Column("design", TEXT),
    Column("reason", TEXT, "why there is no plan at this budget"),
)


@dg.asset(
    group_name="plan",
    ins={table: dg.AssetIn(table) for table in INGESTED},
    deps=[SNAPSHOT_ASSET],
    kinds={"pyomo", "highs"},
    owners=["team:capacity-planning"],
    automation_condition=REPLAN,
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
    input_folder: InputFolder,
    **tables: pl.DataFrame,
):
    """Cost per million tokens, tokens/s per MW, grid MW and the chosen design at each grid budget
    of the range, solved in ascending order from the plan of the budget below (in worker
    processes when the solves are long: `pipelines.planning.sweep.sweep`); with the solved
    value of one more MW at each budget."""
    budget_mw = tables["scenario"].row(0, named=True)["budget_mw"]
    start = config.start_mw or budget_mw / 4
    stop = config.stop_mw or 2 * budget_mw
    step = config.step_mw or budget_mw / 4
    if stop < start or (stop - start) / step + 1 > MAX_BUDGETS + 1e-9:
        raise dg.Failure(
            description=f"bad run config (FrontierConfig): budgets {start:g} to {stop:g} MW by "
            f"{step:g} MW need start_mw <= stop_mw and at most {MAX_BUDGETS:,} budgets "
            f"(each is a full solve)",
            allow_retries=False,
        )
    budgets = budget_range(start, stop, step)
    options = SolverOptions(time_limit_s=config.time_limit_s, mip_rel_gap=config.mip_rel_gap)
    snapshot_id, files = snapshot_read(context, warehouse, input_folder)
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
            "budgets_table": records_table(frontier["rows"], FRONTIER),
            "budgets": len(frontier["rows"]),
            "infeasible_budgets": sum(
                r["cost_per_million_tokens_usd"] is None for r in frontier["rows"]
            ),
            "seconds": number(frontier["seconds"], decimals(1)),
            "jobs": frontier["jobs"],
        },
    )
    yield dg.AssetCheckResult(
        check_name="cost_never_rises_with_budget",
        passed=not rises,
        metadata={
            "rises": len(rises),
            "between_mw": ", ".join(f"{a:g}→{b:g}" for a, b in rises) or "none",
        },
    )
