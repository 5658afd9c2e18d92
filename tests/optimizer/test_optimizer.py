"""Tests of the fleet optimizer: economics by hand, tiny instances solved by hand, and
random instances checked against exhaustive enumeration of node counts."""

from __future__ import annotations

import json
import math
import pickle

import pytest
from conftest import PLAN_FIELDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from instances import (
    AIR,
    EXACT,
    HOURS,
    LIQUID,
    fleet_grid_kw,
    nodes_by_sku,
    owned,
    per_million,
    plan_inputs,
    rented,
    tokens_per_node_year,
)
from scipy.optimize import linprog

from optimizer import errors
from optimizer.economics import combinations, crf, node_cost, pue, site_cost_usd_per_year
from optimizer.inputs import (
    Cooling,
    PlanInputs,
    PowerDesign,
    SolverOptions,
    System,
    Workload,
)
from optimizer.model import model_data
from optimizer.plan import plan_document, recompute_annual_cost
from optimizer.solve import Infeasible, NoPlanInTime, solve


def test_crf_by_hand():
    assert crf(0.08, 5) == pytest.approx(0.08 * 1.08**5 / (1.08**5 - 1))
    assert crf(0.08, 5) == pytest.approx(0.2504564545)
    assert crf(0.0, 4) == 0.25
    assert crf(0.05, 1) == pytest.approx(1.05)


def test_pue_by_hand():
    cooling = Cooling("air", "air", 0.35, 2480, 3, 50)
    power = PowerDesign("ac415", "ac", 0.91, 3721, 75, 150)
    assert pue(cooling, power) == pytest.approx(1 / 0.91 + 0.35)


def test_node_cost_follows_design_formulas():
    cooling = Cooling("air", "air", 0.35, 2480, 3, 50)
    power = PowerDesign("ac415", "ac", 0.91, 3721, 75, 150)
    system = owned("H100", 400_000, 10.2, idle_kw=4.08, per_rack=4)
    system = System(
        **{**system.__dict__, "maintenance_pct_per_year": 4.0, "opex_usd_per_gpu_year": 100.0}
    )
    inputs = plan_inputs(
        [system],
        [("H100", "chat", 100)],
        coolings=[cooling],
        power_designs=[power],
        energy_usd_per_kwh=0.09,
        utilization=0.7,
        wacc=0.08,
        shell=5500,
        demand_usd_per_kw_month=10.0,
    )
    (combo,) = combinations(inputs)
    cost = node_cost(combo, inputs)
    facility = crf(0.08, 10)
    site_pue = 1 / 0.91 + 0.35
    assert cost.it_capex == pytest.approx(400_000 * crf(0.08, 5))
    assert cost.cooling_capex == pytest.approx(10.2 * 2480 * facility)
    assert cost.power_capex == pytest.approx(10.2 * 3721 * facility)
    assert cost.shell_capex == pytest.approx(10.2 * 5500 * facility)
    assert cost.energy == pytest.approx(HOURS * (4.08 + 0.7 * (10.2 - 4.08)) * site_pue * 0.09)
    assert cost.demand_charges == pytest.approx(10.0 * 12 * 10.2 * site_pue)
    assert cost.maintenance == pytest.approx(0.04 * 400_000 + 0.03 * 10.2 * 2480 + 75 * 10.2)
    assert cost.other_opex == pytest.approx(800.0)
    assert cost.rental == 0.0
    assert cost.grid_kw == pytest.approx(10.2 * site_pue)
    assert cost.capex_usd == pytest.approx(400_000 + 10.2 * (2480 + 3721 + 5500))


# -------------------------------------------------- (b) the DESIGN rented example


def test_design_rented_example_is_4_35_per_million_tokens():
    inputs = plan_inputs(
        [rented("H200 rental", 1.41, max_nodes=10)],
        [("H200 rental", "chat", 90)],
        energy_usd_per_kwh=0.0,
    )
    solution = solve(inputs, options=EXACT)
    expected = 1.41 / (90 * 3600) * 1e6
    assert expected == pytest.approx(4.35, abs=0.005)
    assert solution.cost_per_million_tokens_usd == pytest.approx(expected)
    plan = plan_document(inputs, solution, "cost-per-token")
    assert plan["cost_per_million_tokens_usd"] == pytest.approx(expected)
    assert plan["tokens_per_s_per_mw"] is None
    assert plan["fleet"][0]["rented"] is True and plan["grid_power_mw"] == 0.0
    assert plan["costs_usd_per_year"]["rental"] == pytest.approx(plan["annual_cost_usd"])


