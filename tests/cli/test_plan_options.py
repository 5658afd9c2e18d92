"""`tokenplan plan` options: `--tariff` overrides the scenario's tariff (an unknown id is bad
input listing the known ones), `--no-save` keeps nothing, and an objective without its inputs
(min-cost without demands, max-profit without prices) is bad input saying what is missing and
where, before any solve."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import DATASETS

from pipelines.cli.main import main
from pipelines.warehouse.history import plan_files


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def no_solve(monkeypatch):
    """Fail the test if a command gets as far as solving or running a Dagster job."""
    import pipelines.cli.run_job
    import pipelines.planning.make_plan
    import pipelines.planning.sweep

    def started(*args, **kwargs):
        raise AssertionError("the command started solving before reporting its bad input")

    for module, name in (
        (pipelines.planning.make_plan, "make_plan"),
        (pipelines.planning.sweep, "sweep"),
        (pipelines.cli.run_job, "run_job"),
    ):
        monkeypatch.setattr(module, name, started)


def test_a_trial_plan_with_another_tariff_is_not_kept(tmp_path: Path, capsys):
    """One solve: `--tariff` prices the plan with the flat EIA Arkansas tariff (no demand
    charges, unlike the scenario's time-of-use tariff), `--no-save` keeps nothing, and `--json`
    says so on stderr only."""
    code, out, err = run_cli(
        [
            "plan",
            "--data",
            str(DATASETS),
            "--warehouse",
            str(tmp_path),
            "--tariff",
            "eia-2024-arkansas",
            "--no-save",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    plan = json.loads(out)
    assert plan["tariff"] == "eia-2024-arkansas"
    assert plan["costs_usd_per_year"]["demand_charges"] == 0
    assert plan["costs_usd_per_year"]["energy"] > 0
    assert f"trial plan {plan['plan_id']}: not kept (--no-save)" in err
    assert plan_files(tmp_path) == [] and not any(tmp_path.iterdir())


def test_an_unknown_tariff_is_bad_input_listing_the_known_ids(tmp_path, no_solve, capsys):
    for command in (["plan"], ["replan"], ["sweep", "--budget-mw", "10"]):
        argv = [*command, "--data", str(DATASETS), "--tariff", "eia-2024-atlantis"]
        if command[0] != "sweep":
            argv += ["--warehouse", str(tmp_path)]
        code, out, err = run_cli(argv, capsys)
        assert code == 2, command
        assert "command line: --tariff: no tariff 'eia-2024-atlantis'" in err
        assert "eia-2024-arkansas" in err and "5a592c995457a3371c423a7d" in err
        assert "Traceback" not in err and out == ""
    assert plan_files(tmp_path) == []


def test_min_cost_without_demands_says_what_to_give_and_exits_2(tmp_path, no_solve, capsys):
    code, out, err = run_cli(
        [
            "plan",
            "--data",
            str(DATASETS),
            "--warehouse",
            str(tmp_path),
            "--objective",
            "min-cost",
        ],
        capsys,
    )
    assert code == 2 and out == ""
    assert "scenario.yaml: workloads[].demand_tokens_per_s: --objective min-cost needs" in err
    assert "no workload has a demand_tokens_per_s > 0" in err
    assert re.search(r"e\.g\. `demand_tokens_per_s: \d+` under `- name: chat`", err)
    assert plan_files(tmp_path) == []


def test_max_profit_without_prices_says_what_to_give_and_exits_2(
    data: Path, tmp_path, no_solve, capsys
):
    scenario = data / "scenario.yaml"
    lines = scenario.read_text().splitlines()
    scenario.write_text(
        "\n".join(line for line in lines if "price_usd_per_million_tokens:" not in line) + "\n"
    )
    code, _, err = run_cli(
        ["replan", "--data", str(data), "--warehouse", str(tmp_path), "--objective", "max-profit"],
        capsys,
    )
    assert code == 2
    assert "workloads[].price_usd_per_million_tokens: --objective max-profit needs" in err
    assert "price_usd_per_million_tokens: " in err.split("e.g.")[1]


def test_replan_passes_the_tariff_to_design_space():
    from pipelines.cli.commands.replan import design_config
    from pipelines.cli.main import build_parser
    from pipelines.defs.design.assets import DesignConfig

    args = build_parser().parse_args(["replan", "--tariff", "eia-2024-arkansas"])
    assert design_config(args) == {"budget_mw": None, "tariff": "eia-2024-arkansas"}
    assert "tariff" in DesignConfig.model_fields
    assert "tariff" not in design_config(build_parser().parse_args(["replan"]))
