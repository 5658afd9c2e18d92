"""The plan as plain data: `Solution` and `Timeline`, read from HiGHS's column vector.

Nothing Pyomo or HiGHS leaves the solver: `Solution` is plain data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from optimizer.economics import SECONDS_PER_HOUR
from optimizer.model import GRID_KW_UNIT, USD_UNIT, ModelData
from optimizer.solve.highs import Problem


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
    """Nodes per combination (sku, cooling_id, power_id); rented: (sku, None, None). Non-zero
    only."""
    power_design: str | None
    """power_id of the site's power design; None when the fleet has no owned node."""
    allocation: dict[tuple[str, str], float]
    """GPUs per (sku, workload), non-zero only."""
    annual_cost_usd: float
    tokens_per_year: float
    iterations: list[dict] = field(default_factory=list)
    """Dinkelbach: [{iteration, lambda_usd_per_token, cost_usd, tokens, F, mip_gap, seconds}]."""
    mip_gap: float | None = None
    """Relative gap of the plan's objective (cost per token, or cost) to the proven bound; None
    if no bound."""
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
    """Time-resolved: the plan per slice. Then `allocation` holds each (sku, workload)'s GPUs in
    its busiest slice."""
    flat_cost_per_million_tokens_usd: float | None = None
    """Time-resolved: the flat year's optimum for the same inputs (None if the flat year has no
    plan)."""
    flat_at_realized_cost_per_million_tokens_usd: float | None = None
    """Time-resolved: the flat year's optimum at the utilization this plan realizes
    (`optimizer.solve.with_like_for_like`)."""
    realized_flat_utilization: float | None = None
    """Time-resolved: that flat year's utilization."""
    start_seconds: float = 0.0
    """Time-resolved: seconds spent solving the flat year for the start."""

    @property
    def cost_per_million_tokens_usd(self) -> float:
        if not self.tokens_per_year:
            return math.inf
        return self.annual_cost_usd / self.tokens_per_year * 1e6


def _grid_kw(problem: Problem, x: np.ndarray) -> np.ndarray:
    """P per calendar slice [kW] of a time-resolved column vector: the idle draw Σ_k ι_k n[k]
    (nodes rounded) plus the busy power B of the slice's state."""
    data = problem.data
    idle_kw = float(np.dot(np.round(x[problem.node_columns]), data.idle_grid_kw))
    state_of_slice = data.resolved_time.state_of_slice
    return idle_kw + x[problem.busy_grid_columns][state_of_slice] * GRID_KW_UNIT


def cost_and_tokens(problem: Problem, x: np.ndarray) -> tuple[float, float]:
    """C(x) [USD/year] and T(x) [tokens/year] of a column vector (nodes rounded to integers).

    Time-resolved, energy and demand charges are those of the slices' grid power
    (`PricedSlices.monthly`): the demand charge is on the true monthly peaks, whatever
    slack the peak variables have.
    """
    data = problem.data
    throughput = float(np.dot(problem.token_rates, x))
    if problem.priced_by_columns:
        return float(problem.cost @ x) * USD_UNIT + problem.site_cost_usd, throughput * (
            data.serving_seconds
        )
    nodes = np.round(x[problem.node_columns])
    if data.time is None:
        cost = float(np.dot(nodes, data.node_cost_usd)) + data.site_cost_usd
    else:
        charges = sum(
            row["energy_usd"] + row["demand_usd"]
            for row in data.time.slices.monthly(_grid_kw(problem, x))
        )
        node_usd = float(np.dot(nodes, [c.annual_usd for c in data.node_costs]))
        cost = node_usd + data.site_cost_usd + charges
    return cost, throughput * data.serving_seconds


def iteration_record(
    iteration: int,
    cost_usd: float,
    tokens: float,
    seconds: float,
    lambda_usd_per_token: float | None = None,
    F: float | None = None,
    mip_gap: float | None = None,
) -> dict:
    """One MILP of a solve as `Solution.iterations` lists it (0: the start plan)."""
    return dict(
        iteration=iteration,
        lambda_usd_per_token=lambda_usd_per_token,
        cost_usd=cost_usd,
        tokens=tokens,
        F=F,
        mip_gap=mip_gap,
        seconds=seconds,
    )


def extract_solution(data: ModelData, problem: Problem, x: np.ndarray, **run) -> Solution:
    """The `Solution` of column vector x; `run` holds status, gap, iterations and times."""
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
    cost, tokens = cost_and_tokens(problem, x)
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


def _timeline(problem: Problem, x: np.ndarray) -> tuple[Timeline, dict[tuple[str, str], float]]:
    """The plan per calendar slice, and each (sku, workload)'s GPUs in its busiest slice.

    GPUs of (s, w) in state q: f_w(h_q) · g[s,w] (interactive) or b[s,w,q] (batch);
    a slice takes the values of its state.
    """
    data = problem.data
    time = data.resolved_time
    hours = list(time.state_hour)
    gpus = {
        key: time.profiles[key[1]][hours] * max(float(x[j]), 0.0)
        for key, j in problem.gpu_columns.items()
    }
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
        tokens_per_s={
            w: [float(v) for v in series[per_slice]] for w, series in tokens_per_s.items()
        },
        busy_gpu_hours={sku: float(weights @ series) for sku, series in busy.items()},
        tokens_per_year={
            key: SECONDS_PER_HOUR * float(weights @ series) * data.points[key].tokens_per_s_per_gpu
            for key, series in gpus.items()
            if series.max() > 1e-9
        },
    )
    allocation = {key: float(series.max()) for key, series in gpus.items() if series.max() > 1e-9}
    return timeline, allocation