# -------------------------------------------------- (c) hand-solvable instances

# A: 100 k$, 10 kW, 1,000 tokens/s/GPU -> 20,000 + 8,760 USD/year per node
# B: 300 k$, 20 kW, 4,000 tokens/s/GPU -> 60,000 + 17,520 USD/year per node (4x the tokens)
A_COST = 100_000 / 5 + 10 * HOURS * 0.1
B_COST = 300_000 / 5 + 20 * HOURS * 0.1
TWO_SYSTEMS = [owned("A", 100_000, 10), owned("B", 300_000, 20)]
TWO_POINTS = [("A", "chat", 1000), ("B", "chat", 4000)]


@pytest.mark.parametrize(
    ("fixed_opex", "expected_nodes"),
    [
        # B is cheaper per token; 110 kW fits 5 B + 10 kW. A costs more per token than the
        # fleet average, so the leftover 10 kW stays empty.
        (10_000, {"B": 5}),
        # With 1 M$/year of site costs the average is above A's cost per token: add one A.
        (1_000_000, {"B": 5, "A": 1}),
    ],
)
def test_better_system_fills_the_budget(fixed_opex, expected_nodes):
    inputs = plan_inputs(TWO_SYSTEMS, TWO_POINTS, budget_mw=0.110, fixed_opex=fixed_opex)
    solution = solve(inputs, options=EXACT)
    assert nodes_by_sku(solution) == expected_nodes
    cost = fixed_opex + expected_nodes.get("A", 0) * A_COST + expected_nodes["B"] * B_COST
    tokens = expected_nodes.get("A", 0) * tokens_per_node_year(8, 1000) + expected_nodes[
        "B"
    ] * tokens_per_node_year(8, 4000)
    assert solution.cost_per_million_tokens_usd == pytest.approx(per_million(cost, tokens))
    assert solution.status == "optimal"


@pytest.mark.parametrize(
    ("liquid_capex_usd_per_kw", "expected"), [(1000.0, "dlc"), (5000.0, "air")]
)
def test_cooling_choice_trades_pue_against_capex(liquid_capex_usd_per_kw, expected):
    # 10 kW node; air PUE 1.4 (14 kW grid, 10 fit in 140 kW), liquid PUE 1.1 (11 kW, 12 fit).
    # Per node: air energy 10 x 8760 x 1.4 x 0.1 = 12,264;
    # liquid 9,636 + capex 10 kW x C / 10 years.
    air = Cooling("air", "air", 0.4, 0.0, 0.0, 50)
    liquid = Cooling("dlc", "liquid", 0.1, liquid_capex_usd_per_kw, 0.0, 200)
    inputs = plan_inputs(
        [owned("A", 100_000, 10)],
        [("A", "chat", 1000)],
        budget_mw=0.140,
        coolings=[air, liquid],
        fixed_opex=1000,
    )
    candidates = {
        "air": (10, 20_000 + 10 * HOURS * 1.4 * 0.1),
        "dlc": (12, 20_000 + 10 * HOURS * 1.1 * 0.1 + 10 * liquid_capex_usd_per_kw / 10),
    }
    ratios = {
        c: per_million(1000 + n * per_node, n * tokens_per_node_year(8, 1000))
        for c, (n, per_node) in candidates.items()
    }
    assert min(ratios, key=ratios.get) == expected
    solution = solve(inputs, options=EXACT)
    assert solution.nodes == {("A", expected, "ideal"): candidates[expected][0]}
    assert solution.cost_per_million_tokens_usd == pytest.approx(ratios[expected])


def test_rack_density_excludes_a_combination():
    # 6 nodes x 10 kW = 60 kW per rack: over air's 50 kW, so only liquid although it costs more.
    liquid = Cooling("dlc", "liquid", 0.0, 2000.0, 0.0, 200)
    inputs = plan_inputs(
        [owned("A", 100_000, 10, per_rack=6)],
        [("A", "chat", 1000)],
        budget_mw=0.05,
        coolings=[AIR, liquid],
    )
    assert [c.key for c in combinations(inputs)] == [("A", "dlc", "ideal")]
    solution = solve(inputs, options=EXACT)
    assert solution.nodes == {("A", "dlc", "ideal"): 5}
    per_node = 20_000 + 10 * HOURS * 0.1 + 10 * 2000 / 10
    assert solution.cost_per_million_tokens_usd == pytest.approx(
        per_million(per_node, tokens_per_node_year(8, 1000))
    )


