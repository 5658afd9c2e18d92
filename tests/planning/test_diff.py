"""`tokenplan diff`: two plans that differ in one price — the changed file, and the cost per
token delta decomposed exactly by component."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import DATASETS

from pipelines.cli.main import main
from pipelines.planning.diff import VOLUME, diff_text, plan_diff
from pipelines.warehouse.history import load_plan, plan_files

PRICE_SHEET = "hardware/price_sheet.csv"


def set_capex(data: Path, sku: str, factor: float) -> None:
    """Multiply one system's node_capex_usd in the price sheet by `factor`."""
    sheet = data / PRICE_SHEET
    table = pl.read_csv(sheet, infer_schema=False)
    capex = pl.col("node_capex_usd").cast(pl.Float64)
    table.with_columns(
        pl.when(pl.col("sku") == sku)
        .then((capex * factor).round(0).cast(pl.Int64).cast(pl.Utf8))
        .otherwise(pl.col("node_capex_usd"))
        .alias("node_capex_usd")
    ).write_csv(sheet)


@pytest.fixture(scope="module")
def two_plans(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """Plan A on the bundled data; plan B after the most-bought system's capex rose 20%."""
    root = tmp_path_factory.mktemp("two_plans")
    data, warehouse = root / "data", root / "warehouse"
    shutil.copytree(DATASETS, data)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["plan", "--data", str(data), "--warehouse", str(warehouse)]) == 0
        a = load_plan("latest", warehouse)
        owned = max((r for r in a["fleet"] if not r["rented"]), key=lambda r: r["annual_cost_usd"])
        set_capex(data, owned["sku"], 1.2)
        assert main(["plan", "--data", str(data), "--warehouse", str(warehouse)]) == 0
    return warehouse, a, load_plan("latest", warehouse)


