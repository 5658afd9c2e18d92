"""The input folder as canonical tables: which files feed which tables, and reading them all.

`SOURCES` is the one map from input files to canonical tables; the Dagster ingest
assets, `tokenplan validate` and the input-folder sensor all use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.contract.errors import InputError, ProblemList
from pipelines.ingest.readers.benchmarks import read_benchmarks
from pipelines.ingest.readers.facility import read_cooling, read_power
from pipelines.ingest.files import sha256
from pipelines.ingest.readers.hardware import read_hardware
from pipelines.ingest.readers.scenario import check_tariff_reference, read_scenario
from pipelines.ingest.folder import find_inputs, relative_name
from pipelines.ingest.readers.tariffs import read_tariffs

Tables = dict[str, pl.DataFrame]


@dataclass(frozen=True)
class Source:
    """A group of input files and the canonical tables read from them.

    `upstream` names canonical tables the reader checks references against (the
    scenario's tariff must be one of the tariffs).
    """

    name: str
    patterns: tuple[str, ...]
    tables: tuple[str, ...]
    read: Callable[[Path, Mapping[str, pl.DataFrame]], Tables]
    description: str
    upstream: tuple[str, ...] = ()

    def files(self, data_dir: Path) -> list[Path]:
        return find_inputs(data_dir, self.patterns)


def _read_tariffs(data_dir: Path, _: Mapping[str, pl.DataFrame]) -> Tables:
    tables = read_tariffs(data_dir)
    return {"tariffs": tables.tariffs, "tariff_energy_rates": tables.energy_rates,
            "tariff_demand_rates": tables.demand_rates, "tariff_schedules": tables.schedules}


def _read_scenario(data_dir: Path, upstream: Mapping[str, pl.DataFrame]) -> Tables:
    tables = read_scenario(data_dir)
    if "tariffs" in upstream:
        check_tariff_reference(tables.scenario, upstream["tariffs"])
    return {"scenario": tables.scenario, "workloads": tables.workloads}


SOURCES: tuple[Source, ...] = (
    Source("hardware", ("hardware/*.csv", "hardware/*.xlsx"), ("hardware",),
           lambda d, _: {"hardware": read_hardware(d)},
           "Price sheets (CSV, XLSX sheet `hardware`): purchasable and rentable systems."),
    Source("benchmarks", ("benchmarks/*.csv", "benchmarks/inferencemax/*.json", "benchmarks/mlperf/*.json"),
           ("benchmarks",), lambda d, _: {"benchmarks": read_benchmarks(d)},
           "Throughput operating points from InferenceMAX, MLPerf Inference and canonical CSV files."),
    Source("cooling", ("cooling.csv",), ("cooling",), lambda d, _: {"cooling": read_cooling(d)},
           "Cooling options: air, direct-to-chip liquid, immersion."),
    Source("power", ("power.csv",), ("power",), lambda d, _: {"power": read_power(d)},
           "Power-delivery designs: 415/480 VAC, 800 VDC."),
    Source("tariffs", ("tariffs/*.json", "tariffs/*.csv"),
           ("tariffs", "tariff_energy_rates", "tariff_demand_rates", "tariff_schedules"), _read_tariffs,
           "Energy tariffs: OpenEI URDB documents and flat CSV tariffs."),
    Source("scenario", ("scenario.yaml",), ("scenario", "workloads"), _read_scenario,
           "The planning question: site, finance and workloads with SLOs.", upstream=("tariffs",)),
)


def file_hashes(data_dir: Path, source: Source) -> list[dict]:
    """Each input file of `source`: its name relative to the data folder, size and SHA-256."""
    return [{"file": relative_name(data_dir, p), "bytes": p.stat().st_size, "sha256": sha256(p)}
            for p in source.files(data_dir)]


def read_inputs(data_dir: Path) -> Tables:
    """Every canonical table of the input folder, or one `InputError` with every problem of
    every file found. A source whose upstream tables failed is still read, without the
    checks against them, so one bad tariff does not hide a bad scenario."""
    tables: Tables = {}
    problems = ProblemList()
    for source in SOURCES:  # a source's upstream sources come before it
        try:
            tables |= source.read(data_dir, {name: tables[name] for name in source.upstream if name in tables})
        except InputError as error:
            problems.extend(error.problems)
    problems.raise_if_any()
    return tables
