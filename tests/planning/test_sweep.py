"""Budget sweep: cost per token never rises with the budget, the +1 MW value is solved,
infeasible budgets are rows with a reason, and the CLI's table, JSON and chart."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
from conftest import DATASETS

from optimizer.economics import crf
from pipelines.cli.main import main
from pipelines.ingest.sources import read_inputs
from pipelines.planning.sweep import (
    MARGINAL_MW,
    budget_pairs,
    budgets_to_solve,
    parse_budget_range,
    rises_with_budget,
    sweep,
)

GAP = 1e-4


@pytest.fixture(scope="module")
def frontier() -> dict:
    """Budgets 4, 8, 9, 12 MW (and each + 1 MW) in two worker processes."""
    document = sweep(read_inputs(DATASETS), [4.0, 8.0, 9.0, 12.0], jobs=2)
    assert document["jobs"] == 2
    return document


def test_budget_ranges_include_the_stop():
    assert parse_budget_range("5:40:5") == [5, 10, 15, 20, 25, 30, 35, 40]
    assert parse_budget_range("0.5:1.5:0.5") == [0.5, 1.0, 1.5]
    with pytest.raises(ValueError):
        parse_budget_range("10:5:1")


def test_each_budget_is_paired_with_one_more_mw_and_solved_once():
    """The pairs every sweep solves (`tokenplan sweep`, `pareto_frontier`, `sweep_budgets`)."""
    pairs = budget_pairs([9.0, 8.0, 8.0, 0.1])
    assert pairs == [(0.1, 1.1), (8.0, 9.0), (9.0, 10.0)]
    assert budgets_to_solve(pairs) == [0.1, 1.1, 8.0, 9.0, 10.0]


def test_cost_per_token_rises_with_the_budget_only_by_the_extra_interconnect(frontier: dict):
    costs = [r["cost_per_million_tokens_usd"] for r in frontier["rows"]]
    assert [r["budget_mw"] for r in frontier["rows"]] == [4.0, 8.0, 9.0, 12.0]
    assert all(c is not None for c in costs)
    scenario = read_inputs(DATASETS)["scenario"].row(0, named=True)
    grid_usd_per_mw_year = (
        1000.0
        * scenario["grid_connection_capex_usd_per_kw"]
        * crf(scenario["wacc"], scenario["facility_lifetime_years"])
    )
    assert rises_with_budget(frontier["rows"], grid_usd_per_mw_year, GAP) == []
    for row in frontier["rows"]:
        assert row["grid_power_mw"] <= row["budget_mw"] + 1e-9
        assert row["design"].startswith(f"power {row['power_design']}")


def test_a_rise_beyond_the_extra_interconnect_is_reported():
    """1 MW more at 1 M$ a year on 10¹² tokens may add up to $1 per million tokens."""
    rows = [
        {"budget_mw": 1.0, "cost_per_million_tokens_usd": 2.0, "tokens_per_year": 1e12},
        {"budget_mw": 2.0, "cost_per_million_tokens_usd": 2.9, "tokens_per_year": 2e12},
        {"budget_mw": 3.0, "cost_per_million_tokens_usd": None, "tokens_per_year": None},
        {"budget_mw": 4.0, "cost_per_million_tokens_usd": 3.8, "tokens_per_year": 3e12},
    ]
    assert rises_with_budget(rows, 1e6, 0.0) == []
    assert rises_with_budget(rows, 0.2e6, 0.0) == [(1.0, 2.0), (2.0, 4.0)]


def test_one_more_mw_is_solved_not_guessed(frontier: dict):
    """The marginal value at 8 MW is the difference to the plan at 9 MW, solved in the same
    sweep."""
    rows = {r["budget_mw"]: r for r in frontier["rows"]}
    here, more = rows[8.0], rows[9.0]
    assert here["marginal_budget_mw"] == 8.0 + MARGINAL_MW
    assert here["marginal_tokens_per_year"] == pytest.approx(
        more["tokens_per_year"] - here["tokens_per_year"]
    )
    assert here["marginal_cost_per_million_tokens_usd"] == pytest.approx(
        more["cost_per_million_tokens_usd"] - here["cost_per_million_tokens_usd"]
    )
    assert here["marginal_tokens_per_year"] > 0
    assert here["marginal_usd_per_million_extra_tokens"] == pytest.approx(
        (more["annual_cost_usd"] - here["annual_cost_usd"]) / here["marginal_tokens_per_year"] * 1e6
    )


def test_infeasible_budgets_are_rows_with_the_reason(data: Path):
    sheet = data / "hardware/price_sheet.csv"
    pl.read_csv(sheet, infer_schema=False).filter(pl.col("node_capex_usd").is_not_null()).write_csv(
        sheet
    )
    rows = sweep(read_inputs(data), [0.005, 3.0], jobs=1)["rows"]
    assert rows[0]["status"] == "infeasible" and "budget" in rows[0]["reason"]
    assert (
        rows[0]["cost_per_million_tokens_usd"] is None
        and rows[0]["marginal_tokens_per_year"] is None
    )
    assert rows[1]["status"] == "optimal"


def test_sweep_command_prints_json_and_writes_the_chart(tmp_path: Path, capsys):
    chart = tmp_path / "frontier.svg"
    assert (
        main(
            [
                "sweep",
                "--data",
                str(DATASETS),
                "--budget-mw",
                "6:12:6",
                "--jobs",
                "1",
                "--json",
                "--chart",
                str(chart),
            ]
        )
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert [r["budget_mw"] for r in document["rows"]] == [6.0, 12.0]
    assert {f["file"] for f in document["inputs"]} >= {"scenario.yaml"}
    svg = ET.parse(chart).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert (
        len(svg.findall(".//{http://www.w3.org/2000/svg}circle")) == 2
    )  # one point per feasible budget


def test_sweep_command_prints_the_table(capsys):
    assert main(["sweep", "--data", str(DATASETS), "--budget-mw", "10:10:1", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    for heading in (
        "budget MW",
        "cost per M tokens",
        "tokens/s per MW",
        "grid MW",
        "+1 MW: Δ tokens/year",
        "design",
    ):
        assert heading in out
    assert "power dc" in out or "power ac" in out


def test_bad_budget_range_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", "--budget-mw", "10:5:1"])
    assert exit_.value.code == 2
    assert "START" in capsys.readouterr().err
