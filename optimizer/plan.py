"""The plan document: a solved `Solution` as plain, JSON-serializable data (DESIGN "Plan document").

Throughputs (`tokens_per_s`) are while serving, at the operating points; per year they
are multiplied by 3600 × hours × utilization. Costs are recomputed from the fleet rows
with `optimizer.economics`, the same functions that gave the model its coefficients.

Site metrics count the on-site fleet only (remote rentals use no site power):
`tokens_per_s_per_mw` = on-site tokens/s while serving per MW of grid power provisioned,
`kwh_per_million_tokens` = site grid energy per million tokens the on-site fleet
delivers, `carbon_kg_per_million_tokens` = that × the scenario's `carbon_kg_per_kwh`
(None without it), `water_l_per_million_tokens` = the coolings' water per kWh of IT
energy, per million on-site tokens; all None without on-site nodes. `pue` = grid / IT
power of the on-site fleet.

Money: `revenue_usd_per_year` = Σ_w price_w × tokens_w / 10⁶ and `margin_usd_per_year`
= revenue − annual cost, when every workload served has a price (else None).
`availability` is the scenario's: the fraction of on-site GPUs serving at any time.
Allocation rows name the serving configuration of their point (`configuration`, and
its fields) and whether the point is `interpolated` or `derived`.

Time-resolved plans (time resolution representative | hourly) differ as follows:

- energy and demand charges are those of the slices' grid power (`monthly`), not per
  node: a fleet row's `annual_cost_usd` leaves them out;
- an allocation row's `gpus` and `tokens_per_s` are at the slice where (sku, workload)
  is busiest, its `tokens_per_year` over all slices; a workload's `tokens_per_s` is its
  peak; `tokens_per_s_per_mw` is the owned fleet's mean tokens/s over the year per MW;
- and the plan has, in addition:
  `time_resolution`;
  `monthly`: 12 rows {month, energy_kwh, energy_usd, peak_grid_kw, demand_usd};
  `slices`: the year slice by slice as columns of equal length (compact for 8760
  hours): month, day_type, hour, weight_days (days the slice stands for), grid_kw,
  price_usd_per_kwh, and tokens_per_s {workload: column}; hourly slices are the hours
  of the reference year in order (hour 0 = Monday 1 January 00:00);
  `realized_utilization`: GPU-hours serving / GPU-hours of the year, for the fleet and
  per system, beside the scenario's flat `utilization`;
  `flat_cost_per_million_tokens_usd`: the flat year's optimum for the same inputs;
  `flat_at_realized_utilization_cost_per_million_tokens_usd`: the flat year's optimum at
  the utilization the plan realizes, and `gain_vs_flat_usd_per_million_tokens`: the gain
  over the flat year split into utilization and tariff timing
  (`optimizer.solve.with_like_for_like`).

Every plan also names its `tariff`, its upfront `capex_usd_by_component` (IT, cooling,
power chain, shell of the fleet, and the site's grid connection; `capex_usd` their sum) and
its `assumptions` (finance, the flat-year tariff prices, and the systems, coolings and
power designs of the fleet: what a workbook needs to recompute every cost).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import cast

import numpy as np

from optimizer.economics import (
    CAPEX_COMPONENTS,
    COST_COMPONENTS,
    SECONDS_PER_HOUR,
    Combination,
    combinations,
    grid_kwh_per_year,
    node_capex,
    node_cost,
    node_cost_without_energy,
    serving_seconds_per_year,
    site_capex_usd,
    site_costs,
    tokens_per_gpu_year,
    water_l_per_year,
)
from optimizer.inputs import PlanInputs, best_points
from optimizer.solve import Solution, Timeline
from optimizer.tariff import DAY_TYPES
from optimizer.timeslices import PricedSlices, inputs_priced_slices
from optimizer.types import (
    SYSTEM_FIELDS,
    AllocationRow,
    Assumptions,
    CapexComponents,
    CoolingAssumption,
    CostComponents,
    FleetRow,
    InputFile,
    MonthRow,
    Objective,
    PlanDocument,
    PowerAssumption,
    SolverIteration,
    Status,
    SystemAssumption,
    TariffAssumption,
    TimeResolution,
)


def _combinations_by_key(
    inputs: PlanInputs,
) -> dict[tuple[str, str | None, str | None], Combination]:
    return {combo.key: combo for combo in combinations(inputs)}


def fleet_costs_usd_per_year(
    nodes: dict[tuple[str, str | None, str | None], int],
    inputs: PlanInputs,
    monthly: list[dict] | None = None,
) -> dict[str, float]:
    """Annual cost by `COST_COMPONENTS` key of a fleet (nodes per combination key) plus site
    costs [USD/year].

    `monthly` (time-resolved, `PricedSlices.monthly`): energy and demand charges are its
    sums instead of the nodes' flat-year ones.
    """
    by_key = _combinations_by_key(inputs)
    cost_of = node_cost if monthly is None else node_cost_without_energy
    costs = {name: 0.0 for name in COST_COMPONENTS}
    for key, count in nodes.items():
        per_node = cost_of(by_key[key], inputs)
        for name in COST_COMPONENTS:
            costs[name] += getattr(per_node, name, 0.0) * count
    for name, usd in site_costs(inputs).items():
        costs[name] += usd
    for row in monthly or ():
        costs["energy"] += row["energy_usd"]
        costs["demand_charges"] += row["demand_usd"]
    return costs


def recompute_annual_cost(plan: PlanDocument, inputs: PlanInputs) -> float:
    """Total annual cost [USD/year] from the plan's rows alone (for the asset check that the
    reported objective is the cost of the rows).

    Flat: the fleet rows priced by `optimizer.economics`. Time-resolved: the fleet rows
    without energy, plus the energy and demand charges of the plan's `slices.grid_kw`
    priced by the inputs' tariff (slice weights and prices recomputed from the inputs,
    peaks taken from the slices).
    """
    nodes = {
        (row["sku"], row["cooling_id"], row["power_id"]): row["nodes"] for row in plan["fleet"]
    }
    monthly = None
    if "time_resolution" in plan:
        slices = inputs_priced_slices(inputs, plan["time_resolution"])
        monthly = slices.monthly(np.asarray(plan["slices"]["grid_kw"], dtype=float))
    return sum(fleet_costs_usd_per_year(nodes, inputs, monthly).values())


def plan_document(
    inputs: PlanInputs,
    solution: Solution,
    objective: Objective,
    inputs_files: list[InputFile] | None = None,
) -> PlanDocument:
    """Every field DESIGN lists for the plan, plus workloads and notes. Plain floats/ints/str/None:
    the objective, status and time resolution as their text (see `optimizer.types`)."""
    by_key = _combinations_by_key(inputs)
    timeline = solution.timeline
    slices: PricedSlices | None = None
    monthly: list[dict] | None = None
    if timeline is not None:
        slices = inputs_priced_slices(inputs, solution.time_resolution)
        monthly = slices.monthly(np.asarray(timeline.grid_kw))
    fleet: list[FleetRow] = []
    site_kwh_per_year = 0.0
    water_l = 0.0
    capex = dict.fromkeys(CAPEX_COMPONENTS, 0.0) | {"grid_connection": site_capex_usd(inputs)}
    for key, count in solution.nodes.items():
        combo = by_key[key]
        per_node = (
            node_cost(combo, inputs)
            if timeline is None
            else node_cost_without_energy(combo, inputs)
        )
        system = combo.system
        fleet.append(
            {
                "sku": system.sku,
                "accelerator": system.accelerator,
                "rented": system.rented,
                "cooling_id": key[1],
                "power_id": key[2],
                "nodes": int(count),
                "gpus": int(count * system.gpus_per_node),
                "it_power_kw": float(count * per_node.it_kw),
                "grid_power_kw": float(count * per_node.grid_kw),
                "annual_cost_usd": float(count * per_node.annual_usd),
                "capex_usd": float(count * per_node.capex_usd),
            }
        )
        site_kwh_per_year += count * grid_kwh_per_year(combo, inputs.finance)
        water_l += count * water_l_per_year(combo, inputs.finance)
        for name, usd in node_capex(combo, inputs).items():
            capex[name] += count * usd

    points = best_points(inputs.operating_points)
    systems = {s.sku: s for s in inputs.systems}
    allocation: list[AllocationRow] = []
    tokens_per_s_by_workload = {w.name: 0.0 for w in inputs.workloads}
    owned_tokens_per_s = 0.0
    owned_tokens_per_year = 0.0
    for (sku, workload), gpus in solution.allocation.items():
        point = points[sku, workload]
        tokens_per_s = gpus * point.tokens_per_s_per_gpu
        tokens_per_s_by_workload[workload] += tokens_per_s
        tokens_per_year = (
            gpus * tokens_per_gpu_year(point, inputs.finance)
            if timeline is None
            else timeline.tokens_per_year[sku, workload]
        )
        if systems[sku].on_site:
            owned_tokens_per_s += tokens_per_s
            owned_tokens_per_year += tokens_per_year
        allocation.append(
            {
                "sku": sku,
                "workload": workload,
                "gpus": float(gpus),
                "tokens_per_s": float(tokens_per_s),
                "tokens_per_year": float(tokens_per_year),
                "tokens_per_s_per_gpu": float(point.tokens_per_s_per_gpu),
                "interactivity_tokens_per_s_per_user": point.interactivity_tokens_per_s_per_user,
                "ttft_s": point.ttft_s,
                "concurrency": point.concurrency,
                "framework": point.framework,
                "precision": point.precision,
                "configuration": point.configuration,
                "spec_decoding": point.spec_decoding,
                "disaggregated": point.disaggregated,
                "prefill_gpus": point.prefill_gpus,
                "decode_gpus": point.decode_gpus,
                "kv_offload": point.kv_offload,
                "parallelism": point.parallelism,
                "source": point.source,
                "interpolated": point.interpolated,
                "derived": point.derived,
            }
        )

    grid_kw = sum(row["grid_power_kw"] for row in fleet)
    it_kw = sum(row["it_power_kw"] for row in fleet)
    tokens_per_year = float(solution.tokens_per_year)
    annual_cost = float(solution.annual_cost_usd)
    if timeline is None:
        owned_tokens_per_year = owned_tokens_per_s * serving_seconds_per_year(inputs.finance)
    else:
        assert slices is not None and monthly is not None  # priced above, with the timeline
        tokens_per_s_by_workload |= {w: max(series) for w, series in timeline.tokens_per_s.items()}
        kwh_flat = site_kwh_per_year
        site_kwh_per_year = sum(row["energy_kwh"] for row in monthly)
        # the slices' IT energy is their grid energy / PUE, cooling by cooling: scale the
        # flat year's water by the ratio of the energies
        water_l *= site_kwh_per_year / kwh_flat if kwh_flat > 0 else 0.0
        owned_tokens_per_s = owned_tokens_per_year / (
            SECONDS_PER_HOUR * float(slices.weight_hours.sum())
        )
    status = Status(solution.status).value
    kwh_per_million = (
        site_kwh_per_year / owned_tokens_per_year * 1e6 if owned_tokens_per_year > 0 else None
    )
    carbon = inputs.finance.carbon_kg_per_kwh
    revenue = _revenue_usd_per_year(inputs, allocation)
    document: PlanDocument = {
        "name": inputs.name,
        "status": status,
        "objective": Objective(objective).value,
        "budget_mw": float(inputs.budget_mw),
        "grid_power_mw": grid_kw / 1000.0,
        "it_power_mw": it_kw / 1000.0,
        "pue": grid_kw / it_kw if it_kw > 0 else None,
        "power_design": solution.power_design,
        "fleet": fleet,
        "allocation": allocation,
        "workloads": [
            {
                "name": w.name,
                "share": w.share,
                "demand_tokens_per_s": w.demand_tokens_per_s,
                "tokens_per_s": float(tokens_per_s_by_workload[w.name]),
            }
            for w in inputs.workloads
        ],
        "tokens_per_year": tokens_per_year,
        "annual_cost_usd": annual_cost,
        "capex_usd": float(sum(capex.values())),
        "capex_usd_by_component": cast(CapexComponents, {k: float(v) for k, v in capex.items()}),
        "costs_usd_per_year": cast(
            CostComponents,
            {
                name: float(usd)
                for name, usd in fleet_costs_usd_per_year(solution.nodes, inputs, monthly).items()
            },
        ),
        "cost_per_million_tokens_usd": annual_cost / tokens_per_year * 1e6
        if tokens_per_year > 0
        else None,
        "tokens_per_s_per_mw": owned_tokens_per_s / (grid_kw / 1000.0) if grid_kw > 0 else None,
        "kwh_per_million_tokens": kwh_per_million,
        "carbon_kg_per_million_tokens": (
            None if kwh_per_million is None or carbon is None else kwh_per_million * carbon
        ),
        "water_l_per_million_tokens": (
            water_l / owned_tokens_per_year * 1e6 if owned_tokens_per_year > 0 else None
        ),
        "revenue_usd_per_year": revenue,
        "margin_usd_per_year": None if revenue is None else revenue - annual_cost,
        "availability": float(inputs.finance.availability),
        "tariff": inputs.energy.tariff_id,
        "assumptions": assumptions(inputs, solution),
        "solver": {
            "name": "highs",
            "status": status,
            "mip_gap": _finite_or_none(solution.mip_gap),
            "seconds": float(solution.seconds),
            "build_seconds": float(solution.build_seconds),
            "solve_seconds": float(solution.solve_seconds),
            "n_variables": int(solution.n_variables),
            "n_constraints": int(solution.n_constraints),
            "n_nonzeros": int(solution.n_nonzeros),
            "iterations": [
                cast(SolverIteration, {name: _plain(value) for name, value in iteration.items()})
                for iteration in solution.iterations
            ],
        },
        "inputs": list(inputs_files or []),
        "notes": list(inputs.notes) + list(solution.notes),
    }
    if timeline is not None:
        assert slices is not None and monthly is not None  # priced above, with the timeline
        _add_time_fields(document, inputs, solution, timeline, slices, monthly)
    return document


def _add_time_fields(
    document: PlanDocument,
    inputs: PlanInputs,
    solution: Solution,
    timeline: Timeline,
    slices: PricedSlices,
    monthly: list[dict],
) -> None:
    """Add the fields only a time-resolved plan has (see the module docstring), in this order;
    `timeline` is the solution's."""
    hours = float(slices.weight_hours.sum())
    gpus: dict[str, int] = {}
    for row in document["fleet"]:
        gpus[row["sku"]] = gpus.get(row["sku"], 0) + row["gpus"]
    busy = {sku: timeline.busy_gpu_hours.get(sku, 0.0) for sku in gpus}
    total_gpus = sum(gpus.values())
    document["time_resolution"] = TimeResolution(solution.time_resolution).value
    flat = _finite_or_none(solution.flat_cost_per_million_tokens_usd)
    document["flat_cost_per_million_tokens_usd"] = flat
    same_use = _finite_or_none(solution.flat_at_realized_cost_per_million_tokens_usd)
    document["flat_at_realized_utilization_cost_per_million_tokens_usd"] = same_use
    plan_cost = document["cost_per_million_tokens_usd"]
    document["gain_vs_flat_usd_per_million_tokens"] = (
        None
        if flat is None or same_use is None or plan_cost is None
        else {
            "utilization": flat - same_use,
            "tariff_timing": same_use - plan_cost,
            "total": flat - plan_cost,
            "flat_utilization": float(inputs.finance.utilization),
            "realized_flat_utilization": solution.realized_flat_utilization,
        }
    )
    document["monthly"] = cast(list[MonthRow], monthly)
    document["realized_utilization"] = {
        "fleet": sum(busy.values()) / (total_gpus * hours) if total_gpus else None,
        "flat_assumption": float(inputs.finance.utilization),
        "by_system": [
            {"sku": sku, "gpus": int(n), "utilization": busy[sku] / (n * hours) if n else None}
            for sku, n in gpus.items()
        ],
    }
    document["slices"] = {
        "month": [int(m) for m in slices.month],
        "day_type": [DAY_TYPES[d] for d in slices.day_type],
        "hour": [int(h) for h in slices.hour],
        "weight_days": [float(d) for d in slices.weight_days],
        "grid_kw": list(timeline.grid_kw),
        "price_usd_per_kwh": [float(p) for p in slices.price_usd_per_kwh],
        "tokens_per_s": dict(timeline.tokens_per_s),
    }


