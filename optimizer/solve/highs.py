"""The compiled MILP and the one `highspy.Highs` object that solves it.

The Pyomo model (`optimizer.model`) is compiled once with Pyomo's
`LinearStandardFormCompiler` to matrices and handed to one `highspy.Highs` object
(`passModel`). Later runs only change column costs or bounds and pass a MIP start, so the
model is built and presolved from the same object every time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimizer.inputs import SolverOptions
from optimizer.model import USD_UNIT, ModelData, create_model


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


def compile_problem(data: ModelData) -> Problem:
    """Pyomo model → standard-form matrices (LinearStandardFormCompiler) → a `highspy.Highs`
    object."""
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
        for (_, workload), j in gpu_columns.items():
            token_rates[j] *= float(share_of_year @ time.profiles[workload][list(time.state_hour)])
        for sku, workload in data.points:
            if workload in time.batch:
                js = np.array(
                    [position[id(model.batch_gpus[sku, workload, q])] for q in range(time.states)]
                )
                batch_columns[sku, workload] = js
                token_rates[js] = data.points[sku, workload].tokens_per_s_per_gpu * share_of_year
        busy_grid_columns = np.array(
            [position[id(model.busy_grid_mw[q])] for q in range(time.states)]
        )
    return Problem(
        data=data,
        highs=highs,
        n_columns=n_columns,
        n_rows=n_rows,
        n_nonzeros=int(A.nnz),
        node_columns=node_columns,
        power_columns={p: position[id(model.power_design[p])] for p in data.power_ids},
        gpu_columns=gpu_columns,
        throughput_column=(
            position[id(model.tokens_per_s)] if hasattr(model, "tokens_per_s") else None
        ),
        cost=np.array(lp.col_cost_, dtype=float),
        site_cost_usd=data.site_cost_usd,
        token_rates=token_rates,
        column_lower=np.array(lp.col_lower_, dtype=float),
        column_upper=np.array(lp.col_upper_, dtype=float),
        batch_columns=batch_columns,
        busy_grid_columns=busy_grid_columns,
    )


def set_costs(problem: Problem, costs: np.ndarray) -> None:
    """Every column's objective coefficient."""
    problem.highs.changeColsCost(
        problem.n_columns, np.arange(problem.n_columns, dtype=np.int32), costs
    )


class Runner:
    """Runs the one Highs object under the run's total time limit."""

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
