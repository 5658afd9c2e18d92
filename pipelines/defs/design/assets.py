"""Design: the canonical tables turned into what the optimizer reads."""

import dagster as dg
import polars as pl

from optimizer.design import plan_inputs, tariff_profile_frame
from optimizer.economics import combinations
from optimizer.inputs import PlanInputs, inputs_from_dict, inputs_to_dict
from optimizer.types import InputFile
from pipelines.defs.metadata import markdown_table
from pipelines.defs.resources import SNAPSHOT_ASSET, Warehouse
from pipelines.ingest.sources import SOURCES
from pipelines.warehouse import snapshots

INGESTED = [table for source in SOURCES for table in source.tables]
TARIFF_TABLES = ("tariffs", "tariff_energy_rates", "tariff_demand_rates", "tariff_schedules")


class DesignConfig(dg.Config):
    budget_mw: float | None = None
    """Grid interconnect in MW; empty: the scenario's `budget_mw`."""
    interpolate: bool = True
    """Interpolate throughput at the SLO on each configuration's throughput–interactivity front."""


@dg.asset(
    group_name="design",
    ins={table: dg.AssetIn(table) for table in INGESTED},
    deps=[SNAPSHOT_ASSET],
    kinds={"python"},
    owners=["team:capacity-planning"],
    automation_condition=dg.AutomationCondition.eager(),
)
def design_space(
    context: dg.AssetExecutionContext,
    config: DesignConfig,
    warehouse: Warehouse,
    **tables: pl.DataFrame,
) -> dg.Output[dict]:
    """Per system × workload and serving configuration, the best operating point that meets the
    workload's SLO (measured, interpolated or derived); the
    feasible (system, cooling, power design) combinations; the tariff priced for the flat year
    and per representative slice (what time-resolved plans read, as in `tariff_profiles`);
    the tables snapshot it was made from (`inputs_snapshot`) and that snapshot's input files.
    `build_plan` reads it back with `design_inputs`.
    """
    inputs = plan_inputs(tables, config.budget_mw, config.interpolate)
    points = pl.DataFrame(
        [
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
    )
    combos = combinations(inputs)
    snapshot_id, files = snapshot_read(context, warehouse)
    document = inputs_to_dict(inputs) | {"inputs_files": files, "inputs_snapshot": snapshot_id}
    return dg.Output(
        document,
        metadata={
            "operating_points": dg.MetadataValue.md(markdown_table(points, max_rows=200)),
            "combinations": len(combos),
            "systems": len(inputs.systems),
            "energy_usd_per_kwh": inputs.energy.energy_usd_per_kwh,
            "demand_usd_per_kw_month": inputs.energy.demand_usd_per_kw_month,
            "budget_mw": inputs.budget_mw,
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
    automation_condition=dg.AutomationCondition.eager(),
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
    return dg.Output(
        frame,
        metadata={
            "dagster/row_count": frame.height,
            "site_kw": site_kw,
            "tariffs": dg.MetadataValue.md(markdown_table(summary, max_rows=100)),
            "preview": dg.MetadataValue.md(markdown_table(frame, max_rows=48)),
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
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> tuple[str | None, list[InputFile]]:
    """The tables snapshot this run read its tables from, and the input files (name, SHA-256)
    behind its tables."""
    snapshot_id = snapshots.pinned_id(warehouse.dir, context.run.run_id)
    files = snapshots.snapshot_sources(warehouse.dir, snapshot_id)
    return snapshot_id, [{"file": name, "sha256": digest} for name, digest in sorted(files.items())]
