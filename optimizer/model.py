"""The fleet MILP as a Pyomo model: the readable statement of the maths.

Stages (PyPSA/oemof style): `model_data` turns `PlanInputs` into plain coefficients
(floats, ints, tuples; no Pyomo), then `create_model` builds the model one family at a
time, so it reads like a table of contents:

    define_variables
    define_power_design_constraints      Σ_p y[p] = 1
    define_node_design_constraints       n[k] ≤ U_k · y[p(k)]
    define_supply_constraints            Σ_{k ∈ K_s} n[k] ≤ N_s
    define_budget_constraints            Σ_k grid_kw_k · n[k] ≤ 1000 · budget_mw
    define_gpu_capacity_constraints      Σ_w g[s,w] ≤ gpus_s · Σ_{k ∈ K_s} n[k]
    define_token_share_constraints       Σ_s tps[s,w] g[s,w] = σ_w · θ      (cost-per-token)
    define_demand_constraints            Σ_s tps[s,w] g[s,w] ≥ d_w          (min-cost)
    define_objective                     min C − λ·T  |  min C

Tokens. A GPU on (s, w) delivers tps[s,w] tokens/s while serving, and the fleet serves
κ = 3600 × hours × utilization seconds a year, so T_w = κ Σ_s tps[s,w] g[s,w] tokens/year.
The model carries throughputs (θ = Σ_w Σ_s tps[s,w] g[s,w], T = κ θ): the share rows
T_w = σ_w Σ_w' T_w' and the demand rows T_w / κ ≥ d_w are the same after dividing by κ,
which keeps coefficients near 10⁻⁵–10⁴ instead of 10¹⁰.

Scaled units: rows in million tokens/s (`TOKENS_PER_S_UNIT`) and the objective in
million USD/year (`USD_UNIT`). HiGHS's absolute tolerances (1e-6) then mean 1 token/s
and 1 USD/year; in plain tokens/s the share rows reach 10⁸ and HiGHS rejected
near-optimal plans for a 1e-6 residual. The docstrings state the maths unscaled.

Coefficients are plain Python floats (no Param) and sums use `quicksum`: the model is
compiled to matrices by `optimizer.solve`, which is where speed matters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyomo.environ as pyo
from pyomo.core.util import quicksum

from optimizer.economics import (
    Combination,
    NodeCost,
    combinations,
    node_cost,
    serving_seconds_per_year,
    site_cost_usd_per_year,
)
from optimizer.inputs import OperatingPoint, PlanInputs

OBJECTIVES = ("cost-per-token", "min-cost")
TOKENS_PER_S_UNIT = 1e6
"""Throughput rows and θ are in million tokens/s."""
USD_UNIT = 1e6
"""The objective is in million USD/year."""


@dataclass(frozen=True)
class ModelData:
    """Plain coefficients of one MILP instance. Index k runs over `combinations`."""

    objective: str
    combinations: tuple[Combination, ...]
    node_costs: tuple[NodeCost, ...]
    node_cost_usd: tuple[float, ...]
    """c_k: annual cost of one node of combination k [USD/year]."""
    grid_kw: tuple[float, ...]
    node_upper: tuple[int, ...]
    """U_k: most nodes of combination k the budget, the supply cap (and in min-cost mode the demand) allow."""
    power_ids: tuple[str, ...]
    skus: tuple[str, ...]
    gpus_per_node: dict[str, int]
    supply_cap: dict[str, int]
    """N_s for systems with `max_nodes`."""
    points: dict[tuple[str, str], OperatingPoint]
    """The operating point of each (sku, workload) the model may allocate GPUs to."""
    shares: dict[str, float]
    """σ_w > 0, normalized to sum to 1 (cost-per-token)."""
    demands_tokens_per_s: dict[str, float]
    """d_w > 0 (min-cost)."""
    site_cost_usd: float
    serving_seconds: float
    """κ = 3600 × hours × utilization [s/year]."""
    budget_kw: float
    notes: tuple[str, ...]

    def combos_of(self, sku: str) -> list[int]:
        return [k for k, combo in enumerate(self.combinations) if combo.system.sku == sku]


def active_workloads(inputs: PlanInputs, objective: str) -> dict[str, float]:
    """Workloads the plan must serve: name → share (cost-per-token) or demand tokens/s (min-cost), > 0 only."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    attribute = "share" if objective == "cost-per-token" else "demand_tokens_per_s"
    amounts = {w.name: getattr(w, attribute) or 0.0 for w in inputs.workloads}
    return {name: amount for name, amount in amounts.items() if amount > 0}


