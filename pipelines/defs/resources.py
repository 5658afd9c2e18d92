"""Resources: the input folder and the warehouse IO manager.

Their folders come from `TOKENPLAN_DATA` and `TOKENPLAN_WAREHOUSE` when set (`tokenplan ui`
sets both from --data and --warehouse): configured as `dg.EnvVar`s, so the UI's resource
pages and the launchpad show which variable a folder comes from, and a run reads the variable
where it runs. Unset, the defaults (`pipelines.warehouse.paths`) are plain paths; the CLI,
which runs jobs in process, passes its folders as paths.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from pydantic import Field

from pipelines.contract.schema import TABLES
from pipelines.warehouse import paths, snapshots
from pipelines.warehouse.files import write_atomically


class InputFolder(dg.ConfigurableResource):
    """The folder of raw inputs (price sheets, tariffs, benchmarks, scenario)."""

    path: str = Field(
        description="The input folder the ingest assets and the input-folder sensor read "
        "(TOKENPLAN_DATA, `tokenplan ui --data`; default the bundled datasets/)."
    )

    @property
    def dir(self) -> Path:
        return Path(self.path)


class Warehouse(dg.ConfigurableResource):
    """The warehouse folder, for what is kept beside the asset files (the plan history,
    snapshots)."""

    path: str = Field(
        description="Where tables, plans and exports are written (TOKENPLAN_WAREHOUSE, "
        "`tokenplan ui --warehouse`; default warehouse/)."
    )

    @property
    def dir(self) -> Path:
        return Path(self.path)


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Canonical tables in snapshots; every other asset one file in the warehouse folder.

    A canonical table (`pipelines.contract.schema.TABLES`) is written to the run's staging folder
    and becomes visible when the run's `tables_snapshot` step commits the run's tables as
    one new snapshot (`pipelines.warehouse.snapshots`); a run without that step commits each
    table as it is written. A table input reads what this run wrote if it is not yet committed,
    otherwise the snapshot the run pinned at its first read (after its own commit: that
    one), so a run never reads tables of two snapshots.

    Any other asset is one file: `warehouse/design_space.json` holds the document
    `design_space`, `warehouse/tariff_profiles.parquet` the frame `tariff_profiles`; a
    partitioned asset one per partition (`warehouse/scenario_stress/<scenario>.json`), and an
    unpartitioned asset reading it gets {partition: value} of the partitions it depends on. It is
    written to a temporary name and renamed over the old one, so a reader never sees half
    a file, and a failed step (which never reaches `handle_output`) leaves the last good file.

    Written here rather than taken from dagster-polars: that package pins polars < 2
    (it calls `scan_parquet(rechunk=...)`), and we need the atomic replace anyway.
    An input annotated `pl.LazyFrame` is scanned lazily; `pl.DataFrame` is read eagerly.
    """

    base_dir: str = Field(
        description="The warehouse folder (TOKENPLAN_WAREHOUSE; as the `warehouse` resource)."
    )

    @property
    def warehouse(self) -> Path:
        return Path(self.base_dir)

    def path_for(self, key: dg.AssetKey, suffix: str, partition: str | None = None) -> Path:
        name = "__".join(key.path)
        if partition is not None:
            return self.warehouse / name / (partition + suffix)
        return self.warehouse / (name + suffix)

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        if isinstance(obj, pl.LazyFrame):
            obj = obj.collect()
        table = _table_name(context.asset_key)
        if table is not None and isinstance(obj, pl.DataFrame):
            snapshots.stage(
                self.warehouse,
                context.run_id,
                table,
                obj,
                _source_hashes(context.output_metadata.get("source_hashes")),
            )
            if not _commits_later(context.step_context):
                commit = snapshots.commit(self.warehouse, context.run_id, [table])
                assert commit.snapshot_id is not None  # it holds the table just staged
                context.log.info(
                    f"{table}: no `{SNAPSHOT_ASSET}` step in this run, committed as snapshot "
                    f"{commit.snapshot_id}"
                )
                path = snapshots.table_path(self.warehouse, commit.snapshot_id, table)
                context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})
            return
        partition = context.partition_key if context.has_asset_partitions else None
        if isinstance(obj, pl.DataFrame):
            path = self.path_for(context.asset_key, ".parquet", partition)
            write_atomically(path, lambda tmp: obj.write_parquet(tmp))
        else:
            path = self.path_for(context.asset_key, ".json", partition)
            write_atomically(
                path, lambda tmp: Path(tmp).write_text(json.dumps(obj, indent=2, default=str))
            )
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> Any:
        key = context.asset_key
        lazy = context.dagster_type.typing_type is pl.LazyFrame
        table = _table_name(key)
        if table is not None:
            try:
                run_id = context.step_context.run_id
            except (
                dg.DagsterInvariantViolationError
            ):  # loaded outside a run (`Definitions.load_asset_value`)
                return snapshots.read_table(
                    self.warehouse, snapshots.current_id(self.warehouse), table, lazy
                )
            return snapshots.staged_or_pinned(self.warehouse, run_id, table, lazy)
        if context.has_asset_partitions:  # an unpartitioned asset reads every partition
            return {
                partition: self._load(key, lazy, partition)
                for partition in context.asset_partition_keys
            }
        return self._load(key, lazy)

    def _load(self, key: dg.AssetKey, lazy: bool, partition: str | None = None) -> Any:
        parquet = self.path_for(key, ".parquet", partition)
        if parquet.exists():
            return pl.scan_parquet(parquet) if lazy else pl.read_parquet(parquet)
        document = self.path_for(key, ".json", partition)
        if document.exists():
            return json.loads(document.read_text())
        what = f"the asset '{key.to_user_string()}'" + (
            f" for the partition '{partition}'" if partition is not None else ""
        )
        raise FileNotFoundError(f"{parquet} not found: materialize {what} first")


