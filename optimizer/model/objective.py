"""The objective: the annual cost C, minus λ · T for cost-per-token (Dinkelbach's subproblem)."""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.core.util import quicksum

from optimizer.model.constraints.tokens import mean_throughput, workload_throughput
from optimizer.model.data import GRID_KW_UNIT, TOKENS_PER_S_UNIT, USD_UNIT, ModelData


def annual_cost_expression(model: pyo.ConcreteModel, data: ModelData):
    """C = Σ_k c_k · n[k] + C_site   [USD/year; model unit 10⁶ USD/year]
    (c_k: `NodeCost.annual_usd`, time-resolved + ι_k Ê; C_site: fixed charges and opex), and
    time-resolved

    + Σ_q E_q · B[q] + Σ_m r_m · B̂[m] + Σ_{m,d} r_d · B̂[m,d] + Σ_m (a_m + b_m)

    (energy of the busy GPUs in each load state, demand charges on their monthly peaks, and
    what tiers below the marginal prices add each month, `PricedSlices.monthly`)."""
    cost = (
        quicksum(
            data.node_cost_usd[k] / USD_UNIT * model.nodes[k] for k in range(len(data.combinations))
        )
        + data.site_cost_usd / USD_UNIT
    )
    if data.time is None:
        return cost
    per_mw = GRID_KW_UNIT / USD_UNIT
    slices = data.time.slices
    tiers_below_margin = float(
        slices.energy_adjustment_usd.sum() + slices.demand_adjustment_usd.sum()
    )
    return (
        cost
        + tiers_below_margin / USD_UNIT
        + quicksum(
            float(e) * per_mw * model.busy_grid_mw[q]
            for q, e in enumerate(data.time.state_energy_usd_per_kw)
        )
        + quicksum(
            float(slices.flat_demand_usd_per_kw[m - 1]) * per_mw * model.peak_busy_grid_mw[m]
            for m in data.flat_demand_months
        )
        + quicksum(
            float(slices.demand_usd_per_kw[d]) * per_mw * model.period_peak_busy_grid_mw[m, d]
            for m, d in data.tou_demand_periods
        )
    )


def revenue_expression(model: pyo.ConcreteModel, data: ModelData):
    """R = Σ_w p_w · T_w / 10⁶ = Σ_w p_w · κ · τ_w / 10⁶   [USD/year; model unit 10⁶ USD/year]

    (p_w: price per million tokens; τ_w: w's throughput while serving (flat) or mean over
    the year (time-resolved), in 10⁶ tokens/s, so p_w κ τ_w is already in 10⁶ USD/year
    once divided by USD_UNIT / TOKENS_PER_S_UNIT = 1.)"""
    throughput = workload_throughput if data.time is None else mean_throughput
    skus_of = data.workload_skus
    scale = data.serving_seconds * TOKENS_PER_S_UNIT / 1e6 / USD_UNIT
    return quicksum(
        price * scale * throughput(model, data, skus_of, w)
        for w, price in data.prices_usd_per_million_tokens.items()
        if w in skus_of
    )


def define_objective(
    model: pyo.ConcreteModel, data: ModelData, lambda_usd_per_token: float
) -> None:
    """The objective.

    cost-per-token (Dinkelbach subproblem for a given λ):
        min F(λ) = C − λ · T = C − λ κ θ      [USD/year]
    min-cost:
        min C                                 [USD/year]
    max-profit (the margin, negated):
        min C − R = C − Σ_w p_w · T_w / 10⁶     [USD/year]

    ======  ===========================  ===========================================
    symbol  Pyomo attribute              meaning
    ======  ===========================  ===========================================
    C       `annual_cost_expression`     annual cost [USD/year]
    c_k     data.node_cost_usd[k]        annual cost of one node of k [USD/year]
    Ê       `idle_cost_usd_per_kw`       energy and demand charges of 1 kW drawn all year [USD/year]
    C_site  data.site_cost_usd           fixed charges + fixed opex [USD/year]
    E_q     state_energy_usd_per_kw[q]   Σ_{t→q} W_t π_t [USD per kW drawn in q, per year]
    λ       lambda_usd_per_token         Dinkelbach parameter [USD/token]
    p_w     prices_usd_per_million_tokens   price of a million tokens of w [USD]
    R       `revenue_expression`         revenue [USD/year]
    κ θ     model.tokens_per_s           T, tokens per year = κ θ
    ======  ===========================  ===========================================
    """
    cost = annual_cost_expression(model, data)
    if data.objective == "cost-per-token":
        # λ [USD/token] · κ [s/year] · θ [10⁶ tokens/s] = λκθ [10⁶ USD/year]
        expr = cost - lambda_usd_per_token * data.serving_seconds * model.tokens_per_s
    elif data.objective == "max-profit":
        expr = cost - revenue_expression(model, data)
    else:
        expr = cost
    model.objective = pyo.Objective(expr=expr, sense=pyo.minimize)