def test_one_power_design_for_the_site():
    # ac: η 0.8 (grid 12.5 kW per 10 kW node, 8 fit in 100 kW), no capex.
    # dc: η 1.0 (10 kW, 10 fit), capex 1,500 $/kW over 10 years = 1,500 USD/year per node.
    # B (20 kW) only fits dc's rack limit. Per token, dc wins for A and makes B possible.
    ac = PowerDesign("ac", "ac", 0.8, 0.0, 0.0, max_rack_kw=15)
    dc = PowerDesign("dc", "dc", 1.0, 1500.0, 0.0, max_rack_kw=1000)
    inputs = plan_inputs(
        TWO_SYSTEMS, TWO_POINTS, budget_mw=0.100, power_designs=[ac, dc], fixed_opex=1000
    )
    solution = solve(inputs, options=EXACT)
    assert solution.power_design == "dc"
    assert {key[2] for key in solution.nodes} == {"dc"}
    per_node = B_COST + 20 * 1500 / 10
    expected = per_million(1000 + 5 * per_node, 5 * tokens_per_node_year(8, 4000))
    assert solution.nodes == {("B", "air", "dc"): 5}
    assert solution.cost_per_million_tokens_usd == pytest.approx(expected)


def test_power_design_chosen_by_efficiency_against_capex():
    # One system A; ac: η 0.8, free; dc: η 1.0 with capex C per kW IT over 10 years.
    ac = PowerDesign("ac", "ac", 0.8, 0.0, 0.0, 1000)
    for dc_capex, expected in [(100.0, "dc"), (20_000.0, "ac")]:
        dc = PowerDesign("dc", "dc", 1.0, dc_capex, 0.0, 1000)
        inputs = plan_inputs(
            [owned("A", 100_000, 10)], [("A", "chat", 1000)], budget_mw=0.1, power_designs=[ac, dc]
        )
        ratio = {
            "ac": (20_000 + 10 * HOURS * 1.25 * 0.1) / tokens_per_node_year(8, 1000),
            "dc": (20_000 + 10 * HOURS * 0.1 + 10 * dc_capex / 10) / tokens_per_node_year(8, 1000),
        }
        assert min(ratio, key=ratio.get) == expected
        solution = solve(inputs, options=EXACT)
        assert solution.power_design == expected
        assert solution.cost_per_million_tokens_usd == pytest.approx(ratio[expected] * 1e6)


def test_shares_force_a_split_between_two_workloads():
    # A serves only chat (2,000 tokens/s/GPU), B only batch (1,000); 50/50 shares.
    # 30 kW = 3 nodes: 1 A + 2 B delivers 16,000 + 16,000 tokens/s (all GPUs busy).
    systems = [owned("A", 100_000, 10), owned("B", 100_000, 10)]
    points = [("A", "chat", 2000), ("B", "batch", 1000)]
    workloads = [Workload("chat", share=0.5), Workload("batch", share=0.5)]
    inputs = plan_inputs(systems, points, budget_mw=0.030, workloads=workloads)
    solution = solve(inputs, options=EXACT)
    assert nodes_by_sku(solution) == {"A": 1, "B": 2}
    assert solution.allocation[("A", "chat")] == pytest.approx(8)
    assert solution.allocation[("B", "batch")] == pytest.approx(16)
    assert solution.cost_per_million_tokens_usd == pytest.approx(
        per_million(3 * A_COST, 32_000 * 3600 * HOURS)
    )
    plan = plan_document(inputs, solution, "cost-per-token")
    assert {w["name"]: w["tokens_per_s"] for w in plan["workloads"]} == pytest.approx(
        {"chat": 16_000, "batch": 16_000}
    )


def test_supply_cap_spans_coolings():
    # B (4x A's tokens for 2.7x its cost) is capped at 2 nodes over both coolings: air
    # (PUE 1.25, no capex) and liquid (PUE 1, 5,000 $/kW) are both worth keeping. With
    # 1 M$/year of site costs, A fills the rest of the 100 kW.
    air = Cooling("air", "air", 0.25, 0.0, 0.0, 50)
    liquid = Cooling("dlc", "liquid", 0.0, 5000.0, 0.0, 200)
    systems = [owned("A", 100_000, 10), owned("B", 300_000, 20, max_nodes=2)]
    inputs = plan_inputs(
        systems, TWO_POINTS, budget_mw=0.100, coolings=[air, liquid], fixed_opex=1_000_000
    )
    assert len([c for c in combinations(inputs) if c.system.sku == "B"]) == 2
    solution = solve(inputs, options=EXACT)
    assert nodes_by_sku(solution)["B"] == 2
    assert solution.cost_per_million_tokens_usd == pytest.approx(enumerate_optimum(inputs)[0])
    uncapped = plan_inputs(
        [systems[0], owned("B", 300_000, 20)],
        TWO_POINTS,
        budget_mw=0.100,
        coolings=[air, liquid],
        fixed_opex=1_000_000,
    )
    assert nodes_by_sku(solve(uncapped, options=EXACT)).get("B", 0) > 2