SNAPSHOT_ASSET = "tables_snapshot"
"""The asset whose step commits a run's canonical tables (`pipelines.defs.ingest.assets`)."""


def _table_name(key: dg.AssetKey) -> str | None:
    return key.path[0] if len(key.path) == 1 and key.path[0] in TABLES else None


def _source_hashes(value: Any) -> dict[str, str]:
    """The `source_hashes` output metadata of an ingest step (see `table_metadata`)."""
    value = getattr(value, "value", value)
    return dict(value) if isinstance(value, dict) else {}


def _commits_later(step_context: Any) -> bool:
    """Whether this run has a `tables_snapshot` step to commit the tables its steps write."""
    run = step_context.dagster_run
    if run.step_keys_to_execute is not None:
        return SNAPSHOT_ASSET in run.step_keys_to_execute
    if run.asset_selection is not None:
        return dg.AssetKey(SNAPSHOT_ASSET) in run.asset_selection
    return step_context.job_def.has_node_named(SNAPSHOT_ASSET)


DATA_VARIABLE = "TOKENPLAN_DATA"
WAREHOUSE_VARIABLE = "TOKENPLAN_WAREHOUSE"


def folder_setting(given: Path | None, variable: str, default: Path) -> str:
    """A folder resource's value: the path given; else `variable` as a `dg.EnvVar` (read where
    the resource is used) if it is set; else the default path."""
    if given is not None:
        return str(given)
    if os.environ.get(variable):
        return dg.EnvVar(variable)
    return str(default)


def default_resources(data: Path | None = None, warehouse: Path | None = None) -> dict[str, Any]:
    """The resources of the code location: `data` and `warehouse` when given (the CLI's folders),
    else the environment's (`TOKENPLAN_DATA`, `TOKENPLAN_WAREHOUSE`), else the defaults."""
    data_setting = folder_setting(data, DATA_VARIABLE, paths.data_dir())
    warehouse_setting = folder_setting(warehouse, WAREHOUSE_VARIABLE, paths.warehouse_dir())
    return {
        "input_folder": InputFolder(path=data_setting),
        "warehouse": Warehouse(path=warehouse_setting),
        "io_manager": WarehouseIOManager(base_dir=warehouse_setting),
    }
