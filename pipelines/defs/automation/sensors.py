"""Sensors that re-plan when something changes: a file in the input folder, or an upstream asset.

Both are on by default (`default_status=RUNNING`) and need the Dagster daemon
(`tokenplan ui` starts it):

- `input_folder_sensor` hashes the input folder every `TOKENPLAN_SENSOR_INTERVAL_S`
  seconds and, when a file's content changed, requests one `replan` run of the ingest
  assets that read it and everything downstream (see `pipelines.defs.automation.watch`).
- `automation_condition_sensor` evaluates the assets' automation conditions: a manual
  re-ingest in the UI re-materializes `design_space`, `build_plan` and the exports (eager).
"""

import os
import time

import dagster as dg

from pipelines.defs.automation.watch import Cursor, folder_hashes, next_tick, sources_reading
from pipelines.defs.design.assets import INGESTED
from pipelines.defs.metadata import ingested_hashes
from pipelines.defs.partitions import SCENARIOS_GROUP
from pipelines.defs.resources import InputFolder

INTERVAL_S = int(os.environ.get("TOKENPLAN_SENSOR_INTERVAL_S", "30"))
"""Seconds between two evaluations of each sensor (read when the code location loads)."""


def settle_s() -> float:
    """Seconds a changed input folder must stay unchanged before the re-plan is requested
    (`TOKENPLAN_SENSOR_SETTLE_S`, default 20; read at every tick)."""
    return float(os.environ.get("TOKENPLAN_SENSOR_SETTLE_S", "20"))


IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dg.sensor(
    job_name="replan",
    minimum_interval_seconds=INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Re-plans when an input file is added, changed or removed (by SHA-256, not "
    "modification time): one `replan` run of the ingest assets reading the changed files and "
    "everything downstream (the scenario runs then follow, one run per scenario, by their "
    "automation condition). A failed run is not retried: fix the file and the next tick re-plans.",
)
def input_folder_sensor(
    context: dg.SensorEvaluationContext, input_folder: InputFolder
) -> dg.SensorResult:
    if context.cursor:
        cursor = Cursor.from_json(context.cursor)
    else:
        # No cursor yet: start from what the warehouse's tables were read from, so turning the
        # sensor on re-plans only if the folder differs from it (and everything on a new instance).
        cursor = Cursor(files=ingested_hashes(context.instance, INGESTED))
    if _runs(context, IN_PROGRESS, limit=1):
        return dg.SensorResult(
            skip_reason="a re-plan is in progress; changes wait for it to finish",
            cursor=cursor.to_json(),
        )
    tick = next_tick(cursor, folder_hashes(input_folder.dir), time.time(), settle_s())
    if not tick.request:
        return dg.SensorResult(
            skip_reason=_with_last_failure(context, tick.reason), cursor=tick.cursor.to_json()
        )
    ingest_keys = [
        dg.AssetKey(t) for source in sources_reading(tick.changed) for t in source.tables
    ]
    repository = context.repository_def
    assert repository is not None  # Dagster evaluates a sensor with its code location's repository
    changed = dg.AssetSelection.assets(*ingest_keys).downstream()
    scenario_runs = dg.AssetSelection.groups(SCENARIOS_GROUP)  # per partition, by automation
    selection = (changed - scenario_runs).resolve(repository.asset_graph)
    context.log.info(
        f"{tick.reason}; materializing {', '.join(sorted(k.to_user_string() for k in selection))}"
    )
    request = dg.RunRequest(
        run_key=tick.cursor.run_key,
        asset_selection=sorted(selection, key=lambda k: k.to_user_string()),
        tags={
            "tokenplan/trigger": "input_folder",
            "tokenplan/changed_files": ", ".join(tick.changed)[:1000],
        },
    )
    return dg.SensorResult(run_requests=[request], cursor=tick.cursor.to_json())


def _runs(
    context: dg.SensorEvaluationContext, statuses: list[dg.DagsterRunStatus], limit: int
) -> list[dg.DagsterRun]:
    """This sensor's latest runs in one of `statuses`."""
    return list(
        context.instance.get_runs(
            filters=dg.RunsFilter(
                tags={"dagster/sensor_name": context.sensor_name}, statuses=statuses
            ),
            limit=limit,
        )
    )


def _with_last_failure(context: dg.SensorEvaluationContext, reason: str) -> str:
    """`reason`, and if this sensor's latest finished run failed, which run and what to do."""
    finished = _runs(
        context,
        [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
        limit=1,
    )
    if finished and finished[0].status == dg.DagsterRunStatus.FAILURE:
        run = finished[0]
        files = run.tags.get("tokenplan/changed_files", "")
        return (
            f"{reason}; the last re-plan (run {run.run_id}, after {files}) failed: the warehouse "
            f"keeps the last good tables and plan, fix the input file to re-plan"
        )
    return reason


automation_condition_sensor = dg.AutomationConditionSensorDefinition(
    "automation_condition_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=INTERVAL_S,
    emit_backfills=False,
    description="Evaluates every asset's automation condition: `design_space`, `build_plan` and "
    "the exports are eager, so a manual re-ingest re-plans. Must be on for that.",
)
