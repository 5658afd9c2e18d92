"""Ingest: one asset per canonical table, read from the input folder and written as Parquet.

Each source (a group of input files, see `pipelines.ingest.sources.SOURCES`) becomes one
multi-asset producing its canonical tables, staged for the run. `tables_snapshot` then
commits the run's tables as one new snapshot (`pipelines.warehouse.snapshots`). A source whose
files have a problem fails its step with every problem listed; the snapshot step is then
skipped and the last complete snapshot stays current.
"""

import dagster as dg
import polars as pl

from pipelines.contract.schema import TABLES, Table
from pipelines.defs.automation.conditions import REPLAN
from pipelines.defs.metadata import COUNT, TEXT, Column, records_table, table_metadata
from pipelines.defs.partitions import snapshot_scenarios, sync_scenario_partitions
from pipelines.defs.resources import SNAPSHOT_ASSET, InputFolder, Warehouse
from pipelines.ingest.source import Source
from pipelines.ingest.sources import SOURCES, file_hashes
from pipelines.ingest.tabular import table_problems
from pipelines.warehouse import snapshots

GROUP = "ingest"
SNAPSHOT_TABLES = (
    Column("table", TEXT, "canonical table"),
    Column("rows", COUNT),
    Column("bytes", COUNT, "size of its Parquet file"),
    Column("run_id", TEXT, "the run that ingested it"),
)


def build_ingest_asset(source: Source) -> dg.AssetsDefinition:
    outs = {
        table: dg.AssetOut(
            group_name=GROUP,
            description=TABLES[table].doc
            + f"\n\nRead from `{'`, `'.join(source.patterns)}` in the input folder.",
            kinds={"polars", "parquet"},
            owners=["team:capacity-planning"],
            tags={"source": source.name},
            is_required=True,
        )
        for table in source.tables
    }
    ins = {table: dg.AssetIn(key=table) for table in source.upstream}

    @dg.multi_asset(
        name=f"ingest_{source.name}", outs=outs, ins=ins, description=source.description
    )
    def ingest(
        context: dg.AssetExecutionContext, input_folder: InputFolder, **upstream: pl.DataFrame
    ):
        files = file_hashes(input_folder.dir, source)
        tables = source.read(input_folder.dir, upstream)
        for name in source.tables:
            context.log.info(f"{name}: {tables[name].height} rows from {len(files)} files")
            yield dg.Output(
                tables[name],
                output_name=name,
                metadata=table_metadata(tables[name], TABLES[name], files),
            )

    return ingest


def build_contract_check(table: Table) -> dg.AssetChecksDefinition:
    """The Parquet table has the canonical schema, unique keys, no missing values, values in
    range."""

    @dg.asset_check(
        asset=table.name,
        name="matches_contract",
        blocking=True,
        description=f"{table.name}: canonical columns and types, unique key, no missing required "
        f"values, every value within its range.",
    )
    def check(frame: pl.DataFrame) -> dg.AssetCheckResult:
        problems = table_problems(frame, table)
        return dg.AssetCheckResult(
            passed=not problems,
            metadata={
                "problems": dg.MetadataValue.md(
                    "\n".join(f"- {p}" for p in problems[:50]) or "none"
                ),
                "rows": frame.height,
            },
        )

    return check


ingest_assets = [build_ingest_asset(source) for source in SOURCES]
contract_checks = [
    build_contract_check(TABLES[name]) for source in SOURCES for name in source.tables
]


@dg.asset_check(
    asset="benchmarks",
    name="covers_hardware",
    additional_ins={"hardware": dg.AssetIn("hardware")},
    description="Every bought system's accelerator has at least one benchmark row (warns if not).",
)
def benchmarks_cover_hardware(
    benchmarks: pl.DataFrame, hardware: pl.DataFrame
) -> dg.AssetCheckResult:
    measured = set(benchmarks["accelerator"].unique())
    missing = sorted(set(hardware["accelerator"]) - measured)
    return dg.AssetCheckResult(
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"accelerators_without_benchmarks": ", ".join(missing) or "none"},
    )


@dg.asset(
    name=SNAPSHOT_ASSET,
    group_name=GROUP,
    deps=[table for source in SOURCES for table in source.tables],
    kinds={"parquet"},
    owners=["team:capacity-planning"],
    automation_condition=REPLAN,
)
def tables_snapshot(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Every canonical table as one consistent snapshot, `snapshots/<snapshot_id>/` in the
    warehouse: the tables this run ingested over the previous snapshot's others, switched to
    in one step (`snapshots/CURRENT`). Skipped when an ingest step of the run failed, so the
    last complete snapshot stays current. Everything that reads tables runs after it.
    """
    run_id = context.run.run_id
    commit = snapshots.commit(warehouse.dir, run_id, ancestors=_reexecuted_runs(context))
    tables = commit.manifest["tables"]
    if commit.created:
        written = ", ".join(name for name, entry in tables.items() if entry["run_id"] == run_id)
        previous = commit.manifest["previous"]
        context.log.info(
            f"snapshot {commit.snapshot_id} is current: {written} from this run"
            + (f", the other tables as in {previous}" if previous else "")
        )
    else:
        context.log.info(
            f"no table staged in this run: snapshot {commit.snapshot_id} stays current"
        )
    added, removed = sync_scenario_partitions(
        context.instance, snapshot_scenarios(warehouse.dir, commit.snapshot_id)
    )
    if added or removed:
        context.log.info(
            f"scenario partitions: {', '.join(added) or 'none'} added, "
            f"{', '.join(removed) or 'none'} removed"
        )
    listing = [{"table": name} | entry for name, entry in tables.items()]
    metadata: dict[str, dg.MetadataValue | str | bool] = {
        "snapshot_id": commit.snapshot_id or "",
        "new_snapshot": commit.created,
        "tables": records_table(listing, SNAPSHOT_TABLES),
    }
    if commit.snapshot_id:
        metadata["path"] = dg.MetadataValue.path(
            str(snapshots.snapshot_dir(warehouse.dir, commit.snapshot_id))
        )
    return dg.MaterializeResult(metadata=metadata)


def _reexecuted_runs(context: dg.AssetExecutionContext) -> list[str]:
    """A re-execution's parent run, its parent, ...: what they staged and this run did not
    ingest again is part of this run's tables."""
    runs = []
    run = context.run
    while run is not None and run.parent_run_id and run.parent_run_id not in runs:
        runs.append(run.parent_run_id)
        run = context.instance.get_run_by_id(run.parent_run_id)
    return runs


defs = dg.Definitions(
    assets=[*ingest_assets, tables_snapshot],
    asset_checks=[*contract_checks, benchmarks_cover_hardware],
)
