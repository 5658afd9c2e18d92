"""Scale-out: the `sweep_budgets` job on the Dask executor, on a LocalCluster of two worker
processes.

The job runs through `dg.execute_job` on a persistent instance, as `dagster job execute`
or the daemon run it, so the steps really go through Dask: the executor starts the
LocalCluster, each worker process loads the code location and runs its steps: one per
worker, a contiguous chunk of the budgets and their one MW more, solved in ascending order as
`tokenplan sweep` solves them. Each row names the worker that solved it, and the rows equal
those of `sweep` in process.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from conftest import DATASETS

from optimizer.economics import crf
from pipelines.definitions import build_defs
from pipelines.ingest.sources import read_inputs
from pipelines.planning.sweep import rises_with_budget, sweep

BUDGETS_MW = (10.0, 20.0, 40.0)
"""The job's default budgets (`TOKENPLAN_SWEEP_BUDGETS_MW` unset when the code location loaded)."""


def sweep_budgets_job() -> dg.JobDefinition:
    """The job as the code location defines it (the workers rebuild it from here)."""
    return build_defs().resolve_job_def("sweep_budgets")


def test_the_budget_sweep_runs_on_a_local_dask_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    warehouse = tmp_path / "warehouse"
    # Read when each worker process loads the code location.
    monkeypatch.setenv("TOKENPLAN_DATA", str(DATASETS))
    monkeypatch.setenv("TOKENPLAN_WAREHOUSE", str(warehouse))
    with dg.instance_for_test() as instance:
        result = dg.execute_job(dg.reconstructable(sweep_budgets_job), instance=instance)
        assert result.success
        assert result.dagster_run.tags["tokenplan/scale_out"] == "dask"
        steps = {
            e.step_key
            for e in result.all_events
            if e.event_type == dg.DagsterEventType.STEP_SUCCESS
        }
        # each budget and one MW more (`budget_pairs`) in one contiguous chunk per worker
        # (`TOKENPLAN_DASK_WORKERS` unset: 2), as `tokenplan sweep` solves them
        assert steps == {"solve_10_to_20_mw", "solve_21_to_41_mw", "collect_sweep"}

    (table,) = (warehouse / "budget_sweeps").glob("*.csv")
    rows = pl.read_csv(table).to_dicts()
    assert [r["budget_mw"] for r in rows] == list(BUDGETS_MW)
    assert all(r["status"] == "optimal" for r in rows)
    assert all(r["worker"].startswith("tcp://127.0.0.1:") for r in rows)  # solved on Dask workers
    assert all(r["grid_power_mw"] <= budget for r, budget in zip(rows, BUDGETS_MW, strict=True))
    # more megawatts never cost more per token but for the extra interconnect they pay
    scenario = read_inputs(DATASETS)["scenario"].row(0, named=True)
    grid_usd_per_mw_year = (
        1000.0
        * scenario["grid_connection_capex_usd_per_kw"]
        * crf(scenario["wacc"], scenario["facility_lifetime_years"])
    )
    assert rises_with_budget(rows, grid_usd_per_mw_year, 1e-4) == []
    assert [r["marginal_budget_mw"] for r in rows] == [b + 1 for b in BUDGETS_MW]
    # the frontier's rows, +1 MW solved: at 10 MW one more adds tokens; at 20 and 40 MW the
    # plan leaves megawatts empty (nothing left adds tokens below the plan's cost per token)
    assert all(r["marginal_tokens_per_year"] is not None for r in rows)
    assert rows[0]["marginal_tokens_per_year"] > 0

    # the rows of `sweep` in process, within the gap (a chunk's first budget starts from the
    # greedy plan there, from the plan below here)
    expected = sweep(read_inputs(DATASETS), list(BUDGETS_MW), jobs=1)["rows"]
    for row, same in zip(rows, expected, strict=True):
        assert row["status"] == same["status"]
        assert row["power_design"] == same["power_design"]
        for field in ("cost_per_million_tokens_usd", "marginal_cost_per_million_tokens_usd"):
            assert row[field] == pytest.approx(same[field], rel=1e-3, abs=1e-6)
        assert row["tokens_per_year"] == pytest.approx(same["tokens_per_year"], rel=1e-3)