def test_diff_shows_the_changed_file_and_decomposes_the_delta(two_plans, capsys):
    warehouse, a, b = two_plans
    assert a["plan_id"] != b["plan_id"]
    assert main(["diff", a["plan_id"], "latest", "--warehouse", str(warehouse), "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert (diff["plan_a"], diff["plan_b"]) == (a["plan_id"], b["plan_id"])

    assert [f["file"] for f in diff["inputs"]["changed"]] == [PRICE_SHEET]
    assert diff["inputs"]["added"] == diff["inputs"]["removed"] == []
    assert diff["inputs"]["unchanged"] == len(a["inputs"]) - 1

    delta = b["cost_per_million_tokens_usd"] - a["cost_per_million_tokens_usd"]
    assert delta > 0  # a dearer system cannot make tokens cheaper
    assert diff["cost_per_million_tokens_usd"]["delta"] == pytest.approx(delta)
    parts = {
        r["component"]: r["contribution_usd_per_million_tokens"] for r in diff["cost_components"]
    }
    assert sum(parts.values()) == pytest.approx(delta, rel=1e-9, abs=1e-15)
    assert parts["it_capex"] > 0
    for row in diff["cost_components"]:
        if row["component"] != VOLUME:
            assert row["delta_annual_cost_usd"] == pytest.approx(
                b["costs_usd_per_year"][row["component"]]
                - a["costs_usd_per_year"][row["component"]]
            )


def test_diff_text_names_the_file_and_the_fleet_change(two_plans, capsys):
    warehouse, a, b = two_plans
    files = plan_files(warehouse)
    assert main(["diff", str(files[0]), str(files[-1])]) == 0
    out = capsys.readouterr().out
    assert PRICE_SHEET in out and "changed" in out
    assert (
        "IT capex (annualized)" in out
        and "token volume" in out
        and "total: cost per M tokens" in out
    )
    assert a["plan_id"] in out and b["plan_id"] in out


def test_decomposition_is_exact_when_tokens_change_too():
    """Hand-made plans where both costs and tokens change: the parts add up to the total."""
    a = {
        "plan_id": "a",
        "fleet": [{"sku": "X", "cooling_id": "air", "power_id": "p", "nodes": 2, "gpus": 16}],
        "costs_usd_per_year": {"it_capex": 60.0, "energy": 40.0},
        "annual_cost_usd": 100.0,
        "tokens_per_year": 1e9,
        "cost_per_million_tokens_usd": 0.1,
        "inputs": [{"file": "f", "sha256": "1"}],
    }
    b = {
        "plan_id": "b",
        "fleet": [{"sku": "X", "cooling_id": "air", "power_id": "p", "nodes": 3, "gpus": 24}],
        "costs_usd_per_year": {"it_capex": 90.0, "energy": 45.0},
        "annual_cost_usd": 135.0,
        "tokens_per_year": 1.5e9,
        "cost_per_million_tokens_usd": 0.09,
        "inputs": [{"file": "f", "sha256": "2"}, {"file": "g", "sha256": "3"}],
    }
    diff = plan_diff(a, b)
    parts = {
        r["component"]: r["contribution_usd_per_million_tokens"] for r in diff["cost_components"]
    }
    assert parts == pytest.approx(
        {
            "it_capex": 30 / 1.5e9 * 1e6,
            "energy": 5 / 1.5e9 * 1e6,
            VOLUME: 100 * (1 / 1.5e9 - 1 / 1e9) * 1e6,
        }
    )
    assert sum(parts.values()) == pytest.approx(0.09 - 0.1)
    assert diff["fleet"][0]["delta_nodes"] == 1 and diff["fleet"][0]["delta_gpus"] == 8
    assert diff["inputs"]["changed"][0]["file"] == "f" and diff["inputs"]["added"] == ["g"]


def hand_plan(plan_id: str, tokens: float, costs: dict[str, float], **fields) -> dict:
    annual = sum(costs.values())
    return {
        "plan_id": plan_id,
        "budget_mw": 20.0,
        "objective": "cost-per-token",
        "tariff": "commercial",
        "status": "optimal",
        "availability": 0.96,
        "fleet": [{"sku": "X", "cooling_id": "air", "power_id": "p", "nodes": 2, "gpus": 16}],
        "costs_usd_per_year": costs,
        "annual_cost_usd": annual,
        "tokens_per_year": tokens,
        "cost_per_million_tokens_usd": annual / tokens * 1e6 if tokens else None,
        "inputs": [{"file": "f", "sha256": "1"}],
    } | fields


def flat_and_representative() -> tuple[dict, dict]:
    """A flat plan at 70% utilization, and the representative year of the same inputs: more
    tokens from the same fleet (it realizes 96%), its flat-year comparators recorded."""
    flat = hand_plan(
        "flat",
        1.0e9,
        {"it_capex": 60.0, "energy": 40.0},
        assumptions={"utilization": 0.7, "availability": 0.96},
    )
    representative = hand_plan(
        "representative",
        1.4e9,
        {"it_capex": 60.0, "energy": 50.0},
        time_resolution="representative",
        flat_cost_per_million_tokens_usd=0.1,
        flat_at_realized_utilization_cost_per_million_tokens_usd=0.075,
        gain_vs_flat_usd_per_million_tokens={
            "utilization": 0.025,
            "tariff_timing": 0.075 - 110 / 1.4e9 * 1e6,
            "total": 0.1 - 110 / 1.4e9 * 1e6,
            "flat_utilization": 0.7,
            "realized_flat_utilization": 1.0,
        },
        realized_utilization={"fleet": 0.96, "flat_assumption": 0.7, "by_system": []},
    )
    return flat, representative


def test_a_change_of_time_resolution_is_named_and_split_like_for_like():
    a, b = flat_and_representative()
    diff = plan_diff(a, b)
    design = {r["field"]: r for r in diff["design"]}
    assert (design["time_resolution"]["a"], design["time_resolution"]["b"]) == (
        "flat",
        "representative",
    )
    assert design["time_resolution"]["changed"]
    assert design["utilization"]["a"] == {"utilization": 0.7, "kind": "assumed"}
    assert design["utilization"]["b"] == {"utilization": 1.0, "kind": "realized"}
    assert design["gpu_hours_serving"]["a"] == pytest.approx(0.7 * 0.96)
    assert design["gpu_hours_serving"]["b"] == 0.96
    assert not design["tariff"]["changed"] and not design["objective"]["changed"]
    assert design["flat_cost_per_million_tokens_usd"]["a"] == pytest.approx(0.1)  # its own
    assert diff["time_resolution"]["differs"]

    delta = diff["cost_per_million_tokens_usd"]["delta"]
    parts = {r["part"]: r["contribution_usd_per_million_tokens"] for r in diff["like_for_like"]}
    assert parts == pytest.approx(
        {"flat_year": 0.0, "utilization": -0.025, "tariff_timing": 110 / 1.4e9 * 1e6 - 0.075}
    )
    assert sum(parts.values()) == pytest.approx(delta, rel=1e-12)
    components = [r["contribution_usd_per_million_tokens"] for r in diff["cost_components"]]
    assert sum(components) == pytest.approx(delta, rel=1e-12)  # still exact

    text = diff_text(diff)
    assert "time resolution" in text and "representative" in text
    assert "70.0% assumed" in text and "100.0% realized" in text
    note = " ".join(text.split("plans at different time resolutions")[1].split())
    assert note.startswith(": A (flat) assumes 70.0% utilization")
    assert "B (representative) realizes 100.0% utilization (96.0% of GPU-hours serving)" in note
    assert "--time-resolution" in note
    assert "token volume: A's cost over B's tokens, utilization included" in text
    assert "utilization realized by the time resolution" in text
    assert "tariff timing and load shape" in text


def test_plans_at_one_resolution_have_no_resolution_note():
    a, b = flat_and_representative()
    diff = plan_diff(a, a | {"plan_id": "a2"})
    assert diff["time_resolution"] == {"a": "flat", "b": "flat", "differs": False, "note": None}
    assert diff["like_for_like"] is None
    assert "flat_cost_per_million_tokens_usd" not in {r["field"] for r in diff["design"]}
    assert "plans at different time resolutions" not in diff_text(diff)
    old = plan_diff(b | {"flat_at_realized_utilization_cost_per_million_tokens_usd": None}, a)
    assert old["like_for_like"] is None and old["time_resolution"]["note"]  # still named


def test_a_plan_with_no_tokens_has_no_cost_per_token_to_decompose():
    a, _ = flat_and_representative()
    empty = hand_plan("empty", 0.0, {"it_capex": 0.0, "energy": 0.0})
    for x, y in ((empty, a), (a, empty)):
        diff = plan_diff(x, y)
        volume = next(r for r in diff["cost_components"] if r["component"] == VOLUME)
        assert volume["contribution_usd_per_million_tokens"] is None
        assert diff["cost_per_million_tokens_usd"]["delta"] is None
        text = diff_text(diff)
        total = next(line for line in text.splitlines() if line.startswith("total:"))
        assert total.split()[-1] == "-"
    into_empty = plan_diff(a, empty)
    assert all(
        r["contribution_usd_per_million_tokens"] is None for r in into_empty["cost_components"]
    )
