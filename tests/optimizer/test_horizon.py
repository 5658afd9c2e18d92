"""Multi-year plans (`optimizer.horizon`): a one-year horizon is the one-year plan; small
horizons against exhaustive enumeration; an existing fleet kept, and one retired early, by hand."""

from __future__ import annotations

import itertools
import math
import pickle
from dataclasses import replace

import pytest
from conftest import REPO
from instances import EXACT, HOURS, owned, plan_inputs, rented

from optimizer.economics import combinations, crf, node_cost
from optimizer.horizon import solve_horizon, solve_robust
from optimizer.inputs import Horizon, InstalledNodes, OperatingPoint, SolverOptions
from optimizer.solve import solve

WACC = 0.1


def two_systems(**horizon_fields):
    """Old system A (8 GPUs, 10 kW, 1,000 tokens/s per GPU) from the start; new system B (8
    GPUs, 10 kW, 3,000 tokens/s per GPU, dearer) from the second year, 20% cheaper each year;
    lifetimes 2 years; budget 20 kW (two nodes), a shell at $500/kW IT; wacc 10%."""
    a = replace(owned("A", 100_000, 10, kinds=("air",), max_nodes=2), lifetime_years=2)
    b = replace(
        owned("B", 250_000, 10, kinds=("air",), max_nodes=2),
        lifetime_years=2,
        available_from_year=2027,
        capex_decline_pct_per_year=20.0,
    )
    inputs = plan_inputs(
        [a, b],
        [("A", "chat", 1000.0), ("B", "chat", 3000.0)],
        budget_mw=0.02,
        wacc=WACC,
        shell=500.0,
        fixed_opex=20_000.0,
    )
    horizon = Horizon(2026, 3, (0.02, 0.02, 0.02), **horizon_fields)
    return replace(inputs, horizon=horizon)


def enumerate_levelized(inputs):
    """The least levelized cost per million tokens of a 3-year horizon over every plan: each
    vintage's nodes in service, never rising, at most 2; a plan is only what is in service
    (buying more than enters service only costs). Costs by the formulas of the module
    docstrings: annuity capex(y) × CRF from the purchase year, facility (shell) built as the
    running peak of kW IT, opex and energy per node in service, site fixed opex."""
    horizon = inputs.horizon
    years = horizon.year_list
    y0 = years[0]
    d = [(1 + WACC) ** -t for t in range(len(years))]
    combos = {c.system.sku: c for c in combinations(inputs)}
    fleet = {(row.sku, row.installed_year): row for row in inputs.fleet}
    vintages = []  # (sku, first year, years in service, most nodes, capex or None if sunk)
    for (sku, installed), row in fleet.items():
        system = combos[sku].system
        last = min(years[-1], installed + math.ceil(system.lifetime_years) - 1)
        vintages.append((sku, y0, list(range(y0, last + 1)), row.nodes, None))
    for sku, combo in combos.items():
        system = combo.system
        for year in years:
            if system.available_from_year and year < system.available_from_year:
                continue
            last = min(years[-1], year + math.ceil(system.lifetime_years) - 1)
            capex = system.node_capex_usd * (1 - system.capex_decline_pct_per_year / 100) ** (
                year - y0
            )
            vintages.append((sku, year, list(range(year, last + 1)), 2, capex))

    def sequences(length, most):
        for seq in itertools.product(range(most + 1), repeat=length):
            if all(a >= b for a, b in zip(seq, seq[1:], strict=False)):
                yield seq

    best = math.inf
    finance = inputs.finance
    floor = horizon.demand_tokens_per_s
    for choice in itertools.product(*(list(sequences(len(v[2]), v[3])) for v in vintages)):
        in_service = {(t, s): 0 for t in years for s in combos}
        cost = 0.0
        for (sku, _, service, _, capex), seq in zip(vintages, choice, strict=True):
            system = combos[sku].system
            for t, n in zip(service, seq, strict=True):
                in_service[t, sku] += n
            if capex is not None and seq[0]:
                annuity = capex * crf(WACC, system.lifetime_years)
                cost += sum(d[t - y0] for t in service) * annuity * seq[0]
            base = node_cost(combos[sku], inputs)
            own_capex = capex if capex is not None else system.node_capex_usd
            maintenance = system.maintenance_pct_per_year / 100 * own_capex
            opex = base.energy + base.other_opex + maintenance
            cost += sum(d[t - y0] * opex * n for t, n in zip(service, seq, strict=True))
        if any(
            sum(10.0 * in_service[t, s] for s in combos) > 1000 * horizon.budget_mw[t - y0] + 1e-9
            for t in years
        ):
            continue
        rate = {
            t: sum(in_service[t, s] * 8 * (1000.0 if s == "A" else 3000.0) for s in combos)
            for t in years
        }
        if floor and any(rate[t] < floor[t - y0] - 1e-9 for t in years):
            continue
        sunk_kw = sum(10.0 * row.nodes for row in inputs.fleet)
        peak = sunk_kw
        for t in years:
            kw = sum(10.0 * in_service[t, s] for s in combos)
            if kw > peak:
                built = kw - peak
                peak = kw
                cost += sum(d[u - y0] for u in years if u >= t) * built * 500.0 * crf(WACC, 10)
        cost += sum(d[t - y0] * finance.fixed_opex_usd_per_year for t in years)
        tokens = sum(d[t - y0] * rate[t] * 3600 * HOURS for t in years)
        if tokens > 0:
            best = min(best, cost / tokens * 1e6)
    return best


