"""Shared fixtures: the repo's folders, a throw-away copy of the bundled data, a Dagster home per
session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO / "datasets"

PLAN_FIELDS = {  # what every plan document holds (docs/contract.md and PlanDocument)
    "status",
    "objective",
    "budget_mw",
    "grid_power_mw",
    "it_power_mw",
    "pue",
    "power_design",
    "fleet",
    "allocation",
    "tokens_per_year",
    "annual_cost_usd",
    "capex_usd",
    "costs_usd_per_year",
    "cost_per_million_tokens_usd",
    "tokens_per_s_per_mw",
    "kwh_per_million_tokens",
    "solver",
    "inputs",
}


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every Dagster run in the tests goes to a temporary instance, never the project's."""
    home = tmp_path_factory.mktemp("dagster_home")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of the bundled input folder that a test may change."""
    copy = tmp_path / "data"
    shutil.copytree(DATASETS, copy)
    return copy


def processes_using(dagster_home: Path) -> list[int]:
    """Processes (other than this one) whose environment has DAGSTER_HOME=`dagster_home`: what a
    test that starts Dagster processes must leave none of."""
    marker = f"DAGSTER_HOME={dagster_home}\0".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if marker in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found
