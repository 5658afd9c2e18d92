"""The Dagster code location `tokenplan`: every asset, check, job, schedule and sensor.

`tokenplan ui` (`dg dev -w workspace.yaml`) loads `defs`; the CLI calls `build_defs` with
the folders it was given. The location's name, `tokenplan`, is set twice and must match:
`location_name` in workspace.yaml and `code_location_name` under [tool.dg.project] in
pyproject.toml (`load_from_defs_folder` compares them on every load and warns if they differ).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg

from pipelines.defs.executors import MULTIPROCESS
from pipelines.defs.partitions import SCENARIOS_GROUP
from pipelines.defs.resources import default_resources
from pipelines.warehouse.paths import PROJECT_ROOT

# Dagster marks APIs as beta, preview or superseded with warnings meant for whoever writes the
# code location; a planner running `tokenplan` or the UI can do nothing about them.
for _category in (dg.BetaWarning, dg.PreviewWarning, dg.SupersessionWarning):
    warnings.filterwarnings("ignore", category=_category)

ingest_only = dg.define_asset_job(
    "ingest_only",
    selection=dg.AssetSelection.groups("ingest"),
    description="Read and validate every input file into the canonical Parquet tables.",
)
replan = dg.define_asset_job(
    "replan",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(SCENARIOS_GROUP),
    description="Ingest every input, rebuild the design space and solve the build plan and the "
    "multi-year plan (the scenario runs are partitioned: `scenario_runs`).",
    executor_def=MULTIPROCESS,
)


def build_defs(data_dir: Path | None = None, warehouse_dir: Path | None = None) -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=PROJECT_ROOT / "pipelines" / "defs"),
        dg.Definitions(
            jobs=[ingest_only, replan], resources=default_resources(data_dir, warehouse_dir)
        ),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_defs()
