"""The design space: which benchmark point serves a workload, and the interpolation at the SLO."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from conftest import DATASETS

from optimizer.design import (
    UnknownTariff,
    best_operating_point,
    pareto_front,
    plan_inputs,
    tariff_tables,
)
from optimizer.inputs import System
from optimizer.tariff import Tariff, bill
from pipelines.contract.schema import BENCHMARKS
from pipelines.ingest.sources import read_inputs

SYSTEM = System(
    sku="box",
    accelerator="H200",
    gpus_per_node=8,
    node_capex_usd=1.0,
    node_power_kw=10.0,
    node_idle_power_kw=4.0,
    nodes_per_rack=1,
    cooling_kinds=("air",),
    lifetime_years=5.0,
)


def points(*rows: tuple) -> pl.DataFrame:
    """Benchmark rows (interactivity, ttft_s, tokens_per_s_per_gpu[, isl, osl]) for H200 / model
    m."""
    records = []
    for i, row in enumerate(rows):
        interactivity, ttft, tps, *lengths = row
        isl, osl = lengths or (1024, 1024)
        records.append(
            {
                "accelerator": "H200",
                "model": "m",
                "framework": "f",
                "precision": "fp8",
                "isl": isl,
                "osl": osl,
                "concurrency": 2**i,
                "tokens_per_s_per_gpu": tps,
                "output_tokens_per_s_per_gpu": None,
                "interactivity_tokens_per_s_per_user": interactivity,
                "ttft_s": ttft,
                "source": f"row {i}",
                "source_file": "test",
            }
        )
    return pl.DataFrame(records, schema=BENCHMARKS.schema)


def workload(min_interactivity=None, max_ttft=None, isl=1024, osl=1024) -> dict:
    return {
        "name": "w",
        "model": "m",
        "isl": isl,
        "osl": osl,
        "min_interactivity_tokens_per_s_per_user": min_interactivity,
        "max_ttft_s": max_ttft,
    }


def test_best_measured_point_meets_both_bounds():
    rows = points((80, 0.1, 500), (50, 0.3, 1500), (30, 0.5, 2500), (20, 4.0, 3000))
    point = best_operating_point(rows, SYSTEM, workload(30, 1.0), interpolate=False)
    assert point.tokens_per_s_per_gpu == pytest.approx(2500)
    assert point.concurrency == 4


def test_ttft_bound_excludes_the_fastest_point():
    rows = points((30, 0.5, 2500), (20, 4.0, 3000))
    assert best_operating_point(
        rows, SYSTEM, workload(10, 1.0)
    ).tokens_per_s_per_gpu == pytest.approx(2500)


def test_no_point_meets_the_slo():
    rows = points((30, 0.5, 2500))
    assert best_operating_point(rows, SYSTEM, workload(60, None)) is None


def test_sequence_lengths_must_match():
    rows = points((30, 0.5, 2500, 8192, 1024))
    assert best_operating_point(rows, SYSTEM, workload(10)) is None
    assert best_operating_point(
        rows, SYSTEM, workload(10, isl=8192)
    ).tokens_per_s_per_gpu == pytest.approx(2500)


def test_offline_point_meets_only_unbounded_workloads():
    rows = points((None, None, 9000, None, None))
    assert best_operating_point(rows, SYSTEM, workload(5, None, None, None)) is None
    assert (
        best_operating_point(rows, SYSTEM, workload(None, None, None, None)).tokens_per_s_per_gpu
        == 9000
    )


def test_interpolation_at_the_slo_by_hand():
    """Front points (i, t) = (30, 2500) and (50, 1500); at I* = 40:
    t = 1500 + 1000 · (50−40)/(50−30) = 2000, TTFT = 0.3 + 0.2 · 0.5 = 0.4."""
    rows = points((80, 0.1, 500), (50, 0.3, 1500), (30, 0.5, 2500))
    point = best_operating_point(rows, SYSTEM, workload(40, 1.0))
    assert point.interpolated
    assert point.tokens_per_s_per_gpu == pytest.approx(2000)
    assert point.ttft_s == pytest.approx(0.4)
    assert point.interactivity_tokens_per_s_per_user == pytest.approx(40)
    measured = best_operating_point(rows, SYSTEM, workload(40, 1.0), interpolate=False)
    assert measured.tokens_per_s_per_gpu == pytest.approx(1500)


def test_interpolation_respects_the_ttft_bound():
    rows = points((50, 0.3, 1500), (30, 0.9, 2500))
    point = best_operating_point(rows, SYSTEM, workload(40, 0.5))  # interpolated TTFT 0.6 > 0.5
    assert not point.interpolated and point.tokens_per_s_per_gpu == pytest.approx(1500)


def test_pareto_front_drops_dominated_points():
    rows = points((80, 0.1, 500), (60, 0.1, 400), (50, 0.3, 1500), (30, 0.5, 1400), (20, 0.5, 2500))
    front = pareto_front(rows)
    assert front["interactivity_tokens_per_s_per_user"].to_list() == [20, 50, 80]
    assert front["tokens_per_s_per_gpu"].to_list() == [2500, 1500, 500]


def test_bundled_design_space():
    """Each default workload is served; systems without a point meeting any SLO are left out with
    a note."""
    tables = read_inputs(DATASETS)
    inputs = plan_inputs(tables)
    served = {p.workload for p in inputs.operating_points}
    assert served == {w.name for w in inputs.workloads}
    skus = {s.sku for s in inputs.systems}
    for note in inputs.notes:
        assert note.split(":")[0] not in skus
    # Entergy Arkansas LPS TOU for a constant 20 MW: its bill over the year's kWh, split into
    # energy per kWh and demand per kW-month; all in about 6.1 ¢/kWh, near EIA's 2024 Arkansas
    # industrial average of 6.55 ¢ (which mixes in smaller customers)
    load_kw = np.full(8760, 20_000.0)
    year = bill(Tariff.from_tables(tariff_tables(tables), "5a592c995457a3371c423a7d"), load_kw)
    energy = inputs.energy
    assert energy.energy_usd_per_kwh * load_kw.sum() == pytest.approx(year.energy_usd)
    assert energy.demand_usd_per_kw_month * 12 * 20_000 == pytest.approx(year.demand_usd)
    all_in = year.annual_usd / load_kw.sum()
    assert 0.055 < all_in < 0.07
    for point in inputs.operating_points:
        assert point.tokens_per_s_per_gpu > 0


def test_a_tariff_override_prices_the_plan_and_an_unknown_one_is_refused():
    tables = read_inputs(DATASETS)
    inputs = plan_inputs(tables, tariff_id="eia-2024-virginia")
    assert inputs.energy.tariff_id == "eia-2024-virginia"
    assert inputs.energy.energy_usd_per_kwh == pytest.approx(0.0878)
    assert inputs.energy.demand_usd_per_kw_month == 0.0
    with pytest.raises(UnknownTariff, match="tariff 'nowhere' is not in tariffs/ \\(known: "):
        plan_inputs(tables, tariff_id="nowhere")
