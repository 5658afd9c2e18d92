"""Scenario runs at scale: a budget sweep, in contiguous chunks of budgets, spread over a Dask
cluster.

The budgets of the sweep, each with its B + 1 MW (`pipelines.planning.sweep.budget_pairs`),
are split into one contiguous chunk per Dask worker (`contiguous_chunks`), and the job has
one step per chunk: `pipelines.planning.sweep.solve_chunk`, as `tokenplan sweep` and the
`pareto_frontier` asset solve theirs, each budget in ascending order from the plan of the
one before (the chunk's first from the greedy start). The `dask_executor` runs the steps on
the cluster's workers. A last step makes the rows from them as `tokenplan sweep` and
`pareto_frontier` do (`pipelines.planning.sweep.frontier_document`). The budgets and the
chunks are fixed when the code location loads (`TOKENPLAN_SWEEP_BUDGETS_MW`, default
`10,20,40`; `TOKENPLAN_DASK_WORKERS`, default 2, chunks): the Dask executor cannot run
Dagster's dynamic fan-out (`DynamicOut`/`.map`, dagster-io/dagster#9785). By default it
starts a `LocalCluster` of `TOKENPLAN_DASK_WORKERS` worker processes on this machine; with
`TOKENPLAN_DASK_SCHEDULER=tcp://host:8786` it sends the steps to that scheduler instead (set
`TOKENPLAN_DASK_WORKERS` to its number of workers: one chunk each). docs/scale-out.md has what
a team changes to run it on its own cluster or on Kubernetes.

Steps pass their values through `sweep_io_manager` (pickles under the instance's storage
folder), so every worker must see the same `DAGSTER_HOME`, input folder and warehouse:
true on one machine, a shared volume or an object-store IO manager on a cluster.
"""

import os
import time
from typing import ClassVar

import dagster as dg
import polars as pl

from optimizer.inputs import SolverOptions
from optimizer.types import Objective, TimeResolution
from pipelines.defs.config import (
    MIP_GAP,
    OBJECTIVES,
    TIME_LIMIT_S,
    TIME_RESOLUTIONS,
    Bounds,
    RunConfig,
)
from pipelines.defs.executors import cluster_config, dask_executor
from pipelines.defs.metadata import frame_table
from pipelines.defs.resources import InputFolder, Warehouse
from pipelines.ingest.sources import read_inputs
from pipelines.planning.make_plan import input_file_hashes
from pipelines.planning.sweep import (
    MARGINAL_FIELDS,
    budget_pairs,
    budgets_to_solve,
    contiguous_chunks,
    frontier_document,
    solve_chunk,
)
from pipelines.reports.exports import inert_csv_text
from pipelines.warehouse.files import write_atomically

SWEEPS_FOLDER = "budget_sweeps"
MAX_TABLE_ROWS = 100
"""Rows of the sweep shown in the UI (the CSV has them all)."""
STEP_IO = "sweep_io_manager"
ROW_FIELDS = (
    "budget_mw",
    "status",
    "reason",
    "cost_per_million_tokens_usd",
    "tokens_per_s_per_mw",
    "grid_power_mw",
    "annual_cost_usd",
    "tokens_per_year",
    "power_design",
    "seconds",
)
CSV_FIELDS = (*ROW_FIELDS, *MARGINAL_FIELDS, "worker")
"""The columns of `budget_sweeps/<run id>.csv`: a frontier row (no fleet) and its Dask worker."""
SWEEP_BUDGETS_MW = tuple(
    float(b) for b in os.environ.get("TOKENPLAN_SWEEP_BUDGETS_MW", "10,20,40").split(",")
)
"""Grid interconnects the `sweep_budgets` job plans, in MW: one row each."""
SWEEP_WORKERS = int(os.environ.get("TOKENPLAN_DASK_WORKERS", "2"))
"""Dask workers of the cluster: the `sweep_budgets` job has one step per worker, each a
contiguous chunk of the budgets."""


class SolveConfig(RunConfig):
    """How each budget of a chunk is solved (as `tokenplan sweep`)."""

    RANGES: ClassVar[dict[str, Bounds]] = {"time_limit_s": TIME_LIMIT_S, "mip_rel_gap": MIP_GAP}
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "objective": OBJECTIVES,
        "time_resolution": TIME_RESOLUTIONS,
    }

    objective: str = Objective.COST_PER_TOKEN.value
    """cost-per-token, min-cost or max-profit, as `tokenplan plan --objective`."""
    time_limit_s: float = SolverOptions.time_limit_s
    """Seconds per budget, > 0 and <= 604,800."""
    mip_rel_gap: float = SolverOptions.mip_rel_gap
    """Relative MIP gap, >= 0 and < 1."""
    time_resolution: str = TimeResolution.FLAT.value
    """As `tokenplan sweep --time-resolution`."""


