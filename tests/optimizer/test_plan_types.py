"""The typed core: `optimizer.types.PlanDocument` describes the plans `plan_document` makes,
those hold the enums' text (not members), the CLI's solver defaults are `SolverOptions`'s, and
a JSON file that is not a plan is bad input naming the file and the keys it lacks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest
from conftest import REPO

from optimizer.inputs import SolverOptions
from optimizer.types import (
    INFEASIBLE,
    AllocationRow,
    Alternative,
    CostComponents,
    FleetRow,
    InputFile,
    MonthRow,
    Objective,
    PlanDocument,
    RealizedUtilization,
    Slices,
    SolverInfo,
    SolverIteration,
    Status,
    SystemUtilization,
    TimeResolution,
    WorkloadRow,
    missing_plan_keys,
)
from pipelines.cli import options
from pipelines.cli.main import main
from pipelines.warehouse.history import save_plan, stamp

GOLDEN = REPO / "tests" / "golden"
VOLATILE = {"seconds", "build_seconds", "solve_seconds"}
SITE_ECONOMICS = {
    "carbon_kg_per_million_tokens",
    "water_l_per_million_tokens",
    "revenue_usd_per_year",
    "margin_usd_per_year",
    "availability",
    "capex_usd_by_component",
    "tariff",
    "assumptions",
}
"""In every plan made now; optional because plan files made before them lack them."""
"""Keys the recorded plans leave out (`tests/test_no_change.py`)."""


def keys(row_type: type) -> set[str]:
    return set(row_type.__required_keys__ | row_type.__optional_keys__)


@pytest.fixture(scope="module")
def made() -> PlanDocument:
    """A plan `plan_document` makes now, of a small generated instance."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_optimizer import SEED, generate

    from optimizer.plan import plan_document
    from optimizer.solve import solve

    inputs = generate(3, 3, 1, 2, 5, seed=SEED)
    files: list[InputFile] = [{"file": "x.csv", "bytes": 2, "sha256": "00"}]
    objective = Objective.COST_PER_TOKEN
    return plan_document(inputs, solve(inputs, objective), objective, files)


def test_the_required_keys_are_every_plans_and_the_extras_optional():
    assert {
        "fleet",
        "allocation",
        "costs_usd_per_year",
        "cost_per_million_tokens_usd",
        "solver",
        "inputs",
        "status",
        "objective",
    } <= PlanDocument.__required_keys__
    assert PlanDocument.__optional_keys__ == {
        *SITE_ECONOMICS,
        "levers",
        "time_resolution",
        "flat_cost_per_million_tokens_usd",
        "flat_at_realized_utilization_cost_per_million_tokens_usd",
        "gain_vs_flat_usd_per_million_tokens",
        "monthly",
        "realized_utilization",
        "slices",
        "alternatives",
        "plan_id",
        "created_at",
        "inputs_snapshot",
    }
    assert keys(InputFile) == {"file", "sha256", "bytes"}
    assert InputFile.__optional_keys__ == {"bytes"}


def test_a_made_plan_has_exactly_the_documented_fields(made: PlanDocument):
    assert set(made) == PlanDocument.__required_keys__ | SITE_ECONOMICS
    assert all(set(row) == keys(FleetRow) for row in made["fleet"]) and made["fleet"]
    assert all(set(row) == keys(AllocationRow) for row in made["allocation"]) and made["allocation"]
    assert all(set(row) == keys(WorkloadRow) for row in made["workloads"])
    assert list(made["costs_usd_per_year"]) == list(CostComponents.__annotations__)
    assert set(made["solver"]) == keys(SolverInfo)
    assert all(set(i) == keys(SolverIteration) for i in made["solver"]["iterations"])
    assert made["inputs"] == [{"file": "x.csv", "bytes": 2, "sha256": "00"}]


def test_a_made_plan_holds_the_enums_text_not_members(made: PlanDocument):
    """Members would reach Dagster's serializer (metadata, run config), which refuses them."""
    for value in (made["status"], made["objective"], made["solver"]["status"]):
        assert type(value) is str
    assert made["objective"] == Objective.COST_PER_TOKEN and made["status"] in set(Status)
    assert json.loads(json.dumps(made)) == made


@pytest.mark.parametrize("case", ["bundled-representative", "bundled-flat"])
def test_recorded_plans_with_extras_have_the_documented_fields(case: str):
    plan = json.loads((GOLDEN / f"{case}.json").read_text())
    assert missing_plan_keys(plan) == [] and set(plan) <= keys(PlanDocument)
    assert all(set(r) == keys(Alternative) for r in plan["alternatives"]) and plan["alternatives"]
    assert {r["status"] for r in plan["alternatives"]} <= {*Status, INFEASIBLE}
    if "time_resolution" in plan:
        assert plan["time_resolution"] in set(TimeResolution) - {TimeResolution.FLAT}
        assert all(set(r) == keys(MonthRow) for r in plan["monthly"]) and len(plan["monthly"]) == 12
        assert set(plan["slices"]) == keys(Slices)
        assert set(plan["realized_utilization"]) == keys(RealizedUtilization)
        by_system = plan["realized_utilization"]["by_system"]
        assert all(set(r) == keys(SystemUtilization) for r in by_system)
    assert set(plan["solver"]) | VOLATILE == keys(SolverInfo)


def test_the_cli_takes_its_solver_defaults_from_solver_options():
    parser = argparse.ArgumentParser()
    options.add_plan(parser)
    args = parser.parse_args([])
    defaults = SolverOptions()
    assert args.time_limit == defaults.time_limit_s and args.gap == defaults.mip_rel_gap
    assert args.threads == defaults.threads
    assert (args.objective, args.time_resolution) == (Objective.COST_PER_TOKEN, TimeResolution.FLAT)
    assert type(args.objective) is str and type(args.time_resolution) is str  # Dagster run config
    assert options.OBJECTIVES == tuple(Objective)
    assert options.TIME_RESOLUTIONS == tuple(TimeResolution)


def test_a_bad_choice_lists_the_choices_as_text(capsys):
    parser = argparse.ArgumentParser()
    options.add_plan(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--objective", "cheapest"])
    assert "(choose from 'cost-per-token', 'min-cost', 'max-profit')" in capsys.readouterr().err


def test_a_json_file_that_is_not_a_plan_is_bad_input_naming_it_and_the_missing_keys(
    tmp_path: Path, capsys
):
    warehouse = tmp_path / "warehouse"
    recorded = json.loads((GOLDEN / "generated-3x2.json").read_text())
    save_plan(stamp(recorded), warehouse)
    not_a_plan = tmp_path / "x.json"
    not_a_plan.write_text(json.dumps({"plan_id": "x", "fleet": []}))
    code = main(["diff", str(not_a_plan), "latest", "--warehouse", str(warehouse)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    line = next(line for line in err.splitlines() if f"{not_a_plan}: " in line)
    missing = line.split(": not a plan: no ")[1].split(", ")
    assert missing == sorted(PlanDocument.__required_keys__ - {"fleet"})  # `plan_id` is optional
    assert "cost_per_million_tokens_usd" in missing and "costs_usd_per_year" in missing
    assert "(1 problem)" in err  # the good plan is none

    assert main(["diff", "latest", "latest", "--warehouse", str(warehouse), "--json"]) == 0
    assert (
        json.loads(capsys.readouterr().out)["plan_a"]
        == json.loads(next((warehouse / "plans").glob("*.json")).read_text())["plan_id"]
    )
