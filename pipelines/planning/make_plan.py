"""From an input folder to a plan document, without Dagster (the fast path of `tokenplan plan`).

The Dagster assets `design_space` and `build_plan` run the same three stages:
canonical tables → `plan_inputs` → `solve` → `plan_document`.
"""

from __future__ import annotations

from pathlib import Path

from optimizer.design import plan_inputs
from optimizer.inputs import SolverOptions
from optimizer.plan import plan_document
from optimizer.solve import solve
from pipelines.planning.comparisons import with_alternatives
from pipelines.ingest.sources import SOURCES, file_hashes, read_inputs


def input_file_hashes(data_dir: Path) -> list[dict]:
    """Every input file the plan depends on, with its SHA-256."""
    return [entry for source in SOURCES for entry in file_hashes(data_dir, source)]


def make_plan(data_dir: Path, budget_mw: float | None = None, objective: str = "cost-per-token",
              options: SolverOptions = SolverOptions(), time_resolution: str = "flat") -> dict:
    """The plan document for the input folder at `time_resolution` (flat | representative |
    hourly). Raises `InputError` (bad input) or `Infeasible`."""
    tables = read_inputs(data_dir)
    inputs = plan_inputs(tables, budget_mw)
    solution = solve(inputs, objective, options, time_resolution)
    plan = plan_document(inputs, solution, objective, inputs_files=input_file_hashes(data_dir))
    return with_alternatives(plan, inputs, objective, options)
