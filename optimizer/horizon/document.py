"""The multi-year plan document: plain JSON data from a `HorizonSolution`.

Fields: name, objective, start_year, years, status, mip_gap, power_design,
cost_per_million_tokens_usd (levelized: Σ d_t C_t / Σ d_t T_t × 10⁶), present_value_cost_usd,
present_value_tokens, wacc, yearly (one row a year: year, budget_mw, grid_power_mw,
tokens_per_year, cost_usd and its parts capital_usd, facility_usd, energy_usd, opex_usd,
site_usd, cost_per_million_tokens_usd), build_plan (one row per vintage and year in service:
year, sku, accelerator, cooling_id, power_id, kind, vintage_year, bought, in_service, retired,
gpus; and one for the year an owned vintage reaches the end of its lifetime within the horizon,
none in service, its last nodes retired), cash_flow (one row a year, when the money is paid:
capex_usd for purchases and facility built that year, opex_usd, energy_usd, site_usd,
total_usd), installed_gpus (year → accelerator → GPUs in service), notes, solver (iterations,
seconds, size).
"""

from __future__ import annotations

from typing import Any

from optimizer.horizon.solve import HorizonSolution, VintageYear
from optimizer.inputs import PlanInputs


def horizon_document(inputs: PlanInputs, solution: HorizonSolution) -> dict[str, Any]:
    """The plan document of a multi-year `solution` of `inputs` (module docstring)."""
    systems = {s.sku: s for s in inputs.systems}
    years = [y.year for y in solution.years]
    yearly = [
        {
            "year": y.year,
            "budget_mw": y.budget_kw / 1000,
            "grid_power_mw": y.grid_kw / 1000,
            "tokens_per_year": y.tokens_per_year,
            "cost_usd": y.cost_usd,
            "capital_usd": y.capital_usd,
            "facility_usd": y.facility_usd,
            "energy_usd": y.energy_usd,
            "opex_usd": y.opex_usd,
            "site_usd": y.site_usd,
            "cost_per_million_tokens_usd": (
                y.cost_usd / y.tokens_per_year * 1e6 if y.tokens_per_year > 0 else None
            ),
        }
        for y in solution.years
    ]
    build_plan = [
        {
            "year": r.year,
            "sku": r.sku,
            "accelerator": systems[r.sku].accelerator,
            "cooling_id": r.cooling_id,
            "power_id": r.power_id,
            "kind": r.kind,
            "vintage_year": r.vintage_year,
            "bought": r.bought,
            "in_service": r.in_service,
            "retired": r.retired,
            "gpus": r.in_service * systems[r.sku].gpus_per_node,
        }
        for r in sorted(solution.vintages, key=lambda r: (r.year, r.sku, r.vintage_year, r.kind))
    ]
    cash_flow = [
        {
            "year": y.year,
            "capex_usd": y.capex_paid_usd,
            "opex_usd": y.opex_usd,
            "energy_usd": y.energy_usd,
            "site_usd": y.site_usd,
            "total_usd": y.capex_paid_usd + y.opex_usd + y.energy_usd + y.site_usd,
        }
        for y in solution.years
    ]
    installed: dict[str, dict[str, int]] = {str(t): {} for t in years}
    for r in solution.vintages:
        accelerator = systems[r.sku].accelerator
        gpus = r.in_service * systems[r.sku].gpus_per_node
        by_accelerator = installed[str(r.year)]
        by_accelerator[accelerator] = by_accelerator.get(accelerator, 0) + gpus
    horizon = inputs.horizon
    return {
        "name": inputs.name,
        "objective": solution.objective,
        "start_year": years[0] if horizon else None,
        "years": len(years),
        "status": solution.status,
        "mip_gap": solution.mip_gap,
        "power_design": solution.power_design,
        "cost_per_million_tokens_usd": solution.cost_per_million_tokens_usd,
        "present_value_cost_usd": solution.present_value_cost_usd,
        "present_value_tokens": solution.present_value_tokens,
        "wacc": inputs.finance.wacc,
        "energy_escalation_pct_per_year": horizon.energy_escalation_pct_per_year if horizon else 0,
        "yearly": yearly,
        "build_plan": build_plan,
        "cash_flow": cash_flow,
        "installed_gpus": installed,
        "notes": list(inputs.notes) + list(solution.notes),
        "solver": {
            "name": "highs",
            "iterations": solution.iterations,
            "seconds": solution.seconds,
            "build_seconds": solution.build_seconds,
            "solve_seconds": solution.solve_seconds,
            "n_variables": solution.n_variables,
            "n_constraints": solution.n_constraints,
            "n_nonzeros": solution.n_nonzeros,
        },
    }


def build_plan_of(document: dict[str, Any]) -> HorizonSolution:
    """The build plan of a multi-year plan document as a `HorizonSolution` to keep fixed
    (`solve_horizon(..., fixed=…)`): its vintages; no costs."""
    return HorizonSolution(
        status=document["status"],
        objective=document["objective"],
        power_design=document["power_design"],
        vintages=[
            VintageYear(
                sku=row["sku"],
                cooling_id=row["cooling_id"],
                power_id=row["power_id"],
                vintage_year=row["vintage_year"],
                kind=row["kind"],
                year=row["year"],
                bought=row["bought"],
                in_service=row["in_service"],
                retired=row["retired"],
            )
            for row in document["build_plan"]
        ],
        years=[],
        present_value_cost_usd=document["present_value_cost_usd"],
        present_value_tokens=document["present_value_tokens"],
        mip_gap=document["mip_gap"],
    )
