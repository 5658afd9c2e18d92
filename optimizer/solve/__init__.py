"""Solve the fleet MILP: pre-checks → greedy start → compile → HiGHS (Dinkelbach) → `Solution`.

The Pyomo model (`optimizer.model`) states the maths; here it is compiled once with
Pyomo's `LinearStandardFormCompiler` to matrices and handed to one `highspy.Highs`
object. Dinkelbach's iterations only change the objective coefficient of θ
(`changeColsCost`) and pass the previous plan as MIP start (`setSolution`), so the
model is built and presolved from the same object every time.

A time-resolved solve (`time_resolution` representative | hourly) first solves the flat
year: its fleet, with the nodes fixed and dispatched by one LP over the slices, is the
feasible start (and its cost per token is reported beside the time-resolved one).

An hourly solve is the representative solve, then the 8760-hour model with the fleet
fixed (`_solve_hourly`). That is exact, by aggregation: every hour has the inputs of its
representative slice (tariff schedules are per month, day type and hour; load profiles
per hour of day), so averaging any hourly plan over the hours of each slice gives a
representative plan with the same nodes and tokens and no more cost (energy is linear,
the peak of averages is at most the peak, a daily quota met every day is met on the
average day). The representative optimum is therefore a lower bound on the hourly one,
and the representative fleet dispatched hour by hour attains it. The full 8760-hour MILP
states the same problem, but HiGHS spends minutes proving its root bound.

Nothing Pyomo or HiGHS leaves this module: `Solution` is plain data.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimizer.economics import SECONDS_PER_HOUR, combination_blockers, combinations, node_cost
from optimizer.inputs import PlanInputs, SolverOptions
from optimizer.model import (
    GRID_KW_UNIT,
    TOKENS_PER_S_UNIT,
    USD_UNIT,
    ModelData,
    active_workloads,
    create_model,
    model_data,
)


class Infeasible(Exception):
    """The inputs admit no plan; `reason` says why in words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Timeline:
    """A time-resolved plan slice by slice (the slices of `optimizer.timeslices.PricedSlices`)."""

    grid_kw: list[float]
    """P_t, grid power in each slice [kW]."""
    tokens_per_s: dict[str, list[float]]
    """Workload → tokens/s served in each slice."""
    busy_gpu_hours: dict[str, float]
    """Sku → GPU-hours serving per year: Σ_t W_t busy[s,t]."""
    tokens_per_year: dict[tuple[str, str], float]
    """(sku, workload) → tokens per year."""


@dataclass
class Solution:
    """A solved plan as plain data (no Pyomo, no HiGHS objects)."""

    status: str
    """"optimal" (within the requested gap) | "time_limit" (best plan found, see mip_gap) |
    "iteration_limit" (Dinkelbach stopped at max_iterations; best plan found)."""
    objective: str
    nodes: dict[tuple[str, str | None, str | None], int]
    """Nodes per combination (sku, cooling_id, power_id); rented: (sku, None, None). Non-zero only."""
    power_design: str | None
    """power_id of the site's power design; None when the fleet has no owned node."""
    allocation: dict[tuple[str, str], float]
    """GPUs per (sku, workload), non-zero only."""
    annual_cost_usd: float
    tokens_per_year: float
    iterations: list[dict] = field(default_factory=list)
    """Dinkelbach: [{iteration, lambda_usd_per_token, cost_usd, tokens, F, mip_gap, seconds}]."""
    mip_gap: float | None = None
    """Relative gap of the plan's objective (cost per token, or cost) to the proven bound; None if no bound."""
    seconds: float = 0.0
    build_seconds: float = 0.0
    """Data, Pyomo model, compile to matrices, pass to HiGHS."""
    solve_seconds: float = 0.0
    """Time inside HiGHS, summed over iterations."""
    n_variables: int = 0
    n_constraints: int = 0
    n_nonzeros: int = 0
    notes: tuple[str, ...] = ()
    time_resolution: str = "flat"
    timeline: Timeline | None = None
    """Time-resolved: the plan per slice. Then `allocation` holds each (sku, workload)'s GPUs in its busiest slice."""
    flat_cost_per_million_tokens_usd: float | None = None
    """Time-resolved: the flat year's optimum for the same inputs (None if the flat year has no plan)."""
    start_seconds: float = 0.0
    """Time-resolved: seconds spent solving the flat year for the start."""

    @property
    def cost_per_million_tokens_usd(self) -> float:
        return self.annual_cost_usd / self.tokens_per_year * 1e6 if self.tokens_per_year else math.inf


