"""The Dagster code location: every asset, check, job, schedule and sensor of tokenplan.

`dagster dev -w workspace.yaml` and `tokenplan ui` load `defs`; the CLI calls
`build_defs` with the folders it was given.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import default_resources
from pipelines.warehouse.paths import PROJECT_ROOT

ingest_only = dg.define_asset_job(
    "ingest_only",
    selection=dg.AssetSelection.groups("ingest"),
    description="Read and validate every input file into the canonical Parquet tables.",
)
replan = dg.define_asset_job(
    "replan",
    selection=dg.AssetSelection.all(),
    description="Ingest every input, rebuild the design space and solve the build plan.",
    # One process per step when the daemon or the UI launches it (the CLI runs it in process);
    # steps fork from a server that has imported the project (and the instance's SQL storage)
    # once, instead of each importing it again: seconds per step.
    executor_def=dg.multiprocess_executor.configured(
        {
            "start_method": {
                "forkserver": {
                    "preload_modules": [
                        "pipelines.planning.make_plan",
                        "pipelines.definitions",
                        "sqlalchemy",
                        "alembic",
                    ]
                }
            }
        }
    ),
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
