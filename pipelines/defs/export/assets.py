"""Export: the build plan as files to share, each named by its plan id (`warehouse/exports/`).

One asset per format of `pipelines.reports.exports.EXPORTS`, all downstream of `build_plan`
and eager: every new plan is exported, and a failed plan (one that never materializes
`build_plan`, or fails one of its blocking checks) leaves the last good plan's exports as they
were. The reports also chart `pareto_frontier`.
"""

from typing import cast

import dagster as dg

from optimizer.types import PlanDocument
from pipelines.defs.automation.conditions import REPLAN
from pipelines.defs.resources import Warehouse
from pipelines.reports.exports import EXPORTS, EXPORTS_FOLDER, ExportFormat, export_plan


def export_asset(export: ExportFormat) -> dg.AssetsDefinition:
    ins = {"build_plan": dg.AssetIn("build_plan")}
    if export.charts_frontier:
        ins["pareto_frontier"] = dg.AssetIn("pareto_frontier")

    @dg.asset(
        name=export.asset,
        group_name="export",
        ins=ins,
        kinds=set(export.kinds),
        owners=["team:capacity-planning"],
        automation_condition=REPLAN,
        description=export.description,
    )
    def _export(
        context: dg.AssetExecutionContext, warehouse: Warehouse, **upstream: dict
    ) -> dg.MaterializeResult:
        plan = cast(PlanDocument, upstream["build_plan"])  # the `build_plan` asset's document
        paths = export_plan(
            plan, export.name, warehouse.dir / EXPORTS_FOLDER, upstream.get("pareto_frontier")
        )
        context.log.info(
            f"plan {plan['plan_id']} exported as {export.name}: {', '.join(p.name for p in paths)}"
        )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(paths[0])),
                "files": dg.MetadataValue.md("\n".join(f"- `{p}`" for p in paths)),
                "plan_id": plan["plan_id"],
            }
        )

    return _export


exports = [export_asset(export) for export in EXPORTS.values()]