def solve(
    inputs: PlanInputs,
    objective: str = "cost-per-token",
    options: SolverOptions = SolverOptions(),
    time_resolution: str = "flat",
    start: Solution | None = None,
) -> Solution:
    """Plan the fleet at `time_resolution` (flat | representative | hourly). Raises
    `Infeasible` with a reason when no plan exists.

    Time-resolved: `start` is the flat plan of the same inputs (solved here when not given).
    """
    began = time.perf_counter()
    flat = start
    if time_resolution == "hourly":
        return _solve_hourly(inputs, objective, options, flat, began)
    if time_resolution != "flat" and flat is None:
        try:
            flat = solve(inputs, objective, options)
        except Infeasible:
            flat = None  # the time-resolved year may still have a plan; it starts without one
    started = time.perf_counter()
    data = model_data(inputs, objective, time_resolution)
    check_feasibility(inputs, data)
    problem = _compile(data)
    build_seconds = time.perf_counter() - started
    runner = _Runner(problem, options, started)
    iterations = []
    if data.time is None:
        greedy = greedy_plan(data)
        x0 = None if greedy is None else _start_vector(problem, greedy)
    else:
        x0 = None if flat is None else _fleet_start(problem, runner, flat, iterations)
    if objective == "cost-per-token":
        status, x, gap, found = _dinkelbach(problem, runner, x0, options)
    else:
        status, x, gap, found = _min_cost(problem, runner, x0, options)
    solution = _solution(
        data,
        problem,
        x,
        status=status,
        gap=gap,
        iterations=iterations + found,
        seconds=time.perf_counter() - began,
        build_seconds=build_seconds,
        solve_seconds=runner.solve_seconds,
    )
    if data.time is not None:
        solution.time_resolution = time_resolution
        solution.flat_cost_per_million_tokens_usd = None if flat is None else flat.cost_per_million_tokens_usd
        solution.start_seconds = started - began
    return solution


def _solve_hourly(inputs: PlanInputs, objective: str, options: SolverOptions, flat: Solution | None,
                  began: float) -> Solution:
    """The representative plan, its fleet fixed and dispatched over the 8760 hours.

    With r̲ the representative bound (its cost per token × (1 − gap); min-cost: its cost ×
    (1 − gap)) and r the hourly plan's, the reported gap is (r − r̲) / r (module docstring:
    r̲ bounds every hourly plan).
    """
    representative = solve(inputs, objective, options, "representative", start=flat)
    started = time.perf_counter()
    data = model_data(inputs, objective, "hourly")
    problem = _compile(data)
    build_seconds = time.perf_counter() - started
    runner = _Runner(problem, options, began)
    # The fleet fixed, what is left is an LP: solve it as one (no branch and bound), by the
    # interior point method (2-3x the simplex on 8760 hours).
    problem.highs.changeColsIntegrality(problem.n_columns, np.arange(problem.n_columns, dtype=np.int32),
                                        np.full(problem.n_columns, highspy.HighsVarType.kContinuous))
    problem.highs.setOptionValue("solver", "ipm")
    iterations = []
    x = _fleet_start(problem, runner, representative, iterations, keep_fixed=True)
    if x is None:
        if runner.remaining() <= 0:
            raise TimeoutError("time limit reached before the representative fleet was dispatched hour by hour")
        raise RuntimeError("HiGHS found no hourly dispatch of the representative fleet")
    status = "optimal"  # min-cost: the start is the least-cost dispatch of the fixed fleet
    if objective == "cost-per-token":
        lam = representative.annual_cost_usd / representative.tokens_per_year
        status, x, _, found = _dinkelbach(problem, runner, x, options, lam=lam)
        iterations += found
    if representative.status != "optimal":
        status = representative.status
    solution = _solution(data, problem, x, status=status, gap=None, iterations=iterations,
                         seconds=time.perf_counter() - began,
                         build_seconds=representative.build_seconds + build_seconds,
                         solve_seconds=representative.solve_seconds + runner.solve_seconds)
    if representative.mip_gap is not None:
        measure = (lambda plan: plan.cost_per_million_tokens_usd) if objective == "cost-per-token" else \
            (lambda plan: plan.annual_cost_usd)
        bound = measure(representative) * (1 - representative.mip_gap)
        solution.mip_gap = max(0.0, (measure(solution) - bound) / measure(solution))
    solution.time_resolution = "hourly"
    solution.flat_cost_per_million_tokens_usd = representative.flat_cost_per_million_tokens_usd
    solution.start_seconds = representative.start_seconds
    solution.notes += ("hourly: the fleet of the representative-day plan (an exact aggregation of the "
                       "year's hours), dispatched hour by hour",)
    return solution


# --------------------------------------------------------------------------- pre-checks


