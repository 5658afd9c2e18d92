"""Site economics solved by hand: grid-connection capex, availability, max-profit with and
without market caps, rentals hosted on site, power-delivery kinds, carbon and water."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from instances import (
    EXACT,
    HOURS,
    nodes_by_sku,
    owned,
    per_million,
    plan_inputs,
    rented,
    tokens_per_node_year,
)
from test_optimizer import A_COST, B_COST, TWO_POINTS, TWO_SYSTEMS

from optimizer.economics import combinations, crf, node_cost
from optimizer.inputs import Cooling, PowerDesign, Workload
from optimizer.plan import plan_document
from optimizer.solve import Infeasible, solve
from optimizer.types import Objective
from pipelines.planning.comparisons import with_alternatives


def with_finance(inputs, **fields):
    return replace(inputs, finance=replace(inputs.finance, **fields))


# ------------------------------------------------------------------ grid-connection capex


@pytest.mark.parametrize(("usd_per_kw", "expected"), [(0.0, {"B": 5}), (4000.0, {"B": 5, "A": 1})])
def test_grid_connection_capex_is_fixed_and_fills_the_committed_site(usd_per_kw, expected):
    """110 kW fit 5 B + 10 kW. Without a grid charge the fleet's cost per token,
    (150,000 + 5 c_B) / (5 t_B) = 1.065e-7 $, is below A's c_A / t_A = 1.140e-7 $: the last
    10 kW stay empty. The interconnect built for 110 kW at $4,000/kW costs 110 × 4,000 / 10 =
    44,000 $/year (wacc 0, 10 years) whatever is installed; it lifts the average to
    1.152e-7 $, above A's: one A fills the site."""
    inputs = plan_inputs(TWO_SYSTEMS, TWO_POINTS, budget_mw=0.110, fixed_opex=150_000)
    inputs = with_finance(inputs, grid_connection_capex_usd_per_kw=usd_per_kw)
    grid_usd = 110 * usd_per_kw * crf(0.0, 10)
    a_per_token = A_COST / tokens_per_node_year(8, 1000)
    average_b_only = (150_000 + grid_usd + 5 * B_COST) / (5 * tokens_per_node_year(8, 4000))
    assert a_per_token == pytest.approx(1.140e-7, rel=1e-3)
    assert (a_per_token < average_b_only) == ("A" in expected)

    solution = solve(inputs, options=EXACT)
    assert nodes_by_sku(solution) == expected
    cost = 150_000 + grid_usd + expected.get("A", 0) * A_COST + 5 * B_COST
    tokens = expected.get("A", 0) * tokens_per_node_year(8, 1000) + 5 * tokens_per_node_year(
        8, 4000
    )
    assert solution.cost_per_million_tokens_usd == pytest.approx(per_million(cost, tokens))
    plan = plan_document(inputs, solution, "cost-per-token")
    assert plan["costs_usd_per_year"]["grid_connection_capex"] == pytest.approx(grid_usd)


# ------------------------------------------------------------------ availability


def test_availability_multiplies_tokens_and_leaves_spares_idle():
    """One system, 10 nodes fit; 8 GPUs × 1,000 tokens/s. With availability 0.9 every node
    keeps 0.8 GPU out of service: tokens × 0.9. Energy: busy at 10 kW, idle at 4 kW, so a
    node draws 4 + 0.9 × 6 = 9.4 kW on average (utilization 1)."""
    inputs = plan_inputs(
        [owned("A", 100_000, 10, idle_kw=4)], [("A", "chat", 1000)], budget_mw=0.1, fixed_opex=1e5
    )
    inputs = with_finance(inputs, availability=0.9)
    solution = solve(inputs, options=EXACT)
    assert nodes_by_sku(solution) == {"A": 10}
    energy = 10 * (4 + 0.9 * 6) * HOURS * 0.1
    cost = 1e5 + 10 * 100_000 / 5 + energy
    tokens = 10 * tokens_per_node_year(8, 1000) * 0.9
    assert solution.tokens_per_year == pytest.approx(tokens)
    assert solution.cost_per_million_tokens_usd == pytest.approx(per_million(cost, tokens))
    assert sum(solution.allocation.values()) == pytest.approx(10 * 8 * 0.9)


