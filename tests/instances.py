"""Small optimizer instances for hand calculations, shared by the optimizer and planning tests:
wacc 0 (CRF = 1/n), PUE 1, no facility capex unless a test says otherwise."""

from __future__ import annotations

from optimizer.economics import combinations, node_cost
from optimizer.inputs import (
    Cooling,
    EnergyPrice,
    Finance,
    OperatingPoint,
    PlanInputs,
    PowerDesign,
    SolverOptions,
    System,
    Workload,
)

HOURS = 8760.0
EXACT = SolverOptions(mip_rel_gap=1e-9, dinkelbach_tolerance=1e-10, time_limit_s=60)

AIR = Cooling(
    "air",
    "air",
    overhead_kw_per_kw_it=0.0,
    capex_usd_per_kw_it=0.0,
    opex_pct_per_year=0.0,
    max_rack_kw=50,
)
LIQUID = Cooling("dlc", "liquid", 0.0, 0.0, 0.0, max_rack_kw=200)
LOSSLESS = PowerDesign(
    "ideal",
    "ideal",
    efficiency=1.0,
    capex_usd_per_kw_it=0.0,
    maintenance_usd_per_kw_year=0.0,
    max_rack_kw=1000,
)


def owned(
    sku, capex, kw, gpus=8, kinds=("air", "liquid"), per_rack=1, max_nodes=None, idle_kw=None
):
    return System(
        sku=sku,
        accelerator=sku,
        gpus_per_node=gpus,
        node_capex_usd=capex,
        node_power_kw=kw,
        node_idle_power_kw=kw if idle_kw is None else idle_kw,
        nodes_per_rack=per_rack,
        cooling_kinds=kinds,
        lifetime_years=5,
        max_nodes=max_nodes,
    )


def rented(sku, usd_per_gpu_hour, gpus=8, max_nodes=None):
    return System(
        sku,
        sku,
        gpus,
        None,
        0.0,
        0.0,
        1,
        (),
        5,
        max_nodes=max_nodes,
        rental_usd_per_gpu_hour=usd_per_gpu_hour,
    )


def plan_inputs(
    systems,
    points,
    *,
    budget_mw=1.0,
    workloads=(Workload("chat", share=1.0),),
    coolings=(AIR,),
    power_designs=(LOSSLESS,),
    energy_usd_per_kwh=0.1,
    utilization=1.0,
    fixed_opex=0.0,
    wacc=0.0,
    shell=0.0,
    demand_usd_per_kw_month=0.0,
    fixed_usd_per_year=0.0,
):
    return PlanInputs(
        budget_mw=budget_mw,
        systems=tuple(systems),
        coolings=tuple(coolings),
        power_designs=tuple(power_designs),
        workloads=tuple(workloads),
        operating_points=tuple(OperatingPoint(s, w, tps) for s, w, tps in points),
        energy=EnergyPrice("flat", energy_usd_per_kwh, demand_usd_per_kw_month, fixed_usd_per_year),
        finance=Finance(
            wacc=wacc,
            facility_lifetime_years=10,
            utilization=utilization,
            shell_capex_usd_per_kw_it=shell,
            fixed_opex_usd_per_year=fixed_opex,
        ),
    )


def per_million(cost_usd, tokens):
    return cost_usd / tokens * 1e6


def tokens_per_node_year(gpus, tps, utilization=1.0):
    return gpus * tps * 3600 * HOURS * utilization


def fleet_grid_kw(solution, inputs):
    by_key = {c.key: c for c in combinations(inputs)}
    return sum(n * node_cost(by_key[key], inputs).grid_kw for key, n in solution.nodes.items())


def nodes_by_sku(solution):
    totals = {}
    for (sku, _, _), n in solution.nodes.items():
        totals[sku] = totals.get(sku, 0) + n
    return totals


# -------------------------------------------------- (a) economics by hand