def check_feasibility(inputs: PlanInputs, data: ModelData) -> None:
    """Cheap pre-checks that explain, in words, why no plan exists.

    In order: no workload to serve; no feasible combination at all; the budget below
    the smallest node's grid power (and nothing rented); per workload: no operating
    point, only systems with no feasible combination, or nodes that do not fit the
    budget or supply; cost-per-token: no single power design serves every workload;
    min-cost: a workload's demand above what the budget and supply caps can deliver.
    """
    workloads = active_workloads(inputs, data.objective)
    if not workloads:
        what = "a share > 0" if data.objective == "cost-per-token" else "a demand_tokens_per_s > 0"
        raise Infeasible(f"no workload has {what}")
    feasible = combinations(inputs)
    if not feasible:
        raise Infeasible("no feasible system/cooling/power combination: " + _blockers_text(inputs, inputs.systems))
    owned = [(c, node_cost(c, inputs).grid_kw) for c in feasible if not c.system.rented]
    if owned and len(owned) == len(feasible):
        smallest, kw = min(owned, key=lambda item: item[1])
        if kw > data.budget_kw:
            raise Infeasible(
                f"budget {inputs.budget_mw:g} MW is below the grid power of the smallest node: "
                f"{smallest.label} needs {kw:g} kW"
            )
    serving = {w: [k for k, combo in enumerate(data.combinations) if (combo.system.sku, w) in data.points] for w in workloads}
    for w, ks in serving.items():
        if not ks:
            raise Infeasible(_unservable_reason(inputs, data, w, feasible))
    designs = data.power_ids or (None,)
    if not any(all(any(_on_design(data, k, p) for k in ks) for ks in serving.values()) for p in designs):
        by_design = "; ".join(
            f"{w} on {', '.join(sorted({data.combinations[k].key[2] or 'rented' for k in ks}))}"
            for w, ks in serving.items()
        )
        raise Infeasible(f"no single power design serves every workload ({by_design})")
    if data.objective == "min-cost":
        for w, demand in data.demands_tokens_per_s.items():
            most = max(_max_tokens_per_s(data, w, p) for p in designs)
            if most < demand * (1 - 1e-9):
                raise Infeasible(
                    f"workload {w}: demand {demand:g} tokens/s exceeds the {most:g} tokens/s that the "
                    f"{inputs.budget_mw:g} MW budget and the supply caps can deliver"
                )


def _on_design(data: ModelData, k: int, power_id: str | None) -> bool:
    """Whether combination k can be in a plan whose site uses power design `power_id` (rented: always)."""
    combo = data.combinations[k]
    return combo.power is None or combo.power.power_id == power_id


def _blockers_text(inputs: PlanInputs, systems) -> str:
    parts = []
    for system in systems:
        reasons = sorted(
            {
                reason
                for cooling in inputs.coolings
                for power in inputs.power_designs
                for reason in combination_blockers(system, cooling, power)
            }
        )
        if not inputs.coolings or not inputs.power_designs:
            reasons = ["no cooling option or power design in the inputs"]
        parts.append(f"{system.sku}: {'; '.join(reasons)}")
    return " | ".join(parts)


def _unservable_reason(inputs: PlanInputs, data: ModelData, workload: str, feasible) -> str:
    systems = {s.sku: s for s in inputs.systems}
    with_points = [
        systems[p.sku]
        for p in inputs.operating_points
        if p.workload == workload and p.sku in systems and p.tokens_per_s_per_gpu > 0
    ]
    if not with_points:
        return f"workload {workload}: no system has an operating point that meets its SLO"
    deployable = [c for c in feasible if c.system in with_points]
    if not deployable:
        return (
            f"workload {workload}: only {', '.join(s.sku for s in with_points)} have operating points, "
            f"and none has a feasible cooling/power combination ({_blockers_text(inputs, with_points)})"
        )
    capped = [s.sku for s in with_points if s.max_nodes == 0]
    fitting = [c for c in deployable if c.system.max_nodes != 0]
    if not fitting:
        return f"workload {workload}: the systems that serve it ({', '.join(capped)}) have max_nodes 0"
    smallest = min(fitting, key=lambda c: node_cost(c, inputs).grid_kw)
    return (
        f"workload {workload}: budget {inputs.budget_mw:g} MW is below the grid power of the smallest "
        f"node that serves it: {smallest.label} needs {node_cost(smallest, inputs).grid_kw:g} kW"
    )


def _max_tokens_per_s(data: ModelData, workload: str, power_id: str) -> float:
    """Upper bound on tokens/s for one workload alone on power design p [tokens/s].

    Rented nodes up to U_k; owned nodes by a fractional knapsack on the budget (best
    tokens per grid kW first), each sku up to its supply cap.
    """
    total = 0.0
    per_sku: dict[str, tuple[float, float, float]] = {}
    for k, combo in enumerate(data.combinations):
        sku = combo.system.sku
        if (sku, workload) not in data.points or not _on_design(data, k, power_id):
            continue
        per_node = data.gpus_per_node[sku] * data.points[sku, workload].tokens_per_s_per_gpu
        if data.grid_kw[k] <= 0:
            total += data.node_upper[k] * per_node
            continue
        cap = data.supply_cap.get(sku, data.node_upper[k])
        density = per_node / data.grid_kw[k]
        if sku not in per_sku or density > per_sku[sku][0]:
            per_sku[sku] = (density, data.grid_kw[k], min(cap, max(data.node_upper[k], 0)))
    budget = data.budget_kw
    for density, grid_kw, cap in sorted(per_sku.values(), reverse=True):
        kw = min(budget, cap * grid_kw)
        total += kw * density
        budget -= kw
    return total


