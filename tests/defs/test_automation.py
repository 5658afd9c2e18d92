"""The input-folder sensor in process: content hashes, which assets a change selects, settling,
faults.

The daemon path (a real `dagster dev` running the sensor) is in test_e2e_dagster.py;
here each tick is `dg.build_sensor_context` + the sensor, and each requested run is
executed in process on a test instance, as the daemon would launch it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import build_defs
from pipelines.defs.automation.watch import Cursor, folder_hashes, next_tick, sources_reading
from pipelines.defs.partitions import SCENARIOS_GROUP
from pipelines.defs.resources import default_resources
from pipelines.ingest.files import sha256
from pipelines.ingest.sources import SOURCES
from pipelines.warehouse.history import plan_files

SENSOR = "input_folder_sensor"
PRICE_SHEET = "hardware/price_sheet.csv"
INGESTED = {t for s in SOURCES for t in s.tables}
GRAPH = build_defs().resolve_asset_graph()
EXECUTED = {
    key.to_user_string() for key in dg.AssetSelection.assets("build_plan").upstream().resolve(GRAPH)
}
"""What a test run executes of a requested selection: the plan and what it is made from;
the frontier and the exports are tested elsewhere and left out to keep these runs short."""


class Folder:
    """The sensor ticking on one input folder and test instance, with the runs it requests
    executed."""

    def __init__(self, data: Path, warehouse: Path, instance: dg.DagsterInstance):
        self.data, self.warehouse, self.instance = data, warehouse, instance
        self.defs = build_defs(data, warehouse)
        self.cursor: str | None = None

    def tick(self) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=self.instance,
            definitions=self.defs,
            cursor=self.cursor,
            resources=default_resources(self.data, self.warehouse),
            sensor_name=SENSOR,
        )
        result = self.defs.resolve_sensor_def(SENSOR)(context)
        self.cursor = result.cursor
        return result

    def launch(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        tags = {**request.tags, "dagster/sensor_name": SENSOR, "dagster/run_key": request.run_key}
        selection = [key for key in request.asset_selection if key.to_user_string() in EXECUTED]
        return self.defs.resolve_job_def("replan").execute_in_process(
            instance=self.instance, asset_selection=selection, tags=tags, raise_on_error=False
        )


def downstream(*tables: str) -> set[str]:
    """`tables` and every asset that depends on them, directly or not, but the scenario runs
    (partitioned: the automation condition sensor requests them, one run per scenario)."""
    selection = dg.AssetSelection.assets(*tables).downstream()
    scenario_runs = dg.AssetSelection.groups(SCENARIOS_GROUP)
    return {key.to_user_string() for key in (selection - scenario_runs).resolve(GRAPH)}


def selected(request: dg.RunRequest) -> set[str]:
    return {key.to_user_string() for key in request.asset_selection}


def warehouse_files(warehouse: Path) -> dict[str, str]:
    return {
        str(p.relative_to(warehouse)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(warehouse.rglob("*"))
        if p.is_file()
    }


def test_files_map_to_the_sources_that_glob_them():
    assert [s.name for s in sources_reading(["hardware/quote.xlsx"])] == ["hardware"]
    assert [s.name for s in sources_reading(["benchmarks/mlperf/r.json", "tariffs/t.csv"])] == [
        "benchmarks",
        "tariffs",
    ]
    assert [s.name for s in sources_reading(["hardware/cooling.csv"])] == [
        "hardware"
    ]  # not cooling.csv
    assert sources_reading(["notes.txt", "hardware/old/sheet.csv"]) == []
    assert [s.name for s in sources_reading(["benchmarks/derived.csv"])] == [
        "benchmark_derivations"
    ]  # not the benchmarks CSVs, whose glob it matches


def test_a_burst_of_changes_settles_into_one_request():
    start = Cursor(files={"cooling.csv": "a"})
    first = next_tick(start, {"cooling.csv": "b"}, now=0.0, settle_s=10)
    assert not first.request
    second = next_tick(first.cursor, {"cooling.csv": "b", "power.csv": "c"}, now=5.0, settle_s=10)
    assert not second.request  # still changing: the wait starts again
    third = next_tick(second.cursor, {"cooling.csv": "b", "power.csv": "c"}, now=12.0, settle_s=10)
    assert not third.request
    fourth = next_tick(third.cursor, {"cooling.csv": "b", "power.csv": "c"}, now=15.1, settle_s=10)
    assert fourth.request and fourth.changed == ["cooling.csv", "power.csv"]
    assert not next_tick(
        fourth.cursor, {"cooling.csv": "b", "power.csv": "c"}, now=99.0, settle_s=10
    ).request


def test_going_back_to_earlier_content_gets_a_new_run_key():
    a, b = {"cooling.csv": "a"}, {"cooling.csv": "b"}
    to_b = next_tick(Cursor(files=a), b, now=0.0, settle_s=0)
    back_to_a = next_tick(to_b.cursor, a, now=1.0, settle_s=0)
    again_b = next_tick(back_to_a.cursor, b, now=2.0, settle_s=0)
    keys = [to_b.cursor.run_key, back_to_a.cursor.run_key, again_b.cursor.run_key]
    assert all(t.request for t in (to_b, back_to_a, again_b)) and len(set(keys)) == 3


def test_a_tariff_change_selects_the_tariffs_the_scenario_and_everything_after(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TOKENPLAN_SENSOR_SETTLE_S", "0")
    with dg.instance_for_test() as instance:
        folder = Folder(data, tmp_path / "warehouse", instance)
        folder.cursor = Cursor(files=folder_hashes(data)).to_json()
        csv = data / "tariffs" / "eia_state_industrial.csv"
        csv.write_text(csv.read_text().replace("0.0878", "0.0900"))
        (request,) = folder.tick().run_requests
    tariff_tables = {
        t
        for s in SOURCES
        if s.name in ("tariffs", "scenario", "fleet", "scenarios")
        for t in s.tables
    }
    assert selected(request) == downstream(*tariff_tables)
    assert tariff_tables | {"design_space", "build_plan"} <= selected(request)
    assert not selected(request) & (INGESTED - tariff_tables)
    assert request.tags["tokenplan/changed_files"] == "tariffs/eia_state_industrial.csv"


def test_a_bad_file_fails_once_keeps_the_last_good_plan_and_its_fix_replans(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TOKENPLAN_SENSOR_SETTLE_S", "0")
    warehouse = tmp_path / "warehouse"
    with dg.instance_for_test() as instance:
        folder = Folder(data, warehouse, instance)

        # A new instance: every file is new, so everything is ingested and planned.
        (first,) = folder.tick().run_requests
        assert selected(first) == downstream(*INGESTED)  # everything but the scenario runs
        run = folder.launch(first)
        assert run.success
        checked = {
            (e.asset_key.to_user_string(), e.check_name) for e in run.get_asset_check_evaluations()
        }
        assert {("hardware", "matches_contract"), ("build_plan", "within_budget")} <= checked
        good = warehouse_files(warehouse)
        assert len(plan_files(warehouse)) == 1

        # Same content, new modification time: nothing to do.
        os.utime(data / PRICE_SHEET)
        assert folder.tick().run_requests == []

        # A bad price sheet lands: one run of hardware and what depends on it, which fails in
        # ingest.
        bad = data / "hardware" / "late_quote.csv"
        bad.write_text(
            "sku,vendor,accelerator,gpus_per_node,node_capex_usd,node_power_kw,cooling_kinds,source\n"
            "Late rack,NVIDIA,B200,-8,346000,14.3,air;liquid,quote\n"
        )
        (failing,) = folder.tick().run_requests
        assert selected(failing) == downstream("hardware")
        assert {"hardware", "design_space", "build_plan"} <= selected(failing)
        assert not selected(failing) & (INGESTED - {"hardware", "fleet", "scenarios"})
        result = folder.launch(failing)
        assert not result.success
        assert [
            e.step_key
            for e in result.all_events
            if e.event_type == dg.DagsterEventType.STEP_FAILURE
        ] == ["ingest_hardware"]
        assert warehouse_files(warehouse) == good  # the last good tables and plan are in place

        # The next ticks do not retry; they say which run failed.
        for _ in range(2):
            quiet = folder.tick()
            assert quiet.run_requests == []
            assert (
                result.run_id in quiet.skip_reason.skip_message
                and "failed" in quiet.skip_reason.skip_message
            )

        # Fixing the file re-plans.
        bad.write_text(bad.read_text().replace(",-8,", ",8,"))
        (fixed,) = folder.tick().run_requests
        assert fixed.run_key != failing.run_key
        assert folder.launch(fixed).success
        assert len(plan_files(warehouse)) == 2
        latest = json.loads(plan_files(warehouse)[-1].read_text())
        assert {f["file"]: f["sha256"] for f in latest["inputs"]}[
            "hardware/late_quote.csv"
        ] == sha256(bad)
        assert folder.tick().run_requests == []
