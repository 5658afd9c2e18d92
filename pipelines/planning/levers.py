"""What each lever is worth: the plan re-solved with one lever taken away at a time.

For each lever of `optimizer.levers.LEVERS` (FP4, speculative decoding, disaggregation,
KV-cache offload, liquid cooling, 800 VDC) the same question is solved on the inputs
without it (`Lever.remove`): same site, budget, prices and workloads. Its row gives that
plan's cost per million tokens and tokens/s per MW beside the plan's:

    cost_ratio          = cost per token without the lever / the plan's cost per token
    tokens_per_mw_ratio = the plan's tokens/s per MW / tokens/s per MW without the lever

so 1.8 says the lever makes a token 1.8x cheaper, or a megawatt 1.8x more productive, on
this site. Taking a lever away leaves a subset of the plans, so in cost-per-token mode
cost_ratio ≥ 1 up to the MIP gap (a lever the plan does not use gives 1); tokens_per_mw_ratio
may be below 1, since the plan minimizes cost per token, not megawatts. In max-profit mode
the lever's worth is the margin it adds (`margin_usd_per_year` without it), and its cost
ratio may be below 1. A lever that the inputs do not have at all is not solved again: its
row is the plan (`in_data` false). Nor is a lever the plan does not use: without it the plan
is still a plan (same nodes, points, cooling and power design), and every plan without the
lever was a plan with it, so the plan stays the optimum and the row is the plan (the
flat-year optimum's use decides for a time-resolved plan). When nothing is left that can
serve the workloads, the row says why (status infeasible).

The rows are flat-year plans, like the single-system alternatives: a time-resolved plan is
compared through its flat-year optimum, solved once more here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from optimizer.errors import Infeasible, NoPlanInTime
from optimizer.inputs import PlanInputs, SolverOptions, best_points
from optimizer.levers import LEVERS, Lever
from optimizer.plan import plan_document
from optimizer.solve import solve
from optimizer.types import INFEASIBLE, LeverRow, Objective, PlanDocument, Status

LEVER = {lever.key: lever for lever in LEVERS}

_FIGURES = (
    "cost_per_million_tokens_usd",
    "tokens_per_s_per_mw",
    "annual_cost_usd",
    "margin_usd_per_year",
)


def lever_table(
    inputs: PlanInputs,
    plan: PlanDocument,
    objective: Objective,
    options: SolverOptions = SolverOptions(),
) -> list[LeverRow]:
    """One row per lever, in `LEVERS` order (see the module docstring). Each solve is a step
    `levers` of `options.on_progress` (the flat-year baseline of a time-resolved plan too)."""
    quiet = replace(options, progress=False)
    flat = "time_resolution" in plan
    in_data = [lever.key for lever in LEVERS if lever.in_inputs(inputs)]
    step = {"event": "step", "step": "levers", "total": len(in_data) + flat}
    if flat:
        options.report(step | {"done": 0, "item": "the flat-year baseline"})
    baseline = _flat_plan(inputs, objective, quiet) if flat else plan
    solved = [key for key in in_data if used_by_plan(LEVER[key], inputs, baseline)]
    rows: list[LeverRow] = []
    for lever in LEVERS:
        if lever.key in in_data:
            options.report(step | {"done": flat + in_data.index(lever.key), "item": lever.without})
        row: LeverRow = {
            "lever": lever.key,
            "name": lever.name,
            "without": lever.without,
            "in_data": lever.in_inputs(inputs),
            "used_by_plan": used_by_plan(lever, inputs, plan),
            "status": baseline["status"],
            "reason": None,
            "cost_per_million_tokens_usd": None,
            "tokens_per_s_per_mw": None,
            "annual_cost_usd": None,
            "margin_usd_per_year": None,
            "cost_ratio": None,
            "tokens_per_mw_ratio": None,
        }
        if lever.key not in solved:  # not in the data, or not used: the plan stays optimal
            rows.append(cast(LeverRow, row | _figures(baseline, baseline)))
            continue
        without = lever.remove(inputs)
        try:
            document = plan_document(without, solve(without, objective, quiet), objective)
        except Infeasible as error:
            rows.append(row | {"status": INFEASIBLE, "reason": error.reason})
            continue
        except NoPlanInTime as error:
            rows.append(row | {"status": Status.TIME_LIMIT.value, "reason": error.reason})
            continue
        rows.append(
            cast(LeverRow, row | {"status": document["status"]} | _figures(document, baseline))
        )
    options.report(step | {"done": step["total"], "item": None})
    return rows


def used_by_plan(lever: Lever, inputs: PlanInputs, plan: PlanDocument) -> bool:
    """Whether the plan serves on a point, or builds on a cooling option or power design, that
    uses the lever."""
    if lever.point is not None:
        points = best_points(inputs.operating_points)
        return any(
            lever.point(points[row["sku"], row["workload"]])
            for row in plan["allocation"]
            if (row["sku"], row["workload"]) in points
        )
    if lever.cooling is not None:
        coolings = {c.cooling_id: c for c in inputs.coolings}
        return any(
            lever.cooling(coolings[row["cooling_id"]])
            for row in plan["fleet"]
            if row["cooling_id"] in coolings
        )
    if lever.power is not None:
        designs = {p.power_id: p for p in inputs.power_designs}
        return plan["power_design"] in designs and lever.power(designs[plan["power_design"]])
    return False


def with_levers(
    plan: PlanDocument,
    inputs: PlanInputs,
    objective: Objective,
    options: SolverOptions = SolverOptions(),
) -> PlanDocument:
    """The plan document with its lever table (`lever_table`) as `levers`."""
    return plan | {"levers": lever_table(inputs, plan, objective, options)}


def _flat_plan(inputs: PlanInputs, objective: Objective, options: SolverOptions) -> PlanDocument:
    return plan_document(inputs, solve(inputs, objective, options), objective)


def _figures(document: PlanDocument, baseline: PlanDocument) -> dict:
    """The row's figures from `document`, and its ratios to `baseline`."""
    figures = {name: document.get(name) for name in _FIGURES}
    cost, base_cost = (
        document["cost_per_million_tokens_usd"],
        baseline["cost_per_million_tokens_usd"],
    )
    density, base_density = document["tokens_per_s_per_mw"], baseline["tokens_per_s_per_mw"]
    return figures | {
        "cost_ratio": cost / base_cost if cost is not None and base_cost else None,
        "tokens_per_mw_ratio": base_density / density
        if base_density is not None and density
        else None,
    }
