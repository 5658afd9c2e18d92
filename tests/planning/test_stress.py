"""Stress tests and robust plans on a copy of the bundled data with a two-year horizon and three
scenarios: a plan's regret is never negative (up to the solver's gap) and zero on its own
scenario; the robust plan is never worse in expectation than any single scenario's plan
re-dispatched across the scenarios; `tokenplan stress` and `tokenplan horizon --robust` end to
end, and a bad plan file is bad input."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
import yaml
from conftest import DATASETS

from optimizer.horizon import solve_horizon, solve_robust
from optimizer.horizon.document import build_plan_of, horizon_document
from optimizer.inputs import SolverOptions
from pipelines.cli.main import main
from pipelines.ingest.sources import read_inputs
from pipelines.planning.scenarios import scenario_cases
from pipelines.planning.stress import expected_levelized_cost, make_stress_test, stress_table
from pipelines.reports.stress import robust_parts
from pipelines.reports.text import render_text

GAP = 1e-3
OPTIONS = SolverOptions(mip_rel_gap=GAP)
SOLVER = ["--gap", str(GAP)]
SCENARIOS = {
    "base": "probability: 0.5\n",
    "dear-energy": "probability: 0.3\nenergy_price_multiplier: 3\n"
    "capex_multipliers: {GB200: 1.3}\n",
    "slow-rubin": "probability: 0.2\nthroughput_multipliers: {VR200: 0.6}\nwacc: 0.1\n",
}
SYSTEMS = ("HGX H200 8-GPU", "HGX B200 8-GPU", "GB200 NVL72", "Vera Rubin NVL72")
"""The systems of the price sheet kept: the installed fleet's and three to buy (fewer systems,
faster solves)."""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled data with four systems, a horizon of 2026-2027 and three scenarios, `base`
    the scenario as it is."""
    data = tmp_path_factory.mktemp("stress") / "data"
    shutil.copytree(DATASETS, data)
    sheet = data / "hardware" / "price_sheet.csv"
    rows = pl.read_csv(sheet, infer_schema=False)
    assert set(SYSTEMS) <= set(rows["sku"])
    rows.filter(pl.col("sku").is_in(SYSTEMS)).write_csv(sheet)
    for other in (data / "hardware").glob("*.xlsx"):
        other.unlink()
    document = yaml.safe_load((data / "scenario.yaml").read_text())
    document["horizon"] = {
        "start_year": 2026,
        "years": 2,
        "budget_mw": [20, 30],
        "demand_tokens_per_s": [30.0e6, 45.0e6],
    }
    (data / "scenario.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.rmtree(data / "scenarios", ignore_errors=True)
    (data / "scenarios").mkdir()
    for name, text in SCENARIOS.items():
        (data / "scenarios" / f"{name}.yaml").write_text(text)
    return data


@pytest.fixture(scope="module")
def cases(folder: Path) -> list:
    return scenario_cases(read_inputs(folder))


@pytest.fixture(scope="module")
def plans(cases: list) -> dict[str, dict]:
    """Each scenario's own plan, as the document `tokenplan horizon` writes."""
    return {
        name: horizon_document(inputs, solve_horizon(inputs, options=OPTIONS))
        for name, _, inputs in cases
    }


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


def test_regret_is_zero_on_the_plan_s_own_scenario_and_never_negative(folder, cases, plans):
    document = make_stress_test(folder, plans["base"], "base.json", options=OPTIONS)
    assert document["objective"] == "cost-per-token"  # the plan's
    assert document["plan"]["file"] == "base.json"
    assert "scenarios/base.yaml" in {entry["file"] for entry in document["inputs"]}
    rows = document["regret"]
    assert document["expected_cost_per_million_tokens_usd"] == pytest.approx(
        sum(p * r["plan_present_value_cost_usd"] for (_, p, _), r in zip(cases, rows, strict=False))
        / sum(p * r["plan_present_value_tokens"] for (_, p, _), r in zip(cases, rows, strict=False))
        * 1e6
    )
    assert [r["scenario"] for r in rows] == [*SCENARIOS, "expected"]
    by_name = {r["scenario"]: r for r in rows}
    base = by_name["base"]
    assert base["plan_reason"] is None and base["own_reason"] is None
    assert (
        abs(base["regret_usd_per_million_tokens"]) <= GAP * base["own_cost_per_million_tokens_usd"]
    )
    for row in rows:
        assert row["plan_reason"] is None, row  # the floors are the same in every scenario
        assert row["regret_usd_per_million_tokens"] >= -GAP * row["own_cost_per_million_tokens_usd"]
        assert row["regret_pct"] == pytest.approx(
            100 * row["regret_usd_per_million_tokens"] / row["own_cost_per_million_tokens_usd"]
        )
    slow = by_name["slow-rubin"]  # Vera Rubin at 60% of its throughput: fewer would be bought
    assert slow["regret_usd_per_million_tokens"] > GAP * slow["own_cost_per_million_tokens_usd"]
    expected = by_name["expected"]
    weighted = sum(p * by_name[name]["regret_usd_per_million_tokens"] for name, p, _ in cases)
    assert expected["probability"] == pytest.approx(1.0)
    assert expected["regret_usd_per_million_tokens"] == pytest.approx(weighted)
    assert expected["regret_usd_per_million_tokens"] == pytest.approx(
        expected["plan_cost_per_million_tokens_usd"] - expected["own_cost_per_million_tokens_usd"]
    )


def test_a_plan_that_cannot_meet_a_scenario_s_floor_is_infeasible_there(cases, plans):
    _, _, inputs = cases[0]
    assert inputs.horizon is not None and inputs.horizon.demand_tokens_per_s is not None
    floors = tuple(4 * d for d in inputs.horizon.demand_tokens_per_s)
    more = replace(inputs, horizon=replace(inputs.horizon, demand_tokens_per_s=floors))
    rows = stress_table(plans["base"], [("4x demand", 1.0, more)], options=OPTIONS)
    row, expected = rows
    assert row["plan_status"] == "infeasible" and row["plan_reason"]
    assert row["plan_cost_per_million_tokens_usd"] is None
    assert row["regret_usd_per_million_tokens"] is None
    assert expected["plan_status"] == "infeasible"
    assert expected_levelized_cost(rows) is None


def test_the_robust_plan_is_never_worse_in_expectation_than_a_single_scenario_plan(cases, plans):
    robust = solve_robust(cases, options=OPTIONS)
    first = [
        {
            (r.sku, r.cooling_id, r.power_id, r.bought)
            for r in plan.vintages
            if r.year == 2026 and r.kind == "bought"
        }
        for plan in robust.plans.values()
    ]
    assert all(buys == first[0] for buys in first)
    for name, document in plans.items():
        fixed = build_plan_of(document)
        redispatched = [
            (p, solve_horizon(inputs, options=OPTIONS, fixed=fixed)) for _, p, inputs in cases
        ]
        cost = sum(p * s.present_value_cost_usd for p, s in redispatched)
        tokens = sum(p * s.present_value_tokens for p, s in redispatched)
        single = cost / tokens * 1e6
        assert robust.expected_cost_per_million_tokens_usd <= single * (1 + GAP), name


def test_tokenplan_stress_prints_the_regret_table(folder: Path, tmp_path: Path):
    code, _ = run(["horizon", "--data", str(folder), "--out", str(tmp_path), *SOLVER])
    assert code == 0
    plan = tmp_path / "horizon_plan.json"
    out = tmp_path / "stress"
    code, text = run(["stress", str(plan), "--data", str(folder), "--out", str(out), *SOLVER])
    assert code == 0
    assert "Stress test of" in text and "regret per M tokens" in text
    lines = [line.split() for line in text.splitlines()]
    for name in [*SCENARIOS, "expected"]:
        assert any(words[:1] == [name] for words in lines), name
    # --out: the document, its rows, and the plan's report with the regret table
    document = json.loads((out / "stress_test.json").read_text())
    assert [r["scenario"] for r in document["regret"]] == [*SCENARIOS, "expected"]
    assert pl.read_csv(out / "regret.csv")["scenario"].to_list() == [*SCENARIOS, "expected"]
    page = (out / "horizon_plan.html").read_text()
    table = page[page.index("Under the scenarios") :]
    for row in document["regret"]:
        assert f'<td class="">{row["scenario"]}</td>' in table
    assert (tmp_path / "horizon_plan.html").read_text().count("Under the scenarios") == 0


def test_tokenplan_horizon_robust_prints_the_shared_first_year_and_the_regret(
    folder: Path, tmp_path: Path
):
    code, text = run(
        ["horizon", "--robust", "--data", str(folder), "--out", str(tmp_path), *SOLVER]
    )
    assert code == 0
    assert "shared by every scenario" in text and "regret per M tokens" in text
    lines = [line.split() for line in text.splitlines()]
    for name in [*SCENARIOS, "expected"]:
        assert any(words[:1] == [name] for words in lines), name
    document = json.loads((tmp_path / "robust_plan.json").read_text())
    assert render_text(robust_parts(document)) == text
    page = (tmp_path / "robust_plan.html").read_text()  # the same parts, as a report
    regret = page[page.index("<h2>Regret</h2>") :]
    for row in document["regret"]:
        assert f'<td class="">{row["scenario"]}</td>' in regret
    assert [s["name"] for s in document["scenarios"]] == list(SCENARIOS)
    assert [r["scenario"] for r in document["regret"]] == [*SCENARIOS, "expected"]
    assert document["first_year"] and all(r["nodes"] > 0 for r in document["first_year"])
    assert document["expected_cost_per_million_tokens_usd"] == pytest.approx(
        expected_levelized_cost(document["regret"])
    )
    for scenario, row in zip(document["scenarios"], document["regret"], strict=False):
        plan = scenario["plan"]
        assert [y["year"] for y in plan["yearly"]] == [2026, 2027]
        assert row["plan_cost_per_million_tokens_usd"] == pytest.approx(
            plan["cost_per_million_tokens_usd"]
        )
        assert row["regret_usd_per_million_tokens"] >= -GAP * row["own_cost_per_million_tokens_usd"]
        bought = {
            (r["sku"], r["cooling_id"], r["power_id"], r["kind"]): r["bought"]
            for r in plan["build_plan"]
            if r["year"] == 2026 and r["bought"]
        }
        for shared in document["first_year"]:
            key = (shared["sku"], shared["cooling_id"], shared["power_id"], shared["kind"])
            assert bought[key] == shared["nodes"]


# --- bad input ---------------------------------------------------------------------------------


def stress_problems(folder: Path, plan: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["stress", str(plan), "--data", str(folder)]) == 2
    return capsys.readouterr().err


def test_a_missing_plan_file_is_bad_input(folder: Path, tmp_path: Path, capsys):
    err = stress_problems(folder, tmp_path / "nope.json", capsys)
    assert f"{tmp_path / 'nope.json'}: file not found" in err


def test_a_plan_file_that_is_not_json_is_bad_input(folder: Path, tmp_path: Path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text("{not json")
    assert f"{plan}:1: not valid JSON" in stress_problems(folder, plan, capsys)


def test_a_one_year_plan_is_not_a_multi_year_plan(folder: Path, tmp_path: Path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"status": "optimal", "objective": "cost-per-token", "fleet": []}))
    err = stress_problems(folder, plan, capsys)
    assert f"{plan}: not a multi-year plan" in err and "no name, start_year, years" in err


