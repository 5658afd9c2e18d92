"""Time-resolved plans: slices of the year, time-of-use prices, demand peaks, load shapes.

Tiny instances solved by hand (PUE 1, wacc 0, no facility capex), with their tariffs
written as small URDB documents and read through the real path (`read_urdb` →
`Tariff.from_tables` → `slice_prices`), and the bundled data end to end.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import DATASETS
from instances import AIR, EXACT, LOSSLESS

from optimizer.design import plan_inputs as design_inputs
from optimizer.design import tariff_profile_frame
from optimizer.inputs import (
    EnergyPrice,
    Finance,
    OperatingPoint,
    PlanInputs,
    System,
    Workload,
    inputs_from_dict,
    inputs_to_dict,
)
from optimizer.plan import plan_document, recompute_annual_cost
from optimizer.solve import solve
from optimizer.tariff import Tariff, bill, flat_year_price, slice_prices
from optimizer.timeslices import DEFAULT_DIURNAL_PROFILE, TIME_RESOLUTIONS, inputs_priced_slices
from pipelines.cli import options
from pipelines.cli.main import main
from pipelines.contract.errors import InputError
from pipelines.ingest.readers.scenario import read_scenario
from pipelines.ingest.readers.tariffs import read_urdb
from pipelines.ingest.sources import read_inputs

HOURS = 8760
ENTERGY_ID = "5a592c995457a3371c423a7d"
ENTERGY = DATASETS / "tariffs" / f"entergy_arkansas_LPS_TOU_industrial_{ENTERGY_ID}.json"


def every_month(hours: list[int]) -> list[list[int]]:
    """The same 24-hour period pattern in each of the 12 months."""
    return [list(hours) for _ in range(12)]


def urdb_tariff(tmp_path: Path, **fields) -> Tariff:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"label": "t", "name": "test"} | fields))
    return Tariff.from_tables(read_urdb(path, "tariffs/t.json"), "t")


def tou_energy(
    rates: list[float], weekday: list[list[int]], weekend: list[list[int]] | None = None
) -> dict:
    return {
        "energyratestructure": [[{"rate": r}] for r in rates],
        "energyweekdayschedule": weekday,
        "energyweekendschedule": weekend or weekday,
    }


def owned(sku: str, capex: float, kw: float, idle_kw: float, gpus: int = 8) -> System:
    return System(
        sku=sku,
        accelerator=sku,
        gpus_per_node=gpus,
        node_capex_usd=capex,
        node_power_kw=kw,
        node_idle_power_kw=idle_kw,
        nodes_per_rack=1,
        cooling_kinds=("air",),
        lifetime_years=5,
    )


def site(
    tariff: Tariff,
    systems,
    points,
    workloads,
    *,
    budget_mw: float,
    fixed_opex: float = 0.0,
    utilization: float = 1.0,
) -> PlanInputs:
    """PlanInputs priced by `tariff` both ways: flat year and per slice, at the budget's scale."""
    energy, demand, fixed = flat_year_price(tariff, budget_mw * 1000)
    return PlanInputs(
        budget_mw=budget_mw,
        systems=tuple(systems),
        coolings=(AIR,),
        power_designs=(LOSSLESS,),
        workloads=tuple(workloads),
        operating_points=tuple(OperatingPoint(s, w, tps) for s, w, tps in points),
        energy=EnergyPrice(tariff.tariff_id, energy, demand, fixed),
        finance=Finance(
            wacc=0.0,
            facility_lifetime_years=10,
            utilization=utilization,
            shell_capex_usd_per_kw_it=0.0,
            fixed_opex_usd_per_year=fixed_opex,
        ),
        tariff_slices=slice_prices(tariff, budget_mw * 1000),
    )


def slice_rows(plan: dict) -> list[dict]:
    """The plan's `slices` columns as rows."""
    columns = plan["slices"]
    rows = [
        dict(
            zip(
                ("month", "day_type", "hour", "weight_days", "grid_kw", "price_usd_per_kwh"),
                values,
                strict=True,
            )
        )
        for values in zip(
            *(
                columns[c]
                for c in (
                    "month",
                    "day_type",
                    "hour",
                    "weight_days",
                    "grid_kw",
                    "price_usd_per_kwh",
                )
            ),
            strict=True,
        )
    ]
    for w, series in columns["tokens_per_s"].items():
        for row, value in zip(rows, series, strict=True):
            row[w] = value
    return rows


