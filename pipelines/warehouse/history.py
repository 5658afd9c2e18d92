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


CANDIDATES_SHOWN = 10
"""How many plans a reference that matches several lists (the newest)."""


class PlanNotFound(FileNotFoundError):
    """No plan, or more than one, answers a reference; `candidates` are the plan files it
    matches, newest first (empty: none)."""

    def __init__(self, message: str, candidates: list[Path] | None = None):
        super().__init__(message)
        self.candidates = candidates or []


def matching_plans(reference: str, warehouse: Path) -> list[Path]:
    """The kept plans whose id is `reference` or starts with it, oldest first (a whole id is
    also the prefix of no other)."""
    files = plan_files(warehouse)
    exact = [f for f in files if f.stem == reference]
    return exact or [f for f in files if f.stem.startswith(reference)]


def plan_path(reference: str, warehouse: Path) -> Path:
    """The file of a plan given by file path, by plan id (or its unique prefix), or `latest`;
    `PlanNotFound` saying why when there is none, or naming the plans a prefix matches (up to
    `CANDIDATES_SHOWN`, newest first) when it matches several."""
    path = Path(reference)
    if path.is_file():
        return path
    folder = warehouse / PLANS_FOLDER
    if reference == "latest":
        files = plan_files(warehouse)
        if not files:
            raise PlanNotFound(f"no plans in {folder}: run `tokenplan plan` first")
        return files[-1]
    matches = matching_plans(reference, warehouse) if reference else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        kept = len(plan_files(warehouse))
        raise PlanNotFound(
            f"no plan file, and no plan id starting with it in {folder} "
            f"({kept} plan{'s' * (kept != 1)} kept; `tokenplan plans` lists them)"
        )
    newest = matches[::-1]
    shown = newest[:CANDIDATES_SHOWN]
    more = len(matches) - len(shown)
    raise PlanNotFound(
        f"matches {len(matches)} plans in {folder}; give more of the id"
        + (f" (the {len(shown)} newest below, {more} more: `tokenplan plans`)" if more else "")
        + ":",
        shown,
    )


PLAN_LISTING_FIELDS = (
    "plan_id",
    "created_at",
    "name",
    "budget_mw",
    "objective",
    "time_resolution",
    "tariff",
    "status",
    "cost_per_million_tokens_usd",
)
"""What `plan_summary` takes from a plan (`time_resolution`: flat when it has none)."""


def plan_summary(path: Path) -> dict[str, Any]:
    """The fields of `PLAN_LISTING_FIELDS` of a kept plan and its `file`; a file that cannot be
    read as a plan: its `plan_id` (the file name), `file` and `error`."""
    summary: dict[str, Any] = {"plan_id": path.stem, "file": str(path)}
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return summary | {"error": f"unreadable: {error}"}
    if not isinstance(plan, dict):
        return summary | {"error": f"not a plan: a {type(plan).__name__}"}
    return (
        {key: plan.get(key) for key in PLAN_LISTING_FIELDS}
        | {"plan_id": plan.get("plan_id") or path.stem, "file": str(path)}
        | {"time_resolution": plan.get("time_resolution") or "flat"}
    )


def list_plans(warehouse: Path) -> list[dict[str, Any]]:
    """`plan_summary` of every kept plan, newest first."""
    return [plan_summary(path) for path in reversed(plan_files(warehouse))]


def read_plan(path: Path) -> PlanDocument:
    """The plan in a JSON file, as written (`pipelines.cli.options.load_plan` checks it is one)."""
    plan: PlanDocument = json.loads(path.read_text())
    return plan


def load_plan(reference: str, warehouse: Path) -> PlanDocument:
    """A plan by file path, by plan id, or `latest` (see `plan_path`)."""
    return read_plan(plan_path(reference, warehouse))