# --------------------------------------------------------------------------- greedy start


@dataclass
class GreedyPlan:
    nodes: dict[int, int]
    gpus: dict[tuple[str, str], float]
    tokens_per_s: float
    cost_usd: float


def greedy_plan(data: ModelData) -> GreedyPlan | None:
    """A feasible plan to start from (λ0 and MIP start), or None if the heuristic finds none.

    Candidates: each single combination serving every workload, and per power design
    each workload on its cheapest-per-token combination. Cost-per-token: a candidate
    is scaled up until the budget, a supply cap or U_k binds (more nodes never raise
    the cost per token: site costs are fixed), nodes rounded down; min-cost: the
    fewest nodes that serve the demand. The best feasible candidate wins.
    """
    amounts = data.shares or data.demands_tokens_per_s
    candidates = []
    for k in range(len(data.combinations)):
        sku = data.combinations[k].system.sku
        if all((sku, w) in data.points for w in amounts):
            candidates.append({w: k for w in amounts})
    for p in data.power_ids or (None,):
        assignment = {}
        for w in amounts:
            usd_per_token_s = {
                k: data.node_cost_usd[k] / (data.gpus_per_node[sku] * data.points[sku, w].tokens_per_s_per_gpu)
                for k, sku in enumerate(combo.system.sku for combo in data.combinations)
                if _on_design(data, k, p) and (sku, w) in data.points
            }
            if not usd_per_token_s:
                break
            assignment[w] = min(usd_per_token_s, key=usd_per_token_s.get)
        else:
            candidates.append(assignment)
    plans = [plan for plan in (_scale_assignment(data, a) for a in candidates) if plan is not None]
    if not plans:
        return None
    if data.objective == "cost-per-token":
        return min(plans, key=lambda plan: plan.cost_usd / plan.tokens_per_s)
    return min(plans, key=lambda plan: plan.cost_usd)


def _scale_assignment(data: ModelData, assignment: dict[str, int]) -> GreedyPlan | None:
    """Nodes for a workload → combination assignment, or None if it does not fit."""
    sku_of = {k: data.combinations[k].system.sku for k in set(assignment.values())}
    # GPUs of combination k per unit of throughput: Σ_{w→k} σ_w / tps[s,w] (or d_w / tps for demand).
    amounts = data.shares or data.demands_tokens_per_s
    gpus_per_unit = {k: 0.0 for k in sku_of}
    for w, k in assignment.items():
        gpus_per_unit[k] += amounts[w] / data.points[sku_of[k], w].tokens_per_s_per_gpu
    nodes_per_unit = {k: gpus_per_unit[k] / data.gpus_per_node[sku_of[k]] for k in sku_of}
    if data.objective == "cost-per-token":
        limits = [data.node_upper[k] / nodes_per_unit[k] for k in sku_of]
        kw_per_unit = sum(data.grid_kw[k] * nodes_per_unit[k] for k in sku_of)
        if kw_per_unit > 0:
            limits.append(data.budget_kw / kw_per_unit)
        for sku, cap in data.supply_cap.items():
            per_unit = sum(nodes_per_unit[k] for k in sku_of if sku_of[k] == sku)
            if per_unit > 0:
                limits.append(cap / per_unit)
        scale = min(limits)
        nodes = {k: math.floor(scale * nodes_per_unit[k] + 1e-9) for k in sku_of}
        if min(nodes.values()) < 1:
            return None
        throughput = min(nodes[k] * data.gpus_per_node[sku_of[k]] / gpus_per_unit[k] for k in sku_of)
        gpus = {
            (sku_of[k], w): data.shares[w] * throughput / data.points[sku_of[k], w].tokens_per_s_per_gpu
            for w, k in assignment.items()
        }
    else:
        nodes = {k: math.ceil(nodes_per_unit[k] - 1e-9) for k in sku_of}
        if any(nodes[k] > data.node_upper[k] for k in nodes):
            return None
        if sum(data.grid_kw[k] * n for k, n in nodes.items()) > data.budget_kw:
            return None
        for sku, cap in data.supply_cap.items():
            if sum(n for k, n in nodes.items() if sku_of[k] == sku) > cap:
                return None
        throughput = sum(amounts.values())
        gpus = {
            (sku_of[k], w): amounts[w] / data.points[sku_of[k], w].tokens_per_s_per_gpu
            for w, k in assignment.items()
        }
    cost = sum(data.node_cost_usd[k] * n for k, n in nodes.items()) + data.site_cost_usd
    return GreedyPlan(nodes=nodes, gpus=gpus, tokens_per_s=throughput, cost_usd=cost)