# 12 hours at $0.05/kWh (00:00-11:59) and 12 at $1.00 (12:00-23:59), every day.
HALF_DAY_PEAK = {"rates": [0.05, 1.0], "weekday": every_month([0] * 12 + [1] * 12)}
# A: 8 GPUs, 10 kW busy and 0 idle, $100k over 5 years = $20,000/year, 1,000 tokens/s per GPU.
A = owned("A", 100_000, 10, idle_kw=0)
NODE_TOKENS_PER_HOUR = 8 * 1000 * 3600


def test_batch_moves_to_off_peak_hours(tmp_path):
    """Off-peak only: a node costs 20,000 + 10 kW × 4,380 h × 0.05 = 22,190 USD/year for
    4,380 h of tokens, λ ≈ $0.176 per million. One on-peak hour would cost 10 kWh × $1 for
    28.8 M tokens ($0.347 per million), above λ, so no batch token is served on peak and
    the three nodes the 30 kW budget hosts run 12 hours a day (utilization 0.5)."""
    tariff = urdb_tariff(tmp_path, **tou_energy(HALF_DAY_PEAK["rates"], HALF_DAY_PEAK["weekday"]))
    inputs = site(
        tariff,
        [A],
        [("A", "offline", 1000)],
        [Workload("offline", share=1.0, load_shape="batch")],
        budget_mw=0.030,
        fixed_opex=1000,
    )
    solution = solve(inputs, options=EXACT, time_resolution="representative")
    plan = plan_document(inputs, solution, "cost-per-token")

    assert solution.nodes == {("A", "air", "ideal"): 3}
    rows = slice_rows(plan)
    assert max(r["offline"] for r in rows if r["hour"] >= 12) == pytest.approx(0, abs=1e-6)
    assert min(r["offline"] for r in rows if r["hour"] < 12) == pytest.approx(3 * 8 * 1000)
    cost = 1000 + 3 * (20_000 + 10 * 4380 * 0.05)
    assert plan["annual_cost_usd"] == pytest.approx(cost)
    assert plan["cost_per_million_tokens_usd"] == pytest.approx(
        cost / (3 * NODE_TOKENS_PER_HOUR * 4380) * 1e6
    )
    assert plan["realized_utilization"]["fleet"] == pytest.approx(0.5)
    # The flat year runs every hour at the mean price 0.525: 20,000 + 10 × 8,760 × 0.525 per node.
    flat = 1000 + 3 * (20_000 + 10 * HOURS * 0.525)
    assert plan["flat_cost_per_million_tokens_usd"] == pytest.approx(
        flat / (3 * NODE_TOKENS_PER_HOUR * HOURS) * 1e6
    )
    assert recompute_annual_cost(plan, inputs) == pytest.approx(plan["annual_cost_usd"], rel=1e-9)


