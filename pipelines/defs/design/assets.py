"""Design: the canonical tables turned into what the optimizer reads."""

import dagster as dg
import polars as pl

from optimizer.design import plan_inputs
from optimizer.economics import combinations
from optimizer.inputs import inputs_to_dict
from pipelines.defs.metadata import markdown_table
from pipelines.ingest import SOURCES

INGESTED = [table for source in SOURCES for table in source.tables]


class DesignConfig(dg.Config):
    budget_mw: float | None = None
    """Grid interconnect in MW; empty: the scenario's `budget_mw`."""
    interpolate: bool = True
    """Interpolate throughput at the SLO on each configuration's throughput–interactivity front."""


@dg.asset(
    group_name="design",
    ins={table: dg.AssetIn(table) for table in INGESTED},
    kinds={"python"},
    owners=["team:capacity-planning"],
    automation_condition=dg.AutomationCondition.eager(),
)
def design_space(context: dg.AssetExecutionContext, config: DesignConfig, **tables: pl.DataFrame) -> dg.Output[dict]:
    """Per system × workload, the best operating point that meets the workload's SLO; the
    feasible (system, cooling, power design) combinations; the tariff priced for the flat year.
    """
    inputs = plan_inputs(tables, config.budget_mw, config.interpolate)
    points = pl.DataFrame([{"sku": p.sku, "workload": p.workload, "tokens_per_s_per_gpu": p.tokens_per_s_per_gpu,
                            "interactivity": p.interactivity_tokens_per_s_per_user, "ttft_s": p.ttft_s,
                            "interpolated": p.interpolated} for p in inputs.operating_points])
    combos = combinations(inputs)
    files = _source_files(context)
    document = inputs_to_dict(inputs) | {"inputs_files": files}
    return dg.Output(document, metadata={
        "operating_points": dg.MetadataValue.md(markdown_table(points, max_rows=200)),
        "combinations": len(combos),
        "systems": len(inputs.systems),
        "energy_usd_per_kwh": inputs.energy.energy_usd_per_kwh,
        "demand_usd_per_kw_month": inputs.energy.demand_usd_per_kw_month,
        "budget_mw": inputs.budget_mw,
        "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in inputs.notes) or "none"),
    })


def _source_files(context: dg.AssetExecutionContext) -> list[dict]:
    """The input files (name, SHA-256) behind the ingested tables this design was built from."""
    files = {}
    for table in INGESTED:
        event = context.instance.get_latest_materialization_event(dg.AssetKey(table))
        hashes = event.asset_materialization.metadata.get("source_hashes") if event and event.asset_materialization else None
        for name, digest in (hashes.value if hashes else {}).items():
            files[name] = digest
    return [{"file": name, "sha256": digest} for name, digest in sorted(files.items())]