# -------------------------------------------------- (d) random instances vs enumeration


def best_throughput(gpus_by_sku, points, shares):
    """max θ [tokens/s] s.t. Σ_w g[s,w] ≤ G_s, Σ_s tps g[s,w] = σ_w θ (an LP)."""
    pairs = [key for key in points if gpus_by_sku.get(key[0], 0) > 0]
    if not pairs:
        return 0.0
    n = len(pairs) + 1
    a_ub, b_ub = [], []
    for sku, gpus in gpus_by_sku.items():
        a_ub.append([1.0 if s == sku else 0.0 for s, _ in pairs] + [0.0])
        b_ub.append(gpus)
    a_eq, b_eq = [], []
    for w, share in shares.items():
        a_eq.append([points[s, ww] if ww == w else 0.0 for s, ww in pairs] + [-share])
        b_eq.append(0.0)
    result = linprog(
        [0.0] * (n - 1) + [-1.0], A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, method="highs"
    )
    return -result.fun if result.status == 0 else 0.0


def fleets_within_budget(grid_kw, caps, budget_kw):
    """Every node-count vector with Σ grid_kw·n ≤ budget_kw and n ≤ cap (a cap is required for
    0 kW)."""
    if not grid_kw:
        yield ()
        return
    kw, cap = grid_kw[0], caps[0]
    most = (
        cap
        if kw <= 0
        else min(math.floor(budget_kw / kw + 1e-9), cap if cap is not None else math.inf)
    )
    for n in range(int(most) + 1):
        for rest in fleets_within_budget(grid_kw[1:], caps[1:], budget_kw - n * kw):
            yield (n, *rest)


def enumerate_optimum(inputs):
    """min cost per million tokens over every integer fleet within budget and caps (one power
    design)."""
    shares = {w.name: w.share for w in inputs.workloads if w.share}
    total = sum(shares.values())
    shares = {w: s / total for w, s in shares.items()}
    points = {
        (p.sku, p.workload): p.tokens_per_s_per_gpu
        for p in inputs.operating_points
        if p.workload in shares
    }
    budget_kw = inputs.budget_mw * 1000
    combos = combinations(inputs)
    costs = [node_cost(c, inputs) for c in combos]
    site = site_cost_usd_per_year(inputs)
    kappa = 3600 * inputs.finance.hours_per_year * inputs.finance.utilization
    best = math.inf
    best_fleet = None
    cache = {}
    for power in inputs.power_designs:
        ks = [k for k, c in enumerate(combos) if c.power is None or c.power == power]
        for counts in fleets_within_budget(
            [costs[k].grid_kw for k in ks], [combos[k].system.max_nodes for k in ks], budget_kw
        ):
            by_sku = {}
            for k, n in zip(ks, counts, strict=True):
                by_sku[combos[k].system.sku] = by_sku.get(combos[k].system.sku, 0) + n
            if any(
                s.max_nodes is not None and by_sku.get(s.sku, 0) > s.max_nodes
                for s in inputs.systems
            ):
                continue
            gpus = tuple(
                sorted((s.sku, by_sku.get(s.sku, 0) * s.gpus_per_node) for s in inputs.systems)
            )
            if gpus not in cache:
                cache[gpus] = best_throughput(dict(gpus), points, shares)
            theta = cache[gpus]
            if theta <= 1e-9:
                continue
            cost = site + sum(n * costs[k].annual_usd for k, n in zip(ks, counts, strict=True))
            ratio = cost / (kappa * theta) * 1e6
            if ratio < best:
                best, best_fleet = ratio, counts
    return best, best_fleet


