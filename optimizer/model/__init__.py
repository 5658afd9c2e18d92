"""The fleet MILP as a Pyomo model: the readable statement of the maths.

Stages (PyPSA/oemof style): `model_data` turns `PlanInputs` into plain coefficients
(floats, ints, tuples; no Pyomo), then `create_model` builds the model one family at a
time, so it reads like a table of contents:

    define_variables
    define_power_design_constraints      Σ_p y[p] = 1
    define_node_design_constraints       n[k] ≤ U_k · y[p(k)]
    define_supply_constraints            Σ_{k ∈ K_s} n[k] ≤ N_s
    define_budget_constraints            Σ_k grid_kw_k · n[k] ≤ 1000 · budget_mw
  flat year:
    define_gpu_capacity_constraints      Σ_w g[s,w] ≤ gpus_s · Σ_{k ∈ K_s} n[k]
  time-resolved (load states q of the year's slices, `optimizer.timeslices`):
    define_slice_capacity_constraints    busy[s,q] ≤ gpus_s · Σ_{k ∈ K_s} n[k]
    define_busy_power_constraints        D[s,q] ≥ δ_i busy[s,q] − Σ_{j<i} (δ_i − δ_j) gpus_s n[j]
    define_grid_power_constraints        B[q] = Σ_s (δ_s busy[s,q] | D[s,q])
    define_peak_demand_constraints       B̂[m] ≥ B[q],  B̂[m,d] ≥ B[q]
  then:
    define_token_share_constraints       T_w / κ = σ_w · θ                  (cost-per-token)
    define_demand_constraints            Σ_s tps[s,w] g[s,w] ≥ d_w          (min-cost)
    define_batch_day_constraints         y[w,D] = a day's batch throughput  (time-resolved; daily quotas)
    define_objective                     min C − λ·T  |  min C

Tokens, flat year. A GPU on (s, w) delivers tps[s,w] tokens/s while serving, and the
fleet serves κ = 3600 × hours × utilization seconds a year, so T_w = κ Σ_s tps[s,w] g[s,w]
tokens/year. The model carries throughputs (θ = Σ_w Σ_s tps[s,w] g[s,w], T = κ θ): the
share rows T_w = σ_w Σ_w' T_w' and the demand rows T_w / κ ≥ d_w are the same after
dividing by κ, which keeps coefficients near 10⁻⁵–10⁴ instead of 10¹⁰.

Tokens, time-resolved. Interactive w has g[s,w] GPUs at its peak and f_w(h_q) · g[s,w]
serving in state q (hour h_q); batch w has b[s,w,q] GPUs serving in state q. With W_q the
hours of q per year and H = Σ_q W_q,

    T_w = 3600 Σ_q W_q Σ_s tps[s,w] · gpus[s,w,q],

and θ is the mean throughput over the year, T = κ θ with κ = 3600 H. Utilization is an
outcome; the scenario's `utilization` only converts a batch workload's min-cost demand
into its annual quota (d_w · 3600 · H · utilization, the tokens of the flat year).

Energy, time-resolved. The grid draws P[q] = P̄ + B[q] in state q: P̄ = Σ_k ι_k n[k], every
node's idle power, and B[q], every busy GPU's share of (busy − idle) power, all times
PUE. Energy costs Σ_q E_q P[q] with E_q = Σ_{t→q} W_t π_t; demand charges r × the
month's peak (and the month's peak in each TOU demand period); fixed charges stay a site
cost. P̄ is the same in every state, so it adds ι_k · Ê per node to c_k, with
Ê = Σ_q E_q + Σ_m r_m + Σ_{m,d} r_d, and the peaks are P̄ + B̂ with B̂ the peaks of B:
only B has a variable per state (an idle-power variable would be a dense column in
every state's row). Node costs c_k otherwise leave out energy and demand
(`node_cost_without_energy`).

Scaled units: rows in million tokens/s (`TOKENS_PER_S_UNIT`), grid power in MW
(`GRID_KW_UNIT`) and the objective in million USD/year (`USD_UNIT`). HiGHS's absolute
tolerances (1e-6) then mean 1 token/s and 1 USD/year; in plain tokens/s the share rows
reach 10⁸ and HiGHS rejected near-optimal plans for a 1e-6 residual. The docstrings
state the maths unscaled.

Coefficients are plain Python floats (no Param) and sums use `quicksum`: the model is
compiled to matrices by `optimizer.solve`, which is where speed matters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyomo.environ as pyo
from pyomo.core.util import quicksum

from optimizer.economics import (
    SECONDS_PER_HOUR,
    Combination,
    NodeCost,
    busy_grid_kw_per_gpu,
    combinations,
    idle_grid_kw,
    node_cost,
    node_cost_without_energy,
    serving_seconds_per_year,
    site_cost_usd_per_year,
)
from optimizer.inputs import OperatingPoint, PlanInputs
from optimizer.timeslices import HOURS_PER_DAY, TIME_RESOLUTIONS, TimeSlices, time_slices

OBJECTIVES = ("cost-per-token", "min-cost")
TOKENS_PER_S_UNIT = 1e6
"""Throughput rows and θ are in million tokens/s."""
USD_UNIT = 1e6
"""The objective is in million USD/year."""
GRID_KW_UNIT = 1e3
"""Grid power variables of time-resolved models are in MW."""


@dataclass(frozen=True)
class ModelData:
    """Plain coefficients of one MILP instance. Index k runs over `combinations`."""

    objective: str
    combinations: tuple[Combination, ...]
    node_costs: tuple[NodeCost, ...]
    node_cost_usd: tuple[float, ...]
    """c_k: annual cost of one node of combination k [USD/year] (time-resolved: with its idle draw's energy and demand charges)."""
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
    """κ: tokens per year = κ θ. Flat: 3600 × hours × utilization; time-resolved: 3600 × hours [s/year]."""
    budget_kw: float
    notes: tuple[str, ...]
    time: TimeSlices | None = None
    """The year's slices (time-resolved); None: the flat year."""
    idle_grid_kw: tuple[float, ...] = ()
    """ι_k: grid kW of an idle node of combination k (time-resolved)."""
    busy_grid_kw_per_gpu: tuple[float, ...] = ()
    """δ_k: grid kW one busy GPU of combination k adds (time-resolved)."""

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


def model_data(inputs: PlanInputs, objective: str = "cost-per-token", time_resolution: str = "flat") -> ModelData:
    """Coefficients of the MILP, with the index sets reduced to what can matter.

    Left out: combinations of systems with no operating point for an active workload,
    combinations with U_k = 0 (`node_upper_bound`), and combinations dominated by
    another of the same sku and power design (`undominated`).

    Time-resolved (`time_resolution` representative | hourly): node costs c_k leave out
    the energy and demand charges of busy power (priced per load state) and carry those
    of the idle draw, ι_k · Ê (`idle_cost_usd_per_kw`); a batch workload's min-cost demand
    becomes its mean throughput over the year d_w · utilization; κ = 3600 × hours.
    """
    if time_resolution not in TIME_RESOLUTIONS:
        raise ValueError(f"time resolution must be one of {TIME_RESOLUTIONS}, got {time_resolution!r}")
    timed = time_resolution != "flat"
    workloads = active_workloads(inputs, objective)
    budget_kw = inputs.budget_mw * 1000.0
    systems = {s.sku: s for s in inputs.systems}
    points = {
        (p.sku, p.workload): p
        for p in inputs.operating_points
        if p.workload in workloads and p.sku in systems and p.tokens_per_s_per_gpu > 0
    }
    serving_skus = {sku for sku, _ in points}
    cost_of = node_cost_without_energy if timed else node_cost
    candidates = [
        (combo, cost_of(combo, inputs)) for combo in combinations(inputs) if combo.system.sku in serving_skus
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
        # Time-resolved, more owned nodes than the demand needs can pay for themselves by
        # moving batch work to cheap hours: the demand bounds only rented ones.
        by_demand = objective == "min-cost" and (not timed or combo.system.rented)
        bound, note = node_upper_bound(combo, cost, budget_kw, by_demand, workloads, points, site_scale_gpus)
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
    time = time_slices(inputs, time_resolution, workloads) if timed else None
    idle_cost = 0.0
    if time is not None:
        demands = {w: d * inputs.finance.utilization if w in time.batch else d for w, d in demands.items()}
        idle_cost = idle_cost_usd_per_kw(time)
    kept_combos = [combo for combo, _, _ in kept]
    return ModelData(
        objective=objective,
        combinations=tuple(kept_combos),
        node_costs=tuple(cost for _, cost, _ in kept),
        node_cost_usd=tuple(cost.annual_usd + idle_grid_kw(combo) * idle_cost for combo, cost, _ in kept),
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
        serving_seconds=SECONDS_PER_HOUR * time.hours_per_year if time else serving_seconds_per_year(inputs.finance),
        budget_kw=budget_kw,
        notes=tuple(notes),
        time=time,
        idle_grid_kw=tuple(idle_grid_kw(combo) for combo in kept_combos),
        busy_grid_kw_per_gpu=tuple(busy_grid_kw_per_gpu(combo) for combo in kept_combos),
    )


def idle_cost_usd_per_kw(time: TimeSlices) -> float:
    """Ê: energy and demand charges of 1 kW drawn in every slice of the year [USD/year]:
    Σ_q E_q + Σ_m r_m + Σ_{(m,d)} r_d (a constant draw is part of every monthly peak)."""
    slices = time.slices
    return float(time.state_energy_usd_per_kw.sum() + slices.flat_demand_usd_per_kw.sum()
                 + sum(slices.demand_usd_per_kw[d] for _, d in time.period_states))


def _capped(limit: float | None, cap: int | None) -> float:
    return min(math.inf if limit is None else limit, math.inf if cap is None else cap)


def node_upper_bound(
    combo: Combination,
    cost: NodeCost,
    budget_kw: float,
    by_demand: bool,
    workloads: dict[str, float],
    points: dict[tuple[str, str], OperatingPoint],
    site_scale_gpus: float,
) -> tuple[int, str | None]:
    """U_k and, when a cap had to be invented, a note saying so.

    U_k = min(max_nodes_s, floor(budget_kw / grid_kw_k)); with `by_demand` (min-cost)
    also ≤ ceil(Σ_w d_w / (tps[s,w] · gpus_s)) (more nodes of k never lower the cost).
    A rented system without `max_nodes` uses no site power, so the budget does not
    bound it: in cost-per-token mode it is capped at the site's scale (as many GPUs as
    the budget could host with the owned combination that fits the most GPUs; one node
    if there is no owned system). Without a cap, renting more would always dilute the
    site's fixed costs and the ratio would have no minimum.
    """
    system = combo.system
    bound = _capped(budget_node_limit(cost.grid_kw, budget_kw), system.max_nodes)
    if by_demand:
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
    if data.time is None:
        define_gpu_capacity_constraints(model, data)
    else:
        define_slice_capacity_constraints(model, data)
        define_busy_power_constraints(model, data)
        define_grid_power_constraints(model, data)
        define_peak_demand_constraints(model, data)
    if data.objective == "cost-per-token":
        define_token_share_constraints(model, data)
    else:
        define_demand_constraints(model, data)
    if data.time is not None:
        define_batch_day_constraints(model, data)
    define_objective(model, data, lambda_usd_per_token)
    return model


def define_variables(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Decision variables.

    n[k] ∈ {0, …, U_k}     ∀ k ∈ K (combinations)      nodes
    y[p] ∈ {0, 1}          ∀ p ∈ P (power designs)     power design chosen for the site
    g[s,w] ≥ 0             ∀ (s, w) ∈ O (points)       GPUs of sku s serving workload w
    θ ≥ 0                  (cost-per-token only)        tokens/s (model unit: 10⁶ tokens/s)

    Time-resolved (q ∈ Q load states, `optimizer.timeslices`), g[s,w] only for interactive w, and

    b[s,w,q] ≥ 0           ∀ (s, w) ∈ O, w batch, q      GPUs of s serving batch w in state q
    y[w,D] ≥ 0             ∀ w batch, days D             mean throughput of batch w on day D
    D[s,q] ≥ 0             ∀ s ∈ S_split, q ∈ Q_s        grid power of s's busy GPUs in state q
    B[q] ≥ 0               ∀ q ∈ Q                       grid power of all busy GPUs in state q
    B̂[m] ≥ 0               ∀ months m with a flat demand charge   the month's peak of B
    B̂[m,d] ≥ 0             ∀ (m, d) with a TOU demand charge      the month's peak of B in period d

    S_split: owned systems with several combinations (their PUE, so their busy power per
    GPU, differs); a system with one combination has busy power δ · busy[s,q], no variable.

    ==========  ==============================  ==========================================
    symbol      Pyomo attribute                 meaning
    ==========  ==============================  ==========================================
    n[k]        model.nodes[k]                  nodes of combination k (integer)
    y[p]        model.power_design[p]           1 if the site uses power design p
    g[s,w]      model.gpus[s, w]                GPUs allocated (continuous; time: at w's peak) [GPU]
    θ           model.tokens_per_s              throughput while serving (flat) | mean over the year [tokens/s]
    b[s,w,q]    model.batch_gpus[s, w, q]       GPUs serving batch w in q [GPU]
    y[w,D]      model.batch_day_tokens_per_s    mean tokens/s of batch w on day D [tokens/s]
    D[s,q]      model.sku_busy_grid_mw[s, q]    grid power of s's busy GPUs in q [kW; model unit MW]
    B[q]        model.busy_grid_mw[q]           grid power of the busy GPUs in q [kW; model unit MW]
    B̂[m]        model.peak_busy_grid_mw[m]      month m's peak of B [kW; model unit MW]
    B̂[m,d]      model.period_peak_busy_grid_mw  month m's peak of B in TOU demand period d [kW; model unit MW]
    ==========  ==============================  ==========================================
    """
    model.nodes = pyo.Var(
        range(len(data.combinations)),
        within=pyo.NonNegativeIntegers,
        bounds=lambda m, k: (0, data.node_upper[k]),
    )
    model.power_design = pyo.Var(data.power_ids, within=pyo.Binary)
    time = data.time
    if time is None:
        model.gpus = pyo.Var(list(data.points), within=pyo.NonNegativeReals)
    else:
        shapes = _sku_loads(data)
        model.gpus = pyo.Var([key for key in data.points if key[1] in time.profiles], within=pyo.NonNegativeReals)
        model.batch_gpus = pyo.Var(
            [(s, w, q) for s, w in data.points if w in time.batch for q in range(time.states)],
            within=pyo.NonNegativeReals,
        )
        model.batch_day_tokens_per_s = pyo.Var(
            [(w, day) for w in time.batch for day in range(len(time.day_states))], within=pyo.NonNegativeReals
        )
        model.sku_busy_grid_mw = pyo.Var(
            [(s, q) for s in shapes.split for q in shapes.states[s]], within=pyo.NonNegativeReals
        )
        model.busy_grid_mw = pyo.Var(range(time.states), within=pyo.NonNegativeReals)
        model.peak_busy_grid_mw = pyo.Var(_flat_demand_months(data), within=pyo.NonNegativeReals)
        model.period_peak_busy_grid_mw = pyo.Var(_tou_demand_periods(data), within=pyo.NonNegativeReals)
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


@dataclass(frozen=True)
class _SkuLoads:
    """Per system, what its busy GPUs in a load state are made of (time-resolved)."""

    interactive: dict[str, list[str]]
    """s → interactive workloads it has an operating point for."""
    batch: dict[str, list[str]]
    """s → batch workloads it has an operating point for."""
    combos: dict[str, list[int]]
    """s → its combinations K_s."""
    split: dict[str, list[int]]
    """S_split: owned systems with several combinations → K_s, by δ_k ascending."""
    states: dict[str, list[int]]
    """Q_s: the states in which s's load can differ: all with a batch workload, else one per hour of day."""

    def state(self, sku: str, q: int, time: TimeSlices) -> int:
        """q_s: the state of Q_s that stands for state q."""
        return q if self.batch[sku] else time.first_state_of_hour[time.state_hour[q]]


def _sku_loads(data: ModelData) -> _SkuLoads:
    time = data.time
    interactive = {s: [] for s in data.skus}
    batch = {s: [] for s in data.skus}
    for s, w in data.points:
        (batch if w in time.batch else interactive)[s].append(w)
    combos = {s: [] for s in data.skus}
    for k, combo in enumerate(data.combinations):
        combos[combo.system.sku].append(k)
    split = {s: sorted(ks, key=lambda k: data.busy_grid_kw_per_gpu[k]) for s, ks in combos.items()
             if len(ks) > 1 and not data.combinations[ks[0]].system.rented}
    every_state, daily = list(range(time.states)), sorted(set(time.first_state_of_hour))
    states = {s: every_state if batch[s] else daily for s in data.skus}
    return _SkuLoads(interactive=interactive, batch=batch, combos=combos, split=split, states=states)


def busy_gpus(model: pyo.ConcreteModel, data: ModelData, loads: _SkuLoads, sku: str, q: int):
    """busy[s,q] = Σ_{w interactive} f_w(h_q) · g[s,w] + Σ_{w batch} b[s,w,q]   [GPU]"""
    hour = data.time.state_hour[q]
    profiles = data.time.profiles
    return quicksum(profiles[w][hour] * model.gpus[sku, w] for w in loads.interactive[sku] if profiles[w][hour] > 0) \
        + quicksum(model.batch_gpus[sku, w, q] for w in loads.batch[sku])


def _flat_demand_months(data: ModelData) -> list[int]:
    rates = data.time.slices.flat_demand_usd_per_kw
    return [m for m in range(1, 13) if rates[m - 1] > 0]


def _tou_demand_periods(data: ModelData) -> list[tuple[int, int]]:
    rates = data.time.slices.demand_usd_per_kw
    return [(m, d) for m, d in data.time.period_states if rates[d] > 0]


def define_slice_capacity_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """GPUs busy in a load state come from the nodes bought (or rented); the fleet is sized
    for the busiest state, the interactive workloads' peak included.

    busy[s,q] = Σ_{w interactive} f_w(h_q) · g[s,w] + Σ_{w batch} b[s,w,q]
    busy[s,q] ≤ gpus_s · Σ_{k ∈ K_s} n[k]     ∀ s ∈ S, q ∈ Q_s      [GPU]

    ========  ==========================  ==============================================
    symbol    Pyomo attribute             meaning
    ========  ==========================  ==============================================
    f_w(h)    data.time.profiles[w][h]    interactive w's load in hour h, share of its peak
    h_q       data.time.state_hour[q]     hour of day of state q
    Q_s       _SkuLoads.states[s]         states where s's load can differ (all, or one per hour)
    ========  ==========================  ==============================================
    """
    loads = _sku_loads(data)
    model.slice_capacity = pyo.Constraint(
        [(s, q) for s in data.skus for q in loads.states[s]],
        rule=lambda m, s, q: busy_gpus(m, data, loads, s, q)
        <= data.gpus_per_node[s] * quicksum(m.nodes[k] for k in loads.combos[s]),
    )


def define_busy_power_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Grid power of the busy GPUs of a system with several combinations.

    Its combinations differ in PUE, so in busy power per GPU δ_k, and any plan does best
    to run the busy GPUs on the lowest δ first. That placement is the LP

        D[s,q] = min { Σ_k δ_k u_k : Σ_k u_k = busy[s,q], 0 ≤ u_k ≤ gpus_s · n[k] },

    and by LP duality (the dual's optimum lies at a price π = δ_i) it is the largest of
    |K_s| functions linear in busy and n. With K_s ordered by δ ascending:

    D[s,q] ≥ δ_i · busy[s,q] − Σ_{j < i} (δ_i − δ_j) · gpus_s · n[j]     ∀ i ∈ K_s, s ∈ S_split, q ∈ Q_s   [kW]

    D only enters B[q], which costs energy and demand charges (prices ≥ 0), so at the
    optimum it is that maximum; no variable per combination and state is needed.
    (Combinations of the unused power design have n = 0: their rows are lower bounds.)

    ======  =============================  ===========================================
    symbol  Pyomo attribute                meaning
    ======  =============================  ===========================================
    D[s,q]  model.sku_busy_grid_mw[s, q]   grid power of s's busy GPUs in q
    δ_k     data.busy_grid_kw_per_gpu[k]   (node_power_kw − node_idle_power_kw) × PUE_k / gpus_s
    K_s     _SkuLoads.split[s]             s's combinations by δ ascending
    ======  =============================  ===========================================
    """
    loads = _sku_loads(data)
    delta = data.busy_grid_kw_per_gpu

    def rule(m, s, q, i):
        ks = loads.split[s]
        k = ks[i]
        cheaper = quicksum((delta[k] - delta[j]) * data.gpus_per_node[s] / GRID_KW_UNIT * m.nodes[j]
                           for j in ks[:i] if delta[j] < delta[k])
        return m.sku_busy_grid_mw[s, q] >= delta[k] / GRID_KW_UNIT * busy_gpus(m, data, loads, s, q) - cheaper

    model.busy_power = pyo.Constraint(
        [(s, q, i) for s, ks in loads.split.items() for q in loads.states[s] for i in range(len(ks))], rule=rule
    )


def define_grid_power_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Grid power of the busy GPUs per load state: each busy GPU draws its share of
    (busy − idle) power, times PUE.

    B[q] = Σ_{s ∉ S_split} δ_s · busy[s, q_s] + Σ_{s ∈ S_split} D[s, q_s]     ∀ q ∈ Q      [kW]

    The grid draws P[q] = P̄ + B[q], P̄ = Σ_k ι_k · n[k] (idle power, the same in every
    state; priced per node in c_k). With every GPU busy P = Σ_k node_power_kw · PUE_k · n[k],
    the provisioned power.

    ======  ===============================  ===============================================
    symbol  Pyomo attribute                  meaning
    ======  ===============================  ===============================================
    B[q]    model.busy_grid_mw[q]            grid power of the busy GPUs in q
    ι_k     data.idle_grid_kw[k]             node_idle_power_kw × PUE_k [kW/node]
    δ_s     data.busy_grid_kw_per_gpu[k]     (node_power_kw − node_idle_power_kw) × PUE_k / gpus_s [kW/GPU]
    q_s     _SkuLoads.state(s, q)            the state of Q_s standing for q
    ======  ===============================  ===============================================
    """
    loads = _sku_loads(data)
    time = data.time
    single = {s: ks[0] for s, ks in loads.combos.items() if s not in loads.split and data.busy_grid_kw_per_gpu[ks[0]] > 0}

    def rule(m, q):
        dynamic = quicksum(data.busy_grid_kw_per_gpu[k] / GRID_KW_UNIT * busy_gpus(m, data, loads, s, loads.state(s, q, time))
                           for s, k in single.items())
        placed = quicksum(m.sku_busy_grid_mw[s, loads.state(s, q, time)] for s in loads.split)
        return m.busy_grid_mw[q] == dynamic + placed

    model.grid_power = pyo.Constraint(range(time.states), rule=rule)


def define_peak_demand_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Demand charges bill each month's peak grid power, and its peak in each TOU demand period.
    The idle draw P̄ is the same in every state, so a peak is P̄ + the peak of B:

    B̂[m] ≥ B[q]       ∀ m with r_m > 0, q ∈ Q_m                   [kW]
    B̂[m,d] ≥ B[q]     ∀ (m, d) with r_d > 0, q ∈ Q_{m,d}

    The objective charges r_m (P̄ + B̂[m]) + r_d (P̄ + B̂[m,d]) (the P̄ part through c_k), so
    at the optimum each B̂ is that maximum.

    ========  ====================================  ===================================================
    symbol    Pyomo attribute                       meaning
    ========  ====================================  ===================================================
    B̂[m]      model.peak_busy_grid_mw[m]            month m's peak of B
    B̂[m,d]    model.period_peak_busy_grid_mw[m,d]   month m's peak of B in TOU demand period d
    Q_m       data.time.month_states[m − 1]         states with a slice in month m
    Q_{m,d}   data.time.period_states[m, d]         states with a slice in month m and TOU demand period d
    r_m       slices.flat_demand_usd_per_kw[m − 1]  flat demand charge [USD/kW of the month's peak]
    r_d       slices.demand_usd_per_kw[d]           TOU demand charge [USD/kW of the period's monthly peak]
    ========  ====================================  ===================================================
    """
    time = data.time
    model.monthly_peak = pyo.Constraint(
        [(m, q) for m in _flat_demand_months(data) for q in time.month_states[m - 1]],
        rule=lambda model_, m, q: model_.peak_busy_grid_mw[m] >= model_.busy_grid_mw[q],
    )
    model.period_peak = pyo.Constraint(
        [(m, d, q) for m, d in _tou_demand_periods(data) for q in time.period_states[m, d]],
        rule=lambda model_, m, d, q: model_.period_peak_busy_grid_mw[m, d] >= model_.busy_grid_mw[q],
    )


def _points_by_workload(data: ModelData) -> dict[str, list[str]]:
    skus_of = {}
    for s, w in data.points:
        skus_of.setdefault(w, []).append(s)
    return skus_of


def define_token_share_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Delivered tokens split by workload shares (cost-per-token).

    T_w = σ_w Σ_{w'} T_w'; divided by κ, with θ = Σ_w' T_w' / κ:

    τ_w = σ_w · θ     ∀ w with σ_w > 0      [tokens/s]

    Flat: τ_w = Σ_{s : (s,w) ∈ O} tps[s,w] · g[s,w], the throughput while serving.
    Time-resolved: τ_w = T_w / (3600 H), the mean throughput over the year
    (`mean_throughput`). Summed over w (Σ σ_w = 1) the rows give θ = Σ_w τ_w.

    ==========  ======================  ===========================================
    symbol      Pyomo attribute         meaning
    ==========  ======================  ===========================================
    tps[s,w]    data.points[s, w]       tokens/s per GPU at the operating point
    σ_w         data.shares[w]          share of delivered tokens
    θ           model.tokens_per_s      fleet throughput [tokens/s]
    κ           data.serving_seconds    T = κ θ [s/year]
    ==========  ======================  ===========================================
    """
    skus_of = _points_by_workload(data)
    throughput = workload_throughput if data.time is None else mean_throughput
    model.token_share = pyo.Constraint(
        list(data.shares),
        rule=lambda m, w: throughput(m, data, skus_of, w) == data.shares[w] * m.tokens_per_s,
    )


def define_demand_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Serve each workload's demand (min-cost).

    Σ_{s : (s,w) ∈ O} tps[s,w] · g[s,w] ≥ d_w     ∀ w with d_w > 0      [tokens/s]

    Flat: while serving (T_w / κ ≥ d_w). Time-resolved, interactive w: at its peak (the
    fleet is sized for it); batch w: its mean over the year `mean_throughput` ≥ d_w ·
    utilization, the tokens the flat year would serve (`model_data` stores that).

    ==========  ===============================  ================================
    symbol      Pyomo attribute                  meaning
    ==========  ===============================  ================================
    tps[s,w]    data.points[s, w]                tokens/s per GPU
    d_w         data.demands_tokens_per_s[w]     demand [tokens/s]
    ==========  ===============================  ================================
    """
    skus_of = _points_by_workload(data)
    batch = data.time.batch if data.time is not None else ()

    def rule(m, w):
        throughput = mean_throughput if w in batch else workload_throughput
        return throughput(m, data, skus_of, w) >= data.demands_tokens_per_s[w] / TOKENS_PER_S_UNIT

    model.demand = pyo.Constraint(list(data.demands_tokens_per_s), rule=rule)


def define_batch_day_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Batch throughput day by day, and daily quotas.

    y[w,D] = (1/24) Σ_{q ∈ D} Σ_s tps[s,w] · b[s,w,q]       ∀ w batch, days D      [tokens/s]

    is w's mean throughput on day D (representative: a month's weekdays or weekends;
    hourly: a day of the year). The year's mean is Σ_D (Σ_{q ∈ D} W_q / H) · y[w,D]
    (`mean_throughput`), so the annual rows read 365 day values, not every state.
    A batch workload with a daily quota serves the same tokens every day:

    y[w,D] = σ_w · θ  (cost-per-token)  |  y[w,D] ≥ d_w  (min-cost)     ∀ w with a daily quota, D

    (σ_w θ, d_w: w's mean over the year.)

    ========  ====================================  =====================================
    symbol    Pyomo attribute                       meaning
    ========  ====================================  =====================================
    y[w,D]    model.batch_day_tokens_per_s[w, D]    mean tokens/s of batch w on day D
    b[s,w,q]  model.batch_gpus[s, w, q]             GPUs serving batch w in state q
    D         data.time.day_states[D]               the 24 states of day D
    ========  ====================================  =====================================
    """
    time = data.time
    skus_of = _points_by_workload(data)
    days = range(len(time.day_states))

    def day_mean(m, w, day):
        return quicksum(data.points[s, w].tokens_per_s_per_gpu / (HOURS_PER_DAY * TOKENS_PER_S_UNIT)
                        * m.batch_gpus[s, w, q] for q in time.day_states[day] for s in skus_of.get(w, ()))

    model.batch_day = pyo.Constraint(
        [(w, day) for w in time.batch for day in days],
        rule=lambda m, w, day: m.batch_day_tokens_per_s[w, day] == day_mean(m, w, day),
    )

    def quota(m, w, day):
        if data.objective == "cost-per-token":
            return m.batch_day_tokens_per_s[w, day] == data.shares[w] * m.tokens_per_s
        return m.batch_day_tokens_per_s[w, day] >= data.demands_tokens_per_s[w] / TOKENS_PER_S_UNIT

    model.batch_quota = pyo.Constraint([(w, day) for w in time.daily for day in days], rule=quota)


def workload_throughput(model: pyo.ConcreteModel, data: ModelData, skus_of: dict[str, list[str]], workload: str):
    """Σ_s tps[s,w] · g[s,w] for w = `workload`, in TOKENS_PER_S_UNIT: while serving (flat),
    at w's peak (time-resolved, interactive)."""
    return quicksum(data.points[s, workload].tokens_per_s_per_gpu / TOKENS_PER_S_UNIT * model.gpus[s, workload]
                    for s in skus_of.get(workload, ()))


def mean_throughput(model: pyo.ConcreteModel, data: ModelData, skus_of: dict[str, list[str]], workload: str):
    """τ_w = T_w / (3600 H), w's mean throughput over the year (time-resolved), in TOKENS_PER_S_UNIT:

    interactive:  ā_w Σ_s tps[s,w] · g[s,w],   ā_w = Σ_q W_q f_w(h_q) / H  (the profile's mean)
    batch:        Σ_q (W_q / H) Σ_s tps[s,w] · b[s,w,q] = Σ_D (Σ_{q ∈ D} W_q / H) · y[w,D]
    """
    time = data.time
    if workload in time.profiles:
        profile = time.profiles[workload][list(time.state_hour)]
        mean = float(time.state_weight_hours @ profile) / time.hours_per_year
        return mean * workload_throughput(model, data, skus_of, workload)
    return quicksum(float(share) * model.batch_day_tokens_per_s[workload, day]
                    for day, share in enumerate(time.day_share_of_year))


def annual_cost_expression(model: pyo.ConcreteModel, data: ModelData):
    """C = Σ_k c_k · n[k] + C_site   [USD/year; model unit 10⁶ USD/year]
    (c_k: `NodeCost.annual_usd`, time-resolved + ι_k Ê; C_site: fixed charges and opex), and time-resolved

    + Σ_q E_q · B[q] + Σ_m r_m · B̂[m] + Σ_{m,d} r_d · B̂[m,d] + Σ_m (a_m + b_m)

    (energy of the busy GPUs in each load state, demand charges on their monthly peaks, and
    what tiers below the marginal prices add each month, `PricedSlices.monthly`)."""
    cost = (
        quicksum(data.node_cost_usd[k] / USD_UNIT * model.nodes[k] for k in range(len(data.combinations)))
        + data.site_cost_usd / USD_UNIT
    )
    if data.time is None:
        return cost
    per_mw = GRID_KW_UNIT / USD_UNIT
    slices = data.time.slices
    tiers_below_margin = float(slices.energy_adjustment_usd.sum() + slices.demand_adjustment_usd.sum())
    return (
        cost
        + tiers_below_margin / USD_UNIT
        + quicksum(float(e) * per_mw * model.busy_grid_mw[q] for q, e in enumerate(data.time.state_energy_usd_per_kw))
        + quicksum(float(slices.flat_demand_usd_per_kw[m - 1]) * per_mw * model.peak_busy_grid_mw[m]
                   for m in _flat_demand_months(data))
        + quicksum(float(slices.demand_usd_per_kw[d]) * per_mw * model.period_peak_busy_grid_mw[m, d]
                   for m, d in _tou_demand_periods(data))
    )


def define_objective(model: pyo.ConcreteModel, data: ModelData, lambda_usd_per_token: float) -> None:
    """The objective.

    cost-per-token (Dinkelbach subproblem for a given λ):
        min F(λ) = C − λ · T = C − λ κ θ      [USD/year]
    min-cost:
        min C                                 [USD/year]

    ======  ===========================  ===========================================
    symbol  Pyomo attribute              meaning
    ======  ===========================  ===========================================
    C       `annual_cost_expression`     annual cost [USD/year]
    c_k     data.node_cost_usd[k]        annual cost of one node of k [USD/year]
    Ê       `idle_cost_usd_per_kw`       energy and demand charges of 1 kW drawn all year [USD/year]
    C_site  data.site_cost_usd           fixed charges + fixed opex [USD/year]
    E_q     state_energy_usd_per_kw[q]   Σ_{t→q} W_t π_t [USD per kW drawn in q, per year]
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