# --------------------------------------------------------------------------- compile


@dataclass
class _Problem:
    """The compiled MILP: column indices of the model's variables and the cost vector."""

    data: ModelData
    highs: highspy.Highs
    n_columns: int
    n_rows: int
    n_nonzeros: int
    node_columns: list[int]
    power_columns: dict[str, int]
    gpu_columns: dict[tuple[str, str], int]
    """g[s,w]: every point (flat), interactive points (time-resolved)."""
    throughput_column: int | None
    cost: np.ndarray
    """Objective coefficient of each column at λ = 0, in the model's unit [10⁶ USD/year]."""
    site_cost_usd: float
    token_rates: np.ndarray
    """Tokens per year of each column's unit / κ: T(x) = κ · token_rates · x [tokens/s]."""
    column_lower: np.ndarray
    column_upper: np.ndarray
    batch_columns: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    """b[s,w,q] per state q (time-resolved)."""
    busy_grid_columns: np.ndarray | None = None
    """B[q] per state q (time-resolved)."""


def _compile(data: ModelData) -> _Problem:
    """Pyomo model → standard-form matrices (LinearStandardFormCompiler) → a `highspy.Highs` object."""
    model = create_model(data)
    compiled = LinearStandardFormCompiler().write(model, mixed_form=True)
    columns = compiled.columns
    position = {id(var): j for j, var in enumerate(columns)}
    A = compiled.A.tocsc()
    n_rows, n_columns = A.shape
    inf = highspy.kHighsInf
    row_lower = np.full(n_rows, -inf)
    row_upper = np.full(n_rows, inf)
    rhs = np.asarray(compiled.rhs, dtype=float)
    for i, (_, bound_type) in enumerate(compiled.rows):
        if bound_type >= 0:
            row_upper[i] = rhs[i]
        if bound_type <= 0:
            row_lower[i] = rhs[i]
    bounds = [var.bounds for var in columns]
    lp = highspy.HighsLp()
    lp.num_col_ = n_columns
    lp.num_row_ = n_rows
    lp.col_cost_ = compiled.c.toarray().ravel() if n_columns else np.zeros(0)
    lp.offset_ = float(compiled.c_offset[0])
    lp.col_lower_ = np.array([-inf if lb is None else lb for lb, _ in bounds], dtype=float)
    lp.col_upper_ = np.array([inf if ub is None else ub for _, ub in bounds], dtype=float)
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_columns
    lp.a_matrix_.num_row_ = n_rows
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if var.is_integer() else highspy.HighsVarType.kContinuous
        for var in columns
    ]
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    node_columns = [position[id(model.nodes[k])] for k in range(len(data.combinations))]
    gpu_columns = {key: position[id(model.gpus[key])] for key in model.gpus}
    token_rates = np.zeros(n_columns)
    for (sku, workload), j in gpu_columns.items():
        token_rates[j] = data.points[sku, workload].tokens_per_s_per_gpu
    batch_columns, busy_grid_columns = {}, None
    if data.time is not None:
        time = data.time
        share_of_year = time.state_weight_hours / time.hours_per_year
        for (sku, workload), j in gpu_columns.items():
            token_rates[j] *= float(share_of_year @ time.profiles[workload][list(time.state_hour)])
        for sku, workload in data.points:
            if workload in time.batch:
                js = np.array([position[id(model.batch_gpus[sku, workload, q])] for q in range(time.states)])
                batch_columns[sku, workload] = js
                token_rates[js] = data.points[sku, workload].tokens_per_s_per_gpu * share_of_year
        busy_grid_columns = np.array([position[id(model.busy_grid_mw[q])] for q in range(time.states)])
    return _Problem(
        data=data,
        highs=highs,
        n_columns=n_columns,
        n_rows=n_rows,
        n_nonzeros=int(A.nnz),
        node_columns=node_columns,
        power_columns={p: position[id(model.power_design[p])] for p in data.power_ids},
        gpu_columns=gpu_columns,
        throughput_column=position[id(model.tokens_per_s)] if hasattr(model, "tokens_per_s") else None,
        cost=np.array(lp.col_cost_, dtype=float),
        site_cost_usd=data.site_cost_usd,
        token_rates=token_rates,
        column_lower=np.array(lp.col_lower_, dtype=float),
        column_upper=np.array(lp.col_upper_, dtype=float),
        batch_columns=batch_columns,
        busy_grid_columns=busy_grid_columns,
    )


def _start_vector(problem: _Problem, plan: GreedyPlan) -> np.ndarray:
    data = problem.data
    x = np.zeros(problem.n_columns)
    for k, n in plan.nodes.items():
        x[problem.node_columns[k]] = n
    designs = {data.combinations[k].power.power_id for k, n in plan.nodes.items() if n and data.combinations[k].power}
    if data.power_ids:
        x[problem.power_columns[designs.pop() if designs else data.power_ids[0]]] = 1
    for key, g in plan.gpus.items():
        x[problem.gpu_columns[key]] += g
    if problem.throughput_column is not None:
        x[problem.throughput_column] = plan.tokens_per_s / TOKENS_PER_S_UNIT
    return x


