"""The hourly solve: the representative plan's fleet fixed and dispatched over 8760 hours.

An hourly solve is the representative solve, then the 8760-hour model with the fleet
fixed (`solve_hourly`). That is exact, by aggregation: every hour has the inputs of its
representative slice (tariff schedules are per month, day type and hour; load profiles
per hour of day), so averaging any hourly plan over the hours of each slice gives a
representative plan with the same nodes and tokens and no more cost (energy is linear,
the peak of averages is at most the peak, a daily quota met every day is met on the
average day). The representative optimum is therefore a lower bound on the hourly one,
and the representative fleet dispatched hour by hour attains it. The full 8760-hour MILP
states the same problem, but HiGHS spends minutes proving its root bound.
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from optimizer.errors import NoPlanInTime
from optimizer.inputs import PlanInputs, SolverOptions
from optimizer.model import model_data
from optimizer.solve.dinkelbach import dinkelbach
from optimizer.solve.highs import Runner, compile_problem
from optimizer.solve.results import Solution, extract_solution
from optimizer.solve.start import fleet_start


def solve_hourly(
    inputs: PlanInputs,
    objective: str,
    options: SolverOptions,
    representative: Solution,
    began: float,
) -> Solution:
    """The `representative` plan's fleet fixed and dispatched over the 8760 hours.

    With r̲ the representative bound (its cost per token × (1 − gap); min-cost: its cost ×
    (1 − gap)) and r the hourly plan's, the reported gap is (r − r̲) / r (module docstring:
    r̲ bounds every hourly plan). Raises `NoPlanInTime` if the time limit comes before the
    fleet is dispatched.
    """
    started = time.perf_counter()
    data = model_data(inputs, objective, "hourly")
    problem = compile_problem(data)
    build_seconds = time.perf_counter() - started
    runner = Runner(problem, options, began)
    # The fleet fixed, what is left is an LP: solve it as one (no branch and bound), by the
    # interior point method (2-3x the simplex on 8760 hours).
    problem.highs.changeColsIntegrality(
        problem.n_columns,
        np.arange(problem.n_columns, dtype=np.int32),
        np.full(problem.n_columns, highspy.HighsVarType.kContinuous),
    )
    problem.highs.setOptionValue("solver", "ipm")
    iterations: list[dict] = []
    x = fleet_start(problem, runner, representative, iterations, keep_fixed=True)
    if x is None:
        if runner.remaining() <= 0:
            raise NoPlanInTime(
                "time limit reached before the representative fleet was dispatched hour by hour"
            )
        raise RuntimeError("HiGHS found no hourly dispatch of the representative fleet")
    status = "optimal"  # min-cost: the start is the least-cost dispatch of the fixed fleet
    if objective == "cost-per-token":
        status, x, _, found = dinkelbach(problem, runner, x, options)
        iterations += found
    if representative.status != "optimal":
        status = representative.status
    solution = extract_solution(
        data,
        problem,
        x,
        status=status,
        gap=None,
        iterations=iterations,
        seconds=time.perf_counter() - began,
        build_seconds=representative.build_seconds + build_seconds,
        solve_seconds=representative.solve_seconds + runner.solve_seconds,
    )
    if representative.mip_gap is not None and objective != "max-profit":
        if objective == "cost-per-token":

            def measure(plan):
                return plan.cost_per_million_tokens_usd
        else:

            def measure(plan):
                return plan.annual_cost_usd

        bound = measure(representative) * (1 - representative.mip_gap)
        solution.mip_gap = max(0.0, (measure(solution) - bound) / measure(solution))
    solution.time_resolution = "hourly"
    solution.flat_cost_per_million_tokens_usd = representative.flat_cost_per_million_tokens_usd
    solution.start_seconds = representative.start_seconds
    solution.notes += (
        "hourly: the fleet of the representative-day plan (an exact aggregation "
        "of the year's hours), dispatched hour by hour",
    )
    return solution
