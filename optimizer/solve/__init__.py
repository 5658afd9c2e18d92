"""Solve the fleet MILP: pre-checks → greedy start → compile → HiGHS (Dinkelbach) → `Solution`.

The Pyomo model (`optimizer.model`) states the maths; here it is compiled once with
Pyomo's `LinearStandardFormCompiler` to matrices and handed to one `highspy.Highs`
object. Dinkelbach's iterations only change the objective coefficient of θ
(`changeColsCost`) and pass the previous plan as MIP start (`setSolution`), so the
model is built and presolved from the same object every time.

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
) -> Solution:
    """Plan the fleet at `time_resolution` (flat | representative | hourly). Raises
    `Infeasible` with a reason when no plan exists, `NoPlanInTime` when the time limit
    comes before any plan is found.

    Time-resolved: `start` is the flat plan of the same inputs (solved here when not given).
    """
    began = time.perf_counter()
    flat = start
    if time_resolution == "hourly":
        representative = solve(inputs, objective, options, "representative", start=flat)
        return solve_hourly(inputs, objective, options, representative, began)
    if time_resolution != "flat" and flat is None:
        try:
            flat = solve(inputs, objective, options)
        except Infeasible:
            flat = None  # the time-resolved year may still have a plan; it starts without one
    started = time.perf_counter()
    data = model_data(inputs, objective, time_resolution)
    check_feasibility(inputs, data)
    problem = compile_problem(data)
    build_seconds = time.perf_counter() - started
    runner = Runner(problem, options, started)
    iterations: list[dict] = []
    if data.time is None:
        greedy = greedy_plan(data)
        x0 = None if greedy is None else start_vector(problem, greedy)
    else:
        x0 = None if flat is None else fleet_start(problem, runner, flat, iterations)
    if objective == "cost-per-token":
        status, x, gap, found = dinkelbach(problem, runner, x0, options)
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
