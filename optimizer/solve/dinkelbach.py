"""The HiGHS runs of one solve: Dinkelbach's method (cost-per-token) or one MILP (min-cost).

Dinkelbach's iterations only change the objective coefficient of θ (`changeColsCost`) and
pass the previous plan as MIP start (`setSolution`), on the one `highspy.Highs` object of
`optimizer.solve.highs`.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import highspy
import numpy as np

from optimizer.errors import Infeasible, NoPlanInTime
from optimizer.inputs import SolverOptions
from optimizer.solve.highs import Problem, Runner, set_costs
from optimizer.solve.results import cost_and_tokens, iteration_record


def _report(options: SolverOptions, event: dict[str, Any]) -> None:
    """Hand a progress event to `options.on_progress`, or without one print it as a line on
    stderr; nothing unless `options.progress`."""
    if not options.progress:
        return
    if options.on_progress is not None:
        options.report(event)
        return
    gap = "unknown" if event["gap"] is None else f"{event['gap']:.1e}"
    if event["event"] == "iteration":
        text = (
            f"iteration {event['iteration']}: "
            f"{event['cost_per_million_tokens_usd']:.4g} USD per million tokens, gap {gap}"
        )
    else:
        text = f"{event['objective']}: {event['annual_cost_usd']:,.0f} USD/year, gap {gap}"
    print(f"{text}, {event['seconds']:.2f} s", file=sys.stderr, flush=True)


def dinkelbach(
    problem: Problem,
    runner: Runner,
    start: np.ndarray | None,
    options: SolverOptions,
    lam: float | None = None,
):
    """Dinkelbach's method for min C(x)/T(x).

    λ0 = `lam` if given (a ratio known to be near the optimum), else C(x0)/T(x0) of a feasible
    plan x0; then repeat: x_i = argmin C − λ_i T
    (F_i = C(x_i) − λ_i T(x_i) ≤ 0, as x_{i−1} is the MIP start with F = 0),
    λ_{i+1} = C(x_i)/T(x_i), until −F_i ≤ tolerance × C(x_i). The MILP gap is absolute
    (mip_rel_gap × C): F → 0 makes a relative gap on F meaningless.

    The reported gap bounds the cost per token: with F̲ the last MILP's dual bound,
    every plan x has C(x)/T(x) ≥ λ + F̲/T(x); with T(x) ≈ T of the best plan,
    gap = (r_best − λ − F̲/T_best) / r_best.

    Raises `NoPlanInTime` if the time limit comes before any plan is found, and
    `Infeasible` if no plan delivers tokens.
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
        set_costs(problem, np.zeros(problem.n_columns))
        problem.highs.changeColsCost(1, np.array([column], dtype=np.int32), np.array([-1.0]))
        model_status, best, _, seconds = runner.run(None)
        set_costs(problem, problem.cost)
        cost, tokens = cost_and_tokens(problem, best) if best is not None else (0.0, 0.0)
        iterations.append(iteration_record(0, cost, tokens, seconds))
        if best is None or tokens <= 0:
            if model_status == highspy.HighsModelStatus.kTimeLimit:
                raise NoPlanInTime("time limit reached before any plan was found")
            raise Infeasible(
                "no plan delivers tokens: the budget and supply caps cannot host nodes for "
                "every workload"
            )
    best_cost, best_tokens = cost_and_tokens(problem, best)
    lam = best_cost / best_tokens if lam is None else lam
    bound_lambda = None
    for iteration in range(1, options.max_iterations + 1):
        if runner.remaining() <= 0:
            status = "time_limit"
            break
        # θ is in 10⁶ tokens/s and the objective in 10⁶ USD/year: its coefficient is −λκ.
        problem.highs.changeColsCost(
            1, np.array([column], dtype=np.int32), np.array([-lam * kappa])
        )
        model_status, x, dual_bound, seconds = runner.run(
            best, abs_gap=options.mip_rel_gap * best_cost
        )
        if x is None:
            if model_status != highspy.HighsModelStatus.kTimeLimit:
                raise RuntimeError(
                    f"HiGHS failed: {problem.highs.modelStatusToString(model_status)}"
                )
            status = "time_limit"
            break
        cost, tokens = cost_and_tokens(problem, x)
        F = cost - lam * tokens
        if tokens > 0 and cost / tokens < best_cost / best_tokens:
            best, best_cost, best_tokens = x, cost, tokens
        scale = best_cost if best_cost > 0 else 1.0
        proven = math.isfinite(dual_bound)
        gap = max(0.0, (F - dual_bound) / scale) if proven else None
        iterations.append(iteration_record(iteration, cost, tokens, seconds, lam, F, gap))
        bound_lambda = lam + min(dual_bound, 0.0) / best_tokens if proven else None
        _report(
            options,
            {
                "event": "iteration",
                "iteration": iteration,
                "cost_per_million_tokens_usd": best_cost / best_tokens * 1e6,
                "gap": gap,
                "seconds": seconds,
            },
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


def min_cost(problem: Problem, runner: Runner, start: np.ndarray | None, options: SolverOptions):
    """One MILP: min C subject to the demand rows (min-cost), or min C − R under the market
    caps (max-profit).

    Raises `Infeasible` if HiGHS proves there is no plan, `NoPlanInTime` if the time limit
    comes before any plan is found.
    """
    model_status, x, _, seconds = runner.run(start)
    if model_status in (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        raise Infeasible(
            "the demands together cannot be served within the budget and the supply caps "
            "(with whole nodes and one power design for the site)"
        )
    if x is None:
        if model_status == highspy.HighsModelStatus.kTimeLimit:
            raise NoPlanInTime("time limit reached before any plan was found")
        raise RuntimeError(f"HiGHS failed: {runner.highs.modelStatusToString(model_status)}")
    cost, tokens = cost_and_tokens(problem, x)
    highs_gap = runner.highs.getInfo().mip_gap
    gap = max(0.0, highs_gap) if math.isfinite(highs_gap) else None
    status = "time_limit" if model_status == highspy.HighsModelStatus.kTimeLimit else "optimal"
    iterations = [iteration_record(1, cost, tokens, seconds, mip_gap=gap)]
    _report(
        options,
        {
            "event": "milp",
            "objective": problem.data.objective,
            "annual_cost_usd": cost,
            "gap": gap,
            "seconds": seconds,
        },
    )
    return status, x, gap, iterations
