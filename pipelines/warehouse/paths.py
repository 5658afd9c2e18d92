"""Where tokenplan reads and writes: the project root, the input folder, the warehouse,
DAGSTER_HOME."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.warehouse.files import write_atomically

PROJECT_ROOT = Path(__file__).resolve().parents[2]

DAGSTER_YAML = """\
# The Dagster instance tokenplan uses (written by tokenplan where there was no dagster.yaml, or
# an empty one; a file with settings is never changed: edit this one as you like).
# No usage statistics are sent, and the UI opens without the welcome dialog.
telemetry:
  enabled: false
nux:
  enabled: false
"""
"""What `ensure_dagster_home` writes to a `dagster.yaml` that is missing or empty."""


def data_dir() -> Path:
    """The input folder: `TOKENPLAN_DATA`, default the bundled `datasets/`."""
    return Path(os.environ.get("TOKENPLAN_DATA", PROJECT_ROOT / "datasets")).resolve()


def warehouse_dir() -> Path:
    """Where canonical Parquet tables and plans are written: `TOKENPLAN_WAREHOUSE`, default
    `warehouse/`."""
    return Path(os.environ.get("TOKENPLAN_WAREHOUSE", PROJECT_ROOT / "warehouse")).resolve()


def ensure_dagster_home() -> Path:
    """Dagster's embedded default instance (SQLite) in a project-local `DAGSTER_HOME` unless one is
    set, with its `dagster.yaml`: `DAGSTER_YAML` (telemetry and the welcome dialog off) if the
    file is missing or empty, otherwise the file as it is."""
    home = Path(
        os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home"))
    ).resolve()
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    try:
        has_settings = bool(settings.read_text().strip())
    except FileNotFoundError:
        has_settings = False
    if not has_settings:
        write_atomically(settings, lambda tmp: Path(tmp).write_text(DAGSTER_YAML))
    return home
