"""`tokenplan plan` and `replan` end to end on the bundled data: the document, exit codes, nothing
lost."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import polars as pl
import pytest
from conftest import DATASETS, PLAN_FIELDS

from pipelines.cli.main import main
from pipelines.warehouse.history import plan_files

FLEET_FIELDS = {"sku", "cooling_id", "power_id", "nodes", "gpus", "it_power_kw", "grid_power_kw"}
ALLOCATION_FIELDS = {
    "sku",
    "workload",
    "gpus",
    "tokens_per_s",
    "tokens_per_s_per_gpu",
    "interactivity_tokens_per_s_per_user",
    "ttft_s",
}
COSTS = {
    "it_capex",
    "cooling_capex",
    "power_capex",
    "shell_capex",
    "grid_connection_capex",
    "energy",
    "demand_charges",
    "fixed_charges",
    "maintenance",
    "other_opex",
    "rental",
}
SOLVER_FIELDS = {"name", "status", "mip_gap", "seconds", "iterations"}


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> dict:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        warehouse = tmp_path_factory.mktemp("warehouse")
        assert main(["plan", "--data", str(DATASETS), "--warehouse", str(warehouse), "--json"]) == 0
    return json.loads(buffer.getvalue())


def test_plan_document_has_every_field(plan: dict):
    assert PLAN_FIELDS <= set(plan)
    assert all(FLEET_FIELDS <= set(row) for row in plan["fleet"])
    assert all(ALLOCATION_FIELDS <= set(row) for row in plan["allocation"])
    assert COSTS == set(plan["costs_usd_per_year"])
    assert SOLVER_FIELDS <= set(plan["solver"])
    assert {entry["file"] for entry in plan["inputs"]} >= {
        "scenario.yaml",
        "hardware/price_sheet.csv",
    }


def test_plan_is_consistent(plan: dict):
    assert plan["status"] == "optimal"
    assert plan["grid_power_mw"] <= plan["budget_mw"] + 1e-9
    assert sum(plan["costs_usd_per_year"].values()) == pytest.approx(
        plan["annual_cost_usd"], rel=1e-9
    )
    assert plan["cost_per_million_tokens_usd"] == pytest.approx(
        plan["annual_cost_usd"] / plan["tokens_per_year"] * 1e6, rel=1e-9
    )
    assert sum(r["grid_power_kw"] for r in plan["fleet"]) / 1000 == pytest.approx(
        plan["grid_power_mw"]
    )
    owned_gpus = {r["sku"]: 0 for r in plan["fleet"]}
    for row in plan["fleet"]:
        owned_gpus[row["sku"]] += row["gpus"]
    for row in plan["allocation"]:
        assert row["gpus"] <= owned_gpus[row["sku"]] + 1e-6
    shares = {w["name"]: w["share"] for w in plan["workloads"]}
    total = sum(w["tokens_per_s"] for w in plan["workloads"])
    for w in plan["workloads"]:
        assert w["tokens_per_s"] / total == pytest.approx(shares[w["name"]], rel=1e-6)


def test_text_plan_prints_the_table(tmp_path: Path, capsys):
    assert main(["plan", "--data", str(DATASETS), "--warehouse", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for heading in (
        "cost per million tokens",
        "tokens/s per MW",
        "Fleet",
        "Allocation",
        "Annual cost",
        "Solver",
    ):
        assert heading in out
    [kept] = plan_files(tmp_path)
    assert out.endswith(f"\nplan {kept.stem} kept in {kept}\n")


def test_budget_below_one_node_is_infeasible_and_keeps_the_last_plan(
    data: Path, tmp_path: Path, capsys
):
    """Without rentals (which use no site power), a budget below one node's grid power admits no
    plan."""
    sheet = data / "hardware/price_sheet.csv"
    pl.read_csv(sheet, infer_schema=False).filter(pl.col("node_capex_usd").is_not_null()).write_csv(
        sheet
    )
    assert main(["plan", "--data", str(data), "--warehouse", str(tmp_path)]) == 0
    kept = plan_files(tmp_path)
    capsys.readouterr()
    assert (
        main(["plan", "--data", str(data), "--warehouse", str(tmp_path), "--budget-mw", "0.001"])
        == 1
    )
    assert "budget" in capsys.readouterr().err
    assert plan_files(tmp_path) == kept


def test_bad_input_exits_2_and_keeps_the_last_plan(data: Path, tmp_path: Path, capsys):
    assert main(["plan", "--data", str(data), "--warehouse", str(tmp_path)]) == 0
    kept = plan_files(tmp_path)
    (data / "power.csv").write_text("power_id,name\n")
    capsys.readouterr()
    assert main(["plan", "--data", str(data), "--warehouse", str(tmp_path)]) == 2
    assert "power.csv" in capsys.readouterr().err
    assert plan_files(tmp_path) == kept


def test_min_cost_meets_demand(data: Path, tmp_path: Path, capsys):
    """min-cost mode: each workload's demand_tokens_per_s is served."""
    scenario = (data / "scenario.yaml").read_text()
    scenario = (
        scenario.replace("share: 0.5", "demand_tokens_per_s: 2000000")
        .replace("share: 0.3", "demand_tokens_per_s: 1000000")
        .replace("share: 0.2", "demand_tokens_per_s: 500000")
    )
    (data / "scenario.yaml").write_text(scenario)
    assert (
        main(
            [
                "plan",
                "--data",
                str(data),
                "--warehouse",
                str(tmp_path),
                "--objective",
                "min-cost",
                "--json",
            ]
        )
        == 0
    )
    plan = json.loads(capsys.readouterr().out)
    served = {w["name"]: w["tokens_per_s"] for w in plan["workloads"]}
    assert served["chat"] >= 2_000_000 * (1 - 1e-6)
    assert served["reasoning-batch"] >= 1_000_000 * (1 - 1e-6)
    assert served["llama-70b-api"] >= 500_000 * (1 - 1e-6)


