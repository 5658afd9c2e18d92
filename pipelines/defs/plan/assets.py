"""Plan: the MILP that picks the fleet, cooling and power design, and its checks."""

import math

import dagster as dg

from optimizer.inputs import SolverOptions, inputs_from_dict
from optimizer.plan import plan_document, recompute_annual_cost
from optimizer.solve import Infeasible, solve
from pipelines.defs.resources import Warehouse
from pipelines.history import save_plan, stamp
from pipelines.render import COST_LABELS, plan_text

COST_TOLERANCE = 1e-6
"""Relative difference allowed between the reported cost and the cost recomputed from the rows."""


class PlanConfig(dg.Config):
    objective: str = "cost-per-token"
    """cost-per-token (Dinkelbach over MILPs) or min-cost (meet each workload's demand)."""
    time_limit_s: float = 300.0
    mip_rel_gap: float = 1e-4
    threads: int = 1


@dg.asset(
    group_name="plan",
    kinds={"pyomo", "highs"},
    owners=["team:capacity-planning"],
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[
        dg.AssetCheckSpec("solver_status", asset="build_plan",
                          description="HiGHS proved the plan optimal within the gap (warns at a time limit)."),
        dg.AssetCheckSpec("within_budget", asset="build_plan",
                          description="Grid power provisioned is within the MW budget."),
        dg.AssetCheckSpec("cost_matches_rows", asset="build_plan",
                          description="The annual cost recomputed from the fleet rows equals the reported objective."),
    ],
)
def build_plan(context: dg.AssetExecutionContext, config: PlanConfig, warehouse: Warehouse, design_space: dict):
    """The recommended build plan: fleet per system, cooling and power design; GPU allocation to
    workloads; annual cost by component; cost per million tokens and tokens/s per MW.
    """
    design = dict(design_space)
    files = design.pop("inputs_files", [])
    inputs = inputs_from_dict(design)
    options = SolverOptions(time_limit_s=config.time_limit_s, mip_rel_gap=config.mip_rel_gap, threads=config.threads)
    try:
        solution = solve(inputs, config.objective, options)
    except Infeasible as error:
        raise dg.Failure(description=f"infeasible: {error.reason}", allow_retries=False) from error
    plan = stamp(plan_document(inputs, solution, config.objective, inputs_files=files))
    kept = save_plan(plan, warehouse.dir)
    context.log.info(f"plan {plan['plan_id']} kept in {kept}\n{plan_text(plan)}")
    yield dg.Output(plan, metadata=plan_metadata(plan))
    yield from plan_checks(plan, recompute_annual_cost(plan, inputs))


def plan_metadata(plan: dict) -> dict:
    costs = "\n".join(f"| {COST_LABELS.get(k, k)} | {v:,.0f} |" for k, v in plan["costs_usd_per_year"].items() if v)
    return {
        "summary": dg.MetadataValue.md(plan_text(plan, markdown=True)),
        "cost_breakdown": dg.MetadataValue.md("| component | USD/year |\n|---|---|\n" + costs),
        "cost_per_million_tokens_usd": plan["cost_per_million_tokens_usd"],
        "tokens_per_s_per_mw": plan["tokens_per_s_per_mw"] or 0.0,
        "annual_cost_usd": plan["annual_cost_usd"],
        "grid_power_mw": plan["grid_power_mw"],
        "status": plan["status"],
        "plan_id": plan["plan_id"],
    }


def plan_checks(plan: dict, recomputed_cost_usd: float):
    gap = plan["solver"]["mip_gap"]
    yield dg.AssetCheckResult(
        check_name="solver_status", passed=plan["status"] == "optimal",
        severity=dg.AssetCheckSeverity.WARN, metadata={"status": plan["status"], "mip_gap": gap or 0.0},
    )
    yield dg.AssetCheckResult(
        check_name="within_budget", passed=plan["grid_power_mw"] <= plan["budget_mw"] * (1 + 1e-9),
        metadata={"grid_power_mw": plan["grid_power_mw"], "budget_mw": plan["budget_mw"]},
    )
    yield dg.AssetCheckResult(
        check_name="cost_matches_rows",
        passed=math.isclose(recomputed_cost_usd, plan["annual_cost_usd"], rel_tol=COST_TOLERANCE),
        metadata={"reported_usd": plan["annual_cost_usd"], "recomputed_usd": recomputed_cost_usd},
    )
