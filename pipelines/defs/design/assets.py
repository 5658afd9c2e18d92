"""Design: the canonical tables turned into what the optimizer reads."""

import hashlib
from pathlib import Path
from typing import ClassVar

import dagster as dg
import polars as pl

from optimizer.design import UnknownTariff, plan_inputs, tariff_profile_frame
from optimizer.economics import combinations
from optimizer.inputs import PlanInputs, inputs_from_dict, inputs_to_dict
from optimizer.types import InputFile
from pipelines.defs.automation.conditions import REPLAN
from pipelines.defs.config import BUDGET_MW, Bounds, RunConfig
from pipelines.defs.metadata import (
    FLAG,
    MW,
    RATE,
    SECONDS,
    TEXT,
    Column,
    Kind,
    decimals,
    frame_table,
    more_rows,
    number,
    records_table,
    significant,
    whole,
)
from pipelines.defs.resources import SNAPSHOT_ASSET, InputFolder, Warehouse
from pipelines.ingest.sources import SOURCES
from pipelines.warehouse import snapshots

INGESTED = [table for source in SOURCES for table in source.tables]
TARIFF_TABLES = ("tariffs", "tariff_energy_rates", "tariff_demand_rates", "tariff_schedules")


class DesignConfig(RunConfig):
    """What the design space is built for: the grid budget, the tariff and how operating points
    are found (as `tokenplan replan --budget-mw`)."""

    RANGES: ClassVar[dict[str, Bounds]] = {"budget_mw": BUDGET_MW}

    budget_mw: float | None = None
    """Grid interconnect in MW, > 0 and <= 10,000; empty: the scenario's `budget_mw`."""
    tariff: str | None = None
    """Tariff id (a `tariff_id` of the tariffs/ folder) to price energy with; empty: the
    scenario's `tariff`."""
    interpolate: bool = True
    """Interpolate throughput at the SLO on each configuration's throughput–interactivity front
    (false: measured points only)."""


OPERATING_POINTS = (
    Column("sku", TEXT, "system"),
    Column("workload", TEXT),
    Column("configuration", TEXT, "serving configuration"),
    Column("tokens_per_s_per_gpu", RATE, "throughput per GPU at the workload's SLO"),
    Column("interactivity", RATE, "tokens/s per user"),
    Column("ttft_s", SECONDS, "time to first token"),
    Column("interpolated", FLAG, "interpolated between two measured points"),
    Column("derived", FLAG, "scaled from another accelerator's measurements"),
)
USD_PER_KWH = Kind("float", significant, "USD/kWh, 4 significant digits")
USD_PER_KW = Kind("float", decimals(2), "USD per kW, to the cent")
TARIFF_SUMMARY = (
    Column("tariff_id", TEXT),
    Column("mean_usd_per_kwh", USD_PER_KWH, "energy price weighted by the hours of each slice"),
    Column("min_usd_per_kwh", USD_PER_KWH, "cheapest slice"),
    Column("max_usd_per_kwh", USD_PER_KWH, "dearest slice"),
    Column("demand_periods", Kind("int", whole), "time-of-use demand periods"),
)


@dg.asset(
    group_name="design",
    ins={table: dg.AssetIn(table) for table in INGESTED},
    deps=[SNAPSHOT_ASSET],
    kinds={"python"},
    owners=["team:capacity-planning"],
    automation_condition=REPLAN,
)
def design_space(
    context: dg.AssetExecutionContext,
    config: DesignConfig,
    warehouse: Warehouse,
    input_folder: InputFolder,
    **tables: pl.DataFrame,
) -> dg.Output[dict]:
    """Per system × workload and serving configuration, the best operating point that meets the
    workload's SLO (measured, interpolated or derived); the
    feasible (system, cooling, power design) combinations; the tariff priced for the flat year
    and per representative slice (what time-resolved plans read, as in `tariff_profiles`);
    the tables snapshot it was made from (`inputs_snapshot`) and that snapshot's input files.
    `build_plan` reads it back with `design_inputs`.
    """
    try:
        inputs = plan_inputs(tables, config.budget_mw, config.interpolate, tariff_id=config.tariff)
    except UnknownTariff as error:
        raise dg.Failure(description=f"run config: {error}", allow_retries=False) from error
    points = [
        {
            "sku": p.sku,
            "workload": p.workload,
            "configuration": p.configuration,
            "tokens_per_s_per_gpu": p.tokens_per_s_per_gpu,
            "interactivity": p.interactivity_tokens_per_s_per_user,
            "ttft_s": p.ttft_s,
            "interpolated": p.interpolated,
            "derived": p.derived,
        }
        for p in inputs.operating_points
    ]
    combos = combinations(inputs)
    snapshot_id, files = snapshot_read(context, warehouse, input_folder)
    document = inputs_to_dict(inputs) | {"inputs_files": files, "inputs_snapshot": snapshot_id}
    return dg.Output(
        document,
        metadata={
            "operating_points": records_table(points, OPERATING_POINTS),
            "combinations": len(combos),
            "systems": len(inputs.systems),
            "tariff": inputs.energy.tariff_id,
            "energy_usd_per_kwh": number(inputs.energy.energy_usd_per_kwh),
            "demand_usd_per_kw_month": number(inputs.energy.demand_usd_per_kw_month, decimals(2)),
            "budget_mw": number(inputs.budget_mw, MW.round),
            "inputs_snapshot": snapshot_id or "",
            "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in inputs.notes) or "none"),
        },
    )


