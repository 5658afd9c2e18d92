"""Derived operating points: `benchmarks/derived.csv` into the `benchmark_derivations` table.

A derivation says an accelerator without its own measurements of a model serves it at
`throughput_ratio` times another accelerator's measured tokens per second per GPU:

```
accelerator,model,from_accelerator,throughput_ratio,source
B300,deepseek-r1,B200,1.5,vendor claim: 1.5x B200 at equal interactivity
```

The file is optional: without it the table is empty. Accelerator and model names go
through `names.py` like every other name, so (accelerator, model) is unique by key, and
an accelerator is never derived from itself. The planner scales the measured points; a
derivation from an accelerator with no measured point of the model derives nothing.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.contract.errors import ProblemList
from pipelines.contract.schema import BENCHMARK_DERIVATIONS
from pipelines.ingest.folder import find_inputs, relative_name
from pipelines.ingest.names import accelerator_key, model_key
from pipelines.ingest.source import Source
from pipelines.ingest.tabular import read_table_file

DERIVED_FILE = "benchmarks/derived.csv"


def read_derivations(data_dir: Path) -> pl.DataFrame:
    """`benchmarks/derived.csv` with names mapped to their keys, sorted by key; empty (with the
    table's schema) when the file is absent."""
    files = find_inputs(data_dir, (DERIVED_FILE,))
    if not files:
        return BENCHMARK_DERIVATIONS.empty()
    [path] = files
    frame = read_table_file(
        path, relative_name(data_dir, path), BENCHMARK_DERIVATIONS, rules=_row_rules
    )
    return _with_keys(frame).sort(BENCHMARK_DERIVATIONS.key)


def _with_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Accelerator and model names as their keys (`names.py`)."""
    return frame.with_columns(
        pl.col("accelerator", "from_accelerator").map_elements(
            accelerator_key, return_dtype=pl.String
        ),
        pl.col("model").map_elements(model_key, return_dtype=pl.String),
    )


def _row_rules(frame: pl.DataFrame, rows: pl.Series, name: str, problems: ProblemList) -> None:
    """What a typed cell cannot say, on the names' keys (`H200` and `h200` are one accelerator).

    - an accelerator is not derived from itself;
    - (accelerator, model) is unique.
    """
    first_seen: dict[tuple[str, str], int] = {}
    keyed = _with_keys(frame.select("accelerator", "model", "from_accelerator").fill_null(""))
    for line, row in zip(rows, keyed.iter_rows(named=True), strict=True):
        accelerator, model = row["accelerator"], row["model"]
        if accelerator and accelerator == row["from_accelerator"]:
            problems.add(
                name,
                f"'{accelerator}' is derived from itself (from_accelerator must be another "
                "accelerator)",
                row=line,
                field="from_accelerator",
            )
        if not accelerator or not model:
            continue
        if (accelerator, model) in first_seen:
            problems.add(
                name,
                f"duplicate accelerator/model '{accelerator}, {model}' "
                f"(first on row {first_seen[accelerator, model]})",
                row=line,
                field="accelerator",
            )
        else:
            first_seen[accelerator, model] = line


SOURCE = Source(
    name="benchmark_derivations",
    patterns=(DERIVED_FILE,),
    tables=("benchmark_derivations",),
    read=lambda data_dir, _: {"benchmark_derivations": read_derivations(data_dir)},
    description="Derived operating points (optional): an accelerator's throughput on a model as a "
    "ratio of another accelerator's measured points.",
    optional=True,
)
