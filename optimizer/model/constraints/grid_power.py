"""Grid power of a time-resolved year: the busy GPUs' power per load state, placed on each
system's combinations, and the monthly peaks that demand charges bill."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.util import quicksum

from optimizer.model.constraints.capacity import busy_gpus
from optimizer.model.data import GRID_KW_UNIT, ModelData
from optimizer.model.sparse import (
    Slot,
    SparseRows,
    VariableLayout,
    busy_slots,
    placeholder,
    scaled,
    term_rows,
)


def define_busy_power_constraints(
    model: pyo.ConcreteModel, data: ModelData, assembled: bool = False
) -> None:
    """Grid power of the busy GPUs of a system with several combinations.

    Its combinations differ in PUE, so in busy power per GPU δ_k, and any plan does best
    to run the busy GPUs on the lowest δ first. That placement is the LP

        D[s,q] = min { Σ_k δ_k u_k : Σ_k u_k = busy[s,q], 0 ≤ u_k ≤ a_s · gpus_s · n[k] },

    and by LP duality (the dual's optimum lies at a price π = δ_i) it is the largest of
    |K_s| functions linear in busy and n. With K_s ordered by δ ascending:

    D[s,q] ≥ δ_i · busy[s,q] − Σ_{j < i} (δ_i − δ_j) · a_s · gpus_s · n[j]
                                                ∀ i ∈ K_s, s ∈ S_split, q ∈ Q_s   [kW]

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

    With `assembled`, the rows are `busy_power_rows` (`optimizer.model.sparse`).
    """
    if assembled:
        model.busy_power = placeholder()
        return
    loads = data.resolved_loads
    delta = data.busy_grid_kw_per_gpu

    def rule(m, s, q, i):
        ks = loads.split[s]
        k = ks[i]
        cheaper = quicksum(
            (delta[k] - delta[j]) * data.serving_gpus(s) / GRID_KW_UNIT * m.nodes[j]
            for j in ks[:i]
            if delta[j] < delta[k]
        )
        busy = busy_gpus(m, data, s, q)
        return m.sku_busy_grid_mw[s, q] >= delta[k] / GRID_KW_UNIT * busy - cheaper

    model.busy_power = pyo.Constraint(
        [
            (s, q, i)
            for s, ks in loads.split.items()
            for q in loads.states[s]
            for i in range(len(ks))
        ],
        rule=rule,
    )


def define_grid_power_constraints(
    model: pyo.ConcreteModel, data: ModelData, assembled: bool = False
) -> None:
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
    δ_s     data.busy_grid_kw_per_gpu[k]     (node_power_kw − node_idle_power_kw) × PUE_k
                                             / gpus_s [kW/GPU]
    q_s     _SkuLoads.state(s, q)            the state of Q_s standing for q
    ======  ===============================  ===============================================

    With `assembled`, the rows are `grid_power_rows` (`optimizer.model.sparse`).
    """
    if assembled:
        model.grid_power = placeholder()
        return
    loads = data.resolved_loads
    time = data.resolved_time
    single = _single_combination(data)

    def rule(m, q):
        dynamic = (
            data.busy_grid_kw_per_gpu[k]
            / GRID_KW_UNIT
            * busy_gpus(m, data, s, loads.state(s, q, time))
            for s, k in single.items()
        )
        placed = (m.sku_busy_grid_mw[s, loads.state(s, q, time)] for s in loads.split)
        return m.busy_grid_mw[q] == quicksum([*dynamic, *placed])  # one sum, terms in order

    model.grid_power = pyo.Constraint(range(time.states), rule=rule)


def _single_combination(data: ModelData) -> dict[str, int]:
    """s ∉ S_split with busy power → its one combination k (δ_s = δ_k)."""
    loads = data.resolved_loads
    return {
        s: ks[0]
        for s, ks in loads.combos.items()
        if s not in loads.split and data.busy_grid_kw_per_gpu[ks[0]] > 0
    }


def _states_of(data: ModelData, sku: str) -> np.ndarray:
    """q_s for every state q (`_SkuLoads.state`)."""
    time = data.resolved_time
    states = np.arange(time.states)
    if data.resolved_loads.batch[sku]:
        return states
    return np.asarray(time.first_state_of_hour)[np.asarray(time.state_hour)]


def busy_power_rows(data: ModelData, layout: VariableLayout) -> SparseRows:
    """The rows of `define_busy_power_constraints`, (s, q, i) by s, then q, then i:

    (δ_i / 1000) · busy[s,q] − Σ_{j < i, δ_j < δ_i} ((δ_i − δ_j) a_s gpus_s / 1000) · n[j]
        − D[s,q] ≤ 0      (D in MW)."""
    loads = data.resolved_loads
    delta = np.asarray(data.busy_grid_kw_per_gpu)
    blocks = []
    for s, ks in loads.split.items():
        states = np.asarray(loads.states[s])
        n, combos = len(states), len(ks)
        state_of_row = np.repeat(np.arange(n), combos)  # rows (q, i): i runs fastest
        k = np.tile(np.asarray(ks), n)
        i = np.tile(np.arange(combos), n)
        slots = scaled(busy_slots(data, layout, s, states), delta[k] / GRID_KW_UNIT, state_of_row)
        for place, j in enumerate(ks[:-1]):  # n[j] in the rows i > place where δ_j < δ_i
            cheaper = -((delta[k] - delta[j]) * data.serving_gpus(s) / GRID_KW_UNIT)
            slots.append((layout.id("nodes", j), cheaper, (place < i) & (delta[j] < delta[k])))
        own: Slot = (layout.series("sku_busy_grid_mw", (s,), states)[state_of_row], -1.0, True)
        blocks.append(term_rows([*slots, own], -np.inf, 0.0, n * combos))
    return SparseRows.stacked(blocks)


def grid_power_rows(data: ModelData, layout: VariableLayout) -> SparseRows:
    """The rows of `define_grid_power_constraints`, q ascending:

    B[q] − Σ_{s ∉ S_split} (δ_s / 1000) · busy[s, q_s] − Σ_{s ∈ S_split} D[s, q_s] = 0
    (B, D in MW)."""
    loads = data.resolved_loads
    states = np.arange(data.resolved_time.states)
    slots: list[Slot] = [(layout.series("busy_grid_mw", (), states), 1.0, True)]
    for s, k in _single_combination(data).items():
        own = _states_of(data, s)
        factor = -(data.busy_grid_kw_per_gpu[k] / GRID_KW_UNIT)
        slots += scaled(busy_slots(data, layout, s, own), factor, states)
    for s in loads.split:
        slots.append((layout.series("sku_busy_grid_mw", (s,), _states_of(data, s)), -1.0, True))
    return term_rows(slots, 0.0, 0.0, len(states))


def define_peak_demand_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """Demand charges bill each month's peak grid power, and its peak in each TOU demand period.
    The idle draw P̄ is the same in every state, so a peak is P̄ + the peak of B:

    B̂[m] ≥ B[q]       ∀ m with r_m > 0, q ∈ Q_m                   [kW]
    B̂[m,d] ≥ B[q]     ∀ (m, d) with r_d > 0, q ∈ Q_{m,d}

    The objective charges r_m (P̄ + B̂[m]) + r_d (P̄ + B̂[m,d]) (the P̄ part through c_k), so
    at the optimum each B̂ is that maximum.

    ========  ====================================  ================================================
    symbol    Pyomo attribute                       meaning
    ========  ====================================  ================================================
    B̂[m]      model.peak_busy_grid_mw[m]            month m's peak of B
    B̂[m,d]    model.period_peak_busy_grid_mw[m,d]   month m's peak of B in TOU demand period d
    Q_m       data.time.month_states[m − 1]         states with a slice in month m
    Q_{m,d}   data.time.period_states[m, d]         states with a slice in month m and TOU demand
                                                    period d
    r_m       slices.flat_demand_usd_per_kw[m − 1]  flat demand charge [USD/kW of the month's peak]
    r_d       slices.demand_usd_per_kw[d]           TOU demand charge [USD/kW of the period's
                                                    monthly peak]
    ========  ====================================  ================================================
    """
    time = data.resolved_time
    model.monthly_peak = pyo.Constraint(
        [(m, q) for m in data.flat_demand_months for q in time.month_states[m - 1]],
        rule=lambda model_, m, q: model_.peak_busy_grid_mw[m] >= model_.busy_grid_mw[q],
    )
    model.period_peak = pyo.Constraint(
        [(m, d, q) for m, d in data.tou_demand_periods for q in time.period_states[m, d]],
        rule=lambda model_, m, d, q: (
            model_.period_peak_busy_grid_mw[m, d] >= model_.busy_grid_mw[q]
        ),
    )