@pytest.mark.parametrize(
    "pattern",
    [
        # name, energy rates by period, weekday and weekend schedules (period per month × hour),
        # demand charges, whether idling the fleet in the dearest slice pays on energy alone
        (
            "evening peak",
            [0.06, 0.09, 0.30],
            every_month([0] * 7 + [1] * 10 + [2] * 5 + [1] * 2),
            None,
            {},
            True,
        ),
        (
            "summer and weekend",
            [0.08, 0.20, 0.04],
            [[1] * 24 if 6 <= m <= 9 else [0] * 24 for m in range(1, 13)],
            every_month([2] * 24),
            {},
            True,
        ),
        (
            "with demand charges",
            [0.05, 0.16],
            every_month([0] * 14 + [1] * 6 + [0] * 4),
            None,
            {
                "flatdemandstructure": [[{"rate": 6.0}]],
                "flatdemandmonths": [0] * 12,
                "demandratestructure": [[{"rate": 0.0}], [{"rate": 9.0}]],
                "demandweekdayschedule": every_month([0] * 14 + [1] * 6 + [0] * 4),
                "demandweekendschedule": every_month([0] * 24),
            },
            False,
        ),
    ],
    ids=lambda p: p[0],
)
def test_time_resolved_cost_per_token_never_above_flat(tmp_path, pattern):
    """By construction. Batch work only and utilization 1: the flat year runs every GPU all
    year at the tariff's mean price (`flat_year_price`: the hour-weighted mean of the slice
    prices, no tiers here) and pays demand charges on the provisioned kW every month. Its
    plan is feasible in the time-resolved model: same fleet, every GPU busy in every slice,
    so the same tokens, the same energy cost (Σ_t W_t π_t P = 8,760 · mean π · P) and
    monthly peaks equal to the provisioned kW. The time-resolved optimum is therefore
    never above the flat one.

    It is strictly below when idling pays. From the flat plan (cost C, θ tokens/s, busy
    power P_busy = Σ nodes × (busy − idle kW)), idling the whole fleet in the dearest slice
    t (W_t hours) saves π_t P_busy W_t USD and 3600 θ W_t tokens, which lowers C/T when
    π_t P_busy / (3600 θ) > C/T. That is sufficient, not necessary (demand charges make
    idling pay sooner); the instance is cheap hardware, so energy weighs."""
    _, rates, weekday, weekend, demand, idling_pays = pattern
    tariff = urdb_tariff(tmp_path, **tou_energy(rates, weekday, weekend), **demand)
    systems = [owned("A", 10_000, 10, idle_kw=4), owned("B", 25_000, 14, idle_kw=3)]
    busy_kw_per_node = {"A": 10 - 4, "B": 14 - 3}
    points = [
        ("A", "offline", 1000),
        ("B", "offline", 2600),
        ("A", "bulk", 700),
        ("B", "bulk", 1500),
    ]
    workloads = [
        Workload("offline", share=0.6, load_shape="batch"),
        Workload("bulk", share=0.4, load_shape="batch"),
    ]
    inputs = site(tariff, systems, points, workloads, budget_mw=0.1, fixed_opex=2_000)
    flat = solve(inputs, options=EXACT)
    timed = solve(inputs, options=EXACT, time_resolution="representative", start=flat)
    assert timed.flat_cost_per_million_tokens_usd == pytest.approx(flat.cost_per_million_tokens_usd)
    assert timed.cost_per_million_tokens_usd <= flat.cost_per_million_tokens_usd * (1 + 1e-7)

    busy_kw = sum(n * busy_kw_per_node[sku] for (sku, _, _), n in flat.nodes.items())
    tokens_per_s = flat.tokens_per_year / (3600 * HOURS)
    dearest = inputs_priced_slices(inputs, "representative").price_usd_per_kwh.max()
    assert (
        dearest * busy_kw / (3600 * tokens_per_s) > flat.annual_cost_usd / flat.tokens_per_year
    ) == idling_pays
    if idling_pays:
        assert timed.cost_per_million_tokens_usd < flat.cost_per_million_tokens_usd * 0.99


