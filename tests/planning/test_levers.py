"""The lever table: each row is the plan solved on the inputs without that lever."""

from __future__ import annotations

from dataclasses import replace

import pytest
from instances import EXACT, HOURS, owned, plan_inputs

from optimizer.inputs import Cooling, OperatingPoint, PowerDesign
from optimizer.levers import LEVERS
from optimizer.plan import plan_document
from optimizer.solve import solve
from optimizer.types import INFEASIBLE
from pipelines.planning.levers import lever_table

AIR = Cooling("air", "air", 0.5, 0.0, 0.0, 50)
DLC = Cooling("dlc", "liquid", 0.1, 0.0, 0.0, 200)
AC = PowerDesign("ac415", "415 VAC", 0.9, 0.0, 0.0, 1000, kind="ac")
DC = PowerDesign("dc800", "800 VDC", 1.0, 0.0, 0.0, 1000, kind="dc")


def point(sku, tps, precision="fp8", spec="none", disaggregated=False):
    return OperatingPoint(
        sku,
        "chat",
        tps,
        framework="engine",
        precision=precision,
        spec_decoding=spec,
        disaggregated=disaggregated,
    )


def inputs_with_levers():
    """Rack R (liquid only, 20 kW): fp4+MTP disaggregated 4,000; fp4 3,000; fp8 2,000 tokens/s
    per GPU. Server S (air or liquid, 10 kW): fp8 1,000."""
    rack = owned("R", 200_000, 20, kinds=("liquid",))
    server = owned("S", 100_000, 10)
    inputs = plan_inputs(
        [rack, server],
        [],
        budget_mw=0.2,
        coolings=[AIR, DLC],
        power_designs=[AC, DC],
        fixed_opex=1e4,
    )
    points = (
        point("R", 4000, "fp4", "mtp", True),
        point("R", 3000, "fp4"),
        point("R", 2000),
        point("S", 1000),
    )
    return replace(inputs, operating_points=points)


def test_each_row_is_a_separate_solve_without_that_lever():
    inputs = inputs_with_levers()
    plan = plan_document(inputs, solve(inputs, options=EXACT), "cost-per-token")
    rows = {row["lever"]: row for row in lever_table(inputs, plan, "cost-per-token", EXACT)}
    assert list(rows) == [lever.key for lever in LEVERS]
    for lever in LEVERS:
        row = rows[lever.key]
        if not row["in_data"]:
            assert lever.key == "kv_offload" and row["cost_ratio"] == 1.0
            continue
        without = lever.remove(inputs)
        alone = plan_document(without, solve(without, options=EXACT), "cost-per-token")
        assert row["cost_per_million_tokens_usd"] == pytest.approx(
            alone["cost_per_million_tokens_usd"]
        )
        assert row["cost_ratio"] == pytest.approx(
            alone["cost_per_million_tokens_usd"] / plan["cost_per_million_tokens_usd"]
        )
        assert row["cost_ratio"] >= 1 - 1e-9
        assert row["used_by_plan"] == (row["cost_ratio"] > 1 + 1e-9)


def test_the_lever_values_by_hand():
    """The plan: R racks on dlc / dc800 (PUE 1.1, 22 kW grid), 9 fit in 200 kW, at 4,000
    tokens/s per GPU. Without MTP and disaggregation the racks serve 3,000 (cost × 4/3);
    without FP4 2,000 (× 2); without liquid cooling only S on air (PUE 1.5, 13 fit)."""
    inputs = inputs_with_levers()
    plan = plan_document(inputs, solve(inputs, options=EXACT), "cost-per-token")
    rows = {row["lever"]: row for row in lever_table(inputs, plan, "cost-per-token", EXACT)}
    assert [(r["sku"], r["cooling_id"], r["power_id"], r["nodes"]) for r in plan["fleet"]] == [
        ("R", "dlc", "dc800", 9)
    ]
    assert rows["speculative_decoding"]["cost_ratio"] == pytest.approx(4 / 3)
    assert rows["disaggregation"]["cost_ratio"] == pytest.approx(4 / 3)
    assert rows["fp4"]["cost_ratio"] == pytest.approx(2.0)
    rack_usd = 200_000 / 5 + 22 * HOURS * 0.1
    server_usd = 100_000 / 5 + 15 * HOURS * 0.1
    plan_cost = (1e4 + 9 * rack_usd) / (9 * 8 * 4000)
    air_cost = (1e4 + 13 * server_usd) / (13 * 8 * 1000)
    assert rows["liquid_cooling"]["cost_ratio"] == pytest.approx(air_cost / plan_cost)
    assert rows["liquid_cooling"]["used_by_plan"] and rows["dc_power"]["used_by_plan"]
    # 415 VAC: PUE 1/0.9 + 0.1 = 1.2111, 24.2 kW a rack: 8 racks fit
    ac_rack_usd = 200_000 / 5 + 20 * (1 / 0.9 + 0.1) * HOURS * 0.1
    ac_cost = (1e4 + 8 * ac_rack_usd) / (8 * 8 * 4000)
    assert rows["dc_power"]["cost_ratio"] == pytest.approx(ac_cost / plan_cost)
    assert rows["kv_offload"] == rows["kv_offload"] | {"in_data": False, "used_by_plan": False}


def test_a_lever_without_which_nothing_serves_is_an_infeasible_row_with_the_reason():
    inputs = inputs_with_levers()
    inputs = replace(
        inputs, systems=inputs.systems[:1], operating_points=inputs.operating_points[:3]
    )
    plan = plan_document(inputs, solve(inputs, options=EXACT), "cost-per-token")
    rows = {row["lever"]: row for row in lever_table(inputs, plan, "cost-per-token", EXACT)}
    assert rows["liquid_cooling"]["status"] == INFEASIBLE
    assert "R" in rows["liquid_cooling"]["reason"]
    assert rows["liquid_cooling"]["cost_per_million_tokens_usd"] is None


def test_a_lever_the_plan_does_not_use_is_not_solved_again_and_is_worth_nothing(monkeypatch):
    # 800 VDC at half efficiency: the plan builds on 415 VAC, so without 800 VDC it stays.
    inputs = replace(inputs_with_levers(), power_designs=(AC, replace(DC, efficiency=0.5)))
    plan = plan_document(inputs, solve(inputs, options=EXACT), "cost-per-token")
    assert plan["power_design"] == "ac415"
    import pipelines.planning.levers as levers

    solved = []
    monkeypatch.setattr(
        levers, "solve", lambda without, *args: solved.append(without) or solve(without, *args)
    )
    rows = {row["lever"]: row for row in lever_table(inputs, plan, "cost-per-token", EXACT)}
    dc = next(lever for lever in LEVERS if lever.key == "dc_power")
    assert not rows["dc_power"]["used_by_plan"] and rows["dc_power"]["cost_ratio"] == 1.0
    assert all(len(without.power_designs) == 2 for without in solved)  # never without 800 VDC
    used = [key for key, row in rows.items() if row["used_by_plan"]]
    assert len(solved) == len(used)
    without = dc.remove(inputs)
    alone = solve(without, options=EXACT)
    assert alone.cost_per_million_tokens_usd == pytest.approx(
        rows["dc_power"]["cost_per_million_tokens_usd"]
    )