@dg.asset(
    group_name="design",
    ins={table: dg.AssetIn(table) for table in (*TARIFF_TABLES, "scenario")},
    deps=[SNAPSHOT_ASSET],
    kinds={"polars", "parquet"},
    owners=["team:capacity-planning"],
    automation_condition=REPLAN,
)
def tariff_profiles(
    context: dg.AssetExecutionContext, **tables: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """Every tariff's prices per representative slice (12 months × weekday/weekend × 24 hours):
    tariff_id, month, day_type, hour, weight_days (days of the reference year the slice stands
    for), energy_usd_per_kwh (marginal, at the tier the scenario's site reaches), demand_period
    (TOU demand period, empty without one) with its demand_usd_per_kw, and the month's
    flat_demand_usd_per_kw. Time-resolved plans price their slices the same way.
    """
    site_kw = tables["scenario"].row(0, named=True)["budget_mw"] * 1000.0
    frame = tariff_profile_frame(tables, site_kw)
    hours = pl.col("weight_days")
    summary = frame.group_by("tariff_id", maintain_order=True).agg(
        mean_usd_per_kwh=(hours * pl.col("energy_usd_per_kwh")).sum() / hours.sum(),
        min_usd_per_kwh=pl.col("energy_usd_per_kwh").min(),
        max_usd_per_kwh=pl.col("energy_usd_per_kwh").max(),
        demand_periods=pl.col("demand_period").drop_nulls().n_unique(),
    )
    context.log.info(
        f"{summary.height} tariffs priced on {frame.height // max(summary.height, 1)} slices each"
    )
    preview_rows = 48
    return dg.Output(
        frame,
        metadata={
            "dagster/row_count": frame.height,
            "site_kw": number(site_kw, whole),
            "tariffs": records_table(summary.iter_rows(named=True), TARIFF_SUMMARY),
            "preview": frame_table(frame, preview_rows),
            "preview_rows": more_rows(frame, preview_rows),
        },
    )


def design_inputs(design_space: dict) -> tuple[PlanInputs, list[InputFile], str | None]:
    """The optimizer's inputs of a `design_space` value, the input files behind them and the
    tables snapshot they were read from."""
    design = dict(design_space)
    files = design.pop("inputs_files", [])
    snapshot_id = design.pop("inputs_snapshot", None)
    return inputs_from_dict(design), files, snapshot_id


def snapshot_read(
    context: dg.AssetExecutionContext, warehouse: Warehouse, input_folder: InputFolder
) -> tuple[str | None, list[InputFile]]:
    """The tables snapshot this run read its tables from, and the input files behind its tables:
    name, size and SHA-256, as a plan made by `tokenplan plan` lists them.

    The snapshot records each file's SHA-256; its size is read from the input folder when the
    file there still has that content (a size belongs to a content, so it is exact). A file
    changed or removed since it was ingested is listed without a size.
    """
    snapshot_id = snapshots.pinned_id(warehouse.dir, context.run.run_id)
    files = snapshots.snapshot_sources(warehouse.dir, snapshot_id)
    return snapshot_id, [
        input_file(input_folder.dir, name, digest) for name, digest in sorted(files.items())
    ]


def input_file(data_dir: Path, name: str, sha256: str) -> InputFile:
    """One input file of a snapshot, with its size if `data_dir/name` still holds that content."""
    entry: InputFile = {"file": name, "sha256": sha256}
    try:
        content = (data_dir / name).read_bytes()
    except OSError:  # removed, or no longer a file
        return entry
    if hashlib.sha256(content).hexdigest() == sha256:
        return {"file": name, "bytes": len(content), "sha256": sha256}
    return entry