def test_availability_needs_more_nodes_for_a_demand():
    """Demand 7,500 tokens/s at 8 × 1,000 per node: 1 node at availability 1, but 7.2 GPUs of a
    node serve at 0.9, so 7,200 < 7,500: 2 nodes."""
    workloads = (Workload("chat", demand_tokens_per_s=7_500),)
    inputs = plan_inputs(
        [owned("A", 100_000, 10)], [("A", "chat", 1000)], budget_mw=0.1, workloads=workloads
    )
    assert nodes_by_sku(solve(inputs, "min-cost", EXACT)) == {"A": 1}
    assert nodes_by_sku(solve(with_finance(inputs, availability=0.9), "min-cost", EXACT)) == {
        "A": 2
    }


# ------------------------------------------------------------------ max-profit

NODE_TOKENS = tokens_per_node_year(8, 1000)  # 2.52288e11 tokens/year per node
A_NODE_USD = 100_000 / 5 + 10 * HOURS * 0.1  # 28,760 USD/year


@pytest.mark.parametrize(
    ("price", "cap", "expected_nodes"),
    [
        (1.0, None, 10),  # 252,288 USD revenue a node > 28,760: the whole budget (10 nodes)
        (0.1, None, 0),  # 25,229 < 28,760: a node loses money, build nothing
        (1.0, 2.5, 3),  # cap 2.5 nodes' tokens: the third node sells half, 126,144 > 28,760
        (0.2, 2.5, 2),  # the third node's half sells 25,229 < 28,760: stop at 2
    ],
)
def test_max_profit_builds_while_a_node_pays(price, cap, expected_nodes):
    cap_tokens_per_s = None if cap is None else cap * 8 * 1000
    workloads = (
        Workload("chat", price_usd_per_million_tokens=price, max_tokens_per_s=cap_tokens_per_s),
    )
    inputs = plan_inputs(
        [owned("A", 100_000, 10)],
        [("A", "chat", 1000)],
        budget_mw=0.1,
        workloads=workloads,
        fixed_opex=5_000,
    )
    solution = solve(inputs, "max-profit", EXACT)
    assert nodes_by_sku(solution).get("A", 0) == expected_nodes
    sold = min(expected_nodes, cap if cap is not None else math.inf) * NODE_TOKENS
    revenue = price * sold / 1e6
    cost = 5_000 + expected_nodes * A_NODE_USD
    assert solution.tokens_per_year == pytest.approx(sold)
    assert solution.annual_cost_usd == pytest.approx(cost)
    plan = plan_document(inputs, solution, "max-profit")
    assert plan["objective"] == "max-profit"
    assert plan["revenue_usd_per_year"] == pytest.approx(revenue)
    assert plan["margin_usd_per_year"] == pytest.approx(revenue - cost)


def test_max_profit_sells_each_workload_on_its_best_margin():
    """Two workloads on one system: chat at $2 / M tokens capped at 1 node's worth, batch at
    $0.5 uncapped. Every node pays on either (0.5 × 252,288 = 126,144 > 28,760), so the
    budget is filled: 1 node's GPUs on chat, 9 on batch."""
    workloads = (
        Workload("chat", price_usd_per_million_tokens=2.0, max_tokens_per_s=8_000),
        Workload("batch", price_usd_per_million_tokens=0.5),
    )
    inputs = plan_inputs(
        [owned("A", 100_000, 10)],
        [("A", "chat", 1000), ("A", "batch", 1000)],
        budget_mw=0.1,
        workloads=workloads,
    )
    solution = solve(inputs, "max-profit", EXACT)
    assert nodes_by_sku(solution) == {"A": 10}
    assert solution.allocation["A", "chat"] == pytest.approx(8)
    assert solution.allocation["A", "batch"] == pytest.approx(72)
    plan = plan_document(inputs, solution, "max-profit")
    revenue = (2.0 * 1 + 0.5 * 9) * NODE_TOKENS / 1e6
    assert plan["revenue_usd_per_year"] == pytest.approx(revenue)


