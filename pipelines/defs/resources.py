"""Resources: the input folder and the warehouse IO manager."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from pipelines import paths
from pipelines.storage import write_atomically


class InputFolder(dg.ConfigurableResource):
    """The folder of raw inputs (price sheets, tariffs, benchmarks, scenario)."""

    path: str

    @property
    def dir(self) -> Path:
        return Path(self.path)


class Warehouse(dg.ConfigurableResource):
    """The warehouse folder, for what is kept beside the asset files (the plan history)."""

    path: str

    @property
    def dir(self) -> Path:
        return Path(self.path)


class WarehouseIOManager(dg.ConfigurableIOManager):
    """One file per asset in the warehouse folder: polars frames as Parquet, documents as JSON.

    `warehouse/benchmarks.parquet` holds the asset `benchmarks`. A file is written to a
    temporary name and renamed over the old one, so a reader never sees half a file, and
    a failed step (which never reaches `handle_output`) leaves the last good file as it was.

    Written here rather than taken from dagster-polars: that package pins polars < 2
    (it calls `scan_parquet(rechunk=...)`), and we need the atomic replace anyway.
    An input annotated `pl.LazyFrame` is scanned lazily; `pl.DataFrame` is read eagerly.
    """

    base_dir: str

    def path_for(self, key: dg.AssetKey, suffix: str) -> Path:
        return Path(self.base_dir) / ("__".join(key.path) + suffix)

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        if isinstance(obj, pl.LazyFrame):
            obj = obj.collect()
        if isinstance(obj, pl.DataFrame):
            path = self.path_for(context.asset_key, ".parquet")
            write_atomically(path, lambda tmp: obj.write_parquet(tmp))
        else:
            path = self.path_for(context.asset_key, ".json")
            write_atomically(path, lambda tmp: Path(tmp).write_text(json.dumps(obj, indent=2, default=str)))
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> Any:
        key = context.asset_key
        parquet = self.path_for(key, ".parquet")
        if parquet.exists():
            if context.dagster_type.typing_type is pl.LazyFrame:
                return pl.scan_parquet(parquet)
            return pl.read_parquet(parquet)
        document = self.path_for(key, ".json")
        if document.exists():
            return json.loads(document.read_text())
        raise FileNotFoundError(f"{parquet} not found: materialize the asset '{key.to_user_string()}' first")


def default_resources(data: Path | None = None, warehouse: Path | None = None) -> dict[str, Any]:
    warehouse = warehouse or paths.warehouse_dir()
    return {
        "input_folder": InputFolder(path=str(data or paths.data_dir())),
        "warehouse": Warehouse(path=str(warehouse)),
        "io_manager": WarehouseIOManager(base_dir=str(warehouse)),
    }