def test_demand_charge_on_the_monthly_peak(tmp_path):
    """Two nodes (4 kW idle, 10 kW busy) serve an interactive workload at half its peak in
    hours 0-11 and at its peak in hours 12-23 (min-cost, peak demand = 2 nodes' tokens/s).
    Grid kW: 2 × (4 + 0.5 × 6) = 14 in the morning, 20 in the afternoon.
    Demand per month: flat 10 $/kW × 20 kW + TOU (hours 0-5) 5 $/kW × 14 kW = 270.
    Energy: (14 × 12 + 20 × 12) kWh/day × 365 × 0.1 = 14,892. Nodes 2 × 20,000."""
    tariff = urdb_tariff(
        tmp_path,
        **tou_energy([0.1], every_month([0] * 24)),
        flatdemandstructure=[[{"rate": 10.0}]],
        flatdemandmonths=[0] * 12,
        demandratestructure=[[{"rate": 0.0}], [{"rate": 5.0}]],
        demandweekdayschedule=every_month([1] * 6 + [0] * 18),
        demandweekendschedule=every_month([1] * 6 + [0] * 18),
    )
    workload = Workload(
        "chat", demand_tokens_per_s=2 * 8 * 1000, load_profile=(0.5,) * 12 + (1.0,) * 12
    )
    inputs = site(
        tariff,
        [owned("A", 100_000, 10, idle_kw=4)],
        [("A", "chat", 1000)],
        [workload],
        budget_mw=0.1,
    )
    for resolution in ("representative", "hourly"):
        solution = solve(inputs, "min-cost", EXACT, time_resolution=resolution)
        plan = plan_document(inputs, solution, "min-cost")
        assert solution.nodes == {("A", "air", "ideal"): 2}
        assert [m["peak_grid_kw"] for m in plan["monthly"]] == pytest.approx([20.0] * 12)
        assert [m["demand_usd"] for m in plan["monthly"]] == pytest.approx([270.0] * 12)
        assert plan["costs_usd_per_year"]["demand_charges"] == pytest.approx(12 * 270)
        assert plan["costs_usd_per_year"]["energy"] == pytest.approx(
            (14 * 12 + 20 * 12) * 365 * 0.1
        )
        assert plan["annual_cost_usd"] == pytest.approx(40_000 + 14_892 + 3_240)
        assert recompute_annual_cost(plan, inputs) == pytest.approx(
            plan["annual_cost_usd"], rel=1e-9
        )


def test_representative_and_hourly_agree(tmp_path):
    """The tariff varies by hour and season but not between weekdays and weekends nor from
    day to day within a month, so an hourly slice is its representative slice: the two
    resolutions state the same problem (hourly: each slice split into its days) and have
    the same optimum, monthly energy and peaks."""
    weekday = [
        [0] * 8 + [1] * 12 + [0] * 4 if m in (6, 7, 8) else [0] * 16 + [2] * 8 for m in range(1, 13)
    ]
    tariff = urdb_tariff(
        tmp_path,
        **tou_energy([0.05, 0.14, 0.09], weekday),
        flatdemandstructure=[[{"rate": 8.0}]],
        flatdemandmonths=[0] * 12,
    )
    systems = [owned("A", 100_000, 10, idle_kw=4), owned("B", 250_000, 14, idle_kw=3)]
    points = [
        ("A", "chat", 1000),
        ("B", "chat", 2200),
        ("A", "offline", 1200),
        ("B", "offline", 2600),
    ]
    workloads = [Workload("chat", share=0.5), Workload("offline", share=0.5, load_shape="batch")]
    inputs = site(tariff, systems, points, workloads, budget_mw=0.1, fixed_opex=20_000)
    flat = solve(inputs, options=EXACT)
    plans = {
        r: plan_document(
            inputs, solve(inputs, options=EXACT, time_resolution=r, start=flat), "cost-per-token"
        )
        for r in ("representative", "hourly")
    }
    representative, hourly = plans["representative"], plans["hourly"]
    assert hourly["status"] == "optimal"
    assert hourly["cost_per_million_tokens_usd"] == pytest.approx(
        representative["cost_per_million_tokens_usd"], rel=1e-6
    )
    for a, b in zip(representative["monthly"], hourly["monthly"], strict=True):
        assert b["energy_usd"] == pytest.approx(a["energy_usd"], rel=1e-5)
        assert b["peak_grid_kw"] == pytest.approx(a["peak_grid_kw"], rel=1e-5)
    assert (
        len(representative["slices"]["grid_kw"]) == 576
        and len(hourly["slices"]["grid_kw"]) == HOURS
    )