@st.composite
def small_instances(draw):
    n_systems = draw(st.integers(1, 3))
    workloads = [f"w{j}" for j in range(draw(st.integers(1, 2)))]
    coolings = [
        Cooling(
            "air",
            "air",
            draw(st.sampled_from([0.2, 0.4])),
            draw(st.sampled_from([0.0, 2000.0])),
            3.0,
            draw(st.sampled_from([40.0, 100.0])),
        ),
        Cooling(
            "dlc",
            "liquid",
            draw(st.sampled_from([0.05, 0.15])),
            draw(st.sampled_from([1000.0, 4000.0])),
            3.0,
            200.0,
        ),
    ][: draw(st.integers(1, 2))]
    powers = [
        PowerDesign(
            "ac",
            "ac",
            draw(st.sampled_from([0.85, 0.92])),
            2000.0,
            50.0,
            draw(st.sampled_from([50.0, 150.0])),
        ),
        PowerDesign("dc", "dc", 0.97, draw(st.sampled_from([1000.0, 5000.0])), 20.0, 1000.0),
    ][: draw(st.integers(1, 2))]
    systems, points = [], []
    for i in range(n_systems):
        sku = f"s{i}"
        if draw(st.integers(0, 4)) == 0:
            systems.append(
                rented(
                    sku, draw(st.sampled_from([1.0, 2.5, 4.0])), max_nodes=draw(st.integers(0, 3))
                )
            )
        else:
            kw = draw(st.sampled_from([12.0, 20.0, 30.0]))
            systems.append(
                owned(
                    sku,
                    draw(st.sampled_from([150_000.0, 300_000.0, 500_000.0])),
                    kw,
                    kinds=draw(st.sampled_from([("air",), ("liquid",), ("air", "liquid")])),
                    per_rack=draw(st.sampled_from([1, 2])),
                    max_nodes=draw(st.sampled_from([None, 1, 3])),
                    idle_kw=0.4 * kw,
                )
            )
        for w in workloads:
            if draw(st.booleans()) or w == workloads[0]:
                points.append((sku, w, draw(st.sampled_from([300.0, 1000.0, 2500.0]))))
    shares = [draw(st.sampled_from([1.0, 2.0, 3.0])) for _ in workloads]
    inputs = plan_inputs(
        systems,
        points,
        budget_mw=draw(st.sampled_from([0.04, 0.08, 0.12])),
        workloads=[
            Workload(w, share=s / sum(shares)) for w, s in zip(workloads, shares, strict=True)
        ],
        coolings=coolings,
        power_designs=powers,
        utilization=draw(st.sampled_from([0.5, 1.0])),
        fixed_opex=draw(st.sampled_from([0.0, 50_000.0, 500_000.0])),
        wacc=0.08,
        shell=1000.0,
        demand_usd_per_kw_month=draw(st.sampled_from([0.0, 10.0])),
        fixed_usd_per_year=draw(st.sampled_from([0.0, 5000.0])),
    )
    return inputs


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_random_instances_match_enumeration(inputs):
    best, _ = enumerate_optimum(inputs)
    if math.isinf(best):
        with pytest.raises(Infeasible):
            solve(inputs, options=EXACT)
        return
    solution = solve(inputs, options=EXACT)
    assert solution.cost_per_million_tokens_usd == pytest.approx(best, rel=1e-6)
    # (f) within budget, one power design, supply caps
    assert fleet_grid_kw(solution, inputs) <= inputs.budget_mw * 1000 + 1e-6
    assert len({key[2] for key in solution.nodes if key[2] is not None}) <= 1
    for system in inputs.systems:
        if system.max_nodes is not None:
            assert nodes_by_sku(solution).get(system.sku, 0) <= system.max_nodes
    # (i) the plan's cost is the cost of its rows
    plan = plan_document(inputs, solution, "cost-per-token")
    assert recompute_annual_cost(plan, inputs) == pytest.approx(plan["annual_cost_usd"])
    assert sum(plan["costs_usd_per_year"].values()) == pytest.approx(plan["annual_cost_usd"])
    assert plan["grid_power_mw"] <= plan["budget_mw"] + 1e-9
    json.dumps(plan, allow_nan=False)


def serves_demand(gpus_by_sku, points, demands):
    """Whether GPUs G_s can serve every demand:
    ∃ g ≥ 0, Σ_w g[s,w] ≤ G_s, Σ_s tps g[s,w] ≥ d_w (an LP)."""
    pairs = [key for key in points if gpus_by_sku.get(key[0], 0) > 0]
    if any(not any(w == ww for _, ww in pairs) for w in demands):
        return False
    a_ub, b_ub = [], []
    for sku, gpus in gpus_by_sku.items():
        a_ub.append([1.0 if s == sku else 0.0 for s, _ in pairs])
        b_ub.append(gpus)
    for w, demand in demands.items():
        a_ub.append([-points[s, ww] if ww == w else 0.0 for s, ww in pairs])
        b_ub.append(-demand)
    return linprog([0.0] * len(pairs), A_ub=a_ub, b_ub=b_ub, method="highs").status == 0


