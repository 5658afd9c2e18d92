"""Shared fixtures: the repo's folders, a throw-away copy of the bundled data, a Dagster home per
session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO / "datasets"


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
