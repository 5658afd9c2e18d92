"""Ingest: one asset per canonical table, read from the input folder and written as Parquet.

Each source (a group of input files, see `pipelines.ingest.SOURCES`) becomes one
multi-asset producing its canonical tables. A source whose files have a problem fails
its step with every problem listed, and its tables' last good Parquet stays in place.
"""


import dagster as dg
import polars as pl

from pipelines.defs.metadata import table_metadata
from pipelines.defs.resources import InputFolder
from pipelines.ingest import SOURCES, Source, file_hashes
from pipelines.readers.tabular import table_problems
from pipelines.schema import TABLES, Table

GROUP = "ingest"


def build_ingest_asset(source: Source) -> dg.AssetsDefinition:
    outs = {
        table: dg.AssetOut(
            group_name=GROUP,
            description=TABLES[table].doc + f"\n\nRead from `{'`, `'.join(source.patterns)}` in the input folder.",
            kinds={"polars", "parquet"},
            owners=["team:capacity-planning"],
            tags={"source": source.name},
            is_required=True,
        )
        for table in source.tables
    }
    ins = {table: dg.AssetIn(key=table) for table in source.upstream}

    @dg.multi_asset(name=f"ingest_{source.name}", outs=outs, ins=ins, description=source.description)
    def ingest(context: dg.AssetExecutionContext, input_folder: InputFolder, **upstream: pl.DataFrame):
        files = file_hashes(input_folder.dir, source)
        tables = source.read(input_folder.dir, upstream)
        for name in source.tables:
            context.log.info(f"{name}: {tables[name].height} rows from {len(files)} files")
            yield dg.Output(tables[name], output_name=name, metadata=table_metadata(tables[name], TABLES[name], files))

    return ingest


def build_contract_check(table: Table) -> dg.AssetChecksDefinition:
    """The Parquet table has the canonical schema, unique keys, no missing values, values in range."""

    @dg.asset_check(asset=table.name, name="matches_contract", blocking=True,
                    description=f"{table.name}: canonical columns and types, unique key, no missing required "
                                f"values, every value within its range.")
    def check(frame: pl.DataFrame) -> dg.AssetCheckResult:
        problems = table_problems(frame, table)
        return dg.AssetCheckResult(
            passed=not problems,
            metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:50]) or "none"),
                      "rows": frame.height},
        )

    return check


ingest_assets = [build_ingest_asset(source) for source in SOURCES]
contract_checks = [build_contract_check(TABLES[name]) for source in SOURCES for name in source.tables]


@dg.asset_check(asset="benchmarks", name="covers_hardware", additional_ins={"hardware": dg.AssetIn("hardware")},
                description="Every bought system's accelerator has at least one benchmark row (warns if not).")
def benchmarks_cover_hardware(benchmarks: pl.DataFrame, hardware: pl.DataFrame) -> dg.AssetCheckResult:
    measured = set(benchmarks["accelerator"].unique())
    missing = sorted(set(hardware["accelerator"]) - measured)
    return dg.AssetCheckResult(
        passed=not missing, severity=dg.AssetCheckSeverity.WARN,
        metadata={"accelerators_without_benchmarks": ", ".join(missing) or "none"},
    )


defs = dg.Definitions(assets=ingest_assets, asset_checks=[*contract_checks, benchmarks_cover_hardware])