def _fleet_start(problem: _Problem, runner: _Runner, fleet: Solution, iterations: list[dict],
                 keep_fixed: bool = False) -> np.ndarray | None:
    """A feasible start for the time-resolved model: `fleet`'s nodes fixed, dispatched by one
    LP (max θ for cost-per-token, min C for min-cost). None if HiGHS finds no dispatch.
    With `keep_fixed` the nodes stay fixed for the runs that follow.

    A combination of the flat plan that the time-resolved costs dominate (`undominated`)
    is replaced by the one of the same system and power design with the least grid kW:
    it dominates it, so the budget and the supply caps still hold.
    """
    data = problem.data
    index = {combo.key: k for k, combo in enumerate(data.combinations)}
    nodes = np.zeros(len(data.combinations))
    for key, count in fleet.nodes.items():
        k = index.get(key)
        if k is None:
            same = [j for j, combo in enumerate(data.combinations) if combo.key[0] == key[0] and combo.key[2] == key[2]]
            k = min(same, key=lambda j: data.grid_kw[j])
        nodes[k] += count
    highs, columns = problem.highs, np.array(problem.node_columns, dtype=np.int32)
    highs.changeColsBounds(len(columns), columns, nodes, nodes)
    if problem.throughput_column is not None:
        _set_costs(problem, np.zeros(problem.n_columns))
        highs.changeColsCost(1, np.array([problem.throughput_column], dtype=np.int32), np.array([-1.0]))
    _, x, _, seconds = runner.run(None)
    if not keep_fixed:
        highs.changeColsBounds(len(columns), columns, problem.column_lower[columns], problem.column_upper[columns])
    _set_costs(problem, problem.cost)
    if x is None:
        return None
    cost, tokens = _cost_and_tokens(problem, x)
    iterations.append(dict(iteration=0, lambda_usd_per_token=None, cost_usd=cost, tokens=tokens, F=None, mip_gap=None,
                           seconds=seconds))
    return x


def _set_costs(problem: _Problem, costs: np.ndarray) -> None:
    problem.highs.changeColsCost(problem.n_columns, np.arange(problem.n_columns, dtype=np.int32), costs)


def _grid_kw(problem: _Problem, x: np.ndarray) -> np.ndarray:
    """P per calendar slice [kW] of a time-resolved column vector: the idle draw Σ_k ι_k n[k]
    (nodes rounded) plus the busy power B of the slice's state."""
    data = problem.data
    idle_kw = float(np.dot(np.round(x[problem.node_columns]), data.idle_grid_kw))
    return idle_kw + x[problem.busy_grid_columns][data.time.state_of_slice] * GRID_KW_UNIT


def _cost_and_tokens(problem: _Problem, x: np.ndarray) -> tuple[float, float]:
    """C(x) [USD/year] and T(x) [tokens/year] of a column vector (nodes rounded to integers).

    Time-resolved, energy and demand charges are those of the slices' grid power
    (`PricedSlices.monthly`): the demand charge is on the true monthly peaks, whatever
    slack the peak variables have.
    """
    data = problem.data
    nodes = np.round(x[problem.node_columns])
    if data.time is None:
        cost = float(np.dot(nodes, data.node_cost_usd)) + data.site_cost_usd
    else:
        cost = float(np.dot(nodes, [c.annual_usd for c in data.node_costs])) + data.site_cost_usd + sum(
            row["energy_usd"] + row["demand_usd"] for row in data.time.slices.monthly(_grid_kw(problem, x)))
    throughput = float(np.dot(problem.token_rates, x))
    return cost, throughput * data.serving_seconds


# --------------------------------------------------------------------------- HiGHS runs


class _Runner:
    """Runs the one Highs object under the run's total time limit."""

    def __init__(self, problem: _Problem, options: SolverOptions, started: float):
        self.highs = problem.highs
        self.options = options
        self.started = started
        self.solve_seconds = 0.0
        self.highs.setOptionValue("mip_rel_gap", options.mip_rel_gap)
        self.highs.setOptionValue("threads", options.threads)
        if problem.data.time is not None:
            # Every slice's rows hold the fleet's capacity columns, which makes the simplex
            # slow on 8760 slices (~10x the interior point method on an hourly LP).
            self.highs.setOptionValue("mip_lp_solver", "ipm")

    def remaining(self) -> float:
        return self.options.time_limit_s - (time.perf_counter() - self.started)

    def run(self, start: np.ndarray | None, abs_gap: float | None = None):
        """One MILP: returns (model status, x or None, dual bound [USD/year], seconds)."""
        highs = self.highs
        highs.setOptionValue("time_limit", max(self.remaining(), 1e-3))
        if abs_gap is not None:
            highs.setOptionValue("mip_abs_gap", abs_gap / USD_UNIT)
        if start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = list(start)
            solution.value_valid = True
            highs.setSolution(solution)
        began = time.perf_counter()
        highs.run()
        seconds = time.perf_counter() - began
        self.solve_seconds += seconds
        status = highs.getModelStatus()
        info = highs.getInfo()
        has_solution = info.primal_solution_status == int(highspy.SolutionStatus.kSolutionStatusFeasible)
        x = np.array(highs.getSolution().col_value) if has_solution else None
        # An LP (no integer column left) has no MIP bound: at its optimum the bound is its value.
        bound = info.mip_dual_bound if info.mip_node_count >= 0 else (
            info.objective_function_value if status == highspy.HighsModelStatus.kOptimal else -math.inf)
        return status, x, bound * USD_UNIT, seconds


