"""Scenario runs as Dagster assets: one partition per scenario of the tables snapshot.

On a copy of the bundled data over three years (2026-2028) with two futures (base, and
rubin-dear: a dearer, slower Vera Rubin; 0.5 each), on one persistent instance:

- ingest makes the partitions those of the snapshot's `scenarios` table, and keeps them in step
  when a file is removed; a bad scenario file fails ingest and changes nothing;
- each partition's run gives the same scenario optimum and re-dispatched plan in process, on
  the multiprocess executor (its two steps side by side) and on a Dask LocalCluster;
- `scenario_regret` is the stress test `tokenplan stress` makes of the same plan, and the plan's
  report then carries the regret table; it refuses partitions of an older snapshot.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from conftest import DATASETS, REPO
from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository

from pipelines.definitions import build_defs
from pipelines.planning.stress import make_stress_test

SCENARIOS = ["base", "rubin-dear"]
PARTS = ("scenario_optimum", "scenario_stress")


def location_job(name: str) -> ReconstructableJob:
    """The job as the code location `pipelines.definitions:defs` defines it, as the daemon
    launches it: each step process and Dask worker loads the location again."""
    location = ReconstructableRepository.for_module(
        "pipelines.definitions", "defs", working_directory=str(REPO)
    )
    return location.get_reconstructable_job(name)


@dataclass
class Site:
    data: Path
    warehouse: Path
    instance: dg.DagsterInstance
    defs: dg.Definitions

    def results(self) -> dict[str, dict[str, dict]]:
        """Each part's document per scenario, as the warehouse holds them now."""
        return {
            part: {
                name: json.loads((self.warehouse / part / f"{name}.json").read_text())
                for name in SCENARIOS
            }
            for part in PARTS
        }

    def folders(self) -> dict:
        """Run config giving the steps this site's folders: a step forked from a server started
        earlier (the multiprocess executor's forkserver) has that server's environment, not
        TOKENPLAN_DATA and TOKENPLAN_WAREHOUSE as set here."""
        warehouse = {"config": {"path": str(self.warehouse)}}
        return {
            "resources": {
                "input_folder": {"config": {"path": str(self.data)}},
                "warehouse": warehouse,
                "io_manager": {"config": {"base_dir": str(self.warehouse)}},
            }
        }

    def clear(self) -> None:
        for part in PARTS:
            shutil.rmtree(self.warehouse / part)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("scenario_assets")
    data, warehouse = root / "data", root / "warehouse"
    shutil.copytree(DATASETS, data)
    for name in ("dear-energy", "demand-boom"):
        (data / "scenarios" / f"{name}.yaml").unlink()
    rubin = data / "scenarios" / "rubin-dear.yaml"
    rubin.write_text(rubin.read_text().replace("probability: 0.2", "probability: 0.5"))
    scenario = data / "scenario.yaml"  # three years, 2026-2028: Vera Rubin from 2027
    text = scenario.read_text().replace("years: 5", "years: 3")
    text = text.replace("[20, 20, 40, 40, 40]", "[20, 20, 40]")
    scenario.write_text(
        text.replace("[34.0e6, 48.0e6, 67.0e6, 94.0e6, 131.0e6]", "[34.0e6, 48.0e6, 67.0e6]")
    )
    with pytest.MonkeyPatch.context() as patch, dg.instance_for_test() as instance:
        # read when a step process or a Dask worker loads the code location
        patch.setenv("TOKENPLAN_DATA", str(data))
        patch.setenv("TOKENPLAN_WAREHOUSE", str(warehouse))
        defs = build_defs(data, warehouse)
        assert defs.resolve_job_def("horizon").execute_in_process(instance=instance).success
        yield Site(data, warehouse, instance, defs)


@pytest.fixture(scope="module")
def in_process(site: Site) -> dict[str, dict[str, dict]]:
    for name in SCENARIOS:
        job = site.defs.resolve_job_def("scenario_runs")
        assert job.execute_in_process(instance=site.instance, partition_key=name).success
    return site.results()


def test_ingest_makes_the_scenarios_partitions(site: Site):
    assert site.instance.get_dynamic_partitions("scenarios") == SCENARIOS


def outcomes(results: dict[str, dict[str, dict]]) -> dict:
    return {
        (part, name): dict(doc["outcome"])
        for part, by_name in results.items()
        for name, doc in by_name.items()
    }


def test_each_partition_is_its_scenario(site: Site, in_process: dict):
    optimum, stress = in_process["scenario_optimum"], in_process["scenario_stress"]
    for name in SCENARIOS:
        assert optimum[name]["scenario"] == stress[name]["scenario"] == name
        assert optimum[name]["probability"] == 0.5
        assert optimum[name]["outcome"]["status"] == "optimal"
        assert optimum[name]["plan"]["build_plan"]
    # the plan was made for base: re-dispatched there it is its own optimum; rubin-dear's own
    # optimum is cheaper than the plan there (it would have bought less Vera Rubin)
    plan = json.loads((site.warehouse / "horizon_plan.json").read_text())
    base = stress["base"]["outcome"]["cost_per_million_tokens_usd"]
    assert base == pytest.approx(plan["cost_per_million_tokens_usd"], rel=1e-6)
    own = optimum["base"]["outcome"]["cost_per_million_tokens_usd"]
    assert own == pytest.approx(base, rel=1e-3)
    dear = stress["rubin-dear"]["outcome"]["cost_per_million_tokens_usd"]
    assert optimum["rubin-dear"]["outcome"]["cost_per_million_tokens_usd"] < dear