def test_daily_quota_serves_batch_every_day(tmp_path):
    """Weekends cost $0.04/kWh, weekdays $1.00. The reference year has 104 weekend days
    (2,496 h). With an annual quota the three nodes run weekends only: a node costs
    20,000 + 10 kW × 2,496 h × 0.04 = 20,998.40 USD/year, so C/T = (1,000 + 3 × 20,998.40) /
    (3 × 28.8 M tokens/h × 2,496 h) = $0.2968 per million, below the $0.347 per million a
    weekday hour costs (10 kWh × $1.00 for 28.8 M tokens): no weekday token. With a daily
    quota each day serves the same tokens."""
    tariff = urdb_tariff(
        tmp_path, **tou_energy([1.00, 0.04], every_month([0] * 24), every_month([1] * 24))
    )
    for quota in ("annual", "daily"):
        workload = Workload("offline", share=1.0, load_shape="batch", batch_quota=quota)
        inputs = site(
            tariff, [A], [("A", "offline", 1000)], [workload], budget_mw=0.030, fixed_opex=1000
        )
        plan = plan_document(
            inputs, solve(inputs, options=EXACT, time_resolution="representative"), "cost-per-token"
        )
        per_day = {}
        for row in slice_rows(plan):
            per_day.setdefault((row["month"], row["day_type"]), []).append(row["offline"])
        daily_tokens = {day: sum(series) for day, series in per_day.items()}
        weekdays = [t for (_, day_type), t in daily_tokens.items() if day_type == "weekday"]
        if quota == "annual":
            assert max(weekdays) == pytest.approx(0, abs=1e-6)
            assert plan["cost_per_million_tokens_usd"] == pytest.approx(
                (1000 + 3 * 20_998.40) / (3 * NODE_TOKENS_PER_HOUR * 2496) * 1e6
            )
        else:
            assert min(daily_tokens.values()) == pytest.approx(max(daily_tokens.values()), rel=1e-7)


def tiered(tmp_path: Path) -> Tariff:
    """Declining blocks: energy $0.30/kWh for a month's first 1,000 kWh, then $0.10; flat
    demand $20/kW for the first 50 kW of the month's peak, then $8."""
    return urdb_tariff(
        tmp_path,
        energyratestructure=[[{"max": 1000, "rate": 0.30}, {"rate": 0.10}]],
        energyweekdayschedule=every_month([0] * 24),
        energyweekendschedule=every_month([0] * 24),
        flatdemandstructure=[[{"max": 50, "rate": 20.0}, {"rate": 8.0}]],
        flatdemandmonths=[0] * 12,
    )


@pytest.mark.parametrize(
    "tariff_of",
    [lambda _: Tariff.from_tables(read_urdb(ENTERGY, "entergy"), ENTERGY_ID), tiered],
    ids=["Entergy TOU", "tiered"],
)
def test_model_cost_is_the_tariff_bill_of_its_hourly_load(tmp_path, tariff_of):
    """Entergy's TOU tariff has no tiers and no minimum charge; the tiered one is past its
    tier bounds every month (checked). Either way the model's energy, demand and fixed
    charges are exactly the tariff engine's bill of the plan's 8760-hour load: the model
    prices the margin per slice and adds what the lower tiers cost each month."""
    tariff = tariff_of(tmp_path)
    systems = [owned("A", 100_000, 10, idle_kw=4), owned("B", 250_000, 14, idle_kw=3)]
    points = [
        ("A", "chat", 1000),
        ("B", "chat", 2200),
        ("A", "offline", 1200),
        ("B", "offline", 2600),
    ]
    workloads = [Workload("chat", share=0.6), Workload("offline", share=0.4, load_shape="batch")]
    inputs = site(tariff, systems, points, workloads, budget_mw=0.2, fixed_opex=20_000)
    plan = plan_document(
        inputs, solve(inputs, options=EXACT, time_resolution="representative"), "cost-per-token"
    )
    hourly_kw = inputs_priced_slices(inputs, "representative").hourly(plan["slices"]["grid_kw"])
    expected = bill(tariff, hourly_kw)
    assert (
        min(m["energy_kwh"] for m in expected.months) > 1000
        and min(m["peak_kw"] for m in expected.months) > 50
    )
    costs = plan["costs_usd_per_year"]
    assert costs["energy"] == pytest.approx(expected.energy_usd, rel=1e-9)
    assert costs["demand_charges"] == pytest.approx(expected.demand_usd, rel=1e-9)
    assert costs["fixed_charges"] == pytest.approx(expected.fixed_usd)
    assert [m["energy_usd"] for m in plan["monthly"]] == pytest.approx(
        [m["energy_usd"] for m in expected.months]
    )
    assert [m["peak_grid_kw"] for m in plan["monthly"]] == pytest.approx(
        [m["peak_kw"] for m in expected.months]
    )
    assert recompute_annual_cost(plan, inputs) == pytest.approx(plan["annual_cost_usd"], rel=1e-9)


