"""Solve the multi-year MILP: compile → HiGHS (Dinkelbach for levelized cost per token, one MILP
for min-cost) → `HorizonSolution`, plain data: per vintage and year, what is bought, in service
and retired, and each year's cost and tokens.

The levelized cost per token is C / T with C = Σ_t d_t C_t and T = Σ_t d_t T_t (present values;
`optimizer.horizon.model`); Dinkelbach's method runs on the same code as the one-year plan
(`optimizer.solve.dinkelbach`), on the compiled model's columns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from optimizer.economics import Combination
from optimizer.errors import Infeasible
from optimizer.horizon.data import HorizonData, Vintage, horizon_data
from optimizer.horizon.model import create_horizon_model
from optimizer.inputs import PlanInputs, SolverOptions
from optimizer.model import TOKENS_PER_S_UNIT, USD_UNIT
from optimizer.model.compiled import standard_form
from optimizer.solve.dinkelbach import dinkelbach, min_cost
from optimizer.solve.highs import Problem, Runner, highs_model


@dataclass
class VintageYear:
    """Nodes of one vintage in one year."""

    sku: str
    cooling_id: str | None
    power_id: str | None
    vintage_year: int
    """The year it entered service (bought or rented), or was installed (existing)."""
    kind: str
    """bought | existing | rented"""
    year: int
    bought: int
    in_service: int
    retired: int
    """Nodes taken out of service at the start of this year (early, or at end of life)."""


@dataclass
class YearSummary:
    year: int
    cost_usd: float
    """The year's cost: capital annuities, facility annuities, opex, energy, site."""
    capital_usd: float
    facility_usd: float
    energy_usd: float
    opex_usd: float
    site_usd: float
    tokens_per_year: float
    capex_paid_usd: float
    """Cash out for purchases and facility built this year (upfront)."""
    grid_kw: float
    budget_kw: float


@dataclass
class HorizonSolution:
    status: str
    objective: str
    power_design: str | None
    vintages: list[VintageYear]
    years: list[YearSummary]
    present_value_cost_usd: float
    present_value_tokens: float
    mip_gap: float | None
    iterations: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    n_variables: int = 0
    n_constraints: int = 0
    n_nonzeros: int = 0
    notes: tuple[str, ...] = ()

    @property
    def cost_per_million_tokens_usd(self) -> float | None:
        """Levelized: Σ d_t C_t / Σ d_t T_t × 10⁶."""
        if self.present_value_tokens <= 0:
            return None
        return self.present_value_cost_usd / self.present_value_tokens * 1e6


def solve_horizon(
    inputs: PlanInputs,
    objective: str = "cost-per-token",
    options: SolverOptions = SolverOptions(),
    fixed: HorizonSolution | None = None,
) -> HorizonSolution:
    """The multi-year plan of `inputs` (its `horizon` and `fleet`). `fixed`: a plan whose
    purchases and nodes in service are kept as they are (matched by system, cooling, power
    design, kind and entry year; none elsewhere): only the GPU allocation and the facility are
    solved — the plan re-dispatched on these inputs (a stress test). Raises `Infeasible` when
    no plan meets the years' budgets, floors or demands."""
    return _solve([("", 1.0, inputs)], objective, options, fixed).plans[""]


@dataclass
class RobustSolution:
    """A two-stage plan: the first year's purchases shared by every scenario, each scenario's
    later years its own."""

    status: str
    plans: dict[str, HorizonSolution]
    """Each scenario's plan (its first year the shared one)."""
    probabilities: dict[str, float]
    mip_gap: float | None
    iterations: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def expected_cost_per_million_tokens_usd(self) -> float | None:
        """Σ_c p_c C_c / Σ_c p_c T_c × 10⁶ (present values): what the two-stage plan minimizes."""
        tokens = sum(p * self.plans[c].present_value_tokens for c, p in self.probabilities.items())
        cost = sum(p * self.plans[c].present_value_cost_usd for c, p in self.probabilities.items())
        return cost / tokens * 1e6 if tokens > 0 else None


def solve_robust(
    cases: list[tuple[str, float, PlanInputs]],
    objective: str = "cost-per-token",
    options: SolverOptions = SolverOptions(),
) -> RobustSolution:
    """The two-stage plan of scenarios `cases` (name, probability, inputs): one first year for
    all, each later year per scenario, minimizing the expected levelized cost per token
    (`optimizer.horizon.model.create_horizon_model`). Raises `Infeasible` when no first year
    lets every scenario meet its budgets and floors."""
    return _solve(cases, objective, options, None)