def started_together(result) -> bool:
    """Both steps started before either finished."""
    kinds = [
        e.event_type
        for e in result.all_events
        if e.event_type in (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS)
    ]
    return kinds[:2] == [dg.DagsterEventType.STEP_START] * 2


@pytest.mark.parametrize("job", ["scenario_runs", "scenario_runs_dask"])
def test_the_partitions_give_the_same_results_on_every_executor(site: Site, in_process: dict, job):
    expected = outcomes(in_process)
    site.clear()
    for name in SCENARIOS:
        result = dg.execute_job(
            location_job(job),
            instance=site.instance,
            tags={"dagster/partition": name},
            run_config=site.folders(),
        )
        assert result.success
        if job == "scenario_runs":
            assert started_together(result), "the two steps of a partition ran one after the other"
    found = outcomes(site.results())
    assert found.keys() == expected.keys()
    for key, outcome in found.items():
        assert outcome["status"] == expected[key]["status"]
        for field in ("cost_per_million_tokens_usd", "present_value_cost_usd"):
            assert outcome[field] == pytest.approx(expected[key][field], rel=1e-9), key


def test_the_regret_asset_is_the_stress_test(site: Site, in_process: dict):
    result = site.defs.resolve_job_def("stress_test").execute_in_process(instance=site.instance)
    assert result.success
    document = json.loads((site.warehouse / "scenario_regret.json").read_text())
    plan = json.loads((site.warehouse / "horizon_plan.json").read_text())
    cli = make_stress_test(site.data, plan, "horizon_plan.json")
    assert [r["scenario"] for r in document["regret"]] == [*SCENARIOS, "expected"]
    for row, same in zip(document["regret"], cli["regret"], strict=True):
        assert row["scenario"] == same["scenario"]
        for field in ("plan_cost_per_million_tokens_usd", "own_cost_per_million_tokens_usd"):
            assert row[field] == pytest.approx(same[field], rel=1e-6)
    expected = document["regret"][-1]
    assert expected["regret_usd_per_million_tokens"] == pytest.approx(
        sum(0.5 * r["regret_usd_per_million_tokens"] for r in document["regret"][:-1])
    )
    assert document["regret"][1]["regret_pct"] > 0.1  # rubin-dear: the plan bought Vera Rubin
    page = (site.warehouse / "exports" / "horizon_plan.html").read_text()
    assert "Under the scenarios" in page and "rubin-dear" in page


def test_the_robust_plan_asset_beats_the_plan_in_expectation(site: Site, in_process: dict):
    """The robust plan's own optima are the `scenario_optimum` partitions', and in expectation
    it is no worse than the multi-year plan made for base, re-dispatched in each scenario."""
    assert site.defs.resolve_job_def("robust").execute_in_process(instance=site.instance).success
    robust = json.loads((site.warehouse / "robust_plan.json").read_text())
    stress = json.loads((site.warehouse / "scenario_regret.json").read_text())
    assert [s["name"] for s in robust["scenarios"]] == SCENARIOS
    for row in robust["regret"][:-1]:
        own = in_process["scenario_optimum"][row["scenario"]]["outcome"]
        assert row["own_cost_per_million_tokens_usd"] == pytest.approx(
            own["cost_per_million_tokens_usd"], rel=1e-9
        )
    gap = 1e-4  # SolverOptions' default
    assert robust["expected_cost_per_million_tokens_usd"] <= stress[
        "expected_cost_per_million_tokens_usd"
    ] * (1 + gap)
    page = (site.warehouse / "exports" / "robust_plan.html").read_text()
    assert "<h2>Regret</h2>" in page and "shared by every scenario" in page


def test_a_removed_scenario_leaves_the_partitions_and_stale_runs_are_refused(site: Site):
    removed = site.data / "scenarios" / "rubin-dear.yaml"
    kept = removed.read_text()
    base = site.data / "scenarios" / "base.yaml"
    base_text = base.read_text()
    try:
        # a bad scenario file fails ingest: the snapshot and the partitions stay
        base.write_text(base_text.replace("probability: 0.5", "probability: 2"))
        ingest = site.defs.resolve_job_def("ingest_only")
        assert not ingest.execute_in_process(instance=site.instance, raise_on_error=False).success
        assert site.instance.get_dynamic_partitions("scenarios") == SCENARIOS
        # one future fewer: its partition goes at the next ingest
        base.write_text(base_text.replace("probability: 0.5", "probability: 1"))
        removed.unlink()
        assert ingest.execute_in_process(instance=site.instance).success
        assert site.instance.get_dynamic_partitions("scenarios") == ["base"]
        # base's partitions were made from the previous snapshot
        stress = site.defs.resolve_job_def("stress_test")
        result = stress.execute_in_process(instance=site.instance, raise_on_error=False)
        assert not result.success
        (failure,) = [
            e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE
        ]
        assert "another tables snapshot" in failure.step_failure_data.error.message
    finally:
        removed.write_text(kept)
        base.write_text(base_text)
        site.defs.resolve_job_def("ingest_only").execute_in_process(instance=site.instance)
    assert site.instance.get_dynamic_partitions("scenarios") == SCENARIOS
