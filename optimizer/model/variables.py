"""The decision variables of the fleet MILP."""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.data import ModelData


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
    θ           model.tokens_per_s              throughput while serving (flat) | mean over
                                                the year [tokens/s]
    b[s,w,q]    model.batch_gpus[s, w, q]       GPUs serving batch w in q [GPU]
    y[w,D]      model.batch_day_tokens_per_s    mean tokens/s of batch w on day D [tokens/s]
    D[s,q]      model.sku_busy_grid_mw[s, q]    grid power of s's busy GPUs in q [kW; model unit MW]
    B[q]        model.busy_grid_mw[q]           grid power of the busy GPUs in q [kW; model unit MW]
    B̂[m]        model.peak_busy_grid_mw[m]      month m's peak of B [kW; model unit MW]
    B̂[m,d]      model.period_peak_busy_grid_mw  month m's peak of B in TOU demand period d
                                                [kW; model unit MW]
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
        loads = data.resolved_loads
        model.gpus = pyo.Var(
            [key for key in data.points if key[1] in time.profiles], within=pyo.NonNegativeReals
        )
        model.batch_gpus = pyo.Var(
            [(s, w, q) for s, w in data.points if w in time.batch for q in range(time.states)],
            within=pyo.NonNegativeReals,
        )
        model.batch_day_tokens_per_s = pyo.Var(
            [(w, day) for w in time.batch for day in range(len(time.day_states))],
            within=pyo.NonNegativeReals,
        )
        model.sku_busy_grid_mw = pyo.Var(
            [(s, q) for s in loads.split for q in loads.states[s]], within=pyo.NonNegativeReals
        )
        model.busy_grid_mw = pyo.Var(range(time.states), within=pyo.NonNegativeReals)
        model.peak_busy_grid_mw = pyo.Var(
            list(data.flat_demand_months), within=pyo.NonNegativeReals
        )
        model.period_peak_busy_grid_mw = pyo.Var(
            list(data.tou_demand_periods), within=pyo.NonNegativeReals
        )
    if data.objective == "cost-per-token":
        model.tokens_per_s = pyo.Var(within=pyo.NonNegativeReals)
