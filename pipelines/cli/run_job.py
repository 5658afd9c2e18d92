"""Running a tokenplan job in process on Dagster's instance (the CLI's path to the pipeline)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.errors import DagsterAssetCheckFailedError  # not exported at the top level
from filelock import FileLock

from pipelines.contract.errors import PlanCheckFailed
from pipelines.contract.schema import TABLES
from pipelines.warehouse import snapshots
from pipelines.warehouse.paths import ensure_dagster_home


@dataclass(frozen=True)
class JobResult:
    run_id: str
    written: dict[str, str]
    """Asset key → file written by the warehouse IO manager (a table: its file in the new
    snapshot)."""
    snapshot_id: str | None = None
    """The tables snapshot the run committed (None: the run had no `tables_snapshot` step)."""


def run_job(
    job_name: str,
    data_dir: Path,
    warehouse_dir: Path,
    run_config: dict[str, Any] | None = None,
    log_level: str = "WARNING",
    on_step: Callable[[str], None] | None = None,
) -> JobResult:
    """Execute `job_name` against `data_dir` and `warehouse_dir`, recorded in the Dagster instance.

    A step's error is re-raised as the exception the step raised (an `InputError` stays
    an `InputError`), so the CLI reports bad input the same way whether it was found
    before or during the run. Dagster's console log shows `log_level` and above; every
    event is in the instance's event log either way. `on_step(step_key)` is called as each
    step starts (the instance's event listener for the run, in this process).
    """
    from pipelines.definitions import build_defs

    home = ensure_dagster_home()
    job = build_defs(data_dir, warehouse_dir).resolve_job_def(job_name)
    run_config = {
        **(run_config or {}),
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    run_id = str(uuid.uuid4())
    # Opening a new SQLite instance creates its tables; two processes doing it at once leave two
    # schema versions behind and the instance unusable, so they take turns.
    with FileLock(home / ".tokenplan-instance.lock"):
        instance = dg.DagsterInstance.get()
    with instance:
        if on_step is not None:
            instance.add_event_listener(run_id, _step_listener(on_step))
        try:
            result = job.execute_in_process(instance=instance, run_config=run_config, run_id=run_id)
        except dg.DagsterUserCodeExecutionError as error:
            if isinstance(error.user_exception, DagsterAssetCheckFailedError):
                raise PlanCheckFailed(str(error.user_exception)) from None
            raise error.user_exception from None
        except DagsterAssetCheckFailedError as error:
            raise PlanCheckFailed(str(error)) from None
        finally:
            snapshots.discard(warehouse_dir, run_id)  # what a failed run staged, and the run's pin
    written: dict[str, str] = {}
    snapshot_id: str | None = None
    materializations = _materializations(result)
    for materialization in materializations:
        if materialization.asset_key == dg.AssetKey("tables_snapshot"):
            value = materialization.metadata["snapshot_id"]  # text: "" when there is none
            if isinstance(value, dg.TextMetadataValue):
                snapshot_id = value.value or None
    for materialization in materializations:
        key = materialization.asset_key.to_user_string()
        path = materialization.metadata.get("path")
        if key in TABLES and snapshot_id is not None:
            written[key] = str(snapshots.table_path(warehouse_dir, snapshot_id, key))
        elif isinstance(path, dg.PathMetadataValue):
            written[key] = path.value
    return JobResult(run_id=result.run_id, written=written, snapshot_id=snapshot_id)


def _step_listener(on_step: Callable[[str], None]) -> Callable[[dg.EventLogEntry], None]:
    """An instance event listener calling `on_step` with the key of each step that starts; a
    failure to report is not the run's failure."""

    def listener(entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is not None and event.event_type == dg.DagsterEventType.STEP_START:
            try:
                on_step(event.step_key or "")
            except Exception:  # progress display only
                pass

    return listener


def _materializations(result: dg.ExecuteInProcessResult) -> list[dg.AssetMaterialization]:
    return [
        event.materialization
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    ]
