"""Export: the build plan as files to share, each named by its plan id (`warehouse/exports/`).

One asset per format, all downstream of `build_plan` and eager: every new plan is
exported, and a failed plan (which never materializes `build_plan`) leaves the last
good plan's exports as they were. The reports also chart `pareto_frontier`.
"""

import dagster as dg

from pipelines.defs.resources import Warehouse
from pipelines.reports.exports import EXPORTS_FOLDER, export_plan

EXPORTS = {
    "plan_json": ("json", {"json"}, "The plan document (JSON), as `build_plan` made it, named by its plan id."),
    "plan_csv": ("csv", {"csv"}, "The plan's tables as CSV: fleet, allocation, costs (by component), inputs (files "
                                 "and content hashes) and the single-system alternatives; a `plan_id` column in each."),
    "plan_parquet": ("parquet", {"parquet"}, "The plan's tables as Parquet (the same tables and columns as the CSV)."),
    "plan_workbook": ("xlsx", {"excel"}, "The plan as an XLSX workbook: sheets Summary, Fleet, Allocation, Costs, "
                                         "Inputs and Alternatives, with units in the headers and frozen header rows."),
    "plan_report_md": ("md", {"markdown"}, "The plan report in Markdown: summary, costs, fleet, the best "
                                           "single-system plans, allocation, frontier, inputs."),
    "plan_report_html": ("html", {"html"}, "The plan report as one self-contained HTML page (inline CSS and SVG "
                                           "charts; opens without network): summary cards, annual cost by component, "
                                           "fleet by system and cooling, cost per token and tokens/s per MW against "
                                           "the best single-system plans, and cost per token across budgets."),
}
REPORTS = ("md", "html")
"""Formats that chart the budget frontier too."""


def export_asset(name: str, fmt: str, kinds: set[str], description: str) -> dg.AssetsDefinition:
    ins = {"build_plan": dg.AssetIn("build_plan")}
    if fmt in REPORTS:
        ins["pareto_frontier"] = dg.AssetIn("pareto_frontier")

    @dg.asset(
        name=name,
        group_name="export",
        ins=ins,
        kinds=kinds,
        owners=["team:capacity-planning"],
        automation_condition=dg.AutomationCondition.eager(),
        description=description,
    )
    def _export(context: dg.AssetExecutionContext, warehouse: Warehouse, **upstream: dict) -> dg.MaterializeResult:
        plan = upstream["build_plan"]
        paths = export_plan(plan, fmt, warehouse.dir / EXPORTS_FOLDER, upstream.get("pareto_frontier"))
        context.log.info(f"plan {plan['plan_id']} exported as {fmt}: {', '.join(p.name for p in paths)}")
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(paths[0])),
            "files": dg.MetadataValue.md("\n".join(f"- `{p}`" for p in paths)),
            "plan_id": plan["plan_id"],
        })

    return _export


exports = [export_asset(name, fmt, kinds, description) for name, (fmt, kinds, description) in EXPORTS.items()]