def test_max_profit_needs_a_price():
    inputs = plan_inputs([owned("A", 100_000, 10)], [("A", "chat", 1000)], budget_mw=0.1)
    with pytest.raises(Infeasible, match="price_usd_per_million_tokens"):
        solve(inputs, "max-profit", EXACT)


# ------------------------------------------------------------------ rentals


def test_a_remote_rental_without_max_nodes_is_left_out_with_a_note():
    """Nothing bounds it: renting more would dilute the site's fixed costs without end."""
    inputs = plan_inputs(
        [owned("A", 100_000, 10), rented("R", 0.5)],
        [("A", "chat", 1000), ("R", "chat", 1000)],
        budget_mw=0.1,
        fixed_opex=1e5,
    )
    solution = solve(inputs, options=EXACT)
    assert nodes_by_sku(solution) == {"A": 10}
    assert any("R is rented with no max_nodes" in note for note in solution.notes)
    capped = replace(inputs, systems=(inputs.systems[0], replace(inputs.systems[1], max_nodes=3)))
    assert nodes_by_sku(solve(capped, options=EXACT)) == {"A": 10, "R": 3}


def test_a_rental_hosted_on_site_pays_rent_and_facility_and_uses_the_budget():
    """8 GPUs at $1/GPU-hour, 10 kW, PUE 1.2, facility capex 1,000 $/kW-IT over 10 years."""
    cooling = Cooling("air", "air", 0.2, 1000.0, 0.0, 50)
    hosted = replace(
        rented("R", 1.0), node_power_kw=10.0, node_idle_power_kw=10.0, rental_hosting="on_site"
    )
    hosted = replace(hosted, cooling_kinds=("air",))
    inputs = plan_inputs(
        [hosted], [("R", "chat", 1000)], budget_mw=0.06, coolings=[cooling], fixed_opex=1e5
    )
    (combo,) = combinations(inputs)
    cost = node_cost(combo, inputs)
    assert cost.it_capex == 0 and cost.maintenance == 0
    assert cost.rental == pytest.approx(8 * HOURS)
    assert cost.cooling_capex == pytest.approx(10 * 1000 / 10)
    assert cost.energy == pytest.approx(10 * 1.2 * HOURS * 0.1)
    assert cost.grid_kw == pytest.approx(12.0)
    solution = solve(inputs, options=EXACT)
    assert nodes_by_sku(solution) == {"R": 5}  # 5 × 12 kW = 60 kW
    plan = plan_document(inputs, solution, "cost-per-token")
    assert plan["grid_power_mw"] == pytest.approx(0.06)
    assert plan["tokens_per_s_per_mw"] == pytest.approx(5 * 8000 / 0.06)


# ------------------------------------------------------------------ power kinds


def test_a_system_is_fed_only_by_the_power_kinds_it_takes():
    """The DC design is cheaper to run (efficiency 1 vs 0.5) but the rack takes AC only."""
    ac = PowerDesign("ac415", "ac", 0.5, 0.0, 0.0, 1000, kind="ac")
    dc = PowerDesign("dc800", "dc", 1.0, 0.0, 0.0, 1000, kind="dc")
    system = replace(owned("A", 100_000, 10), power_kinds=("ac",))
    inputs = plan_inputs(
        [system], [("A", "chat", 1000)], budget_mw=0.1, power_designs=[ac, dc], fixed_opex=1e4
    )
    assert {c.key[2] for c in combinations(inputs)} == {"ac415"}
    solution = solve(inputs, options=EXACT)
    assert solution.power_design == "ac415" and nodes_by_sku(solution) == {"A": 5}
    both = replace(inputs, systems=(replace(system, power_kinds=("ac", "dc")),))
    assert solve(both, options=EXACT).power_design == "dc800"


# ------------------------------------------------------------------ carbon and water