def build_solve_op(budgets_mw: list[float]) -> dg.OpDefinition:
    """The step that plans a contiguous chunk of budgets: `pipelines.planning.sweep.solve_chunk`,
    in ascending order, each from the plan of the one before, as `sweep` does."""
    budgets = ", ".join(f"{b:g}" for b in budgets_mw)

    @dg.op(
        name=_op_name(budgets_mw),
        out=dg.Out(dict, io_manager_key=STEP_IO),
        description=f"The best plan for each grid interconnect of {budgets} MW, summarized.",
    )
    def solve(
        context: dg.OpExecutionContext, config: SolveConfig, input_folder: InputFolder
    ) -> dict:
        options = SolverOptions(
            time_limit_s=config.time_limit_s, mip_rel_gap=config.mip_rel_gap, threads=1
        )
        points = solve_chunk(
            read_inputs(input_folder.dir),
            budgets_mw,
            config.objective,
            options,
            config.time_resolution,
        )
        for budget, point in points.items():
            context.log.info(
                f"{budget:g} MW: {point['status']}, {point['cost_per_million_tokens_usd']} USD "
                f"per million tokens"
            )
        return {
            "points": points,
            "worker": _dask_worker(),
            "objective": config.objective,
            "time_resolution": config.time_resolution,
        }

    return solve


def build_collect_op(
    pairs: list[tuple[float, float]], chunks: list[list[float]]
) -> dg.OpDefinition:
    """The step that makes the frontier of every chunk's points and keeps its rows in one table,
    `budget_sweeps/<run id>.csv` in the warehouse.

    One input per chunk rather than a fan-in list: the Dask executor does not tell a
    step which upstream outputs exist, and Dagster then leaves a fan-in list empty.
    """

    @dg.op(
        ins={_op_name(chunk): dg.In(dict) for chunk in chunks},
        out=dg.Out(dict, io_manager_key=STEP_IO),
    )
    def collect_sweep(
        context: dg.OpExecutionContext,
        warehouse: Warehouse,
        input_folder: InputFolder,
        **steps: dict,
    ) -> dg.Output[dict]:
        solved = [steps[_op_name(chunk)] for chunk in chunks]
        settings = {(step["objective"], step["time_resolution"]) for step in solved}
        if len(settings) != 1:
            raise dg.Failure(
                description=f"the solve steps ran with different objectives or time "
                f"resolutions: {sorted(settings)}"
            )
        ((objective, time_resolution),) = settings
        points = {budget: p for step in solved for budget, p in step["points"].items()}
        workers = {budget: step["worker"] for step in solved for budget in step["points"]}
        frontier = frontier_document(
            points,
            pairs,
            objective,
            time_resolution,
            jobs=len({step["worker"] for step in solved}),
            seconds=_run_seconds(context),
            inputs_files=input_file_hashes(input_folder.dir),
        )
        rows = [
            {field: row[field] for field in CSV_FIELDS if field != "worker"}
            | {"worker": workers[row["budget_mw"]]}
            for row in frontier["rows"]
        ]
        table = pl.DataFrame(rows, infer_schema_length=None)
        path = warehouse.dir / SWEEPS_FOLDER / f"{context.run_id}.csv"
        write_atomically(path, lambda tmp: inert_csv_text(table).write_csv(tmp))
        return dg.Output(
            frontier | {"path": str(path)},
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "sweep": frame_table(table.drop("worker"), max_rows=MAX_TABLE_ROWS),
            },
        )

    return collect_sweep


def _run_seconds(context: dg.OpExecutionContext) -> float:
    """Seconds since the run started (the sweep's wall time)."""
    record = context.instance.get_run_record_by_id(context.run_id)
    started = record.start_time if record is not None else None
    return time.time() - started if started is not None else 0.0


def _op_name(budgets_mw: list[float]) -> str:
    """`solve_<first>_to_<last>_mw` (`solve_<B>_mw` for one budget)."""
    first, last = budgets_mw[0], budgets_mw[-1]
    span = f"{first:g}" if first == last else f"{first:g}_to_{last:g}"
    return f"solve_{span}_mw".replace(".", "_")


def _dask_worker() -> str:
    """The address of the Dask worker running this step ('' when not on Dask)."""
    from dask.distributed import get_worker

    try:
        return get_worker().address
    except ValueError:
        return ""


def build_sweep_job(budgets_mw: tuple[float, ...], workers: int) -> dg.JobDefinition:
    """A job with one solve step per contiguous chunk of the budgets and their B + 1 MW (one
    chunk per worker) and a step collecting the rows, on the Dask executor."""
    pairs = budget_pairs(budgets_mw)
    chunks = contiguous_chunks(budgets_to_solve(pairs), workers)
    solvers = {_op_name(chunk): build_solve_op(chunk) for chunk in chunks}
    collect = build_collect_op(pairs, chunks)

    @dg.job(
        name="sweep_budgets",
        executor_def=dask_executor,
        config={"execution": {"config": {"cluster": cluster_config()}}},
        tags={"tokenplan/scale_out": "dask"},
        description=f"Plan each MW budget ({', '.join(f'{b:g}' for b in budgets_mw)}) and one MW "
        f"more on a Dask cluster, one step per worker ({len(chunks)}), each solving contiguous "
        f"budgets in ascending order; one table of cost per token and the value of one more MW "
        f"by budget.",
    )
    def sweep():
        collect(**{name: solve() for name, solve in solvers.items()})

    return sweep


sweep_budgets = build_sweep_job(SWEEP_BUDGETS_MW, SWEEP_WORKERS)
defs = dg.Definitions(jobs=[sweep_budgets], resources={STEP_IO: dg.FilesystemIOManager()})