def budget_node_limit(grid_kw: float, budget_kw: float) -> int | None:
    """floor(budget_kw / grid_kw): the most nodes the budget alone allows (None: no site power used)."""
    if grid_kw <= 0:
        return None
    return math.floor(budget_kw / grid_kw * (1 + 1e-12))


def model_data(inputs: PlanInputs, objective: str = "cost-per-token") -> ModelData:
    """Coefficients of the MILP, with the index sets reduced to what can matter.

    Left out: combinations of systems with no operating point for an active workload,
    combinations with U_k = 0 (`node_upper_bound`), and combinations dominated by
    another of the same sku and power design (`undominated`).
    """
    workloads = active_workloads(inputs, objective)
    budget_kw = inputs.budget_mw * 1000.0
    systems = {s.sku: s for s in inputs.systems}
    points = {
        (p.sku, p.workload): p
        for p in inputs.operating_points
        if p.workload in workloads and p.sku in systems and p.tokens_per_s_per_gpu > 0
    }
    serving_skus = {sku for sku, _ in points}
    candidates = [
        (combo, node_cost(combo, inputs)) for combo in combinations(inputs) if combo.system.sku in serving_skus
    ]
    site_scale_gpus = max(
        (
            _capped(budget_node_limit(cost.grid_kw, budget_kw), combo.system.max_nodes) * combo.system.gpus_per_node
            for combo, cost in candidates
            if cost.grid_kw > 0
        ),
        default=0,
    )
    notes: list[str] = []
    bounded = []
    for combo, cost in candidates:
        bound, note = node_upper_bound(combo, cost, budget_kw, objective, workloads, points, site_scale_gpus)
        if note:
            notes.append(note)
        if bound >= 1:
            bounded.append((combo, cost, bound))
    kept = undominated(bounded)

    kept_skus = {combo.system.sku for combo, _, _ in kept}
    skus = tuple(s.sku for s in inputs.systems if s.sku in kept_skus)
    shares, demands = {}, {}
    if objective == "cost-per-token":
        total_share = sum(workloads.values())
        if abs(total_share - 1.0) > 1e-6:
            notes.append(f"workload shares sum to {total_share:g}; normalized to 1")
        shares = {w: share / total_share for w, share in workloads.items()}
    else:
        demands = dict(workloads)
    return ModelData(
        objective=objective,
        combinations=tuple(combo for combo, _, _ in kept),
        node_costs=tuple(cost for _, cost, _ in kept),
        node_cost_usd=tuple(cost.annual_usd for _, cost, _ in kept),
        grid_kw=tuple(cost.grid_kw for _, cost, _ in kept),
        node_upper=tuple(bound for _, _, bound in kept),
        power_ids=tuple(p.power_id for p in inputs.power_designs),
        skus=skus,
        gpus_per_node={s: systems[s].gpus_per_node for s in skus},
        supply_cap={s: systems[s].max_nodes for s in skus if systems[s].max_nodes is not None},
        points={key: p for key, p in points.items() if key[0] in kept_skus},
        shares=shares,
        demands_tokens_per_s=demands,
        site_cost_usd=site_cost_usd_per_year(inputs),
        serving_seconds=serving_seconds_per_year(inputs.finance),
        budget_kw=budget_kw,
        notes=tuple(notes),
    )


def _capped(limit: float | None, cap: int | None) -> float:
    return min(math.inf if limit is None else limit, math.inf if cap is None else cap)


