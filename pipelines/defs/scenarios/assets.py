"""Scenario runs: the multi-year plan in each future of `scenarios/`, one partition per scenario.

The partitions are the scenarios of the current tables snapshot (`SCENARIO_PARTITIONS`, kept
equal to its `scenarios` table by `tables_snapshot`). Per scenario, two independent steps:

- `scenario_optimum`: the scenario's own optimum, the multi-year plan had that future been
  known (`pipelines.planning.stress.own_plan`);
- `scenario_stress`: `horizon_plan` with its purchases and nodes in service kept,
  re-dispatched in that future (`pipelines.planning.stress.stressed_outcome`).

Both read the tables the run pinned and solve as `tokenplan stress` does, so a partition's
results are those of the CLI wherever its steps run: in process, side by side on the
multiprocess executor (`scenario_runs`) or on Dask workers (`scenario_runs_dask`). The
partitions' runs go side by side when a backfill (the UI's "Materialize all") or the
automation sensor launches them, one run each.

`scenario_regret` (unpartitioned) reads every partition of both and makes the stress test of
the horizon plan, as `tokenplan stress` does: the regret table and its expected row
(`pipelines.planning.stress.regret_rows`), and the plan's report with that table,
`exports/horizon_plan.html`. It refuses partitions made from another tables snapshot or
another multi-year plan than the current ones, or solved for another objective.

`robust_plan` (unpartitioned) is `tokenplan horizon --robust`: one model over every scenario,
the first year shared (`pipelines.planning.stress.robust_document`). Without scenarios, neither
it nor `scenario_regret` is materialized (an observation says why).
"""

from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from optimizer.errors import NoPlan
from optimizer.inputs import SolverOptions
from pipelines.contract.errors import InputError
from pipelines.defs.automation.conditions import REPLAN
from pipelines.defs.design.assets import INGESTED, snapshot_read
from pipelines.defs.executors import MULTIPROCESS, cluster_config, dask_executor
from pipelines.defs.metadata import (
    COUNT,
    FRACTION,
    PERCENT,
    TEXT,
    USD_PER_M_TOKENS,
    Column,
    not_materialized,
    number,
    records_table,
)
from pipelines.defs.partitions import SCENARIO_PARTITIONS, SCENARIOS_GROUP
from pipelines.defs.plan.horizon import HorizonConfig
from pipelines.defs.resources import SNAPSHOT_ASSET, InputFolder, Warehouse
from pipelines.planning.scenarios import scenario_case
from pipelines.planning.stress import (
    check_plan_fits,
    own_plan,
    regret_rows,
    robust_document,
    stress_document,
    stressed_outcome,
)
from pipelines.reports.exports import EXPORTS_FOLDER
from pipelines.reports.horizon import HORIZON_HTML, write_horizon_html
from pipelines.reports.horizon_report import robust_html
from pipelines.reports.stress import regret_parts, robust_parts
from pipelines.reports.text import render_text
from pipelines.warehouse.files import write_atomically

HORIZON_PLAN = "horizon_plan"
NO_SCENARIOS = "no scenario files (scenarios/*.yaml): nothing to weigh"
TABLE_INS = {table: dg.AssetIn(table) for table in INGESTED}


def _options(config: HorizonConfig) -> SolverOptions:
    return SolverOptions(
        time_limit_s=config.time_limit_s, mip_rel_gap=config.mip_rel_gap, threads=config.threads
    )


def _case(context: dg.AssetExecutionContext, tables: dict[str, pl.DataFrame]):
    """The partition's scenario (name, probability, plan inputs); a failure naming the input
    when it is not in the run's tables snapshot."""
    try:
        return scenario_case(tables, context.partition_key)
    except InputError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from error


def scenario_asset(**ins: dg.AssetIn):
    """A scenario partition's asset: reads every canonical table (`ins` besides), solves."""
    return dg.asset(
        group_name=SCENARIOS_GROUP,
        partitions_def=SCENARIO_PARTITIONS,
        ins=TABLE_INS | ins,
        deps=[SNAPSHOT_ASSET],
        kinds={"pyomo", "highs"},
        owners=["team:capacity-planning"],
        automation_condition=REPLAN,
    )


def _scenario_output(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    input_folder: InputFolder,
    config: HorizonConfig,
    case: tuple[str, float],
    found: dict[str, Any],
    **fields: Any,
) -> dg.Output[dict]:
    """A partition's document: scenario, probability, objective, outcome, `fields`, and the
    tables snapshot its run read."""
    (name, probability), (snapshot_id, _) = case, snapshot_read(context, warehouse, input_folder)
    context.log.info(f"{name}: {context.asset_key.to_user_string()} {found['status']}")
    document = {
        "scenario": name,
        "probability": probability,
        "objective": config.objective,
        "outcome": found,
    }
    return dg.Output(
        document | fields | {"inputs_snapshot": snapshot_id},
        metadata={
            "status": found["status"],
            "probability": probability,
            "cost_per_million_tokens_usd": number(found["cost_per_million_tokens_usd"]),
            "reason": found["reason"] or "",
        },
    )