def test_tier_adjustments_by_hand(tmp_path):
    """At a 200 kW site the first 1,000 kWh cost 0.30 − 0.10 = $0.20 more than the margin:
    $200 a month; the first 50 kW of the peak $12 more: $600 a month."""
    prices = slice_prices(tiered(tmp_path), 200.0)
    assert set(prices.energy_usd_per_kwh) == {0.10} and set(prices.flat_demand_usd_per_kw) == {8.0}
    assert prices.energy_adjustment_usd == pytest.approx([200.0] * 12)
    assert prices.demand_adjustment_usd == pytest.approx([600.0] * 12)


def test_plan_document_time_fields(tmp_path):
    tariff = urdb_tariff(tmp_path, **tou_energy(HALF_DAY_PEAK["rates"], HALF_DAY_PEAK["weekday"]))
    workloads = [Workload("chat", share=0.5), Workload("offline", share=0.5, load_shape="batch")]
    inputs = site(
        tariff,
        [A],
        [("A", "chat", 1000), ("A", "offline", 1000)],
        workloads,
        budget_mw=0.030,
        fixed_opex=1000,
    )
    flat = solve(inputs, options=EXACT)
    flat_plan = plan_document(inputs, flat, "cost-per-token")
    assert not {"time_resolution", "monthly", "slices", "realized_utilization"} & set(flat_plan)
    plan = plan_document(
        inputs, solve(inputs, options=EXACT, time_resolution="hourly", start=flat), "cost-per-token"
    )
    assert plan["time_resolution"] == "hourly"
    assert [set(m) for m in plan["monthly"]] == [
        {"month", "energy_kwh", "energy_usd", "peak_grid_kw", "demand_usd"}
    ] * 12
    columns = plan["slices"]
    assert {
        len(columns[c])
        for c in ("month", "day_type", "hour", "weight_days", "grid_kw", "price_usd_per_kwh")
    } == {HOURS}
    assert set(columns["tokens_per_s"]) == {"chat", "offline"}
    assert sum(columns["weight_days"]) == pytest.approx(HOURS)
    assert (
        columns["day_type"][: 24 * 5] == ["weekday"] * 120 and columns["day_type"][120] == "weekend"
    )
    utilization = plan["realized_utilization"]
    assert 0 < utilization["fleet"] <= 1 and utilization["by_system"][0]["sku"] == "A"
    assert plan["flat_cost_per_million_tokens_usd"] == pytest.approx(
        flat.cost_per_million_tokens_usd
    )
    tokens = sum(r["tokens_per_year"] for r in plan["allocation"])
    assert tokens == pytest.approx(plan["tokens_per_year"])
    assert sum(sum(series) * 3600 for series in columns["tokens_per_s"].values()) == pytest.approx(
        tokens
    )
    assert sum(plan["costs_usd_per_year"].values()) == pytest.approx(plan["annual_cost_usd"])
    assert recompute_annual_cost(plan, inputs) == pytest.approx(plan["annual_cost_usd"], rel=1e-9)
    json.dumps(plan, allow_nan=False)


def test_default_profile_and_inputs_round_trip():
    profile = np.array(DEFAULT_DIURNAL_PROFILE)
    assert profile.max() == pytest.approx(1.0) and profile.argmax() == 14
    assert profile.min() == pytest.approx(0.4) and profile.argmin() == 2
    assert profile.mean() == pytest.approx(0.7)
    assert options.TIME_RESOLUTIONS == TIME_RESOLUTIONS
    inputs = design_inputs(read_inputs(DATASETS))
    assert len(inputs.tariff_slices.energy_usd_per_kwh) == 576
    assert {w.name: w.load_shape for w in inputs.workloads}["reasoning-batch"] == "batch"
    assert inputs_from_dict(json.loads(json.dumps(inputs_to_dict(inputs)))) == inputs