def test_a_one_year_horizon_is_the_one_year_plan_on_the_bundled_data(tmp_path):
    from optimizer.design import plan_inputs as design
    from pipelines.ingest.sources import read_inputs

    inputs = design(read_inputs(REPO / "datasets"))
    one = solve(inputs, options=EXACT)  # the first year's, greenfield
    start = inputs.horizon.start_year if inputs.horizon else 2026
    year = replace(inputs, horizon=Horizon(start, 1, (inputs.budget_mw,)), fleet=())
    plan = solve_horizon(year, options=EXACT)
    assert plan.cost_per_million_tokens_usd == pytest.approx(one.cost_per_million_tokens_usd)
    assert plan.present_value_cost_usd == pytest.approx(one.annual_cost_usd)
    fleet = {(r.sku, r.cooling_id, r.power_id): r.in_service for r in plan.vintages if r.in_service}
    assert fleet == one.nodes
    assert pickle.loads(pickle.dumps(plan)) == plan  # plain data


def test_a_one_year_horizon_is_the_one_year_plan_in_min_cost_mode():
    base = two_systems()
    inputs = replace(
        base,
        systems=tuple(replace(s, available_from_year=None) for s in base.systems),
        workloads=(replace(base.workloads[0], share=None, demand_tokens_per_s=30_000),),
        horizon=Horizon(2026, 1, (0.02,)),
    )
    one = solve(replace(inputs, horizon=None), "min-cost", EXACT)
    plan = solve_horizon(inputs, "min-cost", EXACT)
    assert plan.present_value_cost_usd == pytest.approx(one.annual_cost_usd)


@pytest.mark.parametrize(
    "floor",
    [None, (16_000.0, 30_000.0, 40_000.0), (8_000.0, 8_000.0, 48_000.0)],
    ids=["no floor", "growing floor", "late floor"],
)
def test_three_years_of_two_systems_match_enumeration(floor):
    inputs = two_systems(demand_tokens_per_s=floor)
    plan = solve_horizon(inputs, options=EXACT)
    assert plan.status == "optimal"
    assert plan.cost_per_million_tokens_usd == pytest.approx(enumerate_levelized(inputs), rel=1e-7)
    for year in plan.years:
        assert year.grid_kw <= year.budget_kw + 1e-6


def test_an_existing_fleet_matches_enumeration():
    inputs = replace(
        two_systems(demand_tokens_per_s=(8_000.0, 8_000.0, 8_000.0)),
        fleet=(InstalledNodes("A", "air", "ideal", 2, 2025),),
    )
    plan = solve_horizon(inputs, options=EXACT)
    assert plan.cost_per_million_tokens_usd == pytest.approx(enumerate_levelized(inputs), rel=1e-7)


