"""Budget sweep: cost per token never rises with the budget, the +1 MW value is solved,
infeasible budgets are rows with a reason, and the CLI's table, JSON and chart; budgets solved
in ascending order, each from the plan below, equal independent solves within the gap, are
never worse than the fleet below at their budget, and give the same rows in worker processes."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest
from conftest import DATASETS
from instances import AIR, EXACT, LIQUID, LOSSLESS, owned, plan_inputs

import pipelines.planning.sweep as sweep_module
from optimizer.design import plan_inputs as design_inputs
from optimizer.economics import crf
from optimizer.inputs import (
    EnergyPrice,
    Finance,
    OperatingPoint,
    PlanInputs,
    SolverOptions,
    System,
    Workload,
)
from optimizer.model import model_data
from optimizer.solve.highs import Runner, compile_problem
from optimizer.solve.start import fleet_start
from optimizer.tariff import Tariff, flat_year_price, slice_prices
from pipelines.cli.main import main
from pipelines.ingest.readers.tariffs import read_urdb
from pipelines.ingest.sources import read_inputs
from pipelines.planning.sweep import (
    MARGINAL_MW,
    budget_pairs,
    budget_range,
    budgets_to_solve,
    contiguous_chunks,
    parse_budget_range,
    rises_with_budget,
    solve_ascending,
    solve_chunk,
    sweep,
)

GAP = 1e-4


BUNDLED = budget_range(5, 30, 5)
"""Budgets of the bundled data for warm against cold: 5 to 30 MW, each also at + 1 MW."""


@pytest.fixture(scope="module")
def frontier() -> dict:
    """Budgets 4, 8, 9, 12 MW (and each + 1 MW): solves this short stay in this process."""
    document = sweep(read_inputs(DATASETS), [4.0, 8.0, 9.0, 12.0], jobs=2)
    assert document["jobs"] == 1
    return document


@pytest.fixture(scope="module")
def warm_and_cold() -> dict[bool, dict]:
    """The bundled data's frontier of `BUNDLED`, warm (each budget from the plan below) and
    cold (each from the greedy start), in this process."""
    tables = read_inputs(DATASETS)
    return {warm: sweep(tables, BUNDLED, jobs=1, warm=warm) for warm in (True, False)}


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
    # the same fleet at a larger budget pays just the interconnect: not a rise, up to rounding
    same_fleet = [rows[0], rows[0] | {"budget_mw": 2.0, "cost_per_million_tokens_usd": 3.0}]
    same_fleet[1]["cost_per_million_tokens_usd"] *= 1 + 1e-15
    assert rises_with_budget(same_fleet, 1e6, 0.0) == []


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


def fleet_cost_per_million_tokens(inputs: PlanInputs, fleet: list[dict]) -> float:
    """Cost per million tokens of a point's `fleet` at `inputs`: its nodes fixed, dispatched by
    one LP (the most tokens those nodes serve)."""
    problem = compile_problem(model_data(inputs))
    nodes = {(r["sku"], r["cooling_id"], r["power_id"]): r["nodes"] for r in fleet}
    runner = Runner(problem, SolverOptions(), time.perf_counter())
    records: list[dict] = []
    assert fleet_start(problem, runner, SimpleNamespace(nodes=nodes), records) is not None
    return records[0]["cost_usd"] / records[0]["tokens"] * 1e6


def assert_never_worse_than_the_fleet_below(
    points: dict[float, dict], inputs_at, budgets: list[float]
) -> None:
    """Each budget's plan costs at most what the plan of the budget before it costs with its
    fleet at this budget (the interconnect of the extra MW and the energy priced for it)."""
    for below, budget in zip(budgets, budgets[1:], strict=False):
        fleet_below = fleet_cost_per_million_tokens(inputs_at(budget), points[below]["fleet"])
        assert points[budget]["cost_per_million_tokens_usd"] <= fleet_below * (1 + 1e-9), budget


def test_a_warm_sweep_equals_independent_solves_within_the_gap(warm_and_cold: dict):
    warm, cold = warm_and_cold[True], warm_and_cold[False]
    assert list(warm) == list(cold)  # the same document
    assert [r["budget_mw"] for r in warm["rows"]] == [5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
    for w, c in zip(warm["rows"], cold["rows"], strict=True):
        assert list(w) == list(c)  # the same row fields, in the same order
        assert w["status"] == c["status"] == "optimal"
        assert w["cost_per_million_tokens_usd"] == pytest.approx(
            c["cost_per_million_tokens_usd"], rel=2 * GAP
        )
        assert w["marginal_cost_per_million_tokens_usd"] == pytest.approx(
            c["marginal_cost_per_million_tokens_usd"],
            abs=4 * GAP * c["cost_per_million_tokens_usd"],
        )


LOOSE = SolverOptions(mip_rel_gap=0.01)
"""A gap at which solves from the greedy start stop on plans worse than the fleet below
(bundled data at 15 MW: 0.24 % worse)."""


def test_each_budget_is_never_worse_than_the_fleet_below_at_its_budget():
    """By construction, whatever the gap: each budget starts from the plan below, whose fleet
    fits (bundled data, each budget and its + 1 MW, in the order a sweep solves them)."""
    tables = read_inputs(DATASETS)
    budgets = budgets_to_solve(budget_pairs(BUNDLED))
    points = solve_chunk(tables, budgets, "cost-per-token", LOOSE)
    assert list(points) == budgets
    assert_never_worse_than_the_fleet_below(
        points, lambda budget: design_inputs(tables, budget), budgets
    )


def small_site(budget_mw: float) -> PlanInputs:
    """Two owned systems, two workloads, a site cost and an interconnect of $2,000/kW: the
    fleet's mix changes with the budget."""
    systems = [owned("A", 300_000, 11, max_nodes=6), owned("B", 120_000, 6.5)]
    points = [("A", "chat", 1400), ("B", "chat", 500), ("A", "code", 900), ("B", "code", 450)]
    inputs = plan_inputs(
        systems,
        points,
        budget_mw=budget_mw,
        workloads=(Workload("chat", share=0.7), Workload("code", share=0.3)),
        coolings=(AIR, LIQUID),
        fixed_opex=150_000,
    )
    return replace(inputs, finance=replace(inputs.finance, grid_connection_capex_usd_per_kw=2000))


