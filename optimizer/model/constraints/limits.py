"""What the site can hold: the supply cap per system and the grid interconnect budget."""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.core.util import quicksum

from optimizer.model.data import ModelData


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
        rule=lambda m: (
            quicksum(data.grid_kw[k] * m.nodes[k] for k in owned) <= data.budget_kw
            if owned
            else pyo.Constraint.Skip
        )
    )
