"""Pre-checks: cheap tests that explain, in words, why no plan exists (`Infeasible`)."""

from __future__ import annotations

from optimizer.economics import combination_blockers, combinations, node_cost
from optimizer.errors import Infeasible
from optimizer.inputs import PlanInputs
from optimizer.model import ModelData, active_workloads


def check_feasibility(inputs: PlanInputs, data: ModelData) -> None:
    """Cheap pre-checks that explain, in words, why no plan exists.

    In order: no workload to serve; no feasible combination at all; the budget below
    the smallest node's grid power (and nothing rented); per workload: no operating
    point, only systems with no feasible combination, or nodes that do not fit the
    budget or supply; cost-per-token: no single power design serves every workload;
    min-cost: a workload's demand above what the budget and supply caps can deliver.
    Max-profit needs only a system that can serve a workload with a price: serving nothing
    is a plan, and a workload no system can serve is left unserved.
    """
    workloads = active_workloads(inputs, data.objective)
    if not workloads:
        what = {
            "cost-per-token": "a share > 0",
            "min-cost": "a demand_tokens_per_s > 0",
            "max-profit": "a price_usd_per_million_tokens > 0",
        }[data.objective]
        raise Infeasible(f"no workload has {what}")
    feasible = combinations(inputs)
    if not feasible:
        raise Infeasible(
            "no feasible system/cooling/power combination: "
            + _blockers_text(inputs, inputs.systems)
        )
    if data.objective == "max-profit":
        # Serving nothing is a plan (its margin is minus the site's fixed costs); a workload
        # no system can serve is left unserved.
        if not data.points:
            raise Infeasible("no system has an operating point for a workload with a price")
        return
    owned = [(c, node_cost(c, inputs).grid_kw) for c in feasible if c.system.on_site]
    if owned and len(owned) == len(feasible):
        smallest, kw = min(owned, key=lambda item: item[1])
        if kw > data.budget_kw:
            raise Infeasible(
                f"budget {inputs.budget_mw:g} MW is below the grid power of the smallest node: "
                f"{smallest.label} needs {kw:g} kW"
            )
    serving = {
        w: [k for k, combo in enumerate(data.combinations) if (combo.system.sku, w) in data.points]
        for w in workloads
    }
    for w, ks in serving.items():
        if not ks:
            raise Infeasible(_unservable_reason(inputs, data, w, feasible))
    designs = data.power_ids or (None,)
    if not any(
        all(any(on_design(data, k, p) for k in ks) for ks in serving.values()) for p in designs
    ):
        by_design = "; ".join(
            f"{w} on {', '.join(sorted({data.combinations[k].key[2] or 'rented' for k in ks}))}"
            for w, ks in serving.items()
        )
        raise Infeasible(f"no single power design serves every workload ({by_design})")
    if data.objective == "min-cost":
        for w, demand in data.demands_tokens_per_s.items():
            most = max(_max_tokens_per_s(data, w, p) for p in designs)
            if most < demand * (1 - 1e-9):
                raise Infeasible(
                    f"workload {w}: demand {demand:g} tokens/s exceeds the {most:g} tokens/s "
                    f"that the {inputs.budget_mw:g} MW budget and the supply caps can deliver"
                )


def on_design(data: ModelData, k: int, power_id: str | None) -> bool:
    """Whether combination k can be in a plan whose site uses power design `power_id`
    (rented: always)."""
    combo = data.combinations[k]
    return combo.power is None or combo.power.power_id == power_id


def _blockers_text(inputs: PlanInputs, systems) -> str:
    parts = []
    for system in systems:
        reasons = sorted(
            {
                reason
                for cooling in inputs.coolings
                for power in inputs.power_designs
                for reason in combination_blockers(system, cooling, power)
            }
        )
        if not inputs.coolings or not inputs.power_designs:
            reasons = ["no cooling option or power design in the inputs"]
        parts.append(f"{system.sku}: {'; '.join(reasons)}")
    return " | ".join(parts)


def _unservable_reason(inputs: PlanInputs, data: ModelData, workload: str, feasible) -> str:
    systems = {s.sku: s for s in inputs.systems}
    with_points = [
        systems[p.sku]
        for p in inputs.operating_points
        if p.workload == workload and p.sku in systems and p.tokens_per_s_per_gpu > 0
    ]
    if not with_points:
        return f"workload {workload}: no system has an operating point that meets its SLO"
    deployable = [c for c in feasible if c.system in with_points]
    if not deployable:
        return (
            f"workload {workload}: only {', '.join(s.sku for s in with_points)} have operating "
            f"points, and none has a feasible cooling/power combination "
            f"({_blockers_text(inputs, with_points)})"
        )
    unbounded = [c.system.sku for c in deployable if c.system.sku not in data.skus]
    remote = [
        sku for sku in unbounded if not systems[sku].on_site and systems[sku].max_nodes is None
    ]
    if remote and len(remote) == len(deployable):
        return (
            f"workload {workload}: the systems that serve it ({', '.join(remote)}) are rented with "
            "no max_nodes; state the capacity the rental offers in max_nodes"
        )
    capped = [s.sku for s in with_points if s.max_nodes == 0]
    fitting = [c for c in deployable if c.system.max_nodes != 0 and c.system.sku not in remote]
    if not fitting:
        return (
            f"workload {workload}: the systems that serve it ({', '.join(capped)}) have max_nodes 0"
        )
    smallest = min(fitting, key=lambda c: node_cost(c, inputs).grid_kw)
    return (
        f"workload {workload}: budget {inputs.budget_mw:g} MW is below the grid power of the "
        f"smallest node that serves it: {smallest.label} needs "
        f"{node_cost(smallest, inputs).grid_kw:g} kW"
    )


def _max_tokens_per_s(data: ModelData, workload: str, power_id: str | None) -> float:
    """Upper bound on tokens/s for one workload alone on power design p (None: no site
    power design, rented nodes only) [tokens/s].

    Rented nodes up to U_k; owned nodes by a fractional knapsack on the budget (best
    tokens per grid kW first), each sku up to its supply cap.
    """
    total = 0.0
    per_sku: dict[str, tuple[float, float, int]] = {}  # sku → (density, grid kW, node cap)
    for k, combo in enumerate(data.combinations):
        sku = combo.system.sku
        if (sku, workload) not in data.points or not on_design(data, k, power_id):
            continue
        per_node = data.serving_gpus(sku) * data.points[sku, workload].tokens_per_s_per_gpu
        if data.grid_kw[k] <= 0:
            total += data.node_upper[k] * per_node
            continue
        cap = data.supply_cap.get(sku, data.node_upper[k])
        density = per_node / data.grid_kw[k]
        if sku not in per_sku or density > per_sku[sku][0]:
            per_sku[sku] = (density, data.grid_kw[k], min(cap, max(data.node_upper[k], 0)))
    budget = data.budget_kw
    for density, grid_kw, cap in sorted(per_sku.values(), reverse=True):
        kw = min(budget, cap * grid_kw)
        total += kw * density
        budget -= kw
    return total
