"""Serving configurations: fronts per configuration, the best one chosen per (system,
workload), workloads restricting configurations, and derived operating points."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest
from instances import EXACT, owned, plan_inputs
from test_design import SYSTEM, workload

from optimizer.design import (
    best_operating_point,
    measured_workloads,
    operating_points,
    with_derived_points,
)
from optimizer.inputs import best_points
from optimizer.plan import plan_document
from optimizer.solve import solve
from pipelines.contract.schema import BENCHMARKS


def rows(*specs: dict) -> pl.DataFrame:
    """Benchmark rows for accelerator H200 / model m at 1024/1024; each spec overrides fields."""
    base = {
        "accelerator": "H200",
        "model": "m",
        "framework": "sglang",
        "precision": "fp8",
        "spec_decoding": "none",
        "disaggregated": False,
        "isl": 1024,
        "osl": 1024,
        "concurrency": 8,
        "output_tokens_per_s_per_gpu": None,
        "ttft_s": 0.5,
        "source": "lab",
        "source_file": "test",
    }
    return pl.DataFrame([base | spec for spec in specs], schema=BENCHMARKS.schema)


FRONTS = rows(
    # fp8, no MTP: 1,000 at 60 tokens/s/user, 2,000 at 20
    {"interactivity_tokens_per_s_per_user": 60, "tokens_per_s_per_gpu": 1000},
    {"interactivity_tokens_per_s_per_user": 20, "tokens_per_s_per_gpu": 2000},
    # fp4 + MTP, disaggregated: 3,000 at 60, 5,000 at 20
    *(
        {
            "precision": "fp4",
            "spec_decoding": "mtp",
            "disaggregated": True,
            "framework": "dynamo-trt",
            "interactivity_tokens_per_s_per_user": i,
            "tokens_per_s_per_gpu": t,
        }
        for i, t in ((60, 3000), (20, 5000))
    ),
)


def test_one_point_per_configuration_interpolated_on_its_own_front():
    """At 40 tokens/s/user each front is interpolated halfway: fp8 1,500, fp4+MTP 4,000."""
    found = operating_points(FRONTS, SYSTEM, workload(40, 1.0))
    by_precision = {p.precision: p for p in found}
    assert set(by_precision) == {"fp8", "fp4"}
    assert by_precision["fp8"].tokens_per_s_per_gpu == pytest.approx(1500)
    assert by_precision["fp4"].tokens_per_s_per_gpu == pytest.approx(4000)
    assert all(p.interpolated for p in found)
    best = best_points(found)[SYSTEM.sku, "w"]
    assert best.configuration == "dynamo-trt fp4 mtp disaggregated"


@pytest.mark.parametrize(
    ("require", "expected"),
    [
        ({"require_precision": ["fp8"]}, 2000),
        ({"require_spec_decoding": ["none"]}, 2000),
        ({"require_disaggregated": ["true"]}, 5000),
        ({"require_framework": ["DYNAMO-TRT", "vllm"]}, 5000),
        ({"require_precision": ["fp4", "fp8"]}, 5000),
        ({"require_kv_offload": ["false"]}, None),  # no row states it: none meets it
    ],
)
def test_a_workload_restricts_the_configurations(require, expected):
    point = best_operating_point(FRONTS, SYSTEM, workload(20, 1.0) | require)
    assert (None if point is None else point.tokens_per_s_per_gpu) == expected


def test_a_requirement_nothing_meets_leaves_the_workload_out_with_the_reason():
    tables = {
        "benchmarks": FRONTS,
        "hardware": pl.DataFrame({"accelerator": ["H200"]}),
        "workloads": pl.DataFrame(
            [workload(20, 1.0) | {"share": 0.5, "require_precision": ["int4"]}]
            + [workload(20, 1.0) | {"name": "v", "share": 0.5, "require_precision": None}],
        ),
    }
    kept, notes = measured_workloads(tables)
    assert [w["name"] for w in kept] == ["v"] and kept[0]["share"] == pytest.approx(1.0)
    assert "none in the configurations it requires: precision int4" in notes[0]


DERIVATIONS = pl.DataFrame(
    {
        "accelerator": ["GB300"],
        "model": ["m"],
        "from_accelerator": ["H200"],
        "throughput_ratio": [1.3],
        "source": ["MLPerf ratio"],
    }
)


def test_derived_points_scale_every_point_of_the_source_fronts():
    frame, notes = with_derived_points(FRONTS, DERIVATIONS)
    derived = frame.filter(pl.col("derived"))
    assert notes == [] and derived.height == FRONTS.height
    assert derived["accelerator"].unique().to_list() == ["GB300"]
    assert derived["tokens_per_s_per_gpu"].to_list() == pytest.approx(
        [1.3 * t for t in FRONTS["tokens_per_s_per_gpu"]]
    )
    assert (
        derived["interactivity_tokens_per_s_per_user"].to_list()
        == FRONTS["interactivity_tokens_per_s_per_user"].to_list()
    )
    assert all("derived from H200 x 1.3 (MLPerf ratio)" in s for s in derived["source"])
    gb300 = replace(SYSTEM, sku="rack", accelerator="GB300")
    point = best_operating_point(frame, gb300, workload(40, 1.0))
    assert point.derived and point.interpolated
    assert point.tokens_per_s_per_gpu == pytest.approx(1.3 * 4000)  # interpolation is linear


def test_a_derivation_with_nothing_to_scale_is_a_note():
    other = DERIVATIONS.with_columns(pl.lit("B200").alias("from_accelerator"))
    frame, notes = with_derived_points(FRONTS, other)
    assert frame.height == FRONTS.height
    assert notes == [
        "derived points of GB300 on m: B200 has no measured point for that model; none derived"
    ]


def test_the_plan_serves_on_the_best_configuration_and_names_it():
    found = operating_points(FRONTS, replace(SYSTEM, sku="A"), workload(20, 1.0) | {"name": "chat"})
    inputs = plan_inputs([owned("A", 100_000, 10)], [], budget_mw=0.1, fixed_opex=1e4)
    inputs = replace(inputs, operating_points=tuple(found))
    plan = plan_document(inputs, solve(inputs, options=EXACT), "cost-per-token")
    (row,) = plan["allocation"]
    assert row["tokens_per_s_per_gpu"] == pytest.approx(5000)
    assert row["configuration"] == "dynamo-trt fp4 mtp disaggregated"
    assert row["spec_decoding"] == "mtp" and row["disaggregated"] is True
    assert row["derived"] is False and row["interpolated"] is False