def test_on_a_small_site_warm_equals_cold_and_never_worse_than_the_fleet_below():
    budgets = budget_range(0.02, 0.2, 0.015)
    warm, last = solve_ascending(small_site, budgets, "cost-per-token", EXACT)
    cold, _ = solve_ascending(small_site, budgets, "cost-per-token", EXACT, warm=False)
    assert last is not None and last.nodes == {
        (r["sku"], r["cooling_id"], r["power_id"]): r["nodes"] for r in warm[budgets[-1]]["fleet"]
    }
    assert len({tuple(sorted(map(str, p["fleet"]))) for p in warm.values()}) > 5  # mixes change
    for budget in budgets:
        assert warm[budget]["cost_per_million_tokens_usd"] == pytest.approx(
            cold[budget]["cost_per_million_tokens_usd"], rel=1e-8
        )
    loose, _ = solve_ascending(
        small_site, budgets, "cost-per-token", replace(LOOSE, mip_rel_gap=0.05)
    )
    assert_never_worse_than_the_fleet_below(loose, small_site, budgets)


def two_price_site(tmp_path: Path):
    """Inputs at a budget, priced by a tariff of $0.05/kWh from midnight to noon and $0.40 after
    (flat year and slices at the budget's scale), with one batch workload."""
    path = tmp_path / "t.json"
    half_day = [[0] * 12 + [1] * 12 for _ in range(12)]
    urdb = {
        "label": "t",
        "name": "test",
        "energyratestructure": [[{"rate": 0.05}], [{"rate": 0.4}]],
        "energyweekdayschedule": half_day,
        "energyweekendschedule": half_day,
    }
    path.write_text(json.dumps(urdb))
    tariff = Tariff.from_tables(read_urdb(path, "tariffs/t.json"), "t")
    systems = tuple(
        System(sku, sku, 8, capex, kw, idle_kw, 1, ("air",), 5)
        for sku, capex, kw, idle_kw in (("A", 10_000, 10, 4), ("B", 25_000, 14, 3))
    )
    points = [("A", "chat", 1000), ("B", "chat", 2600), ("A", "bulk", 700), ("B", "bulk", 1500)]

    def at(budget_mw: float) -> PlanInputs:
        energy, demand, fixed = flat_year_price(tariff, budget_mw * 1000)
        return PlanInputs(
            budget_mw=budget_mw,
            systems=systems,
            coolings=(AIR,),
            power_designs=(LOSSLESS,),
            workloads=(Workload("chat", share=0.6), Workload("bulk", 0.4, load_shape="batch")),
            operating_points=tuple(OperatingPoint(*p) for p in points),
            energy=EnergyPrice("t", energy, demand, fixed),
            finance=Finance(0.0, 10, 1.0, 0.0, fixed_opex_usd_per_year=2000),
            tariff_slices=slice_prices(tariff, budget_mw * 1000),
        )

    return at


