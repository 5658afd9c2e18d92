"""The design and plan assets run in process: what the UI shows of a plan (tables, rounded
figures), the input files a Dagster plan lists (with sizes, as a CLI plan), blocking checks
that keep a failed plan from being exported, and run config checked against its ranges.

One module-wide run ingests a copy of the bundled data and plans it (with two of the exports);
the other tests re-run single steps on the tables snapshot it committed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from conftest import DATASETS

import pipelines.defs.plan.assets as plan_assets
from pipelines.definitions import build_defs
from pipelines.defs.metadata import significant
from pipelines.planning.make_plan import input_file_hashes
from pipelines.warehouse.history import plan_files

EXPORTS = ("plan_json", "plan_csv")


@dataclass
class Planned:
    data: Path
    warehouse: Path
    instance: dg.DagsterInstance
    defs: dg.Definitions
    result: dg.ExecuteInProcessResult

    def run(self, *assets: str, run_config: dict | None = None) -> dg.ExecuteInProcessResult:
        """The `replan` job on `assets` only (their upstreams read from the warehouse)."""
        return self.defs.resolve_job_def("replan").execute_in_process(
            instance=self.instance,
            asset_selection=[dg.AssetKey(a) for a in assets],
            run_config=run_config or {},
            raise_on_error=False,
        )

    def materialization(
        self, result: dg.ExecuteInProcessResult, asset: str
    ) -> dg.AssetMaterialization:
        (event,) = [
            e.materialization
            for e in result.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey(asset)
        ]
        return event


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planned]:
    root = tmp_path_factory.mktemp("plan_assets")
    data, warehouse = root / "data", root / "warehouse"
    shutil.copytree(DATASETS, data)
    defs = build_defs(data, warehouse)
    selection = dg.AssetSelection.assets("build_plan").upstream() | dg.AssetSelection.assets(
        *EXPORTS
    )
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("replan").execute_in_process(
            instance=instance,
            asset_selection=list(selection.resolve(defs.resolve_asset_graph())),
        )
        yield Planned(data, warehouse, instance, defs, result)


def test_a_dagster_plan_lists_its_input_files_with_sizes_as_a_cli_plan(planned: Planned):
    plan = json.loads((planned.warehouse / "build_plan.json").read_text())
    by_file = {f["file"]: f for f in plan["inputs"]}
    cli = {f["file"]: f for f in input_file_hashes(planned.data)}
    assert by_file == cli
    assert all(f["bytes"] > 0 for f in plan["inputs"])


def test_plan_metadata_is_tables_and_rounded_figures(planned: Planned):
    plan = json.loads((planned.warehouse / "build_plan.json").read_text())
    metadata = planned.materialization(planned.result, "build_plan").metadata

    cost = metadata["cost_per_million_tokens_usd"]
    assert isinstance(cost, dg.FloatMetadataValue)
    assert cost.value == significant(plan["cost_per_million_tokens_usd"])
    assert cost.value == pytest.approx(plan["cost_per_million_tokens_usd"], rel=1e-3)
    assert len(repr(cost.value)) <= 10  # 0.09226, not 0.0922618823451...
    assert metadata["annual_cost_usd"].value == round(plan["annual_cost_usd"])
    assert isinstance(metadata["summary"], dg.MarkdownMetadataValue)

    for name, rows in (
        ("fleet", plan["fleet"]),
        ("allocation", plan["allocation"]),
        ("levers", plan["levers"]),
        ("alternatives", plan["alternatives"]),
        ("inputs", plan["inputs"]),
    ):
        table = metadata[name]
        assert isinstance(table, dg.TableMetadataValue), name
        assert len(table.records) == len(rows), name
        assert [c.name for c in table.schema.columns] == list(table.records[0].data), name

    fleet = metadata["fleet"].records[0].data
    assert fleet["annual_cost_usd"] == round(plan["fleet"][0]["annual_cost_usd"])
    assert isinstance(fleet["annual_cost_usd"], int)
    lever = metadata["levers"].records[0].data
    if plan["levers"][0]["cost_per_million_tokens_usd"] is not None:
        assert lever["cost_per_million_tokens_usd"] == significant(
            plan["levers"][0]["cost_per_million_tokens_usd"]
        )
    costs = {
        r.data["component"]: r.data["usd_per_year"] for r in metadata["cost_breakdown"].records
    }
    assert costs["total"] == pytest.approx(plan["annual_cost_usd"], abs=len(costs))


def test_ingest_metadata_previews_as_a_table(planned: Planned):
    metadata = planned.materialization(planned.result, "hardware").metadata
    assert isinstance(metadata["preview"], dg.TableMetadataValue)
    assert isinstance(metadata["source_files"], dg.TableMetadataValue)
    assert {r.data["file"] for r in metadata["source_files"].records} >= {
        "hardware/price_sheet.csv"
    }
    assert isinstance(metadata["source_hashes"], dg.JsonMetadataValue)  # read by the sensor


def test_a_plan_failing_a_blocking_check_is_not_exported_nor_kept(
    planned: Planned, monkeypatch: pytest.MonkeyPatch
):
    plans_before = plan_files(planned.warehouse)
    exports_before = sorted((planned.warehouse / "exports").iterdir())
    assert {e.asset_key.path[0] for e in planned.result.get_asset_materialization_events()} >= set(
        EXPORTS
    )
    # The rows no longer add up to the reported cost.
    monkeypatch.setattr(
        plan_assets, "recompute_annual_cost", lambda plan, inputs: 2 * plan["annual_cost_usd"]
    )
    result = planned.run("build_plan", *EXPORTS)
    assert not result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"solver_status": True, "within_budget": True, "cost_matches_rows": False}
    materialized = {e.asset_key.path[0] for e in result.get_asset_materialization_events()}
    assert materialized == {"build_plan"}  # on record, with its failed check
    assert plan_files(planned.warehouse) == plans_before
    assert sorted((planned.warehouse / "exports").iterdir()) == exports_before


def test_bad_run_config_fails_the_run_with_the_range(planned: Planned):
    result = planned.run(
        "design_space", run_config={"ops": {"design_space": {"config": {"budget_mw": -5.0}}}}
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    message = failure.step_failure_data.error.message
    assert "budget_mw must be > 0 and <= 10,000 MW" in message
    assert "got -5.0" in message


def test_the_tariff_of_run_config_overrides_the_scenarios(planned: Planned):
    config = {"ops": {"design_space": {"config": {"tariff": "eia-2024-arkansas"}}}}
    result = planned.run("design_space", run_config=config)
    assert result.success
    metadata = planned.materialization(result, "design_space").metadata
    assert metadata["tariff"].value == "eia-2024-arkansas"

    unknown = planned.run(
        "design_space", run_config={"ops": {"design_space": {"config": {"tariff": "nope"}}}}
    )
    assert not unknown.success
    (failure,) = [e for e in unknown.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "tariff 'nope' is not in tariffs/" in failure.step_failure_data.error.message
