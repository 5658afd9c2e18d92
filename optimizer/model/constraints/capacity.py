"""GPUs come from the nodes bought (or rented): over the flat year, and in each load state of
a time-resolved year."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.util import quicksum

from optimizer.model.data import ModelData
from optimizer.model.sparse import (
    SparseRows,
    VariableLayout,
    busy_slots,
    placeholder,
    term_rows,
)


def define_gpu_capacity_constraints(model: pyo.ConcreteModel, data: ModelData) -> None:
    """GPUs allocated to workloads come from the nodes bought (or rented), of which the
    fraction a_s is serving at any time (availability; failures, maintenance, spares).

    Σ_{w : (s,w) ∈ O} g[s,w] ≤ a_s · gpus_s · Σ_{k ∈ K_s} n[k]     ∀ s ∈ S      [GPU]

    ======  ========================  ===============================
    symbol  Pyomo attribute           meaning
    ======  ========================  ===============================
    g[s,w]  model.gpus[s, w]          GPUs of s allocated to w
    gpus_s  data.gpus_per_node[s]     GPUs per node of s
    a_s     data.serving_fraction[s]  availability on site; 1 for a remote rental
    n[k]    model.nodes[k]            nodes of combination k
    ======  ========================  ===============================
    """
    workloads_of = data.sku_workloads
    combos_of = data.sku_combinations
    model.gpu_capacity = pyo.Constraint(
        list(data.skus),
        rule=lambda m, s: (
            quicksum(m.gpus[s, w] for w in workloads_of[s])
            <= data.serving_gpus(s) * quicksum(m.nodes[k] for k in combos_of[s])
        ),
    )


def busy_gpus(model: pyo.ConcreteModel, data: ModelData, sku: str, q: int):
    """busy[s,q] = Σ_{w interactive} f_w(h_q) · g[s,w] + Σ_{w batch} b[s,w,q]   [GPU]

    One sum, its terms in that order (`busy_slots` states them in the same order)."""
    loads = data.resolved_loads
    time = data.resolved_time
    hour = time.state_hour[q]
    profiles = time.profiles
    return quicksum(
        [
            *(
                profiles[w][hour] * model.gpus[sku, w]
                for w in loads.interactive[sku]
                if profiles[w][hour] > 0
            ),
            *(model.batch_gpus[sku, w, q] for w in loads.batch[sku]),
        ]
    )


def define_slice_capacity_constraints(
    model: pyo.ConcreteModel, data: ModelData, assembled: bool = False
) -> None:
    """GPUs busy in a load state come from the nodes bought (or rented); the fleet is sized
    for the busiest state, the interactive workloads' peak included.

    busy[s,q] = Σ_{w interactive} f_w(h_q) · g[s,w] + Σ_{w batch} b[s,w,q]
    busy[s,q] ≤ a_s · gpus_s · Σ_{k ∈ K_s} n[k]     ∀ s ∈ S, q ∈ Q_s      [GPU]

    ========  ==========================  ==============================================
    symbol    Pyomo attribute             meaning
    ========  ==========================  ==============================================
    f_w(h)    data.time.profiles[w][h]    interactive w's load in hour h, share of its peak
    h_q       data.time.state_hour[q]     hour of day of state q
    Q_s       _SkuLoads.states[s]         states where s's load can differ (all, or one per hour)
    ========  ==========================  ==============================================

    With `assembled`, the rows are `slice_capacity_rows` (`optimizer.model.sparse`).
    """
    if assembled:
        model.slice_capacity = placeholder()
        return
    loads = data.resolved_loads
    model.slice_capacity = pyo.Constraint(
        [(s, q) for s in data.skus for q in loads.states[s]],
        rule=lambda m, s, q: (
            busy_gpus(m, data, s, q)
            <= data.serving_gpus(s) * quicksum(m.nodes[k] for k in loads.combos[s])
        ),
    )


def slice_capacity_rows(data: ModelData, layout: VariableLayout) -> SparseRows:
    """The rows of `define_slice_capacity_constraints`, (s, q) by s then q:

    busy[s,q] − a_s · gpus_s · Σ_{k ∈ K_s} n[k] ≤ 0."""
    loads = data.resolved_loads
    blocks = []
    for s in data.skus:
        states = np.asarray(loads.states[s])
        slots = busy_slots(data, layout, s, states)
        slots += [(layout.id("nodes", k), -data.serving_gpus(s), True) for k in loads.combos[s]]
        blocks.append(term_rows(slots, -np.inf, 0.0, len(states)))
    return SparseRows.stacked(blocks)
