"""The multi-year plan asset run in process on the bundled data: the plan of the `horizon` job is
the plan `tokenplan horizon` makes, read from the tables snapshot of its run (the one
`design_space` read, as `build_plan` does); what the UI shows of it (rounded figures, a
Markdown year-by-year table, the build plan as a table); its checks; its HTML report; a scenario
without a horizon skips it cleanly; its run config is range-checked; `replan` runs it too.

One module-wide run of the `horizon` job on a copy of the bundled data; the other tests re-run
single steps on the tables snapshot it committed.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from conftest import DATASETS

from pipelines.definitions import build_defs
from pipelines.defs.metadata import significant
from pipelines.planning.horizon import make_horizon_plan
from pipelines.planning.make_plan import input_file_hashes

ASSET = "horizon_plan"


@dataclass
class Run:
    data: Path
    warehouse: Path
    instance: dg.DagsterInstance
    defs: dg.Definitions
    result: dg.ExecuteInProcessResult

    def materialization(self, asset: str) -> dg.AssetMaterialization:
        (event,) = [
            e.materialization
            for e in self.result.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey(asset)
        ]
        return event


def horizon_job(root: Path, instance: dg.DagsterInstance, data: Path) -> Run:
    warehouse = root / "warehouse"
    defs = build_defs(data, warehouse)
    result = defs.resolve_job_def("horizon").execute_in_process(instance=instance)
    return Run(data, warehouse, instance, defs, result)


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("horizon_assets")
    data = root / "data"
    shutil.copytree(DATASETS, data)
    with dg.instance_for_test() as instance:
        yield horizon_job(root, instance, data)


def test_the_dagster_plan_is_the_cli_plan_from_the_runs_snapshot(planned: Run):
    plan = json.loads((planned.warehouse / f"{ASSET}.json").read_text())
    cli = make_horizon_plan(planned.data)
    assert plan["start_year"] == cli["start_year"] and plan["years"] == cli["years"]
    assert plan["cost_per_million_tokens_usd"] == pytest.approx(
        cli["cost_per_million_tokens_usd"], rel=1e-6
    )
    assert plan["build_plan"] == cli["build_plan"]
    by_file = {f["file"]: f for f in plan["inputs"]}
    assert by_file == {f["file"]: f for f in input_file_hashes(planned.data)}
    assert "fleet.csv" in by_file
    snapshot = planned.materialization("tables_snapshot").metadata["snapshot_id"].value
    design = json.loads((planned.warehouse / "design_space.json").read_text())
    assert plan["inputs_snapshot"] == design["inputs_snapshot"] == snapshot


def test_metadata_is_rounded_figures_and_tables(planned: Run):
    plan = json.loads((planned.warehouse / f"{ASSET}.json").read_text())
    metadata = planned.materialization(ASSET).metadata

    cost = metadata["cost_per_million_tokens_usd"]
    assert isinstance(cost, dg.FloatMetadataValue)
    assert cost.value == significant(plan["cost_per_million_tokens_usd"])
    assert metadata["years"].value == plan["years"] == len(plan["yearly"])
    assert metadata["start_year"].value == plan["start_year"]
    assert metadata["present_value_cost_usd"].value == round(plan["present_value_cost_usd"])

    assert isinstance(metadata["summary"], dg.MarkdownMetadataValue)
    table = metadata["year_by_year"]
    assert isinstance(table, dg.MarkdownMetadataValue)
    lines = table.value.splitlines()
    assert lines[0].startswith("| year |") and len(lines) == 2 + len(plan["yearly"])
    for row, line in zip(plan["yearly"], lines[2:], strict=True):
        assert line.startswith(f"| {row['year']} |")

    for name, rows in (
        ("yearly", plan["yearly"]),
        ("build_plan", plan["build_plan"]),
        ("cash_flow", plan["cash_flow"]),
        ("inputs", plan["inputs"]),
    ):
        value = metadata[name]
        assert isinstance(value, dg.TableMetadataValue), name
        assert len(value.records) == len(rows), name
    first = metadata["build_plan"].records[0].data
    assert first["system"] == plan["build_plan"][0]["sku"]
    assert first["in_service"] == plan["build_plan"][0]["in_service"]
    gpus = metadata["gpus_in_service"].records
    assert sum(r.data["gpus"] for r in gpus) == sum(
        sum(by.values()) for by in plan["installed_gpus"].values()
    )


def test_the_checks_pass_and_the_report_is_written(planned: Run):
    checks = {e.check_name: e.passed for e in planned.result.get_asset_check_evaluations()}
    assert {name: checks[name] for name in ("solver_status", "within_budget_every_year")} == {
        "solver_status": True,
        "within_budget_every_year": True,
    }
    assert checks["cost_adds_up"] is True
    report = Path(planned.materialization(ASSET).metadata["report_html"].value)
    assert report == planned.warehouse / "exports" / "horizon_plan.html"
    assert report.read_text().count("<svg") == 2


def test_a_scenario_without_a_horizon_skips_the_multi_year_plan(
    tmp_path: Path, planned: Run
) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATASETS, data)
    scenario = data / "scenario.yaml"
    text = scenario.read_text()
    scenario.write_text(re.sub(r"(?ms)^horizon:\n(?:[ #].*\n|\n)*", "", text))
    (data / "fleet.csv").unlink()
    shutil.rmtree(data / "scenarios")  # futures of the horizon
    run = horizon_job(tmp_path, planned.instance, data)
    assert run.result.success
    materialized = {e.asset_key.path[0] for e in run.result.get_asset_materialization_events()}
    assert "design_space" in materialized and ASSET not in materialized
    observations = [
        e.asset_observation_data.asset_observation
        for e in run.result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_OBSERVATION
    ]
    (observed,) = [o for o in observations if o.asset_key == dg.AssetKey(ASSET)]
    assert observed.metadata["horizon"].value == "none"
    assert not (run.warehouse / f"{ASSET}.json").exists()
    # nor a robust plan: no scenarios, nothing to weigh (no failed run either)
    robust = run.defs.resolve_job_def("robust").execute_in_process(instance=planned.instance)
    assert robust.success and not robust.get_asset_materialization_events()
    (skipped,) = [
        e.asset_observation_data.asset_observation
        for e in robust.all_events
        if e.event_type == dg.DagsterEventType.ASSET_OBSERVATION
    ]
    assert "no scenario files" in skipped.metadata["reason"].value


def test_bad_run_config_fails_the_step_with_the_choices(planned: Run):
    result = planned.defs.resolve_job_def("horizon").execute_in_process(
        instance=planned.instance,
        asset_selection=[dg.AssetKey(ASSET)],
        run_config={"ops": {ASSET: {"config": {"objective": "max-profit"}}}},
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "objective must be one of cost-per-token, min-cost" in (
        failure.step_failure_data.error.message
    )


def test_replan_and_the_horizon_job_run_it(planned: Run):
    key = dg.AssetKey(ASSET)
    for job in ("replan", "horizon"):
        assert key in planned.defs.resolve_job_def(job).asset_layer.selected_asset_keys, job
