"""Running a tokenplan job in process on Dagster's instance (the CLI's path to the pipeline)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.paths import ensure_dagster_home


@dataclass(frozen=True)
class JobResult:
    run_id: str
    written: dict[str, str]
    """Asset key → file written by the warehouse IO manager."""


def run_job(job_name: str, data_dir: Path, warehouse_dir: Path, run_config: dict[str, Any] | None = None,
            log_level: str = "WARNING") -> JobResult:
    """Execute `job_name` against `data_dir` and `warehouse_dir`, recorded in the Dagster instance.

    A step's error is re-raised as the exception the step raised (an `InputError` stays
    an `InputError`), so the CLI reports bad input the same way whether it was found
    before or during the run. Dagster's console log shows `log_level` and above; every
    event is in the instance's event log either way.
    """
    from pipelines.definitions import build_defs

    ensure_dagster_home()
    job = build_defs(data_dir, warehouse_dir).resolve_job_def(job_name)
    run_config = {**(run_config or {}), "loggers": {"console": {"config": {"log_level": log_level}}}}
    with dg.DagsterInstance.get() as instance:
        try:
            result = job.execute_in_process(instance=instance, run_config=run_config)
        except dg.DagsterUserCodeExecutionError as error:
            raise error.user_exception from None
    written = {}
    for materialization in _materializations(result):
        path = materialization.metadata.get("path")
        if path is not None:
            written[materialization.asset_key.to_user_string()] = path.value
    return JobResult(run_id=result.run_id, written=written)


def _materializations(result: dg.ExecuteInProcessResult) -> list[dg.AssetMaterialization]:
    return [event.event_specific_data.materialization for event in result.all_events
            if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]
