"""Solve the fleet MILP: pre-checks → greedy start → compile → HiGHS (Dinkelbach) → `Solution`.

The Pyomo model (`optimizer.model`) states the maths; here it is compiled once to
matrices (`optimizer.model.compiled`: Pyomo's `LinearStandardFormCompiler` for the
small families, numpy rows for the four big time-resolved ones, tested equal to
Pyomo's) and handed to one `highspy.Highs` object. Dinkelbach's iterations only change
the objective coefficient of θ (`changeColsCost`) and pass the previous plan as MIP
start (`setSolution`), so the model is built and presolved from the same object every
time.

A time-resolved solve (`time_resolution` representative | hourly) first solves the flat
year: its fleet, with the nodes fixed and dispatched by one LP over the slices, is the
feasible start (and its cost per token is reported beside the time-resolved one).
An hourly solve is the representative solve, then its fleet dispatched over the 8760
hours: exact, by aggregation (`optimizer.solve.hourly`).

    checks.py       pre-checks: why no plan exists, in words (`Infeasible`)
    start.py        the greedy feasible start (flat) | the flat fleet dispatched (time-resolved)
    highs.py        compile to matrices, `passModel`, the one reused `highspy.Highs` object
    dinkelbach.py   Dinkelbach's method (cost-per-token) | one MILP (min-cost)
    hourly.py       the representative fleet dispatched hour by hour
    results.py      `Solution`, `Timeline`: the plan read from the column vector

Nothing Pyomo or HiGHS leaves this package: `Solution` is plain data. No plan raises an
`optimizer.errors.NoPlan`: `Infeasible` or `NoPlanInTime`.
"""

from __future__ import annotations

import time
from dataclasses import replace

from optimizer.errors import Infeasible, NoPlan, NoPlanInTime
from optimizer.inputs import PlanInputs, SolverOptions
from optimizer.model import model_data
from optimizer.solve.checks import check_feasibility
from optimizer.solve.dinkelbach import dinkelbach, min_cost
from optimizer.solve.highs import Runner, compile_problem
from optimizer.solve.hourly import solve_hourly
from optimizer.solve.results import Solution, Timeline, extract_solution
from optimizer.solve.start import GreedyPlan, fleet_start, greedy_plan, start_vector


def solve(
    inputs: PlanInputs,
    objective: str = "cost-per-token",
    options: SolverOptions = SolverOptions(),
    time_resolution: str = "flat",
    start: Solution | None = None,
    compare: bool = True,
) -> Solution:
    """Plan the fleet at `time_resolution` (flat | representative | hourly). Raises
    `Infeasible` with a reason when no plan exists, `NoPlanInTime` when the time limit
    comes before any plan is found.

    `start`: a plan whose fleet fits these inputs. Flat: its fleet, dispatched by one LP, is
    the first plan (the MIP start and λ0), so the result is never worse than that fleet here
    (a sweep passes the plan of the budget below; a fleet that does not fit is ignored and the
    greedy plan starts). Time-resolved: the flat plan of the same inputs (solved here when not
    given). With `compare`, a time-resolved plan is also compared with the flat year at the
    utilization it realizes (`with_like_for_like`).
    """
    began = time.perf_counter()
    flat = start
    if time_resolution == "hourly":
        representative = solve(
            inputs, objective, options, "representative", start=flat, compare=False
        )
        hourly = solve_hourly(inputs, objective, options, representative, began)
        return with_like_for_like(inputs, objective, options, hourly)
    if time_resolution != "flat" and flat is None:
        try:
            flat = solve(inputs, objective, replace(options, progress=False), compare=False)
        except Infeasible:
            flat = None  # the time-resolved year may still have a plan; it starts without one
    started = time.perf_counter()
    data = model_data(inputs, objective, time_resolution)
    check_feasibility(inputs, data)
    problem = compile_problem(data)
    build_seconds = time.perf_counter() - started
    runner = Runner(problem, options, started)
    iterations: list[dict] = []
    x0, near = None, False
    if data.time is None:
        if start is not None:
            x0 = fleet_start(problem, runner, start, iterations)
            near = x0 is not None
        if x0 is None and (greedy := greedy_plan(data)) is not None:
            x0 = start_vector(problem, greedy)
    else:
        x0 = None if flat is None else fleet_start(problem, runner, flat, iterations)
    if objective == "cost-per-token":
        status, x, gap, found = dinkelbach(problem, runner, x0, options, near)
    else:
        status, x, gap, found = min_cost(problem, runner, x0, options)
    solution = extract_solution(
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
        solution.flat_cost_per_million_tokens_usd = (
            None if flat is None else flat.cost_per_million_tokens_usd
        )
        solution.start_seconds = started - began
        if compare:
            solution = with_like_for_like(inputs, objective, options, solution)
    return solution


def realized_utilization(inputs: PlanInputs, solution: Solution) -> float | None:
    """GPU-hours serving / GPU-hours of the year of a time-resolved plan's fleet."""
    if solution.timeline is None:
        return None
    gpus = {s.sku: s.gpus_per_node for s in inputs.systems}
    total = sum(n * gpus[sku] for (sku, _, _), n in solution.nodes.items())
    hours = inputs.finance.hours_per_year
    busy = sum(solution.timeline.busy_gpu_hours.values())
    return busy / (total * hours) if total else None


def with_like_for_like(
    inputs: PlanInputs, objective: str, options: SolverOptions, solution: Solution
) -> Solution:
    """A time-resolved `solution` with its flat-year comparator at the utilization it realizes.

    The flat year serves a fraction u of the hours on a fraction a (availability) of the GPUs,
    so it realizes a·u; a time-resolved plan that realizes ρ is compared like for like with
    the flat year at u' = min(1, ρ / a). Then, in cost per million tokens,

        flat(u) − plan = [flat(u) − flat(u')]  +  [flat(u') − plan]
                          utilization              tariff timing and load shape

    (`Solution.flat_at_realized_cost_per_million_tokens_usd`; None when either has no plan).
    """
    rho = realized_utilization(inputs, solution)
    if rho is None or rho <= 0:
        return solution
    utilization = min(1.0, rho / inputs.finance.availability)
    same_use = replace(inputs, finance=replace(inputs.finance, utilization=utilization))
    try:
        flat = solve(same_use, objective, replace(options, progress=False))
    except NoPlan:
        return solution
    solution.flat_at_realized_cost_per_million_tokens_usd = flat.cost_per_million_tokens_usd
    solution.realized_flat_utilization = utilization
    return solution


__all__ = [
    "GreedyPlan",
    "Infeasible",
    "NoPlan",
    "NoPlanInTime",
    "Solution",
    "Timeline",
    "check_feasibility",
    "greedy_plan",
    "solve",
]