def _report(options: SolverOptions, text: str) -> None:
    if options.progress:
        print(text, file=sys.stderr, flush=True)


def _dinkelbach(problem: _Problem, runner: _Runner, start: np.ndarray | None, options: SolverOptions,
                lam: float | None = None):
    """Dinkelbach's method for min C(x)/T(x).

    λ0 = `lam` if given (a ratio known to be near the optimum), else C(x0)/T(x0) of a feasible plan x0; then repeat: x_i = argmin C − λ_i T
    (F_i = C(x_i) − λ_i T(x_i) ≤ 0, as x_{i−1} is the MIP start with F = 0),
    λ_{i+1} = C(x_i)/T(x_i), until −F_i ≤ tolerance × C(x_i). The MILP gap is absolute
    (mip_rel_gap × C): F → 0 makes a relative gap on F meaningless.

    The reported gap bounds the cost per token: with F̲ the last MILP's dual bound,
    every plan x has C(x)/T(x) ≥ λ + F̲/T(x); with T(x) ≈ T of the best plan,
    gap = (r_best − λ − F̲/T_best) / r_best.
    """
    data = problem.data
    kappa = data.serving_seconds
    column = problem.throughput_column
    iterations = []
    status = "optimal"
    if start is not None:
        best = start
    else:
        # No start plan: the first MILP maximizes tokens to find one.
        _set_costs(problem, np.zeros(problem.n_columns))
        problem.highs.changeColsCost(1, np.array([column], dtype=np.int32), np.array([-1.0]))
        model_status, best, _, seconds = runner.run(None)
        _set_costs(problem, problem.cost)
        cost, tokens = _cost_and_tokens(problem, best) if best is not None else (0.0, 0.0)
        iterations.append(
            dict(iteration=0, lambda_usd_per_token=None, cost_usd=cost, tokens=tokens, F=None, mip_gap=None, seconds=seconds)
        )
        if best is None or tokens <= 0:
            if model_status == highspy.HighsModelStatus.kTimeLimit:
                raise TimeoutError("time limit reached before any plan was found")
            raise Infeasible("no plan delivers tokens: the budget and supply caps cannot host nodes for every workload")
    best_cost, best_tokens = _cost_and_tokens(problem, best)
    lam = best_cost / best_tokens if lam is None else lam
    bound_lambda = None
    for iteration in range(1, options.max_iterations + 1):
        if runner.remaining() <= 0:
            status = "time_limit"
            break
        # θ is in 10⁶ tokens/s and the objective in 10⁶ USD/year: its coefficient is −λκ.
        problem.highs.changeColsCost(1, np.array([column], dtype=np.int32), np.array([-lam * kappa]))
        model_status, x, dual_bound, seconds = runner.run(best, abs_gap=options.mip_rel_gap * best_cost)
        if x is None:
            if model_status != highspy.HighsModelStatus.kTimeLimit:
                raise RuntimeError(f"HiGHS failed: {problem.highs.modelStatusToString(model_status)}")
            status = "time_limit"
            break
        cost, tokens = _cost_and_tokens(problem, x)
        F = cost - lam * tokens
        if tokens > 0 and cost / tokens < best_cost / best_tokens:
            best, best_cost, best_tokens = x, cost, tokens
        scale = best_cost if best_cost > 0 else 1.0
        proven = math.isfinite(dual_bound)
        gap = max(0.0, (F - dual_bound) / scale) if proven else None
        iterations.append(
            dict(iteration=iteration, lambda_usd_per_token=lam, cost_usd=cost, tokens=tokens, F=F, mip_gap=gap, seconds=seconds)
        )
        bound_lambda = lam + min(dual_bound, 0.0) / best_tokens if proven else None
        _report(
            options,
            f"iteration {iteration}: {best_cost / best_tokens * 1e6:.6g} USD per million tokens, "
            f"F = {F:.6g} USD, gap {'unknown' if gap is None else f'{gap:.2e}'}, {seconds:.2f} s",
        )
        if model_status == highspy.HighsModelStatus.kTimeLimit:
            status = "time_limit"
            break
        if -F <= options.dinkelbach_tolerance * scale:
            break
        lam = cost / tokens
    else:
        status = "iteration_limit"
    ratio = best_cost / best_tokens
    final_gap = None if bound_lambda is None else max(0.0, (ratio - bound_lambda) / ratio)
    if status == "iteration_limit" and final_gap is not None and final_gap <= options.mip_rel_gap:
        status = "optimal"
    return status, best, final_gap, iterations