def test_a_time_resolved_sweep_chains_its_flat_plans(tmp_path: Path):
    """Each budget's flat plan, from the one below, starts its time-resolved solve: the
    time-resolved plans equal cold ones within the gap, and the plan carried is flat."""
    at = two_price_site(tmp_path)
    budgets = [0.05, 0.08, 0.1]
    warm, last = solve_ascending(at, budgets, "cost-per-token", EXACT, "representative")
    cold, _ = solve_ascending(at, budgets, "cost-per-token", EXACT, "representative", warm=False)
    assert last is not None and last.time_resolution == "flat" and last.timeline is None
    for budget in budgets:
        assert warm[budget]["status"] == "optimal"
        assert warm[budget]["cost_per_million_tokens_usd"] == pytest.approx(
            cold[budget]["cost_per_million_tokens_usd"], rel=1e-8
        )


def test_budgets_split_into_contiguous_chunks():
    assert contiguous_chunks([5.0, 1.0, 2.0, 4.0, 3.0], 2) == [[1.0, 2.0, 3.0], [4.0, 5.0]]
    assert contiguous_chunks([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 3) == [
        [1.0, 2.0, 3.0],
        [4.0, 5.0],
        [6.0, 7.0],
    ]
    assert contiguous_chunks([1.0, 2.0], 4) == [[1.0], [2.0]]
    assert contiguous_chunks([3.0], 1) == [[3.0]]


def test_long_solves_go_to_workers_in_chunks_with_the_same_rows(
    warm_and_cold: dict, monkeypatch: pytest.MonkeyPatch
):
    """With a pool that costs nothing to start, the budgets after the smallest are solved in two
    worker processes, a contiguous chunk each from the smallest budget's plan; the rows equal
    those solved in this process within the gap, and progress comes as each budget is solved."""
    monkeypatch.setattr(sweep_module, "POOL_START_S", 0.0)
    events: list[dict] = []
    options = SolverOptions(progress=True, on_progress=events.append)
    chunked = sweep(read_inputs(DATASETS), BUNDLED, options=options, jobs=2)
    assert chunked["jobs"] == 2
    assert [e["done"] for e in events] == list(range(2 * len(BUNDLED) + 1))
    assert events[-1]["budgets_done"] == len(BUNDLED)
    in_process = warm_and_cold[True]
    for a, b in zip(chunked["rows"], in_process["rows"], strict=True):
        assert list(a) == list(b)
        assert a["status"] == b["status"] == "optimal"
        assert a["cost_per_million_tokens_usd"] == pytest.approx(
            b["cost_per_million_tokens_usd"], rel=2 * GAP
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