def enumerate_min_cost(inputs):
    """min annual cost over every integer fleet within budget and caps that serves the demands."""
    demands = {w.name: w.demand_tokens_per_s for w in inputs.workloads}
    points = {(p.sku, p.workload): p.tokens_per_s_per_gpu for p in inputs.operating_points}
    combos = combinations(inputs)
    costs = [node_cost(c, inputs) for c in combos]
    best, cache = math.inf, {}
    for power in inputs.power_designs:
        ks = [k for k, c in enumerate(combos) if c.power is None or c.power == power]
        for counts in fleets_within_budget(
            [costs[k].grid_kw for k in ks],
            [combos[k].system.max_nodes for k in ks],
            inputs.budget_mw * 1000,
        ):
            by_sku = {}
            for k, n in zip(ks, counts, strict=True):
                by_sku[combos[k].system.sku] = by_sku.get(combos[k].system.sku, 0) + n
            if any(
                s.max_nodes is not None and by_sku.get(s.sku, 0) > s.max_nodes
                for s in inputs.systems
            ):
                continue
            cost = site_cost_usd_per_year(inputs) + sum(
                n * costs[k].annual_usd for k, n in zip(ks, counts, strict=True)
            )
            if cost >= best:
                continue
            gpus = tuple(
                sorted((s.sku, by_sku.get(s.sku, 0) * s.gpus_per_node) for s in inputs.systems)
            )
            if gpus not in cache:
                cache[gpus] = serves_demand(dict(gpus), points, demands)
            if cache[gpus]:
                best = cost
    return best


@st.composite
def small_demand_instances(draw):
    inputs = draw(small_instances())
    total_tokens_per_s = draw(st.sampled_from([2_000.0, 10_000.0, 40_000.0]))
    workloads = tuple(
        Workload(w.name, demand_tokens_per_s=w.share * total_tokens_per_s) for w in inputs.workloads
    )
    return PlanInputs(**{**inputs.__dict__, "workloads": workloads})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_demand_instances())
def test_random_min_cost_instances_match_enumeration(inputs):
    best = enumerate_min_cost(inputs)
    if math.isinf(best):
        with pytest.raises(Infeasible):
            solve(inputs, "min-cost", EXACT)
        return
    solution = solve(inputs, "min-cost", EXACT)
    assert solution.annual_cost_usd == pytest.approx(best, rel=1e-7)
    assert fleet_grid_kw(solution, inputs) <= inputs.budget_mw * 1000 + 1e-6
    tps = {(p.sku, p.workload): p.tokens_per_s_per_gpu for p in inputs.operating_points}
    for w in inputs.workloads:
        served = sum(g * tps[key] for key, g in solution.allocation.items() if key[1] == w.name)
        assert served >= w.demand_tokens_per_s * (1 - 1e-6)


# -------------------------------------------------- (e) infeasible inputs


@pytest.mark.parametrize(
    ("inputs", "objective", "reason"),
    [
        (
            plan_inputs(TWO_SYSTEMS, TWO_POINTS, budget_mw=0.005),
            "cost-per-token",
            "below the grid power of the smallest node",
        ),
        (
            plan_inputs(
                TWO_SYSTEMS, TWO_POINTS, workloads=[Workload("chat", 0.5), Workload("code", 0.5)]
            ),
            "cost-per-token",
            "workload code: no system has an operating point",
        ),
        (
            plan_inputs([owned("A", 1e5, 10, kinds=("immersion",))], [("A", "chat", 1000)]),
            "cost-per-token",
            "no feasible system/cooling/power combination",
        ),
        (
            plan_inputs(
                [owned("A", 1e5, 10), owned("C", 1e5, 10, per_rack=6)],
                [("A", "chat", 1000), ("C", "code", 1000)],
                workloads=[Workload("chat", 0.5), Workload("code", 0.5)],
            ),
            "cost-per-token",
            "workload code: only C have operating points, and none has a feasible cooling/power "
            "combination",
        ),
        (
            plan_inputs(
                [owned("A", 1e5, 10, kinds=("air",), per_rack=2), owned("B", 1e5, 10, per_rack=4)],
                [("A", "chat", 1000), ("B", "code", 1000)],
                workloads=[Workload("chat", 0.5), Workload("code", 0.5)],
                power_designs=[
                    PowerDesign("ac", "ac", 1.0, 0.0, 0.0, 25.0),
                    PowerDesign("dc", "dc", 1.0, 0.0, 0.0, 1000.0),
                ],
                coolings=[AIR, LIQUID],
            ),
            "cost-per-token",
            None,  # both workloads fit dc: a plan exists
        ),
        (
            # chat's A (6 x 5 kW racks) exceeds lv's 12 kW racks; code's B needs 20 kW of
            # grid on ac (η 0.5), over the 15 kW budget: each workload has its own design.
            plan_inputs(
                [owned("A", 1e5, 5, per_rack=6), owned("B", 1e5, 10)],
                [("A", "chat", 1000), ("B", "code", 1000)],
                budget_mw=0.015,
                workloads=[Workload("chat", 0.5), Workload("code", 0.5)],
                power_designs=[
                    PowerDesign("ac", "ac", 0.5, 0.0, 0.0, 35.0),
                    PowerDesign("lv", "lv", 1.0, 0.0, 0.0, 12.0),
                ],
            ),
            "cost-per-token",
            "no single power design serves every workload",
        ),
        (
            plan_inputs(
                TWO_SYSTEMS,
                TWO_POINTS,
                budget_mw=0.1,
                workloads=[Workload("chat", demand_tokens_per_s=1e7)],
            ),
            "min-cost",
            "demand 1e+07 tokens/s exceeds",
        ),
        (
            plan_inputs(TWO_SYSTEMS, TWO_POINTS, workloads=[Workload("chat", share=0.0)]),
            "cost-per-token",
            "no workload has a share > 0",
        ),
    ],
)
def test_infeasible_inputs_raise_with_reason(inputs, objective, reason):
    if reason is None:
        assert solve(inputs, objective, EXACT).power_design == "dc"
        return
    with pytest.raises(Infeasible, match=reason.replace("+", r"\+")):
        solve(inputs, objective, EXACT)