def test_replan_job_materializes_the_plan_with_passing_checks(tmp_path: Path, capsys, monkeypatch):
    """The Dagster `replan` job: ingest → design_space → build_plan, recorded in the instance;
    the CLI hears each step start (what its spinner says on a terminal)."""
    import dagster as dg

    import pipelines.cli.run_job

    steps: list[str] = []
    run_job = pipelines.cli.run_job.run_job

    def recording(*args, on_step=None, **kwargs):
        def heard(step: str) -> None:
            steps.append(step)
            if on_step is not None:
                on_step(step)

        return run_job(*args, on_step=heard, **kwargs)

    monkeypatch.setattr(pipelines.cli.run_job, "run_job", recording)
    assert main(["replan", "--data", str(DATASETS), "--warehouse", str(tmp_path), "--json"]) == 0
    captured = capsys.readouterr()
    plan = json.loads(captured.out)
    assert f"plan {plan['plan_id']} in " in captured.err
    assert steps.index("design_space") < steps.index("build_plan") < steps.index("plan_json")
    assert plan == json.loads((tmp_path / "build_plan.json").read_text())
    assert [p.stem for p in plan_files(tmp_path)] == [plan["plan_id"]]
    with dg.DagsterInstance.get() as instance:
        for check in ("solver_status", "within_budget", "cost_matches_rows"):
            key = dg.AssetCheckKey(dg.AssetKey("build_plan"), check)
            evaluation = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[
                key
            ]
            assert evaluation.status.value == "SUCCEEDED", check


def test_text_plan_prints_what_each_lever_is_worth(data: Path, tmp_path: Path, capsys):
    """`tokenplan plan` prints the lever table, the site lines and the serving configurations of
    the plan it keeps (checked against the kept document, not the bundled figures)."""
    from pipelines.warehouse.history import load_plan

    power = data / "power.csv"
    frame = pl.read_csv(power, infer_schema=False)
    if "kind" not in frame.columns:  # inputs from before power designs had a kind
        dc = pl.col("power_id").str.starts_with("dc")
        kind = pl.when(dc).then(pl.lit("dc")).otherwise(pl.lit("ac"))
        frame.with_columns(kind.alias("kind")).write_csv(power)
    assert main(["plan", "--data", str(data), "--warehouse", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    plan = load_plan("latest", tmp_path)
    lines = out.splitlines()
    assert "What each lever is worth" in lines
    assert len(plan["levers"]) == 6
    for lever in plan["levers"]:
        [line] = [line for line in lines if line.startswith(lever["name"] + "  ")]
        assert lever["without"] in line
        if lever["cost_ratio"] is not None:
            assert f"{lever['cost_ratio']:.2f}x" in line
        if lever["tokens_per_mw_ratio"] is not None:
            assert f"{lever['tokens_per_mw_ratio']:.2f}x" in line
        used = "not in data" if not lever["in_data"] else "yes" if lever["used_by_plan"] else "no"
        assert f"  {used}  " in line
    assert any(line.startswith("availability") for line in lines)
    for row in plan["allocation"]:
        assert any(row["workload"] in line and row["configuration"] in line for line in lines), row


def test_replan_whose_plan_fails_a_blocking_check_says_so_without_a_traceback(
    tmp_path: Path, capsys, monkeypatch
):
    """The rows no longer add up to the reported cost: `cost_matches_rows` fails, nothing is
    exported or kept, and the CLI says why (exit 1)."""
    import pipelines.defs.plan.assets as plan_assets

    monkeypatch.setattr(
        plan_assets, "recompute_annual_cost", lambda plan, inputs: 2 * plan["annual_cost_usd"]
    )
    code = main(["replan", "--data", str(DATASETS), "--warehouse", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "the plan failed a blocking check" in err and "cost_matches_rows" in err
    assert not list((tmp_path / "plans").glob("*.json"))