def test_a_plan_on_other_systems_or_years_is_bad_input(folder: Path, tmp_path: Path, plans, capsys):
    document = json.loads(json.dumps(plans["base"]))
    document["build_plan"][0]["sku"] = "TPU v9 pod"
    document["build_plan"][1]["bought"] = -1
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(document))
    err = stress_problems(folder, plan, capsys)
    assert f"{plan}: build_plan[2].bought: expected a whole number >= 0, got -1" in err
    document["build_plan"][1]["bought"] = 0
    document["start_year"] = 2030
    plan.write_text(json.dumps(document))
    err = stress_problems(folder, plan, capsys)
    assert f"{plan}: start_year: plans 2030 and 2 years; the scenarios plan 2026-2027" in err
    assert f"{plan}: build_plan[1].sku: system 'TPU v9 pod' is not among the systems" in err


def test_no_scenarios_is_bad_input_naming_the_folder(plans, tmp_path: Path, capsys):
    data = tmp_path / "data"
    shutil.copytree(DATASETS, data)
    shutil.rmtree(data / "scenarios", ignore_errors=True)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plans["base"]))
    err = stress_problems(data, plan, capsys)
    assert "scenarios/: no scenario files (scenarios/*.yaml)" in err
    assert main(["horizon", "--robust", "--data", str(data)]) == 2
    assert "scenarios/: no scenario files" in capsys.readouterr().err