@scenario_asset()
def scenario_optimum(
    context: dg.AssetExecutionContext,
    config: HorizonConfig,
    warehouse: Warehouse,
    input_folder: InputFolder,
    **tables: pl.DataFrame,
) -> dg.Output[dict]:
    """The scenario's own optimum: the multi-year plan had this future been known (the
    document `tokenplan horizon` makes, on the scenario's inputs), or why there is none.
    scenario, probability, objective, outcome (status, cost_per_million_tokens_usd, present
    values, reason), plan, inputs_snapshot."""
    name, probability, inputs = _case(context, tables)
    found, plan = own_plan(inputs, config.objective, _options(config))
    case = (name, probability)
    return _scenario_output(context, warehouse, input_folder, config, case, found, plan=plan)


@scenario_asset(horizon_plan=dg.AssetIn(HORIZON_PLAN))
def scenario_stress(
    context: dg.AssetExecutionContext,
    config: HorizonConfig,
    warehouse: Warehouse,
    input_folder: InputFolder,
    horizon_plan: dict,
    **tables: pl.DataFrame,
) -> dg.Output[dict]:
    """The multi-year plan in this future: `horizon_plan` with its purchases and nodes in
    service kept, only the GPU allocation and the facility solved again on the scenario's
    inputs; its levelized cost, or why it has no dispatch there. scenario, probability,
    objective, outcome, horizon_plan (the plan's name, years, levelized cost and tables
    snapshot), inputs_snapshot."""
    name, probability, inputs = _case(context, tables)
    try:
        check_plan_fits(horizon_plan, inputs, HORIZON_PLAN)
    except InputError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from error
    found = stressed_outcome(horizon_plan, inputs, config.objective, _options(config))
    made = ("name", "start_year", "years", "cost_per_million_tokens_usd", "inputs_snapshot")
    case = (name, probability)
    return _scenario_output(
        context,
        warehouse,
        input_folder,
        config,
        case,
        found,
        horizon_plan={key: horizon_plan.get(key) for key in made},
    )


REGRET = (
    Column("scenario", TEXT),
    Column("probability", FRACTION),
    Column("plan_status", TEXT, "the multi-year plan re-dispatched in the scenario"),
    Column("plan_cost_per_million_tokens_usd", USD_PER_M_TOKENS, "levelized"),
    Column("own_status", TEXT, "the scenario's own optimum"),
    Column("own_cost_per_million_tokens_usd", USD_PER_M_TOKENS, "levelized"),
    Column("regret_usd_per_million_tokens", USD_PER_M_TOKENS, "plan's less own"),
    Column("regret_pct", PERCENT, "of the own optimum's cost"),
)


@dg.asset(
    group_name=SCENARIOS_GROUP,
    ins={
        "scenario_optimum": dg.AssetIn("scenario_optimum"),
        "scenario_stress": dg.AssetIn("scenario_stress"),
        HORIZON_PLAN: dg.AssetIn(HORIZON_PLAN),
        "scenarios": dg.AssetIn("scenarios"),
    },
    deps=[SNAPSHOT_ASSET],
    kinds={"python"},
    owners=["team:capacity-planning"],
    automation_condition=REPLAN,
    output_required=False,
)
def scenario_regret(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    input_folder: InputFolder,
    scenario_optimum: dict[str, dict],
    scenario_stress: dict[str, dict],
    horizon_plan: dict,
    scenarios: pl.DataFrame,
):
    """The stress test of the multi-year plan over every scenario, as `tokenplan stress` makes
    it: per scenario the plan's levelized cost re-dispatched there against the scenario's own
    optimum (the regret), and the expected row; the plan's report with the regret table is
    written to `exports/horizon_plan.html`. Not materialized without scenarios."""
    if scenarios.height == 0:
        not_materialized(context, NO_SCENARIOS)
        return
    snapshot_id, files = snapshot_read(context, warehouse, input_folder)
    weights = list(zip(scenarios["name"], scenarios["probability"], strict=True))
    _check_partitions(weights, scenario_optimum, scenario_stress, horizon_plan, snapshot_id)
    (objective,) = {scenario_optimum[name]["objective"] for name, _ in weights}
    rows = regret_rows(
        weights,
        {name: scenario_stress[name]["outcome"] for name, _ in weights},
        {name: scenario_optimum[name]["outcome"] for name, _ in weights},
    )
    document = stress_document(horizon_plan, HORIZON_PLAN, objective, rows, files) | {
        "inputs_snapshot": snapshot_id
    }
    report = write_horizon_html(
        horizon_plan, warehouse.dir / EXPORTS_FOLDER / HORIZON_HTML, document
    )
    context.log.info(render_text(regret_parts(rows)))
    expected = document["expected_cost_per_million_tokens_usd"]
    yield dg.Output(
        document,
        metadata={
            "regret": records_table(rows, REGRET),
            "expected_cost_per_million_tokens_usd": number(expected),
            "expected_regret_pct": number(rows[-1]["regret_pct"], PERCENT.round),
            "objective": objective,
            "report_html": dg.MetadataValue.path(str(report)),
        },
    )