def test_tariff_profiles_price_every_tariff_per_slice():
    tables = read_inputs(DATASETS)
    frame = tariff_profile_frame(tables, 20_000)
    assert frame.height == 576 * tables["tariffs"].height
    entergy = frame.filter(tariff_id=ENTERGY_ID)
    july_afternoon = entergy.filter(month=7, day_type="weekday", hour=14).row(0, named=True)
    assert july_afternoon["energy_usd_per_kwh"] == pytest.approx(
        0.01973 + 0.01882
    )  # summer on-peak
    assert july_afternoon["demand_usd_per_kw"] == pytest.approx(18.18 + 0.707)
    assert (
        entergy.group_by("hour")
        .agg(days=pytest.importorskip("polars").col("weight_days").sum())["days"]
        .to_list()
        == [365] * 24
    )
    flat = frame.filter(tariff_id="eia-2024-virginia")
    assert set(flat["energy_usd_per_kwh"]) == {0.0878} and flat["demand_period"].null_count() == 576


def test_scenario_load_profile_and_shapes(data: Path):
    path = data / "scenario.yaml"
    document = yaml.safe_load(path.read_text())
    profile = [0.3] * 8 + [1.0] * 12 + [0.6] * 4
    document["workloads"][0] |= {"load_profile": profile}
    document["workloads"][1] |= {"batch_quota": "daily"}
    path.write_text(yaml.safe_dump(document))
    workloads = read_scenario(data).workloads
    assert workloads["load_profile"][0].to_list() == profile
    assert workloads["batch_quota"].to_list() == ["annual", "daily", "annual"]
    inputs = design_inputs(read_inputs(data))
    assert (
        inputs.workloads[0].load_profile == tuple(profile)
        and inputs.workloads[1].batch_quota == "daily"
    )

    for bad, field, message in [
        (
            {"load_profile": [1.0] * 23},
            "workloads[1].load_profile",
            "expected 24 hourly fractions, got 23",
        ),
        ({"load_profile": "flat"}, "workloads[1].load_profile", "expected a list"),
        ({"load_profile": [0.0] * 24}, "workloads[1].load_profile", "not all 0"),
        (
            {"load_profile": ["x"] + [1.0] * 23},
            "workloads[1].load_profile",
            "expected finite numbers, got 'x'",
        ),
        (
            {"load_shape": "batch", "load_profile": [1.0] * 24},
            "workloads[1].load_profile",
            "batch workload",
        ),
        (
            {"batch_quota": "weekly"},
            "workloads[1].batch_quota",
            "'weekly' is not one of annual, daily",
        ),
    ]:
        broken = json.loads(json.dumps(document))
        broken["workloads"][0] = {
            k: v for k, v in broken["workloads"][0].items() if k != "load_profile"
        } | bad
        path.write_text(yaml.safe_dump(broken))
        with pytest.raises(InputError) as error:
            read_scenario(data)
        assert any(p.field == field and message in p.message for p in error.value.problems), [
            str(p) for p in error.value.problems
        ]


