"""Facility options: `cooling.csv` and `power.csv`."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.contract.schema import COOLING, POWER, Table
from pipelines.ingest.folder import input_file
from pipelines.ingest.source import Source
from pipelines.ingest.tabular import read_table_file

COOLING_FILE = "cooling.csv"
POWER_FILE = "power.csv"


def _read_single(data_dir: Path, file_name: str, table: Table) -> pl.DataFrame:
    return read_table_file(input_file(data_dir, file_name), file_name, table).sort(table.key)


def read_cooling(data_dir: Path) -> pl.DataFrame:
    """Cooling options, one row per `cooling_id`."""
    return _read_single(data_dir, COOLING_FILE, COOLING)


COOLING_SOURCE = Source(
    name="cooling",
    patterns=(COOLING_FILE,),
    tables=("cooling",),
    read=lambda data_dir, _: {"cooling": read_cooling(data_dir)},
    description="Cooling options: air, direct-to-chip liquid, immersion.",
)


def read_power(data_dir: Path) -> pl.DataFrame:
    """Power-delivery designs, one row per `power_id`."""
    return _read_single(data_dir, POWER_FILE, POWER)


POWER_SOURCE = Source(
    name="power",
    patterns=(POWER_FILE,),
    tables=("power",),
    read=lambda data_dir, _: {"power": read_power(data_dir)},
    description="Power-delivery designs: 415/480 VAC, 800 VDC.",
)
