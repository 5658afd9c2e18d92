"""Where tokenplan reads and writes: the project root, the input folder, the warehouse,
DAGSTER_HOME."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """The input folder: `TOKENPLAN_DATA`, default the bundled `datasets/`."""
    return Path(os.environ.get("TOKENPLAN_DATA", PROJECT_ROOT / "datasets")).resolve()


def warehouse_dir() -> Path:
    """Where canonical Parquet tables and plans are written: `TOKENPLAN_WAREHOUSE`, default
    `warehouse/`."""
    return Path(os.environ.get("TOKENPLAN_WAREHOUSE", PROJECT_ROOT / "warehouse")).resolve()


def ensure_dagster_home() -> Path:
    """Dagster's embedded default instance (SQLite) in a project-local `DAGSTER_HOME` unless one is
    set."""
    home = Path(
        os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home"))
    ).resolve()
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").touch(exist_ok=True)
    return home
