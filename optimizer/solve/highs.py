"""The compiled MILP and the one `highspy.Highs` object that solves it.

The model (`optimizer.model`) is compiled once to matrices (`optimizer.model.compiled`:
Pyomo's `LinearStandardFormCompiler`, the large time-resolved families assembled with
numpy) and handed to one `highspy.Highs` object (`passModel`). Later runs only change
column costs or bounds and pass a MIP start, so the model is built and presolved from the
same object every time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import highspy
import numpy as np

from optimizer.inputs import SolverOptions
from optimizer.model import USD_UNIT, ModelData
from optimizer.model.compiled import StandardForm, compile_model


@dataclass
class Problem:
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
    priced_by_columns: bool = False
    """C(x) = cost · x + site cost, read from the columns (a multi-year model), instead of
    recomputed from whole nodes and the tariff (`optimizer.solve.results.cost_and_tokens`)."""


def compile_problem(data: ModelData) -> Problem:
    """The model in standard form (`optimizer.model.compiled`: Pyomo's compiler, the large
    time-resolved families from numpy) → a `highspy.Highs` object."""
    form = compile_model(data)
    n_rows, n_columns = form.A.shape
    highs = highs_model(form)
    node_columns = _columns(form, "nodes")
    gpu_columns = dict(zip(form.keys["gpus"], _columns(form, "gpus"), strict=True))
    token_rates = np.zeros(n_columns)
    for (sku, workload), j in gpu_columns.items():
        token_rates[j] = data.points[sku, workload].tokens_per_s_per_gpu
    batch_columns, busy_grid_columns = {}, None
    if data.time is not None:
        time = data.time
        share_of_year = time.state_weight_hours / time.hours_per_year
        for (_, workload), j in gpu_columns.items():
            token_rates[j] *= float(share_of_year @ time.profiles[workload][list(time.state_hour)])
        batch_column = dict(zip(form.keys["batch_gpus"], _columns(form, "batch_gpus"), strict=True))
        for sku, workload in data.points:
            if workload in time.batch:
                js = np.array([batch_column[sku, workload, q] for q in range(time.states)])
                batch_columns[sku, workload] = js
                token_rates[js] = data.points[sku, workload].tokens_per_s_per_gpu * share_of_year
        busy_grid_columns = np.array(_columns(form, "busy_grid_mw"))
    return Problem(
        data=data,
        highs=highs,
        n_columns=n_columns,
        n_rows=n_rows,
        n_nonzeros=int(form.A.nnz),
        node_columns=node_columns,
        power_columns=dict(
            zip(form.keys["power_design"], _columns(form, "power_design"), strict=True)
        ),
        gpu_columns=gpu_columns,
        throughput_column=(
            _columns(form, "tokens_per_s")[0] if "tokens_per_s" in form.keys else None
        ),
        cost=np.array(form.c, dtype=float),
        site_cost_usd=data.site_cost_usd,
        token_rates=token_rates,
        column_lower=np.array(form.col_lower, dtype=float),
        column_upper=np.array(form.col_upper, dtype=float),
        batch_columns=batch_columns,
        busy_grid_columns=busy_grid_columns,
    )


def highs_model(form: StandardForm) -> highspy.Highs:
    """A quiet `highspy.Highs` object holding the model `form` (`passModel`)."""
    A = form.A
    n_rows, n_columns = A.shape
    lp = highspy.HighsLp()
    lp.num_col_ = n_columns
    lp.num_row_ = n_rows
    lp.col_cost_ = form.c
    lp.offset_ = form.offset
    lp.col_lower_ = form.col_lower
    lp.col_upper_ = form.col_upper
    lp.row_lower_ = form.row_lower
    lp.row_upper_ = form.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_columns
    lp.a_matrix_.num_row_ = n_rows
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[integer] for integer in form.integer.tolist()]
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    return highs


def _columns(form: StandardForm, component: str) -> list[int]:
    """The column of each element of Var `component`, in index order; each must be one."""
    columns = form.columns[component]
    if (columns < 0).any():
        missing = form.keys[component][int(np.argmax(columns < 0))]
        raise KeyError(f"{component}[{missing}] is not a column of the compiled model")
    return columns.tolist()


def set_costs(problem: Problem, costs: np.ndarray) -> None:
    """Every column's objective coefficient."""
    problem.highs.changeColsCost(
        problem.n_columns, np.arange(problem.n_columns, dtype=np.int32), costs
    )


class _Scheduler:
    """HiGHS's thread pool (its global scheduler) is one per process, sized by the first run:
    a later run asking for more threads fails ("Not Set") unless the pool is reset first.

    `threads(n)` wraps a run: when n differs from the pool's size (or the size is not known:
    the first run of this process), the pool is reset (`Highs.resetGlobalScheduler`) once
    no other run of this process is under way, so runs may ask for any thread count in any
    order. Runs with the pool's thread count go ahead together."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._size: int | None = None
        self._running = 0

    @contextmanager
    def threads(self, n: int) -> Iterator[None]:
        with self._changed:
            while self._size != n and self._running:
                self._changed.wait()
            if self._size != n:
                highspy.Highs.resetGlobalScheduler(True)
                self._size = n
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()


SCHEDULER = _Scheduler()
"""The process's HiGHS thread pool, sized for each run (`_Scheduler`)."""


class Runner:
    """Runs the one Highs object under the run's total time limit, with `options.threads`
    threads (the process's pool resized when a run asks for another count: `SCHEDULER`)."""

    def __init__(self, problem: Problem, options: SolverOptions, started: float):
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
        with SCHEDULER.threads(self.options.threads):
            highs.run()
        seconds = time.perf_counter() - began
        self.solve_seconds += seconds
        status = highs.getModelStatus()
        info = highs.getInfo()
        has_solution = info.primal_solution_status == int(
            highspy.SolutionStatus.kSolutionStatusFeasible
        )
        x = np.array(highs.getSolution().col_value) if has_solution else None
        # An LP (no integer column left) has no MIP bound: at its optimum the bound is its value.
        bound = (
            info.mip_dual_bound
            if info.mip_node_count >= 0
            else (
                info.objective_function_value
                if status == highspy.HighsModelStatus.kOptimal
                else -math.inf
            )
        )
        return status, x, bound * USD_UNIT, seconds
