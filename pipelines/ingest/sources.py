"""The input folder as canonical tables: which files feed which tables, and reading them all.

`SOURCES` is the one map from input files to canonical tables; the Dagster ingest
assets, `tokenplan validate` and the input-folder sensor all use it. Each reader module
declares its source (`Source`: files, tables, read function, description) next to its
read function; this list only orders them.
"""

from __future__ import annotations

from pathlib import Path

from optimizer.types import InputFile
from pipelines.contract.errors import InputError, ProblemList
from pipelines.ingest.files import sha256
from pipelines.ingest.folder import relative_name
from pipelines.ingest.readers import (
    benchmarks,
    derived,
    facility,
    fleet,
    hardware,
    scenario,
    scenarios,
    tariffs,
)
from pipelines.ingest.source import Source, Tables

SOURCES: tuple[Source, ...] = (
    hardware.SOURCE,
    benchmarks.SOURCE,
    derived.SOURCE,
    facility.COOLING_SOURCE,
    facility.POWER_SOURCE,
    tariffs.SOURCE,
    scenario.SOURCE,  # after tariffs: its tariff must be one of them
    fleet.SOURCE,  # after hardware, cooling, power and scenario: it is checked against them
    scenarios.SOURCE,  # after scenario, hardware and tariffs: each overlay is applied to them
)
"""Every source, each after the sources of its `upstream` tables."""


def file_hashes(data_dir: Path, source: Source) -> list[InputFile]:
    """Each input file of `source`: its name relative to the data folder, size and SHA-256."""
    return [
        {"file": relative_name(data_dir, p), "bytes": p.stat().st_size, "sha256": sha256(p)}
        for p in source.files(data_dir)
    ]


def read_inputs(data_dir: Path) -> Tables:
    """Every canonical table of the input folder, or one `InputError` with every problem of
    every file found. A source whose upstream tables failed is still read, without the
    checks against them, so one bad tariff does not hide a bad scenario."""
    tables: Tables = {}
    problems = ProblemList()
    for source in SOURCES:  # a source's upstream sources come before it
        upstream = {name: tables[name] for name in source.upstream if name in tables}
        try:
            tables |= source.read(data_dir, upstream)
        except InputError as error:
            problems.extend(error.problems)
    problems.raise_if_any()
    return tables
