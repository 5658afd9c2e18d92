"""Dinkelbach's chain (`optimizer.solve.dinkelbach`): the LP relaxation's ratio bounds the
optimum from below, and the chain ends at the optimum, within the gap, in few MILPs, on
generated instances of several sizes (the benchmark's generator)."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from optimizer.inputs import SolverOptions
from optimizer.model import model_data
from optimizer.solve import solve
from optimizer.solve.highs import Runner, compile_problem
from optimizer.solve.results import cost_and_tokens
from optimizer.solve.start import greedy_plan, start_vector

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
generate = importlib.import_module("bench_optimizer").generate

SIZES = (
    # (skus, coolings, power designs, workloads, budget MW)
    (3, 2, 1, 2, 5),
    (6, 3, 2, 4, 10),
    (10, 3, 2, 5, 20),
    (15, 3, 2, 8, 30),
)
GAP = 1e-4
TIGHT = SolverOptions(mip_rel_gap=1e-8, dinkelbach_tolerance=1e-10, time_limit_s=120)
dinkelbach = importlib.import_module("optimizer.solve.dinkelbach")


def milps(solution) -> int:
    return sum(1 for it in solution.iterations if it["lambda_usd_per_token"] is not None)


@pytest.mark.parametrize("seed", range(20))
def test_the_chain_ends_at_the_optimum_within_the_gap_in_few_milps(seed):
    inputs = generate(*SIZES[seed % len(SIZES)], seed=1000 + seed)
    solution = solve(inputs, options=SolverOptions(mip_rel_gap=GAP))
    tight = solve(inputs, options=TIGHT)
    best = tight.cost_per_million_tokens_usd
    assert solution.status == "optimal"
    assert best * (1 - 1e-7) <= solution.cost_per_million_tokens_usd <= best * (1 + GAP)
    assert solution.mip_gap is not None and solution.mip_gap <= GAP
    # The LP bound and one MILP at it, then a proof MILP (or none when the bound proves it).
    assert milps(solution) <= 3


@pytest.mark.parametrize("seed", range(8))
def test_the_lp_relaxation_ratio_is_a_lower_bound_near_the_optimum(seed):
    inputs = generate(*SIZES[seed % len(SIZES)], seed=2000 + seed)
    best = solve(inputs, options=TIGHT).cost_per_million_tokens_usd / 1e6
    data = model_data(inputs, "cost-per-token", "flat")
    problem = compile_problem(data)
    runner = Runner(problem, TIGHT, time.perf_counter())
    greedy = greedy_plan(data)
    assert greedy is not None
    cost, tokens = cost_and_tokens(problem, start_vector(problem, greedy))

    def ratio_cost(lam: float) -> None:
        problem.highs.changeColsCost(
            1,
            np.array([problem.throughput_column], dtype=np.int32),
            np.array([-lam * data.serving_seconds]),
        )

    bound, relaxed, relaxed_cost = dinkelbach.relaxation_ratio(
        problem, runner, cost / tokens, TIGHT, ratio_cost
    )
    assert relaxed is not None
    assert bound <= best * (1 + 1e-9)
    assert bound >= 0.9 * best  # the relaxation is tight here: whole nodes cost little
    # The bound is the relaxed plan's ratio: C/T of x_LP, read from the LP's columns.
    assert relaxed_cost == pytest.approx(
        float(problem.cost @ relaxed) * 1e6 + problem.site_cost_usd
    )
    assert bound == pytest.approx(
        relaxed_cost / (float(problem.token_rates @ relaxed) * data.serving_seconds), rel=1e-9
    )