def _solve(
    cases: list[tuple[str, float, PlanInputs]],
    objective: str,
    options: SolverOptions,
    fixed: HorizonSolution | None,
) -> RobustSolution:
    began = time.perf_counter()
    datas = [
        (name, probability, horizon_data(inputs, objective)) for name, probability, inputs in cases
    ]
    form = standard_form(create_horizon_model(datas))
    highs = highs_model(form)
    n_rows, n_columns = form.A.shape
    throughput = (
        int(form.columns["levelized_tokens_per_s"][0]) if objective == "cost-per-token" else None
    )
    token_rates = np.zeros(n_columns)
    if throughput is not None:
        token_rates[throughput] = TOKENS_PER_S_UNIT
    problem = Problem(
        data=datas[0][2].base,
        highs=highs,
        n_columns=n_columns,
        n_rows=n_rows,
        n_nonzeros=int(form.A.nnz),
        node_columns=[],
        power_columns={},
        gpu_columns={},
        throughput_column=throughput,
        cost=np.array(form.c, dtype=float),
        site_cost_usd=form.offset * USD_UNIT,
        token_rates=token_rates,
        column_lower=np.array(form.col_lower, dtype=float),
        column_upper=np.array(form.col_upper, dtype=float),
        priced_by_columns=True,
    )
    if fixed is not None:
        _fix(problem, form, datas[0][2], fixed)
    build_seconds = time.perf_counter() - began
    runner = Runner(problem, options, began)
    if objective == "cost-per-token":
        status, x, gap, iterations = dinkelbach(problem, runner, None, options)
    else:
        status, x, gap, iterations = min_cost(problem, runner, None, options)
    if x is None:
        raise Infeasible("no multi-year plan meets the years' budgets and demands")
    seconds = time.perf_counter() - began
    plans = {}
    for name, _, data in datas:
        plan = _read(data, form, x, status, gap, name)
        plan.iterations = iterations
        plan.seconds = seconds
        plan.build_seconds = build_seconds
        plan.solve_seconds = runner.solve_seconds
        plan.n_variables, plan.n_constraints, plan.n_nonzeros = n_columns, n_rows, int(form.A.nnz)
        plans[name] = plan
    return RobustSolution(
        status=status,
        plans=plans,
        probabilities={name: probability for name, probability, _ in datas},
        mip_gap=gap,
        iterations=iterations,
        seconds=seconds,
    )


def _row(
    combo: Combination, v: Vintage, year: int, bought: int, live: int, retired: int
) -> VintageYear:
    return VintageYear(
        sku=combo.system.sku,
        cooling_id=combo.key[1],
        power_id=combo.key[2],
        vintage_year=v.installed_year or v.year,
        kind=v.kind,
        year=year,
        bought=bought,
        in_service=live,
        retired=retired,
    )


def _entry_key(data: HorizonData, i: int) -> tuple:
    """What identifies vintage i across inputs: combination, kind and entry year."""
    v = data.vintages[i]
    return (data.combinations[v.k].key, v.kind, v.installed_year or v.year)


def _fix(problem: Problem, form, data: HorizonData, plan: HorizonSolution) -> None:
    """Bounds that keep `plan`'s purchases and nodes in service (see `solve_horizon`)."""
    live = {
        ((r.sku, r.cooling_id, r.power_id), r.kind, r.vintage_year, r.year): r.in_service
        for r in plan.vintages
    }
    bought = {
        ((r.sku, r.cooling_id, r.power_id), r.kind, r.vintage_year): r.bought
        for r in plan.vintages
        if r.year == r.vintage_year and r.kind != "existing"
    }
    columns, values = [], []
    buy_columns = form.column_map("buy")
    live_columns = form.column_map("live")
    for i, v in enumerate(data.vintages):
        key = _entry_key(data, i)
        if ("", i) in buy_columns:
            columns.append(buy_columns["", i])
            values.append(float(bought.get(key, 0)))
        for t in v.years():
            if ("", i, t) in live_columns:
                columns.append(live_columns["", i, t])
                values.append(float(live.get((*key, t), 0)))
    fixed = np.array(values)
    problem.highs.changeColsBounds(len(columns), np.array(columns, dtype=np.int32), fixed, fixed)


