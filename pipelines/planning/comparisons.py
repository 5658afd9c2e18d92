"""The plans a per-GPU TCO spreadsheet would pick: the best plan with one system only.

For each system in the plan's inputs (every system with an operating point for at
least one workload), the same model is solved with that system as the only one on the
shelf: same budget, tariff, finance, workloads, cooling options and power designs. A
system that cannot serve every workload on its own gets a row with the reason.

Rentals. Each rented system is an alternative of its own ("rent everything"), and an
owned system's alternative does not add rentals: a spreadsheet compares one system
against another, it does not mix them. A rental keeps its `max_nodes`, so every
alternative is a plan the full model could also have picked and the ratio below is ≥ 1
up to the MIP gap.

advantage_ratio = alternative cost per million tokens / chosen plan's cost per million
tokens: 5 means the chosen plan makes a token 5× cheaper than the best plan on that
system alone. The alternatives are flat-year plans, so a time-resolved plan is compared
through its flat-year optimum (`flat_cost_per_million_tokens_usd`).
"""

from __future__ import annotations

from dataclasses import replace

from optimizer.errors import Infeasible, NoPlanInTime
from optimizer.inputs import PlanInputs, SolverOptions
from optimizer.plan import plan_document
from optimizer.solve import solve
from optimizer.types import INFEASIBLE, Alternative, Objective, PlanDocument, Status


def single_system_inputs(inputs: PlanInputs, sku: str) -> PlanInputs:
    """`inputs` with `sku` as the only system."""
    return replace(
        inputs,
        systems=tuple(s for s in inputs.systems if s.sku == sku),
        operating_points=tuple(p for p in inputs.operating_points if p.sku == sku),
    )


def single_system_alternatives(
    inputs: PlanInputs,
    plan: PlanDocument,
    objective: Objective,
    options: SolverOptions = SolverOptions(),
) -> list[Alternative]:
    """One row per system: its best single-system plan and the chosen plan's advantage over it.

    Rows (`optimizer.types.Alternative`): sku, rented, status (a `Status`, or `INFEASIBLE`),
    reason (why infeasible, else None), nodes, gpus, cost_per_million_tokens_usd,
    tokens_per_s_per_mw, annual_cost_usd, grid_power_mw, advantage_ratio; sorted by cost per
    token (infeasible last). Each solve is a step `alternatives` of `options.on_progress`.
    """
    quiet = replace(options, progress=False)
    chosen = plan.get("flat_cost_per_million_tokens_usd") or plan["cost_per_million_tokens_usd"]
    rows: list[Alternative] = []
    step = {"event": "step", "step": "alternatives", "total": len(inputs.systems)}
    year = inputs.horizon.start_year if inputs.horizon is not None else None  # the plan's year
    for done, system in enumerate(inputs.systems):
        options.report(step | {"done": done, "item": system.sku})
        row: Alternative = {
            "sku": system.sku,
            "rented": system.rented,
            "status": INFEASIBLE,
            "reason": None,
            "nodes": None,
            "gpus": None,
            "cost_per_million_tokens_usd": None,
            "tokens_per_s_per_mw": None,
            "annual_cost_usd": None,
            "grid_power_mw": None,
            "advantage_ratio": None,
        }
        if not system.available_in(year):
            reason = f"can be bought only {system.window_text()}, not in {year}"
            rows.append(row | {"reason": reason})
            continue
        alone = single_system_inputs(inputs, system.sku)
        try:
            solution = solve(alone, objective, quiet)
        except Infeasible as error:
            rows.append(row | {"reason": error.reason})
            continue
        except NoPlanInTime as error:  # the plan stands; this comparison has no answer in time
            rows.append(row | {"status": Status.TIME_LIMIT.value, "reason": error.reason})
            continue
        document = plan_document(alone, solution, objective)
        cost = document["cost_per_million_tokens_usd"]
        rows.append(
            row
            | {
                "status": document["status"],
                "nodes": sum(r["nodes"] for r in document["fleet"]),
                "gpus": sum(r["gpus"] for r in document["fleet"]),
                "cost_per_million_tokens_usd": cost,
                "tokens_per_s_per_mw": document["tokens_per_s_per_mw"],
                "annual_cost_usd": document["annual_cost_usd"],
                "grid_power_mw": document["grid_power_mw"],
                "advantage_ratio": cost / chosen if cost is not None and chosen else None,
            }
        )
    options.report(step | {"done": len(inputs.systems), "item": None})
    return sorted(
        rows,
        key=lambda r: (
            r["cost_per_million_tokens_usd"] is None,
            r["cost_per_million_tokens_usd"] or 0.0,
            r["sku"],
        ),
    )


def with_alternatives(
    plan: PlanDocument,
    inputs: PlanInputs,
    objective: Objective,
    options: SolverOptions = SolverOptions(),
) -> PlanDocument:
    """The plan document with its `alternatives` (see `single_system_alternatives`)."""
    return plan | {"alternatives": single_system_alternatives(inputs, plan, objective, options)}