def node_upper_bound(
    combo: Combination,
    cost: NodeCost,
    budget_kw: float,
    objective: str,
    workloads: dict[str, float],
    points: dict[tuple[str, str], OperatingPoint],
    site_scale_gpus: float,
) -> tuple[int, str | None]:
    """U_k and, when a cap had to be invented, a note saying so.

    U_k = min(max_nodes_s, floor(budget_kw / grid_kw_k)); in min-cost mode also
    ≤ ceil(Σ_w d_w / (tps[s,w] · gpus_s)) (more nodes of k never lower the cost).
    A rented system without `max_nodes` uses no site power, so the budget does not
    bound it: in cost-per-token mode it is capped at the site's scale (as many GPUs as
    the budget could host with the owned combination that fits the most GPUs; one node
    if there is no owned system). Without a cap, renting more would always dilute the
    site's fixed costs and the ratio would have no minimum.
    """
    system = combo.system
    bound = _capped(budget_node_limit(cost.grid_kw, budget_kw), system.max_nodes)
    if objective == "min-cost":
        needed = sum(
            d / (points[system.sku, w].tokens_per_s_per_gpu * system.gpus_per_node)
            for w, d in workloads.items()
            if (system.sku, w) in points
        )
        bound = min(bound, math.ceil(needed - 1e-9))
    if math.isfinite(bound):
        return int(bound), None
    scale = max(1, math.ceil(site_scale_gpus / system.gpus_per_node))
    reason = "as many GPUs as the budget could host owned" if site_scale_gpus else "no owned system sets the site's scale"
    return scale, f"{system.sku} uses no site power and has no max_nodes: capped at {scale} node{'s' if scale != 1 else ''} ({reason})"


def undominated(
    bounded: list[tuple[Combination, NodeCost, int]],
) -> list[tuple[Combination, NodeCost, int]]:
    """Drop a combination when another of the same sku and power design costs no more
    per node and needs no more grid kW (ties: the first in input order stays).
    Any plan using the dropped one is matched, at no more cost and no more power, by
    the same plan using the other; U and the supply cap are shared, so it stays feasible.
    Input order is kept."""
    groups: dict[tuple[str, str | None], list[int]] = {}
    for i, (combo, _, _) in enumerate(bounded):
        groups.setdefault((combo.system.sku, combo.key[2]), []).append(i)

    def dominated(i: int) -> bool:
        combo, cost, _ = bounded[i]
        for j in groups[combo.system.sku, combo.key[2]]:
            other = bounded[j][1]
            no_worse = other.annual_usd <= cost.annual_usd and other.grid_kw <= cost.grid_kw
            better = other.annual_usd < cost.annual_usd or other.grid_kw < cost.grid_kw or j < i
            if j != i and no_worse and better:
                return True
        return False

    return [item for i, item in enumerate(bounded) if not dominated(i)]


def create_model(data: ModelData, lambda_usd_per_token: float = 0.0) -> pyo.ConcreteModel:
    """Build the MILP in named stages. `lambda_usd_per_token` is Dinkelbach's λ (cost-per-token only)."""
    model = pyo.ConcreteModel(name=f"tokenplan-{data.objective}")
    define_variables(model, data)
    define_power_design_constraints(model, data)
    define_node_design_constraints(model, data)
    define_supply_constraints(model, data)
    define_budget_constraints(model, data)
    define_gpu_capacity_constraints(model, data)
    if data.objective == "cost-per-token":
        define_token_share_constraints(model, data)
    else:
        define_demand_constraints(model, data)
    define_objective(model, data, lambda_usd_per_token)
    return model


