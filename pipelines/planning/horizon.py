"""The multi-year plan pipeline: canonical tables → `plan_inputs` (with the scenario's
`horizon` and the installed fleet) → `optimizer.horizon.solve_horizon` → the multi-year plan
document (`optimizer.horizon.document`), with the input files it was made from."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer.design import plan_inputs
from optimizer.horizon import solve_horizon
from optimizer.horizon.document import horizon_document
from optimizer.inputs import SolverOptions
from optimizer.types import Objective
from pipelines.contract.errors import InputError, Problem
from pipelines.ingest.sources import read_inputs
from pipelines.planning.make_plan import input_file_hashes

if TYPE_CHECKING:
    import polars as pl

HORIZON_OBJECTIVES = (Objective.COST_PER_TOKEN.value, Objective.MIN_COST.value)
"""What a multi-year plan minimizes: levelized cost per token, or the present value of the
cost of meeting each year's demands."""


def make_horizon_plan(
    data_dir: Path,
    objective: str = Objective.COST_PER_TOKEN,
    options: SolverOptions = SolverOptions(),
    tables: Mapping[str, pl.DataFrame] | None = None,
) -> dict[str, Any]:
    """The multi-year plan document of the input folder. Raises `InputError` when the scenario
    has no `horizon`, `Infeasible` when no plan meets the years' budgets and demands."""
    if tables is None:
        tables = read_inputs(data_dir)
    inputs = plan_inputs(tables)
    if inputs.horizon is None:
        raise InputError(
            [
                Problem(
                    "scenario.yaml",
                    "a multi-year plan needs a horizon: {start_year: 2026, years: 5} at least",
                    field="horizon",
                )
            ]
        )
    solution = solve_horizon(inputs, str(objective), options)
    return horizon_document(inputs, solution) | {"inputs": input_file_hashes(data_dir)}
