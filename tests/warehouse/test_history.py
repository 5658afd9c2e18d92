"""The plan history: ids sort by time, a plan is found by its id, a prefix or `latest`, and the
listing summarizes every kept plan (an unreadable file too) newest first."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO

from pipelines.warehouse.history import (
    CANDIDATES_SHOWN,
    PlanNotFound,
    list_plans,
    matching_plans,
    plan_path,
    save_plan,
    stamp,
)

GOLDEN = REPO / "tests" / "golden" / "bundled-flat.json"


def keep(warehouse: Path, count: int) -> list[str]:
    recorded = json.loads(GOLDEN.read_text())
    start = datetime(2026, 1, 31, 23, 0, tzinfo=UTC)
    ids = []
    for hours in range(count):
        plan = stamp(recorded, now=start + timedelta(hours=hours))
        save_plan(plan, warehouse)
        ids.append(plan["plan_id"])
    return ids


def test_a_unique_prefix_an_id_and_latest_name_one_plan(tmp_path: Path):
    ids = keep(tmp_path, 3)  # 2026-01-31 23:00, 2026-02-01 00:00 and 01:00
    assert plan_path(ids[0][:8], tmp_path).stem == ids[0]
    assert plan_path(ids[1], tmp_path).stem == ids[1]
    assert plan_path("latest", tmp_path).stem == ids[2]
    assert [p.stem for p in matching_plans("20260201", tmp_path)] == ids[1:]


def test_several_matches_name_the_newest_candidates(tmp_path: Path):
    ids = keep(tmp_path, CANDIDATES_SHOWN + 2)
    with pytest.raises(PlanNotFound) as raised:
        plan_path("2026", tmp_path)
    assert [p.stem for p in raised.value.candidates] == ids[::-1][:CANDIDATES_SHOWN]
    assert f"matches {CANDIDATES_SHOWN + 2} plans" in str(raised.value)
    assert "2 more" in str(raised.value)


def test_no_match_and_no_plans(tmp_path: Path):
    with pytest.raises(PlanNotFound, match="no plans in .*run `tokenplan plan` first"):
        plan_path("latest", tmp_path)
    keep(tmp_path, 1)
    with pytest.raises(PlanNotFound, match="no plan id starting with it") as raised:
        plan_path("2025", tmp_path)
    assert raised.value.candidates == []
    assert isinstance(raised.value, FileNotFoundError)  # as callers caught it before


def test_the_listing_is_newest_first_with_an_unreadable_file_as_a_row(tmp_path: Path):
    ids = keep(tmp_path, 2)
    broken = tmp_path / "plans" / "20990101T000000000000Z-broken.json"
    broken.write_text("[")
    listed = list_plans(tmp_path)
    assert [p["plan_id"] for p in listed] == [broken.stem, ids[1], ids[0]]
    assert listed[0]["error"].startswith("unreadable: ")
    recorded = json.loads(GOLDEN.read_text())
    assert listed[1] | {"file": None} == {
        "plan_id": ids[1],
        "created_at": "2026-02-01T00:00:00+00:00",
        "name": recorded["name"],
        "budget_mw": recorded["budget_mw"],
        "objective": "cost-per-token",
        "time_resolution": "flat",
        "tariff": recorded.get("tariff"),
        "status": recorded["status"],
        "cost_per_million_tokens_usd": recorded["cost_per_million_tokens_usd"],
        "file": None,
    }