def test_an_existing_fleet_is_kept_when_its_capital_is_sunk():
    """Two A nodes installed in 2025 (2-year life: in service in 2026). In 2026 B cannot be
    bought yet, and a new A would cost its annuity where the old one costs only opex:
    the plan keeps both old nodes for 2026 and buys no A."""
    inputs = replace(two_systems(), fleet=(InstalledNodes("A", "air", "ideal", 2, 2025),))
    plan = solve_horizon(inputs, options=EXACT)
    first = [r for r in plan.vintages if r.year == 2026 and r.in_service]
    assert [(r.sku, r.kind, r.in_service) for r in first] == [("A", "existing", 2)]
    # at the end of its lifetime: the row of 2027, none in service, both retired
    later = [(r.year, r.in_service, r.retired) for r in plan.vintages if r.kind == "existing"]
    assert later == [(2026, 2, 0), (2027, 0, 2)]


def test_an_existing_fleet_is_retired_early_when_it_holds_the_budget():
    """Old nodes O (8 GPUs, 10 kW, 500 tokens/s per GPU, $40,000 a year to run) fill the 20 kW
    budget. New B from the first year serves 3,000 tokens/s per GPU for its annuity
    (250,000 × CRF(10%, 2) = $144,048) plus the same energy: per token B costs
    (144,048 + energy) / 24,000 against O's (40,000 + energy) / 4,000 per (token/s) — O is
    dearer per token even with its capital sunk, so the plan retires both O nodes at once
    and fills the budget with B."""
    old = replace(
        owned("O", 100_000, 10, kinds=("air",)),
        lifetime_years=5,
        opex_usd_per_gpu_year=5_000.0,
    )
    new = replace(owned("B", 250_000, 10, kinds=("air",)), lifetime_years=2)
    inputs = plan_inputs(
        [old, new],
        [("O", "chat", 500.0), ("B", "chat", 3000.0)],
        budget_mw=0.02,
        wacc=WACC,
    )
    inputs = replace(
        inputs,
        horizon=Horizon(2026, 2, (0.02, 0.02)),
        fleet=(InstalledNodes("O", "air", "ideal", 2, 2025),),
    )
    b = node_cost(next(c for c in combinations(inputs) if c.system.sku == "B"), inputs)
    o = node_cost(next(c for c in combinations(inputs) if c.system.sku == "O"), inputs)
    assert (b.it_capex + b.energy) / 24_000 < (o.other_opex + o.energy) / 4_000
    plan = solve_horizon(inputs, options=EXACT)
    in_service = {(r.sku, r.year): r.in_service for r in plan.vintages}
    assert in_service.get(("O", 2026), 0) == 0 and in_service.get(("O", 2027), 0) == 0
    assert in_service[("B", 2026)] == 2
    retired = [r for r in plan.vintages if r.sku == "O" and r.year == 2026]
    assert retired and retired[0].retired == 2


def test_a_horizon_solves_fast_enough_and_states_its_size():
    inputs = two_systems(demand_tokens_per_s=(16_000.0, 30_000.0, 40_000.0))
    plan = solve_horizon(inputs, options=SolverOptions(mip_rel_gap=1e-6))
    assert plan.n_variables > 0 and plan.n_constraints > 0 and plan.n_nonzeros > 0
    assert [y.year for y in plan.years] == [2026, 2027, 2028]
    assert sum(y.capex_paid_usd for y in plan.years) > 0


def scenarios():
    """Three futures of `two_systems`: as planned, B 40% cheaper, energy at 3x."""
    base = two_systems(demand_tokens_per_s=(8_000.0, 16_000.0, 24_000.0))
    cheap_b = replace(
        base,
        systems=tuple(
            replace(s, node_capex_usd=s.node_capex_usd * 0.6) if s.sku == "B" else s
            for s in base.systems
        ),
    )
    dear_energy = replace(
        base, energy=replace(base.energy, energy_usd_per_kwh=3 * base.energy.energy_usd_per_kwh)
    )
    return [("planned", 0.5, base), ("cheap B", 0.3, cheap_b), ("dear energy", 0.2, dear_energy)]


