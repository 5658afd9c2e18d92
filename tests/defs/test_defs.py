"""Snapshot of the code location: asset keys and groups, checks, jobs, schedules, sensors.

A renamed or regrouped asset, a new job or a sensor switched off by default fails here,
so it is a deliberate change (update the snapshot in the same commit). The Dagster UI,
the GraphQL API and planners' bookmarks all use these names.
"""

from __future__ import annotations

import os

import dagster as dg
import pytest

from pipelines.contract.schema import TABLES
from pipelines.definitions import build_defs

ASSET_GROUPS = {
    "hardware": "ingest",
    "benchmarks": "ingest",
    "benchmark_derivations": "ingest",
    "fleet": "ingest",
    "scenarios": "ingest",
    "scenario_optimum": "scenarios",
    "scenario_stress": "scenarios",
    "scenario_regret": "scenarios",
    "robust_plan": "scenarios",
    "cooling": "ingest",
    "power": "ingest",
    "tariffs": "ingest",
    "tariff_energy_rates": "ingest",
    "tariff_demand_rates": "ingest",
    "tariff_schedules": "ingest",
    "scenario": "ingest",
    "workloads": "ingest",
    "tables_snapshot": "ingest",
    "design_space": "design",
    "tariff_profiles": "design",
    "build_plan": "plan",
    "pareto_frontier": "plan",
    "horizon_plan": "plan",
    "plan_json": "export",
    "plan_csv": "export",
    "plan_parquet": "export",
    "plan_workbook": "export",
    "plan_report_md": "export",
    "plan_report_html": "export",
}
CHECKS = {
    **{table: {"matches_contract"} for table in TABLES},
    "benchmarks": {"matches_contract", "covers_hardware"},
    "build_plan": {"solver_status", "within_budget", "cost_matches_rows"},
    "pareto_frontier": {"cost_never_rises_with_budget"},
    "horizon_plan": {"solver_status", "within_budget_every_year", "cost_adds_up"},
}
JOBS = {
    "horizon": "multi_or_in_process_executor",
    "ingest_only": "multi_or_in_process_executor",
    "replan": "multiprocess",
    "sweep_budgets": "dask",
    "scenario_runs": "multiprocess",
    "scenario_runs_dask": "dask",
    "stress_test": "multi_or_in_process_executor",
    "robust": "multi_or_in_process_executor",
}
"""Job → the executor a run launched from the UI or the daemon uses (`execute_in_process` ignores
it)."""
SCHEDULES = {"scheduled_replan": ("replan", os.environ.get("TOKENPLAN_REPLAN_CRON", "0 6 * * 1"))}
SENSORS = {
    "input_folder_sensor": dg.DefaultSensorStatus.RUNNING,
    "automation_condition_sensor": dg.DefaultSensorStatus.RUNNING,
}


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return build_defs()


def test_asset_keys_and_groups(defs: dg.Definitions):
    specs = defs.resolve_all_asset_specs()
    assert {spec.key.to_user_string(): spec.group_name for spec in specs} == ASSET_GROUPS


def test_every_asset_says_what_it_is_and_who_owns_it(defs: dg.Definitions):
    for spec in defs.resolve_all_asset_specs():
        assert spec.description and spec.description.strip(), spec.key
        assert spec.owners == ["team:capacity-planning"], spec.key
        assert spec.kinds, spec.key


def test_assets_after_ingest_are_eager(defs: dg.Definitions):
    """A manual re-ingest re-plans: every asset downstream of ingest re-materializes when an
    upstream updates, unless an upstream failed a blocking check."""
    replan = (
        dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
    )
    for spec in defs.resolve_all_asset_specs():
        if spec.group_name != "ingest" or spec.key == dg.AssetKey("tables_snapshot"):
            assert spec.automation_condition == replan, spec.key


def test_checks_that_stop_a_run(defs: dg.Definitions):
    """A table breaking its contract feeds no design and a plan over its budget or whose cost does
    not add up is not exported; a solver at its time limit or a system without benchmarks only
    warns."""
    graph = defs.resolve_asset_graph()
    blocking = {
        (key.asset_key.to_user_string(), key.name)
        for key in graph.asset_check_keys
        if graph.get_check_spec(key).blocking
    }
    assert blocking == {(table, "matches_contract") for table in TABLES} | {
        ("build_plan", "within_budget"),
        ("build_plan", "cost_matches_rows"),
    }


def test_asset_checks(defs: dg.Definitions):
    checks: dict[str, set[str]] = {}
    for key in defs.resolve_asset_graph().asset_check_keys:
        checks.setdefault(key.asset_key.to_user_string(), set()).add(key.name)
    assert checks == CHECKS


def test_jobs_and_their_executors(defs: dg.Definitions):
    jobs = {
        job.name: job.executor_def.name
        for job in defs.resolve_all_job_defs()
        if not job.name.startswith("__")
    }
    assert jobs == JOBS


def test_schedules(defs: dg.Definitions):
    schedules = {s.name: (s.job_name, s.cron_schedule) for s in defs.schedules}
    assert schedules == SCHEDULES
    assert all(s.default_status == dg.DefaultScheduleStatus.RUNNING for s in defs.schedules)


def test_sensors_are_on_by_default(defs: dg.Definitions):
    assert {s.name: s.default_status for s in defs.sensors} == SENSORS


def test_what_reads_tables_runs_after_the_tables_snapshot(defs: dg.Definitions):
    """A run commits its tables before anything reads them, so a re-plan reads the snapshot it
    made."""
    graph = defs.resolve_asset_graph()
    snapshot = dg.AssetKey("tables_snapshot")
    assert graph.get(snapshot).parent_keys == {dg.AssetKey(t) for t in TABLES}
    for key in graph.get_all_asset_keys():
        tables = {p.to_user_string() for p in graph.get(key).parent_keys} & set(TABLES)
        if tables and graph.get(key).group_name != "ingest":
            assert snapshot in graph.get(key).parent_keys, key
