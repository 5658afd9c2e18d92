"""The site's power-delivery design: one per site, owned nodes only on it."""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.core.util import quicksum

from optimizer.model.data import ModelData


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
        rule=lambda m: (
            quicksum(m.power_design[p] for p in data.power_ids) == 1
            if data.power_ids
            else pyo.Constraint.Skip
        )  # a rented-only input has no site power to design
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
    design_of = {
        k: combo.power.power_id
        for k, combo in enumerate(data.combinations)
        if combo.power is not None
    }
    model.node_design = pyo.Constraint(
        list(design_of),
        rule=lambda m, k: m.nodes[k] <= data.node_upper[k] * m.power_design[design_of[k]],
    )