def define_variables(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Decision variables.

    n[k] ∈ {0, …, U_k}     ∀ k ∈ K (combinations)      nodes
    y[p] ∈ {0, 1}          ∀ p ∈ P (power designs)     power design chosen for the site
    g[s,w] ≥ 0             ∀ (s, w) ∈ O (points)       GPUs of sku s serving workload w
    θ ≥ 0                  (cost-per-token only)        tokens/s delivered while serving (model unit: 10⁶ tokens/s)

    =========  ======================  ==========================================
    symbol     Pyomo attribute         meaning
    =========  ======================  ==========================================
    n[k]       model.nodes[k]          nodes of combination k (integer)
    y[p]       model.power_design[p]   1 if the site uses power design p
    g[s,w]     model.gpus[s, w]        GPUs allocated (continuous) [GPU]
    θ          model.tokens_per_s      fleet throughput [tokens/s]
    =========  ======================  ==========================================
    """
    model.nodes = pyo.Var(
        range(len(data.combinations)),
        within=pyo.NonNegativeIntegers,
        bounds=lambda m, k: (0, data.node_upper[k]),
    )
    model.power_design = pyo.Var(data.power_ids, within=pyo.Binary)
    model.gpus = pyo.Var(list(data.points), within=pyo.NonNegativeReals)
    if data.objective == "cost-per-token":
        model.tokens_per_s = pyo.Var(within=pyo.NonNegativeReals)


def define_power_design_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """One power-delivery design per site.

    Σ_{p ∈ P} y[p] = 1

    ======  =====================  ===============================
    symbol  Pyomo attribute        meaning
    ======  =====================  ===============================
    y[p]    model.power_design[p]  1 if the site uses design p
    ======  =====================  ===============================
    """
    model.one_power_design = pyo.Constraint(
        rule=lambda m: quicksum(m.power_design[p] for p in data.power_ids) == 1
        if data.power_ids
        else pyo.Constraint.Skip  # a rented-only input has no site power to design
    )


def define_node_design_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Owned nodes only on the chosen power design.

    n[k] ≤ U_k · y[p(k)]     ∀ k ∈ K owned      [nodes]

    ======  ======================  ============================================
    symbol  Pyomo attribute         meaning
    ======  ======================  ============================================
    n[k]    model.nodes[k]          nodes of combination k
    U_k     data.node_upper[k]      most nodes of k (budget, supply cap)
    y[p]    model.power_design[p]   1 if the site uses design p; p(k) = k's design
    ======  ======================  ============================================
    """
    owned = [k for k, combo in enumerate(data.combinations) if combo.power is not None]
    model.node_design = pyo.Constraint(
        owned,
        rule=lambda m, k: m.nodes[k]
        <= data.node_upper[k] * m.power_design[data.combinations[k].power.power_id],
    )


def define_supply_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Supply cap per system across its coolings and power designs.

    Σ_{k ∈ K_s} n[k] ≤ N_s     ∀ s with max_nodes, |K_s| > 1      [nodes]

    (With one combination the cap is already in n[k]'s upper bound U_k.)

    ======  ======================  ======================================
    symbol  Pyomo attribute         meaning
    ======  ======================  ======================================
    K_s     data.combos_of(s)       combinations of system s
    N_s     data.supply_cap[s]      `max_nodes` of s
    ======  ======================  ======================================
    """
    capped = {s: data.combos_of(s) for s in data.supply_cap}
    capped = {s: ks for s, ks in capped.items() if len(ks) > 1}
    model.supply = pyo.Constraint(
        list(capped),
        rule=lambda m, s: quicksum(m.nodes[k] for k in capped[s]) <= data.supply_cap[s],
    )


def define_budget_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Grid interconnect budget.

    Σ_{k ∈ K} grid_kw_k · n[k] ≤ 1000 · budget_mw      [kW]

    ==========  =================  =====================================================
    symbol      Pyomo attribute    meaning
    ==========  =================  =====================================================
    grid_kw_k   data.grid_kw[k]    provisioned grid power of a node = node_power_kw × PUE
    budget_mw   data.budget_kw     the site's grid interconnect (stored in kW)
    ==========  =================  =====================================================
    """
    owned = [k for k, kw in enumerate(data.grid_kw) if kw > 0]
    model.budget = pyo.Constraint(
        rule=lambda m: quicksum(data.grid_kw[k] * m.nodes[k] for k in owned) <= data.budget_kw
        if owned
        else pyo.Constraint.Skip
    )


def define_gpu_capacity_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """GPUs allocated to workloads come from the nodes bought (or rented).

    Σ_{w : (s,w) ∈ O} g[s,w] ≤ gpus_s · Σ_{k ∈ K_s} n[k]     ∀ s ∈ S      [GPU]

    ======  ========================  ===============================
    symbol  Pyomo attribute           meaning
    ======  ========================  ===============================
    g[s,w]  model.gpus[s, w]          GPUs of s allocated to w
    gpus_s  data.gpus_per_node[s]     GPUs per node of s
    n[k]    model.nodes[k]            nodes of combination k
    ======  ========================  ===============================
    """
    workloads_of = {s: [] for s in data.skus}
    for s, w in data.points:
        workloads_of[s].append(w)
    combos_of = {s: [] for s in data.skus}
    for k, combo in enumerate(data.combinations):
        combos_of[combo.system.sku].append(k)
    model.gpu_capacity = pyo.Constraint(
        list(data.skus),
        rule=lambda m, s: quicksum(m.gpus[s, w] for w in workloads_of[s])
        <= data.gpus_per_node[s] * quicksum(m.nodes[k] for k in combos_of[s]),
    )


def _points_by_workload(data: ModelData) -> dict[str, list[str]]:
    skus_of = {}
    for s, w in data.points:
        skus_of.setdefault(w, []).append(s)
    return skus_of


def define_token_share_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Delivered tokens split by workload shares (cost-per-token).

    T_w = σ_w Σ_{w'} T_w', with T_w = κ Σ_s tps[s,w] g[s,w]; divided by κ and with
    θ = Σ_w' T_w' / κ:

    Σ_{s : (s,w) ∈ O} tps[s,w] · g[s,w] = σ_w · θ     ∀ w with σ_w > 0      [tokens/s]

    Summed over w (Σ σ_w = 1) the rows give θ = Σ_w Σ_s tps[s,w] g[s,w].

    ==========  ======================  ===========================================
    symbol      Pyomo attribute         meaning
    ==========  ======================  ===========================================
    tps[s,w]    data.points[s, w]       tokens/s per GPU at the operating point
    σ_w         data.shares[w]          share of delivered tokens
    θ           model.tokens_per_s      fleet throughput [tokens/s]
    κ           data.serving_seconds    3600 × hours × utilization [s/year]
    ==========  ======================  ===========================================
    """
    skus_of = _points_by_workload(data)
    model.token_share = pyo.Constraint(
        list(data.shares),
        rule=lambda m, w: workload_throughput(m, data, skus_of, w) == data.shares[w] * m.tokens_per_s,
    )


def define_demand_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Serve each workload's demand (min-cost).

    T_w / κ = Σ_{s : (s,w) ∈ O} tps[s,w] · g[s,w] ≥ d_w     ∀ w with d_w > 0      [tokens/s]

    ==========  ===============================  ================================
    symbol      Pyomo attribute                  meaning
    ==========  ===============================  ================================
    tps[s,w]    data.points[s, w]                tokens/s per GPU
    d_w         data.demands_tokens_per_s[w]     demand while serving [tokens/s]
    ==========  ===============================  ================================
    """
    skus_of = _points_by_workload(data)
    model.demand = pyo.Constraint(
        list(data.demands_tokens_per_s),
        rule=lambda m, w: workload_throughput(m, data, skus_of, w)
        >= data.demands_tokens_per_s[w] / TOKENS_PER_S_UNIT,
    )


def workload_throughput(model: pyo.ConcreteModel, data: ModelData, skus_of: dict[str, list[str]], workload: str):
    """Σ_s tps[s,w] · g[s,w] for w = `workload`, in TOKENS_PER_S_UNIT."""
    return quicksum(data.points[s, workload].tokens_per_s_per_gpu / TOKENS_PER_S_UNIT * model.gpus[s, workload]
                    for s in skus_of.get(workload, ()))


def annual_cost_expression(model: pyo.ConcreteModel, data: ModelData):
    """C = Σ_k c_k · n[k] + C_site   [USD/year; model unit 10⁶ USD/year]
    (c_k: `NodeCost.annual_usd`; C_site: fixed charges and opex)."""
    return (
        quicksum(data.node_cost_usd[k] / USD_UNIT * model.nodes[k] for k in range(len(data.combinations)))
        + data.site_cost_usd / USD_UNIT
    )


def define_objective(model: pyo.ConcreteModel, data: ModelData, lambda_usd_per_token: float) -> None:
    """The objective.

    cost-per-token (Dinkelbach subproblem for a given λ):
        min F(λ) = C − λ · T = Σ_k c_k n[k] + C_site − λ κ θ      [USD/year]
    min-cost:
        min C = Σ_k c_k n[k] + C_site                             [USD/year]

    ======  ===========================  ===========================================
    symbol  Pyomo attribute              meaning
    ======  ===========================  ===========================================
    c_k     data.node_cost_usd[k]        annual cost of one node of k [USD/year]
    C_site  data.site_cost_usd           fixed charges + fixed opex [USD/year]
    λ       lambda_usd_per_token         Dinkelbach parameter [USD/token]
    κ θ     model.tokens_per_s           T, tokens per year = κ θ
    ======  ===========================  ===========================================
    """
    cost = annual_cost_expression(model, data)
    if data.objective == "cost-per-token":
        # λ [USD/token] · κ [s/year] · θ [10⁶ tokens/s] = λκθ [10⁶ USD/year]
        expr = cost - lambda_usd_per_token * data.serving_seconds * model.tokens_per_s
    else:
        expr = cost
    model.objective = pyo.Objective(expr=expr, sense=pyo.minimize)
