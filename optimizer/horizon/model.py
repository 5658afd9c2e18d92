"""The multi-year MILP in Pyomo: what to buy, keep and retire each year (`HorizonData`).

Variables (t ∈ years, v ∈ vintages, k(v) its combination, s(v) its system):

    buy[v] ∈ {0, …, U_v}            nodes of vintage v bought (rented) in its year
    live[v,t] ∈ {0, …, U_v}         nodes of v in service in year t (v.year ≤ t ≤ v.last_year)
    add[f,t] ≥ 0                    kW IT of facility part f built in year t
                                    (f: a cooling option, a power design, the shell)
    y[p] ∈ {0, 1}                   the site's power design (one for the horizon)
    g[s,w,t] ≥ 0                    GPUs of s serving workload w in year t
    θ_t ≥ 0, Θ ≥ 0                  tokens/s in year t; levelized Θ = Σ_t d_t θ_t
                                    (cost-per-token; model unit 10⁶ tokens/s)

Rows:

    live[v,v.year] ≤ buy[v]  (bought, rented)    live[v,y0] ≤ installed_v  (existing: bound)
    live[v,t] ≤ live[v,t−1]                                  never rising within a vintage
    Σ_{v ∋ f} kW_v · live[v,t] ≤ sunk_f + Σ_{τ ≤ t} add[f,τ]  ∀ f, t   the facility holds them
    Σ_v grid_kw_v · live[v,t] ≤ 1000 · budget_mw_t           ∀ t      the year's grid budget
    Σ_p y[p] = 1;  live[v,t] ≤ U_v · y[p(v)]                           one power design
    Σ_{v of s bought in t} buy[v] ≤ max_nodes_s               ∀ s, t   supply per year
    Σ_w g[s,w,t] ≤ a_s · gpus_s · Σ_{v of s} live[v,t]        ∀ s, t   GPUs serving
    Σ_s tps[s,w] · g[s,w,t] = σ_w · θ_t,  θ_t ≥ floor_t       (cost-per-token)
    Σ_s tps[s,w] · g[s,w,t] ≥ d_{w,t}                         (min-cost)

Cost (present value, model unit 10⁶ USD):

    C = Σ_t d_t [ Σ_v opex[v,t] · live[v,t] + Σ_{bought v, t ∈ v's years} annuity_v · buy[v]
                  + Σ_f c_f · Σ_{τ ≤ t} add[f,τ] + site_t ]

and Dinkelbach's subproblem is min C − λ κ Θ (`optimizer.solve.dinkelbach` sets Θ's cost).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyomo.environ as pyo
from pyomo.core.util import quicksum

from optimizer.horizon.data import HorizonData, facility_parts
from optimizer.model import TOKENS_PER_S_UNIT, USD_UNIT


def node_upper(data: HorizonData) -> list[int]:
    """U_v: most nodes of each vintage: installed (existing); else the supply cap and the
    largest budget; a remote rental with no cap: the most its demands could use."""
    base = data.base
    index = {combo.key: k for k, combo in enumerate(base.combinations)}
    budget = max(data.budget_kw)
    bounds = []
    for v in data.vintages:
        if v.kind == "existing":
            bounds.append(v.installed)
            continue
        combo = data.combinations[v.k]
        if combo.key in index:
            bounds.append(base.node_upper[index[combo.key]])
            continue
        grid_kw = data.node_costs[v.k].grid_kw
        limit = math.floor(budget / grid_kw + 1e-9) if grid_kw > 0 else math.inf
        cap = combo.system.max_nodes
        bounds.append(int(min(limit, math.inf if cap is None else cap)))
    return bounds


def create_horizon_model(
    cases: Sequence[tuple[str, float, HorizonData]],
) -> pyo.ConcreteModel:
    """The multi-year MILP (module docstring) of one or more scenarios `cases` (name,
    probability, data); its objective the expected present-value cost Σ_c p_c C_c.

    Every variable and row carries its scenario c first. With several scenarios, the first
    year's decisions are shared (two-stage): the nodes bought or rented in the first year, the
    facility built in it and the power design, per combination and part, are equal in every
    scenario (`first_year` rows against the first scenario's); the years after are each
    scenario's own (recourse). Cost per token: Θ = Σ_c p_c Σ_t d_t θ_{c,t}, so Dinkelbach's
    method minimizes Σ_c p_c C_c / Σ_c p_c T_c, the expected levelized cost per token."""
    first = cases[0][2]
    model = pyo.ConcreteModel(name=f"tokenplan-horizon-{first.objective}")
    index: dict[str, dict] = {name: _index(data) for name, _, data in cases}
    model.buy = pyo.Var(
        [(c, i) for c, ix in index.items() for i in ix["bought"]],
        within=pyo.NonNegativeIntegers,
        bounds=lambda m, c, i: (0, index[c]["upper"][i]),
    )
    model.live = pyo.Var(
        [(c, i, t) for c, ix in index.items() for i, t in ix["in_service"]],
        within=pyo.NonNegativeIntegers,
        bounds=lambda m, c, i, t: (0, index[c]["upper"][i]),
    )
    model.facility_kw = pyo.Var(
        [
            (c, f, t)
            for c, _, data in cases
            for f in data.facility_usd_per_kw_year
            for t in data.years
        ],
        within=pyo.NonNegativeReals,
    )
    model.power_design = pyo.Var(
        [(c, p) for c, _, data in cases for p in data.base.power_ids], within=pyo.Binary
    )
    model.gpus = pyo.Var(
        [(c, s, w, t) for c, _, data in cases for s, w in data.base.points for t in data.years],
        within=pyo.NonNegativeReals,
    )
    cost_per_token = first.objective == "cost-per-token"
    if cost_per_token:
        model.tokens_per_s = pyo.Var(
            [(c, t) for c, _, data in cases for t in data.years], within=pyo.NonNegativeReals
        )
        model.levelized_tokens_per_s = pyo.Var(within=pyo.NonNegativeReals)
    for c, _, data in cases:
        _define_rows(model, c, data, index[c])
    if cost_per_token:
        model.levelized = pyo.Constraint(
            rule=lambda m: (
                m.levelized_tokens_per_s
                == quicksum(
                    probability * data.discount[t - data.years[0]] * m.tokens_per_s[c, t]
                    for c, probability, data in cases
                    for t in data.years
                )
            )
        )
    _define_first_year(model, cases, index)
    model.cost = pyo.Objective(
        expr=quicksum(
            probability * present_value_cost(model, c, data, index[c]["bought"])
            for c, probability, data in cases
        ),
        sense=pyo.minimize,
    )
    return model


def _index(data: HorizonData) -> dict:
    """The index sets of one scenario: vintages bought (or rented), (vintage, year) in service,
    the vintages in service each year, bounds."""
    vintages = data.vintages
    in_service = [(i, t) for i, v in enumerate(vintages) for t in v.years()]
    live_at: dict[int, list[int]] = {t: [] for t in data.years}
    for i, t in in_service:
        live_at[t].append(i)
    return {
        "bought": [i for i, v in enumerate(vintages) if v.kind != "existing"],
        "in_service": in_service,
        "live_at": live_at,
        "upper": node_upper(data),
    }


def _define_rows(model: pyo.ConcreteModel, c: str, data: HorizonData, ix: dict) -> None:
    """Scenario c's rows (module docstring), each row family one constraint component indexed
    by (c, …)."""
    base = data.base
    vintages = data.vintages
    years = data.years
    y0 = years[0]
    upper, live_at, bought = ix["upper"], ix["live_at"], ix["bought"]
    parts = list(data.facility_usd_per_kw_year)
    add = _component(model, "enter")
    for i in bought:
        add(c, i, expr=model.live[c, i, vintages[i].year] <= model.buy[c, i])
    add = _component(model, "keep")
    for i, t in ix["in_service"]:
        if t > vintages[i].year:
            add(c, i, t, expr=model.live[c, i, t] <= model.live[c, i, t - 1])
    kw_it = [data.combinations[v.k].system.node_power_kw for v in vintages]
    part_of = [facility_parts(data.combinations[v.k]) for v in vintages]
    add = _component(model, "facility")
    for f in parts:
        for t in years:
            users = [i for i in live_at[t] if f in part_of[i]]
            if users:
                add(
                    c,
                    f,
                    t,
                    expr=quicksum(kw_it[i] * model.live[c, i, t] for i in users)
                    <= data.facility_kw_sunk[f]
                    + quicksum(model.facility_kw[c, f, tau] for tau in years if tau <= t),
                )
    grid_kw = [data.node_costs[v.k].grid_kw for v in vintages]
    add = _component(model, "budget")
    for t in years:
        users = [i for i in live_at[t] if grid_kw[i] > 0]
        if users:
            add(
                c,
                t,
                expr=quicksum(grid_kw[i] * model.live[c, i, t] for i in users)
                <= data.budget_kw[t - y0],
            )
    if base.power_ids:
        add = _component(model, "one_power_design")
        add(c, expr=quicksum(model.power_design[c, p] for p in base.power_ids) == 1)
    add = _component(model, "node_design")
    for i, t in ix["in_service"]:
        power = data.combinations[vintages[i].k].power
        if power is not None:
            add(
                c,
                i,
                t,
                expr=model.live[c, i, t] <= upper[i] * model.power_design[c, power.power_id],
            )
    sku_of = [data.combinations[v.k].system.sku for v in vintages]
    add = _component(model, "supply")
    for s, cap in base.supply_cap.items():
        for t in years:
            members = [i for i in bought if sku_of[i] == s and vintages[i].year == t]
            if len(members) > 1:
                add(c, s, t, expr=quicksum(model.buy[c, i] for i in members) <= cap)
    add = _component(model, "gpu_capacity")
    for s in base.skus:
        for t in years:
            add(
                c,
                s,
                t,
                expr=quicksum(model.gpus[c, s, w, t] for w in base.sku_workloads.get(s, ()))
                <= base.serving_gpus(s)
                * quicksum(model.live[c, i, t] for i in live_at[t] if sku_of[i] == s),
            )

    def served(w, t):
        return quicksum(
            base.points[s, w].tokens_per_s_per_gpu / TOKENS_PER_S_UNIT * model.gpus[c, s, w, t]
            for s in base.workload_skus.get(w, ())
        )

    if data.objective == "cost-per-token":
        add = _component(model, "token_share")
        for w in base.shares:
            for t in years:
                add(c, w, t, expr=served(w, t) == base.shares[w] * model.tokens_per_s[c, t])
        floor = data.floor_tokens_per_s
        add = _component(model, "served_floor")
        for t in years if floor else ():
            add(c, t, expr=model.tokens_per_s[c, t] >= floor[t - y0] / TOKENS_PER_S_UNIT)  # type: ignore[index]
    else:
        add = _component(model, "demand")
        for w, demands in data.demands_tokens_per_s.items():
            for t in years:
                add(c, w, t, expr=served(w, t) >= demands[t - y0] / TOKENS_PER_S_UNIT)


def _define_first_year(
    model: pyo.ConcreteModel, cases: Sequence[tuple[str, float, HorizonData]], index: dict
) -> None:
    """Two-stage: each scenario's first-year purchases (per combination, bought or rented),
    facility built in the first year and power design equal the first scenario's."""
    add = _component(model, "first_year")
    reference, _, data0 = cases[0]
    y0 = data0.years[0]

    def first_buys(data: HorizonData, bought: list[int]) -> dict:
        return {
            (data.combinations[data.vintages[i].k].key, data.vintages[i].kind): i
            for i in bought
            if data.vintages[i].year == y0
        }

    ref_buys = first_buys(data0, index[reference]["bought"])
    for c, _, data in cases[1:]:
        buys = first_buys(data, index[c]["bought"])

        def first(case: str, i: int, vintage) -> pyo.Var:
            # what was bought, and what is rented (a rental's buy bounds it: free)
            return model.buy[case, i] if vintage.kind == "bought" else model.live[case, i, y0]

        for key in ref_buys.keys() | buys.keys():
            mine = first(c, buys[key], data.vintages[buys[key]]) if key in buys else 0
            theirs = (
                first(reference, ref_buys[key], data0.vintages[ref_buys[key]])
                if key in ref_buys
                else 0
            )
            add(c, "buy", str(key), expr=mine == theirs)
        for f in data.facility_usd_per_kw_year:
            if f in data0.facility_usd_per_kw_year:
                add(
                    c,
                    "facility",
                    f,
                    expr=model.facility_kw[c, f, y0] == model.facility_kw[reference, f, y0],
                )
        for p in data.base.power_ids:
            add(c, "power", p, expr=model.power_design[c, p] == model.power_design[reference, p])


def _component(model: pyo.ConcreteModel, name: str):
    """`add(*key, expr=…)`: a row of the constraint component `name` (made on first use, one
    per row family across scenarios)."""
    if not hasattr(model, name):
        setattr(model, name, pyo.Constraint(pyo.Any))
    component = getattr(model, name)

    def add(*key, expr):
        if isinstance(expr, bool):  # a trivial row, e.g. 0 == 0
            return
        component[key if len(key) > 1 else key[0]] = expr

    return add


def present_value_cost(model: pyo.ConcreteModel, c: str, data: HorizonData, bought: list[int]):
    """C of scenario c (module docstring) [USD; model unit 10⁶ USD]."""
    vintages = data.vintages
    years = data.years
    y0 = years[0]
    d = data.discount
    opex = quicksum(
        d[t - y0] * v.opex_usd[t - v.year] / USD_UNIT * model.live[c, i, t]
        for i, v in enumerate(vintages)
        for t in v.years()
    )
    capital = quicksum(
        sum(d[t - y0] for t in vintages[i].years())
        * vintages[i].annuity_usd
        / USD_UNIT
        * model.buy[c, i]
        for i in bought
        if vintages[i].kind == "bought" and vintages[i].annuity_usd
    )
    facility = quicksum(
        sum(d[t - y0] for t in years if t >= tau) * per_kw / USD_UNIT * model.facility_kw[c, f, tau]
        for f, per_kw in data.facility_usd_per_kw_year.items()
        for tau in years
        if per_kw
    )
    site = sum(d[t - y0] * data.site_cost_usd[t - y0] for t in years) / USD_UNIT
    return opex + capital + facility + site
