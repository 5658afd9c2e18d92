"""The fleet MILP as a Pyomo model: the readable statement of the maths.

Stages (PyPSA/oemof style): `model_data` (`data.py`) turns `PlanInputs` into plain
coefficients and index sets (floats, ints, tuples; no Pyomo), then `create_model` builds the
model one family at a time, so it reads like a table of contents:

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
    define_market_cap_constraints        Σ_s tps[s,w] g[s,w] ≤ m_w          (max-profit)
    define_batch_day_constraints         y[w,D] = a day's batch throughput   (time-resolved)
    define_batch_quota_constraints       y[w,D] = σ_w θ | ≥ d_w | = y[w,D₀]  (daily quotas)
    define_objective                     min C − λ·T  |  min C  |  min C − Σ_w p_w T_w

Where each stage lives:

    data.py                      ModelData, model_data, the index sets (K_s, O_w, Q_s, …)
    variables.py                 define_variables
    constraints/power_design.py  power design, node design
    constraints/limits.py        supply, budget
    constraints/capacity.py      gpu capacity (flat), slice capacity (time-resolved)
    constraints/grid_power.py    busy power, grid power, peak demand (time-resolved)
    constraints/tokens.py        token share, demand, market cap, batch day
    objective.py                 define_objective, annual_cost_expression
    sparse.py                    the large time-resolved families as sparse rows (`ASSEMBLED`)
    compiled.py                  compile_model: the model in standard form (matrices)

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
compiled to matrices (`optimizer.model.compiled`), which is where speed matters. The
time-resolved model's large families (`ASSEMBLED`: ~10⁶ nonzeros on 8760 hours) are
stated twice, in Pyomo and as sparse rows in numpy beside it (`optimizer.model.sparse`);
`create_model(data, assembled=True)` leaves their rows to the numpy statement, and
tests/optimizer/test_build.py checks both compile to the same matrices.
"""

from __future__ import annotations

from collections.abc import Callable

import pyomo.environ as pyo

from optimizer.model.constraints import (
    batch_day_rows,
    busy_gpus,
    busy_power_rows,
    define_batch_day_constraints,
    define_batch_quota_constraints,
    define_budget_constraints,
    define_busy_power_constraints,
    define_demand_constraints,
    define_gpu_capacity_constraints,
    define_grid_power_constraints,
    define_market_cap_constraints,
    define_node_design_constraints,
    define_peak_demand_constraints,
    define_power_design_constraints,
    define_slice_capacity_constraints,
    define_supply_constraints,
    define_token_share_constraints,
    grid_power_rows,
    mean_throughput,
    slice_capacity_rows,
    workload_throughput,
)
from optimizer.model.data import (
    GRID_KW_UNIT,
    OBJECTIVES,
    TOKENS_PER_S_UNIT,
    USD_UNIT,
    ModelData,
    active_workloads,
    budget_node_limit,
    idle_cost_usd_per_kw,
    model_data,
    node_upper_bound,
    undominated,
)
from optimizer.model.objective import annual_cost_expression, define_objective
from optimizer.model.sparse import SparseRows, VariableLayout
from optimizer.model.variables import define_variables

ASSEMBLED: dict[str, Callable[[ModelData, VariableLayout], SparseRows]] = {
    "slice_capacity": slice_capacity_rows,
    "busy_power": busy_power_rows,
    "grid_power": grid_power_rows,
    "batch_day": batch_day_rows,
}
"""Constraint component → the same rows as sparse arrays: the families `create_model(data,
assembled=True)` leaves to numpy (`optimizer.model.sparse`)."""


def create_model(
    data: ModelData, lambda_usd_per_token: float = 0.0, assembled: bool = False
) -> pyo.ConcreteModel:
    """Build the MILP in named stages. `lambda_usd_per_token` is Dinkelbach's λ
    (cost-per-token only). With `assembled`, the families of `ASSEMBLED` hold no rows (an
    empty placeholder each): `optimizer.model.compiled` assembles them."""
    model = pyo.ConcreteModel(name=f"tokenplan-{data.objective}")
    define_variables(model, data)
    define_power_design_constraints(model, data)
    define_node_design_constraints(model, data)
    define_supply_constraints(model, data)
    define_budget_constraints(model, data)
    if data.time is None:
        define_gpu_capacity_constraints(model, data)
    else:
        define_slice_capacity_constraints(model, data, assembled)
        define_busy_power_constraints(model, data, assembled)
        define_grid_power_constraints(model, data, assembled)
        define_peak_demand_constraints(model, data)
    if data.objective == "cost-per-token":
        define_token_share_constraints(model, data)
    elif data.objective == "min-cost":
        define_demand_constraints(model, data)
    else:
        define_market_cap_constraints(model, data)
    if data.time is not None:
        define_batch_day_constraints(model, data, assembled)
        define_batch_quota_constraints(model, data)
    define_objective(model, data, lambda_usd_per_token)
    return model


__all__ = [
    "ASSEMBLED",
    "GRID_KW_UNIT",
    "OBJECTIVES",
    "TOKENS_PER_S_UNIT",
    "USD_UNIT",
    "ModelData",
    "active_workloads",
    "annual_cost_expression",
    "batch_day_rows",
    "budget_node_limit",
    "busy_gpus",
    "busy_power_rows",
    "create_model",
    "define_batch_day_constraints",
    "define_batch_quota_constraints",
    "define_budget_constraints",
    "define_busy_power_constraints",
    "define_demand_constraints",
    "define_gpu_capacity_constraints",
    "define_grid_power_constraints",
    "define_market_cap_constraints",
    "define_node_design_constraints",
    "define_objective",
    "define_peak_demand_constraints",
    "define_power_design_constraints",
    "define_slice_capacity_constraints",
    "define_supply_constraints",
    "define_token_share_constraints",
    "define_variables",
    "grid_power_rows",
    "idle_cost_usd_per_kw",
    "mean_throughput",
    "model_data",
    "node_upper_bound",
    "slice_capacity_rows",
    "undominated",
    "workload_throughput",
]