def _check_partitions(
    weights: list[tuple[str, float]],
    optima: dict[str, dict],
    stressed: dict[str, dict],
    horizon_plan: dict,
    snapshot_id: str | None,
) -> None:
    """Every scenario's two partitions are there, made from this tables snapshot and (the
    stress) from this multi-year plan, all for one objective; else a failure saying which to
    materialize again."""
    stale = []
    for name, _ in weights:
        for asset, found in (("scenario_optimum", optima), ("scenario_stress", stressed)):
            value = found.get(name)
            if value is None or value["inputs_snapshot"] != snapshot_id:
                stale.append(f"{asset} of '{name}' (another tables snapshot)")
        made_from = stressed.get(name, {}).get("horizon_plan", {}).get("inputs_snapshot")
        if name in stressed and made_from != horizon_plan.get("inputs_snapshot"):
            stale.append(f"scenario_stress of '{name}' (another multi-year plan)")
    if stale:
        raise dg.Failure(description="materialize again: " + "; ".join(stale), allow_retries=False)
    objectives = {found[name]["objective"] for found in (optima, stressed) for name, _ in weights}
    if len(objectives) != 1:
        raise dg.Failure(
            description=f"the scenario partitions were solved for different objectives "
            f"({', '.join(sorted(objectives))}): materialize them again with one",
            allow_retries=False,
        )


FIRST_YEAR = (
    Column("system", TEXT, field="sku"),
    Column("accelerator", TEXT),
    Column("cooling", TEXT, field="cooling_id"),
    Column("power", TEXT, field="power_id"),
    Column("kind", TEXT, "bought or rented"),
    Column("nodes", COUNT),
    Column("gpus", COUNT),
)
ROBUST_HTML = "robust_plan.html"


@dg.asset(
    group_name=SCENARIOS_GROUP,
    ins=TABLE_INS,
    deps=[SNAPSHOT_ASSET],
    kinds={"pyomo", "highs"},
    owners=["team:capacity-planning"],
    automation_condition=REPLAN,
    output_required=False,
)
def robust_plan(
    context: dg.AssetExecutionContext,
    config: HorizonConfig,
    warehouse: Warehouse,
    input_folder: InputFolder,
    **tables: pl.DataFrame,
):
    """The robust multi-year plan, as `tokenplan horizon --robust` makes it: one model over every
    scenario, the first year's purchases, rentals, facility and power design shared, each later
    year per scenario, for the least expected levelized cost (Σ p·PV cost / Σ p·PV tokens);
    each scenario's plan against that scenario's own optimum (the regret table). Its report is
    written to `exports/robust_plan.html`. Not materialized without scenarios."""
    if tables["scenarios"].height == 0:
        not_materialized(context, NO_SCENARIOS)
        return
    snapshot_id, files = snapshot_read(context, warehouse, input_folder)
    try:
        document = robust_document(tables, config.objective, _options(config), files)
    except (InputError, NoPlan) as error:
        raise dg.Failure(description=f"no robust plan: {error}", allow_retries=False) from error
    document["inputs_snapshot"] = snapshot_id
    report = warehouse.dir / EXPORTS_FOLDER / ROBUST_HTML
    page = robust_html(document)
    write_atomically(report, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    context.log.info(render_text(robust_parts(document)))
    yield dg.Output(
        document,
        metadata={
            "expected_cost_per_million_tokens_usd": number(
                document["expected_cost_per_million_tokens_usd"]
            ),
            "status": document["status"],
            "first_year": records_table(document["first_year"], FIRST_YEAR),
            "regret": records_table(document["regret"], REGRET),
            "report_html": dg.MetadataValue.path(str(report)),
        },
    )


SCENARIO_RUNS = dg.AssetSelection.assets(scenario_optimum, scenario_stress)
scenario_runs = dg.define_asset_job(
    "scenario_runs",
    selection=SCENARIO_RUNS,
    executor_def=MULTIPROCESS,
    description="One scenario (a partition): its own optimal multi-year plan and the multi-year "
    "plan re-dispatched in it, side by side in two processes.",
)
scenario_runs_dask = dg.define_asset_job(
    "scenario_runs_dask",
    selection=SCENARIO_RUNS,
    executor_def=dask_executor.configured({"cluster": cluster_config()}),
    tags={"tokenplan/scale_out": "dask"},
    description="As `scenario_runs`, each step on a worker of a Dask cluster (a LocalCluster, "
    "or TOKENPLAN_DASK_SCHEDULER).",
)
robust = dg.define_asset_job(
    "robust",
    selection=dg.AssetSelection.assets(robust_plan),
    description="The robust multi-year plan over every scenario (one model; the first year "
    "shared).",
)
stress_test = dg.define_asset_job(
    "stress_test",
    selection=dg.AssetSelection.assets(scenario_regret),
    description="The regret table of the multi-year plan over every scenario, from the scenario "
    "partitions (materialize them first: `scenario_runs` for each scenario).",
)