def test_plan_command_time_resolved_end_to_end(data: Path, tmp_path: Path, capsys):
    """`tokenplan plan --time-resolution representative` on the bundled data, the shelf cut
    to GB200 NVL72 and the B200 rental (fast), under Entergy's TOU tariff."""
    sheet = data / "hardware" / "price_sheet.csv"
    lines = sheet.read_text().splitlines()
    sheet.write_text(
        "\n".join(
            [lines[0]]
            + [line for line in lines[1:] if line.startswith(("GB200 NVL72,", "B200 neocloud"))]
        )
        + "\n"
    )
    (data / "hardware" / "amd_quote.xlsx").unlink()
    (data / "fleet.csv").unlink()  # an installed fleet of systems cut from the shelf
    shutil.rmtree(data / "scenarios")  # futures of systems cut from the shelf
    scenario = data / "scenario.yaml"
    scenario.write_text(re.sub(r"(?m)^tariff: .*$", f"tariff: {ENTERGY_ID}", scenario.read_text()))
    warehouse = tmp_path / "warehouse"
    assert (
        main(
            [
                "plan",
                "--data",
                str(data),
                "--warehouse",
                str(warehouse),
                "--time-resolution",
                "representative",
                "--json",
            ]
        )
        == 0
    )
    plan = json.loads(capsys.readouterr().out)
    assert plan["time_resolution"] == "representative" and plan["status"] == "optimal"
    assert plan["cost_per_million_tokens_usd"] <= plan["flat_cost_per_million_tokens_usd"]
    assert sum(m["demand_usd"] for m in plan["monthly"]) == pytest.approx(
        plan["costs_usd_per_year"]["demand_charges"]
    )
    inputs = design_inputs(read_inputs(data))
    assert recompute_annual_cost(plan, inputs) == pytest.approx(plan["annual_cost_usd"], rel=1e-9)
    with pytest.raises(SystemExit) as exit_:
        main(
            [
                "plan",
                "--data",
                str(data),
                "--warehouse",
                str(warehouse),
                "--time-resolution",
                "weekly",
            ]
        )
    assert exit_.value.code == 2 and "invalid choice: 'weekly'" in capsys.readouterr().err
    assert math.isfinite(plan["realized_utilization"]["fleet"])
    shutil.rmtree(warehouse)


def test_no_plan_within_the_time_limit_exits_1_and_keeps_no_plan(
    data: Path, tmp_path: Path, capsys
):
    warehouse = tmp_path / "warehouse"
    assert (
        main(
            [
                "plan",
                "--data",
                str(data),
                "--warehouse",
                str(warehouse),
                "--time-resolution",
                "representative",
                "--time-limit",
                "0.001",
            ]
        )
        == 1
    )
    error = capsys.readouterr().err
    assert error.startswith("tokenplan: no plan: time limit reached") and "--time-limit" in error
    assert not (warehouse / "plans").exists()


def test_the_gain_over_the_flat_year_splits_into_utilization_and_tariff_timing(tmp_path):
    """The off-peak instance above: the plan serves 12 hours a day (realized 0.5) at $0.05.
    The flat year prices a constant load at the mean $0.525/kWh. At its own utilization 1 a
    node costs 20,000 + 87,600 kWh × 0.525; at the realized 0.5, 20,000 + 43,800 × 0.525 for
    half the tokens: that difference is utilization, the rest is tariff timing."""
    tariff = urdb_tariff(tmp_path, **tou_energy(HALF_DAY_PEAK["rates"], HALF_DAY_PEAK["weekday"]))
    inputs = site(
        tariff,
        [A],
        [("A", "offline", 1000)],
        [Workload("offline", share=1.0, load_shape="batch")],
        budget_mw=0.030,
        fixed_opex=1000,
    )
    plan = plan_document(
        inputs, solve(inputs, options=EXACT, time_resolution="representative"), "cost-per-token"
    )

    def per_million(node_usd: float, hours: float) -> float:
        return (1000 + 3 * node_usd) / (3 * NODE_TOKENS_PER_HOUR * hours) * 1e6

    flat = per_million(20_000 + 10 * HOURS * 0.525, HOURS)
    same_use = per_million(20_000 + 10 * HOURS / 2 * 0.525, HOURS / 2)
    timed = per_million(20_000 + 10 * HOURS / 2 * 0.05, HOURS / 2)
    assert plan["flat_cost_per_million_tokens_usd"] == pytest.approx(flat)
    assert plan["flat_at_realized_utilization_cost_per_million_tokens_usd"] == pytest.approx(
        same_use
    )
    gain = plan["gain_vs_flat_usd_per_million_tokens"]
    assert gain["realized_flat_utilization"] == pytest.approx(0.5)
    assert gain["utilization"] == pytest.approx(flat - same_use) and gain["utilization"] < 0
    assert gain["tariff_timing"] == pytest.approx(same_use - timed) and gain["tariff_timing"] > 0
    assert gain["total"] == pytest.approx(flat - timed)