def test_budget_for_one_workload_only_is_infeasible():
    # Each workload needs its own 10 kW node; 15 kW hosts one.
    inputs = plan_inputs(
        [owned("A", 1e5, 10), owned("B", 1e5, 10)],
        [("A", "chat", 1000), ("B", "code", 1000)],
        budget_mw=0.015,
        workloads=[Workload("chat", 0.5), Workload("code", 0.5)],
    )
    with pytest.raises(Infeasible, match="cannot host nodes for every workload"):
        solve(inputs, options=EXACT)


# -------------------------------------------------- (g) more budget never costs more per token


def test_raising_the_budget_never_raises_cost_per_token():
    systems = [
        owned("A", 100_000, 10),
        owned("B", 300_000, 20, max_nodes=3),
        owned("C", 2_000_000, 130, gpus=72, kinds=("liquid",)),
    ]
    points = [
        ("A", "chat", 1000),
        ("B", "chat", 4000),
        ("C", "chat", 3500),
        ("A", "batch", 3000),
        ("C", "batch", 9000),
    ]
    workloads = [Workload("chat", 0.6), Workload("batch", 0.4)]
    previous = math.inf
    for budget_mw in (0.02, 0.05, 0.1, 0.15, 0.3, 0.6):
        inputs = plan_inputs(
            systems,
            points,
            budget_mw=budget_mw,
            workloads=workloads,
            coolings=[AIR, LIQUID],
            fixed_opex=200_000,
        )
        ratio = solve(inputs, options=EXACT).cost_per_million_tokens_usd
        assert ratio <= previous * (1 + 1e-9)
        previous = ratio


# -------------------------------------------------- (h) min-cost


def test_min_cost_meets_every_demand_at_least_cost():
    # chat 20,000 tokens/s: 3 A (3 x 8,000) cost 86,280 vs 1 B (32,000) 77,520 -> 1 B.
    # batch 5,000 tokens/s: A only (B has no batch point) at 1,000 -> 1 A (8,000).
    # B's spare GPUs cannot serve batch, so the plan is 1 B + 1 A.
    points = TWO_POINTS + [("A", "batch", 1000)]
    workloads = [
        Workload("chat", demand_tokens_per_s=20_000),
        Workload("batch", demand_tokens_per_s=5_000),
    ]
    inputs = plan_inputs(TWO_SYSTEMS, points, budget_mw=0.2, workloads=workloads, fixed_opex=1000)
    solution = solve(inputs, "min-cost", EXACT)
    assert nodes_by_sku(solution) == {"A": 1, "B": 1}
    assert solution.annual_cost_usd == pytest.approx(1000 + A_COST + B_COST)
    tps = {(p.sku, p.workload): p.tokens_per_s_per_gpu for p in inputs.operating_points}
    served = {w.name: 0.0 for w in workloads}
    for (sku, w), gpus in solution.allocation.items():
        served[w] += gpus * tps[sku, w]
    for w in workloads:
        assert served[w.name] >= w.demand_tokens_per_s * (1 - 1e-9)
    plan = plan_document(inputs, solution, "min-cost")
    assert recompute_annual_cost(plan, inputs) == pytest.approx(plan["annual_cost_usd"])


