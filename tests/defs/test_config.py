"""What the launchpad shows and checks, and a quiet start: run config documented and
range-checked as the CLI options, folder resources from environment variables, the code
location's one name, the project-local instance's dagster.yaml, `tokenplan ui` running `dg dev`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import dagster as dg
import pytest
import yaml
from conftest import REPO

from pipelines.cli import options
from pipelines.cli.commands import ui
from pipelines.contract import ranges
from pipelines.contract.schema import TABLES
from pipelines.defs import config
from pipelines.defs.design.assets import DesignConfig
from pipelines.defs.plan.assets import MAX_BUDGETS, FrontierConfig, PlanConfig
from pipelines.defs.resources import InputFolder, default_resources
from pipelines.defs.scenarios.jobs import SolveConfig
from pipelines.warehouse import paths

CONFIGS = (DesignConfig, PlanConfig, FrontierConfig, SolveConfig)


@pytest.mark.parametrize(
    ("ours", "cli"),
    [
        (config.BUDGET_MW, options.BUDGET_MW),
        (config.TIME_LIMIT_S, options.TIME_LIMIT_S),
        (config.MIP_GAP, options.MIP_GAP),
        (config.THREADS, options.THREADS),
        (config.JOBS, options.JOBS),
    ],
)
def test_run_config_ranges_are_the_cli_options(ours: config.Bounds, cli: options.Bounds):
    assert (ours.low, ours.high, ours.low_open, ours.high_open) == (
        cli.low,
        cli.high,
        cli.low_open,
        cli.high_open,
    )


def test_the_budget_range_is_the_scenario_contracts():
    column = TABLES["scenario"].column("budget_mw")
    assert (ranges.BUDGET_MW.low, ranges.BUDGET_MW.high, ranges.BUDGET_MW.low_open) == (
        column.min,
        column.max,
        column.min_exclusive,
    )


def test_run_config_choices_and_limits_are_the_clis():
    assert config.OBJECTIVES == options.OBJECTIVES
    assert config.TIME_RESOLUTIONS == options.TIME_RESOLUTIONS
    assert MAX_BUDGETS == options.MAX_BUDGETS


@pytest.mark.parametrize("config_class", CONFIGS, ids=lambda c: c.__name__)
def test_every_run_config_field_is_described_for_the_launchpad(config_class: type[dg.Config]):
    shape = config_class.to_config_schema().as_field().config_type
    for name, field in shape.fields.items():
        assert field.description and field.description.strip(), f"{config_class.__name__}.{name}"
    config_class()  # the defaults are within range


def test_design_config_has_a_tariff_override():
    assert DesignConfig().tariff is None
    assert DesignConfig(tariff="eia-2024-arkansas").tariff == "eia-2024-arkansas"


@pytest.mark.parametrize(
    ("config_class", "values", "messages"),
    [
        (DesignConfig, {"budget_mw": 0.0}, ["budget_mw must be > 0 and <= 10,000 MW"]),
        (DesignConfig, {"budget_mw": 20_000.0}, ["got 20000.0"]),
        (DesignConfig, {"budget_mw": float("nan")}, ["budget_mw must be"]),
        (
            PlanConfig,
            {"mip_rel_gap": 1.0, "threads": 0, "time_limit_s": -1.0, "objective": "cheapest"},
            [
                "mip_rel_gap must be >= 0 and < 1",
                "threads must be >= 1 and <= 256",
                "time_limit_s must be > 0 and <= 604,800 s",
                "objective must be one of cost-per-token, min-cost, max-profit, got 'cheapest'",
            ],
        ),
        (PlanConfig, {"time_resolution": "daily"}, ["time_resolution must be one of flat"]),
        (FrontierConfig, {"start_mw": -1.0, "jobs": 1000}, ["start_mw must", "jobs must"]),
        (SolveConfig, {"mip_rel_gap": -0.1}, ["mip_rel_gap must"]),
    ],
)
def test_a_value_out_of_range_is_a_failure_naming_every_problem(
    config_class: type[config.RunConfig], values: dict, messages: list[str]
):
    with pytest.raises(dg.Failure) as failure:
        config_class(**values)
    assert failure.value.description is not None
    assert failure.value.description.startswith(f"bad run config ({config_class.__name__})")
    for message in messages:
        assert message in failure.value.description
    assert not failure.value.allow_retries


def test_folder_resources_name_their_environment_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TOKENPLAN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("TOKENPLAN_WAREHOUSE", str(tmp_path / "warehouse"))
    resources = default_resources()
    assert resources["input_folder"].path == dg.EnvVar("TOKENPLAN_DATA")
    assert isinstance(resources["warehouse"].path, dg.EnvVar)
    assert resources["io_manager"].base_dir == dg.EnvVar("TOKENPLAN_WAREHOUSE")

    given = default_resources(tmp_path / "mine", tmp_path / "wh")  # the CLI's folders
    assert given["input_folder"].path == str(tmp_path / "mine")
    assert not isinstance(given["warehouse"].path, dg.EnvVar)

    monkeypatch.delenv("TOKENPLAN_DATA")
    monkeypatch.delenv("TOKENPLAN_WAREHOUSE")
    unset = default_resources()
    assert unset["input_folder"].path == str(paths.data_dir())
    assert unset["io_manager"].base_dir == str(paths.warehouse_dir())


def test_a_resource_reads_its_variable_where_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TOKENPLAN_DATA", str(tmp_path))
    seen = []

    @dg.asset
    def reads(input_folder: InputFolder) -> None:
        seen.append(input_folder.dir)

    dg.materialize([reads], resources={"input_folder": default_resources()["input_folder"]})
    assert seen == [tmp_path]


def test_the_code_location_has_one_name():
    workspace = yaml.safe_load((REPO / "workspace.yaml").read_text())
    (location,) = workspace["load_from"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["dg"]["project"]
    assert location["python_module"]["location_name"] == "tokenplan"
    assert project["code_location_name"] == "tokenplan"
    assert location["python_module"]["module_name"] == project["code_location_target_module"]


def test_the_instance_gets_a_quiet_dagster_yaml_unless_it_has_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert paths.ensure_dagster_home() == home
    settings = yaml.safe_load((home / "dagster.yaml").read_text())
    assert settings["telemetry"] == {"enabled": False}
    assert settings["nux"] == {"enabled": False}

    (home / "dagster.yaml").write_text("")  # left empty by tokenplan before it wrote settings
    paths.ensure_dagster_home()
    assert yaml.safe_load((home / "dagster.yaml").read_text())["telemetry"] == {"enabled": False}

    own = "run_queue:\n  max_concurrent_runs: 2\n"
    (home / "dagster.yaml").write_text(own)
    paths.ensure_dagster_home()
    assert (home / "dagster.yaml").read_text() == own


def test_a_new_instance_starts_without_the_telemetry_notice(tmp_path: Path):
    """What the first `tokenplan replan` of a fresh clone does: make the instance, run a job on it
    (the first run on an instance without telemetry settings prints Dagster's notice)."""
    environment = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
    environment.pop("DAGSTER_DISABLE_TELEMETRY", None)
    opened = subprocess.run(
        [
            sys.executable,
            "-c",
            "import dagster as dg\n"
            "from pipelines.warehouse.paths import ensure_dagster_home\n"
            "ensure_dagster_home()\n"
            "@dg.asset\n"
            "def one() -> int:\n"
            "    return 1\n"
            "with dg.DagsterInstance.get() as instance:\n"
            "    dg.materialize([one], instance=instance, run_config=QUIET)\n".replace(
                "QUIET", repr({"loggers": {"console": {"config": {"log_level": "ERROR"}}}})
            ),
        ],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert opened.stdout == "" and opened.stderr == ""


def test_tokenplan_ui_runs_dg_dev_on_the_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    executed: list[list[str]] = []

    def execv(path: str, argv: list[str]) -> None:
        executed.append(argv)

    monkeypatch.setattr(os, "execv", execv)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TOKENPLAN_DATA", os.environ.get("TOKENPLAN_DATA", "unset"))
    monkeypatch.setenv("TOKENPLAN_WAREHOUSE", os.environ.get("TOKENPLAN_WAREHOUSE", "unset"))
    args = argparse.Namespace(
        data=REPO / "datasets", warehouse=tmp_path / "warehouse", host="127.0.0.1", port=3999
    )
    ui.run(args)
    (argv,) = executed
    assert argv[: len(ui.dg_command())] == ui.dg_command()
    assert argv[-7:] == [
        "dev",
        "--workspace",
        str(REPO / "workspace.yaml"),
        "--host",
        "127.0.0.1",
        "--port",
        "3999",
    ]
    assert Path.cwd() == REPO
    assert os.environ["TOKENPLAN_DATA"] == str(REPO / "datasets")
    assert os.environ["TOKENPLAN_WAREHOUSE"] == str(tmp_path / "warehouse")
