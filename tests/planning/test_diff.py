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
from pipelines.planning.diff import VOLUME, plan_diff
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
