"""A source: a group of input files and the canonical tables read from them.

Each reader module in `pipelines/ingest/readers/` declares its source(s) next to its read
function, with the file patterns the reader finds its files by; `pipelines.ingest.sources`
lists them in the order they are read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.ingest.folder import find_inputs

Tables = dict[str, pl.DataFrame]


@dataclass(frozen=True)
class Source:
    """A group of input files and the canonical tables read from them.

    `patterns` are globs relative to the data folder (`hardware/*.csv`); `read(data_dir,
    upstream)` returns every table of `tables`. `upstream` names canonical tables of sources
    read before this one that the reader checks references against (the scenario's tariff
    must be one of the tariffs); `read` gets those that were read without problems.
    `exclude` names files (relative to the data folder) that match a pattern but belong to
    another source (`benchmarks/derived.csv` is no benchmarks CSV). An `optional` source may
    have no file at all: its tables are then empty.
    """

    name: str
    patterns: tuple[str, ...]
    tables: tuple[str, ...]
    read: Callable[[Path, Mapping[str, pl.DataFrame]], Tables]
    description: str
    upstream: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    optional: bool = False

    def files(self, data_dir: Path) -> list[Path]:
        return find_inputs(data_dir, self.patterns, self.exclude)
