"""Plan history: every plan kept in `warehouse/plans/`, named by its plan id.

A plan id is the UTC time it was made and a short hash of its input files' content
hashes (`20261123T071502Z-3f9a1c2b`), so plans sort by time and two plans of the same
inputs are visibly alike. Plans are written atomically and only after a solve
succeeded: a failed run never replaces the latest good plan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from optimizer.types import PlanDocument
from pipelines.warehouse.files import write_atomically

PLANS_FOLDER = "plans"


def inputs_digest(document: PlanDocument | Mapping[str, Any]) -> str:
    """A short hash over the input files and their content hashes of a plan (or of a budget
    sweep's frontier, which lists its `inputs` the same way)."""
    files = sorted(document.get("inputs", []), key=lambda f: f["file"])
    listing = "\n".join(f"{f['file']} {f['sha256']}" for f in files)
    return hashlib.sha256(listing.encode()).hexdigest()[:8]


def stamp(plan: PlanDocument, now: datetime | None = None) -> PlanDocument:
    """The plan with its `plan_id` and `created_at` set."""
    now = now or datetime.now(UTC)
    return plan | {
        "plan_id": f"{now:%Y%m%dT%H%M%S%fZ}-{inputs_digest(plan)}",
        "created_at": now.isoformat(timespec="seconds"),
    }


def save_plan(plan: PlanDocument, warehouse: Path) -> Path:
    """Keep a stamped plan in the history; returns its file."""
    path = warehouse / PLANS_FOLDER / f"{plan['plan_id']}.json"
    write_atomically(path, lambda tmp: Path(tmp).write_text(json.dumps(plan, indent=2)))
    return path


def plan_files(warehouse: Path) -> list[Path]:
    """Every kept plan, oldest first."""
    return sorted((warehouse / PLANS_FOLDER).glob("*.json"))


def plan_path(reference: str, warehouse: Path) -> Path:
    """The file of a plan given by file path, by plan id (or its unique prefix), or `latest`;
    FileNotFoundError saying why when there is none."""
    path = Path(reference)
    if not path.is_file():
        files = plan_files(warehouse)
        if reference == "latest":
            if not files:
                raise FileNotFoundError(
                    f"no plans in {warehouse / PLANS_FOLDER}: run `tokenplan plan` first"
                )
            path = files[-1]
        else:
            matches = [f for f in files if f.stem == reference or f.stem.startswith(reference)]
            if len(matches) != 1:
                raise FileNotFoundError(
                    f"no single plan '{reference}' in {warehouse / PLANS_FOLDER}"
                )
            path = matches[0]
    return path


def read_plan(path: Path) -> PlanDocument:
    """The plan in a JSON file, as written (`pipelines.cli.options.load_plan` checks it is one)."""
    plan: PlanDocument = json.loads(path.read_text())
    return plan


def load_plan(reference: str, warehouse: Path) -> PlanDocument:
    """A plan by file path, by plan id, or `latest` (see `plan_path`)."""
    return read_plan(plan_path(reference, warehouse))