def _read(
    data: HorizonData, form, x: np.ndarray, status: str, gap: float | None, case: str = ""
) -> HorizonSolution:
    """The plan in `x` (module docstring)."""

    maps = {name: form.column_map(name) for name in form.columns}

    def value(component: str, key) -> float:
        columns = maps.get(component, {})
        full = (case, *key) if isinstance(key, tuple) else (case, key)
        # every variable is ≥ 0: a solver's −1e-7 is 0
        return max(0.0, float(x[columns[full]])) if full in columns else 0.0

    years = data.years
    y0 = years[0]
    rows: list[VintageYear] = []
    per_year = {
        t: dict.fromkeys(("capital", "facility", "energy", "opex", "capex"), 0.0) for t in years
    }
    grid = dict.fromkeys(years, 0.0)
    tokens = dict.fromkeys(years, 0.0)
    for i, v in enumerate(data.vintages):
        combo = data.combinations[v.k]
        cost = data.node_costs[v.k]
        bought = round(value("buy", i)) if v.kind == "bought" else 0
        if v.kind == "rented":  # a rental is paid for the nodes in service
            bought = round(value("live", (i, v.year)))
        before = v.installed if v.kind == "existing" else bought

        for t in v.years():
            live = round(value("live", (i, t)))
            if live == 0 and before == 0 and bought == 0:
                continue
            energy = data.escalation[t - y0] * (cost.energy + cost.demand_charges) * live
            per_year[t]["energy"] += energy
            per_year[t]["opex"] += v.opex_usd[t - v.year] * live - energy
            grid[t] += cost.grid_kw * live
            entered = bought if t == v.year and v.kind != "existing" else 0
            rows.append(_row(combo, v, t, entered, live, max(0, before - live)))
            before = live
        if before > 0 and v.kind != "rented" and v.last_year < years[-1]:
            rows.append(_row(combo, v, v.last_year + 1, 0, 0, before))  # at the end of its lifetime
        if v.kind == "bought" and bought:
            per_year[v.year]["capex"] += v.capex_usd * bought
            for t in v.years():
                per_year[t]["capital"] += v.annuity_usd * bought
    for f, per_kw in data.facility_usd_per_kw_year.items():
        upfront = data.facility_capex_usd_per_kw[f]
        for tau in years:
            built = value("facility_kw", (f, tau))
            per_year[tau]["capex"] += upfront * built
            for t in years:
                if t >= tau:
                    per_year[t]["facility"] += per_kw * built
    base = data.base
    for t in years:
        if data.objective == "cost-per-token":
            rate = value("tokens_per_s", t) * TOKENS_PER_S_UNIT
        else:
            rate = sum(
                base.points[s, w].tokens_per_s_per_gpu * value("gpus", (s, w, t))
                for s, w in base.points
            )
        tokens[t] = rate * base.serving_seconds
    summaries = []
    for t in years:
        parts = per_year[t]
        site = data.site_cost_usd[t - y0]
        summaries.append(
            YearSummary(
                year=t,
                cost_usd=parts["capital"]
                + parts["facility"]
                + parts["energy"]
                + parts["opex"]
                + site,
                capital_usd=parts["capital"],
                facility_usd=parts["facility"],
                energy_usd=parts["energy"],
                opex_usd=parts["opex"],
                site_usd=site,
                tokens_per_year=tokens[t],
                capex_paid_usd=parts["capex"],
                grid_kw=grid[t],
                budget_kw=data.budget_kw[t - y0],
            )
        )
    designs = [p for p in base.power_ids if value("power_design", p) > 0.5]
    on_site = any(r.in_service and r.power_id for r in rows)
    return HorizonSolution(
        status=status,
        objective=data.objective,
        power_design=designs[0] if designs and on_site else None,
        vintages=rows,
        years=summaries,
        present_value_cost_usd=sum(
            d * s.cost_usd for d, s in zip(data.discount, summaries, strict=True)
        ),
        present_value_tokens=sum(
            d * s.tokens_per_year for d, s in zip(data.discount, summaries, strict=True)
        ),
        mip_gap=gap,
        notes=data.base.notes,
    )