def assumptions(inputs: PlanInputs, solution: Solution) -> Assumptions:
    """What the plan's costs are computed from (for a workbook to recompute them): finance, the
    tariff as the flat year prices it, and the systems, coolings and power designs of the fleet."""
    finance = inputs.finance
    used = {key for key in solution.nodes}
    skus = {sku for sku, _, _ in used}
    cooling_ids = {c for _, c, _ in used if c is not None}
    power_ids = {p for _, _, p in used if p is not None}
    return {
        "wacc": finance.wacc,
        "facility_lifetime_years": finance.facility_lifetime_years,
        "utilization": finance.utilization,
        "availability": finance.availability,
        "hours_per_year": finance.hours_per_year,
        "shell_capex_usd_per_kw_it": finance.shell_capex_usd_per_kw_it,
        "grid_connection_capex_usd_per_kw": finance.grid_connection_capex_usd_per_kw,
        "fixed_opex_usd_per_year": finance.fixed_opex_usd_per_year,
        "carbon_kg_per_kwh": finance.carbon_kg_per_kwh,
        "budget_mw": inputs.budget_mw,
        "tariff": cast(TariffAssumption, asdict(inputs.energy)),
        "systems": [
            cast(SystemAssumption, {k: v for k, v in asdict(s).items() if k in SYSTEM_FIELDS})
            for s in inputs.systems
            if s.sku in skus
        ],
        "coolings": [
            cast(CoolingAssumption, asdict(c))
            for c in inputs.coolings
            if c.cooling_id in cooling_ids
        ],
        "power_designs": [
            cast(PowerAssumption, asdict(p))
            for p in inputs.power_designs
            if p.power_id in power_ids
        ],
    }


def _revenue_usd_per_year(inputs: PlanInputs, allocation: list[AllocationRow]) -> float | None:
    """Σ_w price_w × tokens_w / 10⁶ over the allocation; None when no workload has a price or a
    workload served has none."""
    prices = {w.name: w.price_usd_per_million_tokens for w in inputs.workloads}
    if all(price is None for price in prices.values()):
        return None
    total = 0.0
    for row in allocation:
        price = prices.get(row["workload"])
        if price is None:
            return None
        total += price * row["tokens_per_year"] / 1e6
    return total


def _plain(value):
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value
    return _finite_or_none(float(value))


def _finite_or_none(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None
