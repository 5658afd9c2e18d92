"""Facility options: `cooling.csv` and `power.csv`."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.ingest.folder import input_file
from pipelines.ingest.tabular import read_table_file
from pipelines.contract.schema import COOLING, POWER, Table


def _read_single(data_dir: Path, file_name: str, table: Table) -> pl.DataFrame:
    return read_table_file(input_file(data_dir, file_name), file_name, table).sort(table.key)


def read_cooling(data_dir: Path) -> pl.DataFrame:
    """Cooling options, one row per `cooling_id`."""
    return _read_single(data_dir, "cooling.csv", COOLING)


def read_power(data_dir: Path) -> pl.DataFrame:
    """Power-delivery designs, one row per `power_id`."""
    return _read_single(data_dir, "power.csv", POWER)