def _min_cost(problem: _Problem, runner: _Runner, start: np.ndarray | None, options: SolverOptions):
    """One MILP: min C subject to the demand rows."""
    model_status, x, _, seconds = runner.run(start)
    if model_status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        raise Infeasible(
            "the demands together cannot be served within the budget and the supply caps "
            "(with whole nodes and one power design for the site)"
        )
    if x is None:
        if model_status == highspy.HighsModelStatus.kTimeLimit:
            raise TimeoutError("time limit reached before any plan was found")
        raise RuntimeError(f"HiGHS failed: {runner.highs.modelStatusToString(model_status)}")
    cost, tokens = _cost_and_tokens(problem, x)
    gap = runner.highs.getInfo().mip_gap
    gap = max(0.0, gap) if math.isfinite(gap) else None
    status = "time_limit" if model_status == highspy.HighsModelStatus.kTimeLimit else "optimal"
    iterations = [dict(iteration=1, lambda_usd_per_token=None, cost_usd=cost, tokens=tokens, F=None, mip_gap=gap, seconds=seconds)]
    _report(options, f"min-cost: {cost:.6g} USD/year, gap {gap}, {seconds:.2f} s")
    return status, x, gap, iterations


def _solution(data: ModelData, problem: _Problem, x: np.ndarray, **run) -> Solution:
    nodes = {}
    for k, j in enumerate(problem.node_columns):
        n = int(round(x[j]))
        if n:
            nodes[data.combinations[k].key] = n
    # The owned nodes' design (one per site): read from the nodes, not from y, which an
    # hourly dispatch LP (fleet fixed, y relaxed) may leave fractional.
    owned_designs = {key[2] for key in nodes if key[2] is not None}
    power_design = owned_designs.pop() if owned_designs else None
    timeline = None
    if data.time is None:
        allocation = {key: float(x[j]) for key, j in problem.gpu_columns.items() if x[j] > 1e-9}
    else:
        timeline, allocation = _timeline(problem, x)
    cost, tokens = _cost_and_tokens(problem, x)
    return Solution(
        status=run["status"],
        objective=data.objective,
        nodes=nodes,
        power_design=power_design,
        allocation=allocation,
        annual_cost_usd=cost,
        tokens_per_year=tokens,
        iterations=run["iterations"],
        mip_gap=run["gap"],
        seconds=run["seconds"],
        build_seconds=run["build_seconds"],
        solve_seconds=run["solve_seconds"],
        n_variables=problem.n_columns,
        n_constraints=problem.n_rows,
        n_nonzeros=problem.n_nonzeros,
        notes=data.notes,
        timeline=timeline,
    )


def _timeline(problem: _Problem, x: np.ndarray) -> tuple[Timeline, dict[tuple[str, str], float]]:
    """The plan per calendar slice, and each (sku, workload)'s GPUs in its busiest slice.

    GPUs of (s, w) in state q: f_w(h_q) · g[s,w] (interactive) or b[s,w,q] (batch);
    a slice takes the values of its state.
    """
    data = problem.data
    time = data.time
    hours = list(time.state_hour)
    gpus = {key: time.profiles[key[1]][hours] * max(float(x[j]), 0.0) for key, j in problem.gpu_columns.items()}
    gpus |= {key: np.maximum(x[js], 0.0) for key, js in problem.batch_columns.items()}
    tokens_per_s = {w: np.zeros(time.states) for w in [*time.profiles, *time.batch]}
    busy = {sku: np.zeros(time.states) for sku in data.skus}
    for (sku, workload), series in gpus.items():
        tokens_per_s[workload] += data.points[sku, workload].tokens_per_s_per_gpu * series
        busy[sku] += series
    weights = time.state_weight_hours
    per_slice = time.state_of_slice
    timeline = Timeline(
        grid_kw=[float(v) for v in _grid_kw(problem, x)],
        tokens_per_s={w: [float(v) for v in series[per_slice]] for w, series in tokens_per_s.items()},
        busy_gpu_hours={sku: float(weights @ series) for sku, series in busy.items()},
        tokens_per_year={key: SECONDS_PER_HOUR * float(weights @ series) * data.points[key].tokens_per_s_per_gpu
                         for key, series in gpus.items() if series.max() > 1e-9},
    )
    allocation = {key: float(series.max()) for key, series in gpus.items() if series.max() > 1e-9}
    return timeline, allocation
