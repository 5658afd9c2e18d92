"""The plan pipeline: from an input folder (or the optimizer's inputs) to a plan document.

Stages: canonical tables (`read_inputs`) → `plan_inputs` → `plan_from_inputs` (solve →
`plan_document` → single-system alternatives → lever table). `tokenplan plan` runs them all
in process (`make_plan`); the Dagster assets run the same stages as steps: `design_space`
calls `plan_inputs`, `build_plan` calls `plan_from_inputs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from optimizer.design import plan_inputs
from optimizer.inputs import PlanInputs, SolverOptions
from optimizer.plan import plan_document
from optimizer.solve import solve
from optimizer.types import InputFile, Objective, PlanDocument, TimeResolution
from pipelines.ingest.sources import SOURCES, file_hashes, read_inputs
from pipelines.planning.comparisons import with_alternatives
from pipelines.planning.levers import with_levers

if TYPE_CHECKING:
    import polars as pl


def input_file_hashes(data_dir: Path) -> list[InputFile]:
    """Every input file the plan depends on, with its SHA-256."""
    return [entry for source in SOURCES for entry in file_hashes(data_dir, source)]


def plan_from_inputs(
    inputs: PlanInputs,
    objective: str = Objective.COST_PER_TOKEN,
    options: SolverOptions = SolverOptions(),
    time_resolution: str = TimeResolution.FLAT,
    inputs_files: list[InputFile] | None = None,
    fields: Mapping[str, Any] | None = None,
) -> PlanDocument:
    """The plan document of `inputs` at `time_resolution`, with its single-system alternatives
    (`pipelines.planning.comparisons`) and its lever table (`pipelines.planning.levers`); not
    stamped. `inputs_files`: the input files it was made
    from; `fields`: more fields of the document, before the alternatives (the Dagster plan's
    `inputs_snapshot`). Raises `Infeasible`, or `NoPlanInTime` when no plan was found in time.

    Progress (`SolverOptions.on_progress`): the step `solve` (its item the time resolution)
    around the solve's own iterations, then the steps of the alternatives and the levers."""
    step = {"event": "step", "step": "solve", "total": 1, "item": str(time_resolution)}
    options.report(step | {"done": 0})
    solution = solve(inputs, objective, options, time_resolution)
    options.report(step | {"done": 1})
    chosen = Objective(objective)  # `solve` took only an objective's value
    plan = plan_document(inputs, solution, chosen, inputs_files=inputs_files)
    plan = cast(PlanDocument, plan | dict(fields or {}))  # more fields of a plan document
    plan = with_alternatives(plan, inputs, chosen, options)
    return with_levers(plan, inputs, chosen, options)


def make_plan(
    data_dir: Path,
    budget_mw: float | None = None,
    objective: str = Objective.COST_PER_TOKEN,
    options: SolverOptions = SolverOptions(),
    time_resolution: str = TimeResolution.FLAT,
    tariff_id: str | None = None,
    tables: Mapping[str, pl.DataFrame] | None = None,
) -> PlanDocument:
    """The plan document for the input folder at `time_resolution` (flat | representative |
    hourly); `budget_mw` and `tariff_id` override the scenario's. `tables`: the folder's
    canonical tables when the caller read them already. Raises `InputError` (bad input),
    `UnknownTariff` or `Infeasible`."""
    if tables is None:
        tables = read_inputs(data_dir)
    inputs = plan_inputs(tables, budget_mw, tariff_id=tariff_id)
    files = input_file_hashes(data_dir)
    return plan_from_inputs(inputs, objective, options, time_resolution, files)