def expected(costs_and_tokens, cases):
    cost = sum(p * costs_and_tokens[name][0] for name, p, _ in cases)
    tokens = sum(p * costs_and_tokens[name][1] for name, p, _ in cases)
    return cost / tokens * 1e6


def test_a_plan_re_dispatched_on_its_own_inputs_costs_what_it_did():
    inputs = two_systems(demand_tokens_per_s=(8_000.0, 16_000.0, 24_000.0))
    plan = solve_horizon(inputs, options=EXACT)
    again = solve_horizon(inputs, options=EXACT, fixed=plan)
    assert again.cost_per_million_tokens_usd == pytest.approx(plan.cost_per_million_tokens_usd)
    assert [(r.sku, r.year, r.in_service) for r in again.vintages if r.in_service] == [
        (r.sku, r.year, r.in_service) for r in plan.vintages if r.in_service
    ]


def test_stress_regret_is_never_negative_and_zero_on_the_plans_own_scenario():
    cases = scenarios()
    plan = solve_horizon(cases[0][2], options=EXACT)
    for name, _, inputs in cases:
        own = solve_horizon(inputs, options=EXACT).cost_per_million_tokens_usd
        stressed = solve_horizon(inputs, options=EXACT, fixed=plan).cost_per_million_tokens_usd
        assert stressed >= own * (1 - 1e-9)
        if name == "planned":
            assert stressed == pytest.approx(own)


def test_the_robust_plan_is_never_worse_in_expectation_than_any_single_scenario_plan():
    cases = scenarios()
    robust = solve_robust(cases, options=EXACT)
    first = {
        (r.sku, r.cooling_id, r.power_id, r.bought)
        for plan in robust.plans.values()
        for r in plan.vintages
        if r.year == 2026 and r.kind != "existing"
    }
    shared = [
        {(r.sku, r.bought) for r in plan.vintages if r.year == 2026 and r.bought}
        for plan in robust.plans.values()
    ]
    assert all(buys == shared[0] for buys in shared) and first  # one first year for all
    for _, _, inputs in cases:
        single = solve_horizon(inputs, options=EXACT)
        evaluated = {
            name: (
                (p := solve_horizon(other, options=EXACT, fixed=single)).present_value_cost_usd,
                p.present_value_tokens,
            )
            for name, _, other in cases
        }
        assert robust.expected_cost_per_million_tokens_usd <= expected(evaluated, cases) * (
            1 + 1e-9
        )


def test_a_robust_plan_of_one_scenario_is_the_plan():
    inputs = two_systems(demand_tokens_per_s=(8_000.0, 16_000.0, 24_000.0))
    robust = solve_robust([("only", 1.0, inputs)], options=EXACT)
    plan = solve_horizon(inputs, options=EXACT)
    assert robust.expected_cost_per_million_tokens_usd == pytest.approx(
        plan.cost_per_million_tokens_usd
    )


def test_a_robust_plan_rents_the_same_nodes_in_the_first_year_in_every_scenario():
    """A rental R (3,000 tokens/s per GPU, up to 4 nodes) beside A and B: what is rented in the
    first year is decided once, like what is bought; later years differ by scenario."""
    cases = []
    for name, probability, inputs in scenarios():
        cases.append(
            (
                name,
                probability,
                replace(
                    inputs,
                    systems=(*inputs.systems, rented("R", 2.5, max_nodes=4)),
                    operating_points=(
                        *inputs.operating_points,
                        OperatingPoint("R", "chat", 3000.0),
                    ),
                ),
            )
        )
    robust = solve_robust(cases, options=EXACT)
    first = [
        sorted(
            (r.sku, r.in_service) for r in plan.vintages if r.year == 2026 and r.kind != "existing"
        )
        for plan in robust.plans.values()
    ]
    assert all(year == first[0] for year in first)
