"""Feasible starts: λ0 and the MIP start of the first run.

Flat year: `greedy_plan`, a heuristic plan (`start_vector` makes it a column vector).
Time-resolved, or a plan to start from (a sweep's budget below): `fleet_start`, a plan's
fleet fixed and dispatched by one LP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimizer.model import TOKENS_PER_S_UNIT, ModelData
from optimizer.solve.checks import on_design
from optimizer.solve.highs import Problem, Runner, set_costs
from optimizer.solve.results import Solution, cost_and_tokens, iteration_record


@dataclass
class GreedyPlan:
    nodes: dict[int, int]
    gpus: dict[tuple[str, str], float]
    tokens_per_s: float
    cost_usd: float


def greedy_plan(data: ModelData) -> GreedyPlan | None:
    """A feasible plan to start from (λ0 and MIP start), or None if the heuristic finds none.

    Candidates: each single combination serving every workload, and per power design
    each workload on its cheapest-per-token combination. Cost-per-token: a candidate
    is scaled up until the budget, a supply cap or U_k binds (more nodes never raise
    the cost per token: site costs are fixed), nodes rounded down; min-cost: the
    fewest nodes that serve the demand. The best feasible candidate wins. Max-profit has no
    heuristic (the empty fleet is feasible; HiGHS starts from there).
    """
    if data.objective == "max-profit":
        return None
    amounts = data.shares or data.demands_tokens_per_s
    candidates = []
    for k in range(len(data.combinations)):
        sku = data.combinations[k].system.sku
        if all((sku, w) in data.points for w in amounts):
            candidates.append({w: k for w in amounts})
    for p in data.power_ids or (None,):
        assignment = {}
        for w in amounts:
            usd_per_token_s = {
                k: data.node_cost_usd[k]
                / (data.serving_gpus(sku) * data.points[sku, w].tokens_per_s_per_gpu)
                for k, sku in enumerate(combo.system.sku for combo in data.combinations)
                if on_design(data, k, p) and (sku, w) in data.points
            }
            if not usd_per_token_s:
                break
            assignment[w] = min(usd_per_token_s, key=usd_per_token_s.__getitem__)
        else:
            candidates.append(assignment)
    plans = [plan for plan in (_scale_assignment(data, a) for a in candidates) if plan is not None]
    if not plans:
        return None
    if data.objective == "cost-per-token":
        return min(plans, key=lambda plan: plan.cost_usd / plan.tokens_per_s)
    return min(plans, key=lambda plan: plan.cost_usd)


def _scale_assignment(data: ModelData, assignment: dict[str, int]) -> GreedyPlan | None:
    """Nodes for a workload → combination assignment, or None if it does not fit."""
    sku_of = {k: data.combinations[k].system.sku for k in set(assignment.values())}
    # GPUs of combination k per unit of throughput: Σ_{w→k} σ_w / tps[s,w] (or d_w / tps for
    # demand).
    amounts = data.shares or data.demands_tokens_per_s
    gpus_per_unit = {k: 0.0 for k in sku_of}
    for w, k in assignment.items():
        gpus_per_unit[k] += amounts[w] / data.points[sku_of[k], w].tokens_per_s_per_gpu
    nodes_per_unit = {k: gpus_per_unit[k] / data.serving_gpus(sku_of[k]) for k in sku_of}
    if data.objective == "cost-per-token":
        limits = [data.node_upper[k] / nodes_per_unit[k] for k in sku_of]
        kw_per_unit = sum(data.grid_kw[k] * nodes_per_unit[k] for k in sku_of)
        if kw_per_unit > 0:
            limits.append(data.budget_kw / kw_per_unit)
        for sku, cap in data.supply_cap.items():
            per_unit = sum(nodes_per_unit[k] for k in sku_of if sku_of[k] == sku)
            if per_unit > 0:
                limits.append(cap / per_unit)
        scale = min(limits)
        nodes = {k: math.floor(scale * nodes_per_unit[k] + 1e-9) for k in sku_of}
        if min(nodes.values()) < 1:
            return None
        throughput = min(nodes[k] * data.serving_gpus(sku_of[k]) / gpus_per_unit[k] for k in sku_of)
        gpus = {
            (sku_of[k], w): data.shares[w]
            * throughput
            / data.points[sku_of[k], w].tokens_per_s_per_gpu
            for w, k in assignment.items()
        }
    else:
        nodes = {k: math.ceil(nodes_per_unit[k] - 1e-9) for k in sku_of}
        if any(nodes[k] > data.node_upper[k] for k in nodes):
            return None
        if sum(data.grid_kw[k] * n for k, n in nodes.items()) > data.budget_kw:
            return None
        for sku, cap in data.supply_cap.items():
            if sum(n for k, n in nodes.items() if sku_of[k] == sku) > cap:
                return None
        throughput = sum(amounts.values())
        gpus = {
            (sku_of[k], w): amounts[w] / data.points[sku_of[k], w].tokens_per_s_per_gpu
            for w, k in assignment.items()
        }
    cost = sum(data.node_cost_usd[k] * n for k, n in nodes.items()) + data.site_cost_usd
    return GreedyPlan(nodes=nodes, gpus=gpus, tokens_per_s=throughput, cost_usd=cost)


def start_vector(problem: Problem, plan: GreedyPlan) -> np.ndarray:
    """The column vector of a greedy plan."""
    data = problem.data
    x = np.zeros(problem.n_columns)
    for k, n in plan.nodes.items():
        x[problem.node_columns[k]] = n
    designs = {
        power.power_id
        for k, n in plan.nodes.items()
        if n and (power := data.combinations[k].power) is not None
    }
    if data.power_ids:
        x[problem.power_columns[designs.pop() if designs else data.power_ids[0]]] = 1
    for key, g in plan.gpus.items():
        x[problem.gpu_columns[key]] += g
    if problem.throughput_column is not None:
        x[problem.throughput_column] = plan.tokens_per_s / TOKENS_PER_S_UNIT
    return x


def fleet_start(
    problem: Problem,
    runner: Runner,
    fleet: Solution,
    iterations: list[dict],
    keep_fixed: bool = False,
) -> np.ndarray | None:
    """A feasible start: `fleet`'s nodes fixed, dispatched by one LP (max θ for cost-per-token,
    min C for min-cost). None if the fleet has a system these inputs lack, or HiGHS finds no
    dispatch (the fleet does not fit). With `keep_fixed` the nodes stay fixed for the runs that
    follow.

    A combination of the fleet that these inputs do not have (in a time-resolved model: one
    that the time-resolved costs dominate, `undominated`) is replaced by the one of the same
    system and power design with the least grid kW: it dominates it, so the budget and the
    supply caps still hold.
    """
    data = problem.data
    index = {combo.key: k for k, combo in enumerate(data.combinations)}
    nodes = np.zeros(len(data.combinations))
    for key, count in fleet.nodes.items():
        k = index.get(key)
        if k is None:
            same = [
                j
                for j, combo in enumerate(data.combinations)
                if combo.key[0] == key[0] and combo.key[2] == key[2]
            ]
            if not same:
                return None
            k = min(same, key=lambda j: data.grid_kw[j])
        nodes[k] += count
    highs, columns = problem.highs, np.array(problem.node_columns, dtype=np.int32)
    highs.changeColsBounds(len(columns), columns, nodes, nodes)
    if problem.throughput_column is not None:
        set_costs(problem, np.zeros(problem.n_columns))
        highs.changeColsCost(
            1, np.array([problem.throughput_column], dtype=np.int32), np.array([-1.0])
        )
    _, x, _, seconds = runner.run(None)
    if not keep_fixed:
        highs.changeColsBounds(
            len(columns), columns, problem.column_lower[columns], problem.column_upper[columns]
        )
    set_costs(problem, problem.cost)
    if x is None:
        return None
    cost, tokens = cost_and_tokens(problem, x)
    iterations.append(iteration_record(0, cost, tokens, seconds))
    return x