# -------------------------------------------------- plan document, time limit


def test_plan_document_has_every_design_field():
    # R (rented, 2 $/GPU-hour) costs less per token than the owned average: one R joins 5 B + 1 A.
    inputs = plan_inputs(
        TWO_SYSTEMS + [rented("R", 2.0, max_nodes=1)],
        TWO_POINTS + [("R", "chat", 3000)],
        budget_mw=0.110,
        fixed_opex=1_000_000,
    )
    solution = solve(inputs, options=EXACT)
    plan = plan_document(
        inputs, solution, "cost-per-token", inputs_files=[{"file": "x.csv", "sha256": "00"}]
    )
    assert PLAN_FIELDS | {"workloads", "notes"} <= set(plan)
    assert set(plan["costs_usd_per_year"]) == {
        "it_capex",
        "cooling_capex",
        "power_capex",
        "shell_capex",
        "grid_connection_capex",
        "energy",
        "demand_charges",
        "fixed_charges",
        "maintenance",
        "other_opex",
        "rental",
    }
    for row in plan["fleet"]:
        assert {
            "sku",
            "cooling_id",
            "power_id",
            "nodes",
            "gpus",
            "it_power_kw",
            "grid_power_kw",
        } <= set(row)
    for row in plan["allocation"]:
        assert {
            "sku",
            "workload",
            "gpus",
            "tokens_per_s",
            "tokens_per_s_per_gpu",
            "ttft_s",
            "framework",
        } <= set(row)
    assert set(plan["solver"]) >= {"name", "status", "mip_gap", "seconds", "iterations"}
    assert plan["inputs"] == [{"file": "x.csv", "sha256": "00"}]
    assert sum(row["tokens_per_year"] for row in plan["allocation"]) == pytest.approx(
        plan["tokens_per_year"]
    )
    assert plan["pue"] == pytest.approx(1.0)
    assert plan["capex_usd"] == pytest.approx(5 * 300_000 + 1 * 100_000)
    assert plan["kwh_per_million_tokens"] == pytest.approx(
        (5 * 20 + 10)
        * HOURS
        / (5 * tokens_per_node_year(8, 4000) + tokens_per_node_year(8, 1000))
        * 1e6
    )
    json.dumps(plan, allow_nan=False)


def test_time_limit_returns_the_best_plan_found():
    inputs = plan_inputs(TWO_SYSTEMS, TWO_POINTS, budget_mw=0.110, fixed_opex=10_000)
    solution = solve(inputs, options=SolverOptions(time_limit_s=0.0))
    assert solution.status == "time_limit"
    assert solution.nodes and solution.tokens_per_year > 0


# -------------------------------------------------- no plan, index sets


def test_no_plan_is_said_by_the_optimizers_own_errors():
    # TimeoutError is an OSError: a handler of unreadable files would take it for bad input.
    assert Infeasible is errors.Infeasible and NoPlanInTime is errors.NoPlanInTime  # re-exported
    assert issubclass(Infeasible, errors.NoPlan) and issubclass(NoPlanInTime, errors.NoPlan)
    assert not issubclass(NoPlanInTime, OSError) and not issubclass(Infeasible, OSError)
    error = pickle.loads(pickle.dumps(NoPlanInTime("time limit reached")))  # from a sweep worker
    assert isinstance(error, NoPlanInTime) and error.reason == str(error) == "time limit reached"


def test_index_sets_are_built_once_from_the_kept_combinations_and_points():
    liquid_only = owned("C", 2_000_000, 130, gpus=72, kinds=("liquid",))
    points = TWO_POINTS + [("A", "batch", 3000), ("C", "batch", 9000)]
    inputs = plan_inputs(
        TWO_SYSTEMS + [liquid_only],
        points,
        coolings=[AIR, LIQUID],
        workloads=[Workload("chat", 0.6), Workload("batch", 0.4)],
    )
    data = model_data(inputs)
    skus = [combo.system.sku for combo in data.combinations]
    assert data.sku_combinations == {
        s: [k for k, sku in enumerate(skus) if sku == s] for s in data.skus
    }
    assert all(data.combos_of(s) == data.sku_combinations[s] for s in data.skus)
    assert data.sku_workloads == {"A": ["chat", "batch"], "B": ["chat"], "C": ["batch"]}
    assert data.workload_skus == {"chat": ["A", "B"], "batch": ["A", "C"]}
    assert data.loads is None and data.flat_demand_months == []  # the flat year