def test_carbon_and_water_per_million_tokens():
    """10 nodes at 10 kW, PUE 1.5 (overhead 0.5), 1.8 L per kWh of IT, 0.3 kg CO2e per kWh."""
    cooling = Cooling("air", "air", 0.5, 0.0, 0.0, 50, water_l_per_kwh=1.8)
    inputs = plan_inputs(
        [owned("A", 100_000, 10)],
        [("A", "chat", 1000)],
        budget_mw=0.15,
        coolings=[cooling],
        fixed_opex=1e5,
    )
    inputs = with_finance(inputs, carbon_kg_per_kwh=0.3)
    plan = plan_document(inputs, solve(inputs, options=EXACT), "cost-per-token")
    tokens = 10 * NODE_TOKENS
    it_kwh = 10 * 10 * HOURS
    assert plan["kwh_per_million_tokens"] == pytest.approx(it_kwh * 1.5 / tokens * 1e6)
    assert plan["carbon_kg_per_million_tokens"] == pytest.approx(it_kwh * 1.5 * 0.3 / tokens * 1e6)
    assert plan["water_l_per_million_tokens"] == pytest.approx(it_kwh * 1.8 / tokens * 1e6)
    assert plan["revenue_usd_per_year"] is None and plan["margin_usd_per_year"] is None


def test_the_published_h200_against_gb300_comparison_is_reproduced():
    """NVIDIA's DeepSeek-R1 comparison: HGX H200 at $1.41/GPU-hour serving 90 tokens/s per
    GPU against GB300 NVL72 at $2.65 serving 6,000: about 35x lower cost per token."""
    h200 = 1.41 / (90 * 3600) * 1e6
    gb300 = 2.65 / (6000 * 3600) * 1e6
    assert (h200, gb300) == (pytest.approx(4.352, abs=1e-3), pytest.approx(0.1227, abs=1e-4))
    inputs = plan_inputs(
        [rented("HGX H200", 1.41, max_nodes=10), rented("GB300 NVL72", 2.65, gpus=72, max_nodes=2)],
        [("HGX H200", "chat", 90), ("GB300 NVL72", "chat", 6000)],
        energy_usd_per_kwh=0.0,
    )
    plan = plan_document(inputs, solve(inputs, options=EXACT), "cost-per-token")
    plan = with_alternatives(plan, inputs, Objective.COST_PER_TOKEN, EXACT)
    assert [row["sku"] for row in plan["fleet"]] == ["GB300 NVL72"]
    assert plan["cost_per_million_tokens_usd"] == pytest.approx(gb300)
    ratios = {row["sku"]: row["advantage_ratio"] for row in plan["alternatives"]}
    assert ratios["HGX H200"] == pytest.approx(h200 / gb300) and 35 < ratios["HGX H200"] < 36


def test_upfront_capex_counts_the_facility_and_the_grid_connection():
    """10 nodes of 10 kW: IT 10 × 100k; cooling 1,000, power 500, shell 2,000 per kW IT; the
    grid connection 300 per kW of the 0.1 MW budget."""
    cooling = Cooling("air", "air", 0.0, 1000.0, 0.0, 50)
    power = PowerDesign("ac415", "ac", 1.0, 500.0, 0.0, 1000)
    inputs = plan_inputs(
        [owned("A", 100_000, 10)],
        [("A", "chat", 1000)],
        budget_mw=0.1,
        coolings=[cooling],
        power_designs=[power],
        shell=2000.0,
        fixed_opex=1e5,
    )
    inputs = with_finance(inputs, grid_connection_capex_usd_per_kw=300.0)
    plan = plan_document(inputs, solve(inputs, options=EXACT), "cost-per-token")
    assert plan["capex_usd_by_component"] == pytest.approx(
        {"it": 1e6, "cooling": 1e5, "power": 5e4, "shell": 2e5, "grid_connection": 3e4}
    )
    assert plan["capex_usd"] == pytest.approx(1.38e6)
    assumptions = plan["assumptions"]
    assert assumptions["shell_capex_usd_per_kw_it"] == 2000.0 and assumptions["budget_mw"] == 0.1
    assert [s["sku"] for s in assumptions["systems"]] == ["A"]
    assert assumptions["coolings"][0]["capex_usd_per_kw_it"] == 1000.0
    assert assumptions["power_designs"][0]["power_id"] == "ac415"
    assert assumptions["tariff"]["energy_usd_per_kwh"] == pytest.approx(0.1)
