"""Benchmark readers on the published reference files, the name tables, and bad inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import DATASETS

from pipelines.contract.errors import InputError
from pipelines.contract.schema import BENCHMARKS
from pipelines.ingest.names import ACCELERATORS, accelerator_key, model_key
from pipelines.ingest.readers.benchmarks import (
    MLPERF_LATENCY_LIMITS_MS,
    read_benchmark_csv,
    read_benchmarks,
    read_inferencemax,
    read_mlperf,
)
from pipelines.ingest.tabular import read_table_file

INFERENCEMAX_NAME = "benchmarks/inferencemax/agg_dsr1_1k1k.json"
MLPERF_NAME = "benchmarks/mlperf/summary_results_v5.1_llm.json"
INFERENCEMAX = DATASETS / INFERENCEMAX_NAME
"""The published InferenceMAX results file, as bundled in the repo's datasets."""
MLPERF = DATASETS / MLPERF_NAME
"""The published MLPerf Inference v5.1 LLM summary, as bundled in the repo's datasets."""

CSV_HEADER = (
    "accelerator,model,framework,precision,isl,osl,concurrency,tokens_per_s_per_gpu,source\n"
)
CONFIG_HEADER = (
    "accelerator,model,framework,precision,spec_decoding,disaggregated,prefill_gpus,decode_gpus,"
    "kv_offload,parallelism,tokens_per_s_per_gpu,source\n"
)
"""A benchmarks CSV with every serving-configuration column."""
CONFIGURATION = (
    "framework",
    "precision",
    "spec_decoding",
    "disaggregated",
    "prefill_gpus",
    "decode_gpus",
    "kv_offload",
    "parallelism",
)


@pytest.fixture(scope="module")
def inferencemax_rows() -> list[dict]:
    return json.loads(INFERENCEMAX.read_text())


@pytest.fixture(scope="module")
def mlperf_rows() -> list[dict]:
    return json.loads(MLPERF.read_text())


def problems_of(
    error: pytest.ExceptionInfo[InputError],
) -> list[tuple[str, int | None, str | None, str]]:
    return [(p.file, p.row, p.field, p.message) for p in error.value.problems]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def inferencemax_record(**changes: object) -> dict:
    record = {
        "hw": "h200",
        "model": "deepseek-ai/DeepSeek-R1-0528",
        "framework": "sglang",
        "precision": "fp8",
        "isl": 1024,
        "osl": 1024,
        "conc": 4,
        "tput_per_gpu": 100.0,
        "output_tput_per_gpu": 50.0,
        "median_intvty": 40.0,
        "median_ttft": 0.5,
        "tp": 8,
        "ep": 1,
        "disagg": False,
    }
    return record | changes


def mlperf_record(**changes: object) -> dict:
    record = {
        "ID": "5.1-9999",
        "Category": "closed",
        "Availability": "available",
        "Submitter": "Example",
        "System": "Example 8xH200",
        "Model": "llama2-70b-99",
        "UsedModel": "llama2-70b-99",
        "Scenario": "Offline",
        "Accelerator": "NVIDIA H200-SXM-141GB",
        "Nodes": 1,
        "a#": 8,
        "Software": "TensorRT 10.11, CUDA 12.9",
        "weight_data_types": "fp8",
        "version": "v5.1",
        "Performance_Result": 8000.0,
        "Performance_Units": "Tokens/s",
    }
    return record | changes


# --- name tables -------------------------------------------------------------------------


def test_every_inferencemax_spelling_maps(inferencemax_rows: list[dict]) -> None:
    hw = {r["hw"]: accelerator_key(r["hw"]) for r in inferencemax_rows}
    models = {r["model"]: model_key(r["model"]) for r in inferencemax_rows}
    assert hw == {"h200": "H200", "b200": "B200", "gb200": "GB200", "mi355x": "MI355X"}
    assert len(models) == 5
    assert set(models.values()) == {"deepseek-r1"}


def test_every_single_accelerator_mlperf_spelling_maps(mlperf_rows: list[dict]) -> None:
    names = {r["Accelerator"] for r in mlperf_rows}
    mixed = {n for n in names if "," in n}
    keys = set(ACCELERATORS.values())
    own_keys = {n for n in names - mixed if accelerator_key(n) not in keys}
    assert len(mixed) == 2
    assert own_keys == {"", "[MAXSUN] MS-Intel Arc Pro B60 Dual 48G Turbo"}
    assert (
        accelerator_key("[MAXSUN] MS-Intel Arc Pro B60 Dual 48G Turbo")
        == "[maxsun] ms-intel arc pro b60 dual 48g turbo"
    )
    assert accelerator_key("Virtualized NVIDIA H200-SXM-141GB") == "H200"
    assert accelerator_key("NVIDIA H200-NVL-141GB") == "H200-NVL"
    assert accelerator_key("AMD Instinct MI325X 256GB HBM3e") == "MI325X"
    assert accelerator_key("NVIDIA RTX PRO 6000 Blackwell Server Edition") == "RTX-PRO-6000"
    assert {model_key(r["Model"]) for r in mlperf_rows} == {
        "llama2-70b",
        "llama3.1-405b",
        "llama3.1-8b",
        "mixtral-8x7b",
        "deepseek-r1",
    }


@pytest.mark.parametrize(
    "key", ["H100", "H200", "B200", "B300", "GB200", "GB300", "MI300X", "MI325X", "MI355X"]
)
def test_keys_map_to_themselves(key: str) -> None:
    assert accelerator_key(key) == key
    assert accelerator_key(key.lower()) == key


def test_lookup_is_exact_on_normalized_names_and_other_names_are_their_own_keys() -> None:
    assert accelerator_key("  nvidia   H200-SXM-141gb ") == "H200"
    assert model_key("LLAMA2-70B-99.9") == "llama2-70b"
    assert (
        accelerator_key("H200 SXM") == "h200 sxm"
    )  # no fuzzy matching: a space is not a separator
    assert accelerator_key("TPU v5e") == "tpu v5e"
    assert model_key("llama3_1-70b-fp8_dyn") == "llama3_1-70b-fp8_dyn"
    assert model_key("") == ""


# --- InferenceMAX ------------------------------------------------------------------------


def test_inferencemax_reference_file(inferencemax_rows: list[dict]) -> None:
    frame = read_inferencemax(INFERENCEMAX, INFERENCEMAX_NAME)
    assert frame.schema == pl.Schema(BENCHMARKS.schema)
    assert frame.height == len(inferencemax_rows) == 295
    counts = dict(frame.group_by("accelerator").len().iter_rows())
    assert counts == {"GB200": 124, "MI355X": 97, "B200": 59, "H200": 15}
    assert (frame["source_file"] == INFERENCEMAX_NAME).all()

    first = frame.row(0, named=True)  # record 1 is the first mi355x row
    assert first["accelerator"] == "MI355X"
    assert first["model"] == "deepseek-r1"
    assert (first["framework"], first["precision"], first["isl"], first["osl"]) == (
        "atom",
        "fp4",
        1024,
        1024,
    )
    assert first["concurrency"] == 32
    assert first["tokens_per_s_per_gpu"] == pytest.approx(808.1055624210264)
    assert first["output_tokens_per_s_per_gpu"] == pytest.approx(403.684140920073)
    assert first["interactivity_tokens_per_s_per_user"] == pytest.approx(51.113084261632665)
    assert first["ttft_s"] == pytest.approx(0.09806155227124691)
    assert (
        "tp=4" in first["source"]
        and "disagg=false" in first["source"]
        and "_gha_run_id=raw" in first["source"]
    )


def test_inferencemax_disaggregated_rows_keep_per_gpu_throughput(
    inferencemax_rows: list[dict],
) -> None:
    index = next(i for i, r in enumerate(inferencemax_rows) if r["disagg"])
    record = inferencemax_rows[index]
    row = read_inferencemax(INFERENCEMAX, INFERENCEMAX_NAME).row(index, named=True)
    assert row["accelerator"] == accelerator_key(record["hw"])
    assert row["tokens_per_s_per_gpu"] == pytest.approx(record["tput_per_gpu"])
    assert f"prefill_tp={record['prefill_tp']}" in row["source"]
    assert "disagg=true" in row["source"]


def test_inferencemax_serving_configuration_on_the_reference_file(
    inferencemax_rows: list[dict],
) -> None:
    frame = read_inferencemax(INFERENCEMAX, INFERENCEMAX_NAME)
    assert frame["spec_decoding"].to_list() == [r["spec_decoding"] for r in inferencemax_rows]
    assert set(frame["spec_decoding"]) == {"none", "mtp"}
    assert frame["disaggregated"].to_list() == [r["disagg"] for r in inferencemax_rows]
    assert frame["prefill_gpus"].to_list() == [r.get("num_prefill_gpu") for r in inferencemax_rows]
    assert frame["decode_gpus"].to_list() == [r.get("num_decode_gpu") for r in inferencemax_rows]
    assert frame["kv_offload"].is_null().all()  # InferenceMAX does not state it
    assert frame["parallelism"].is_not_null().all()
    first = frame.row(0, named=True)  # mi355x atom, tp 4, ep 1, dp_attention "false"
    assert (first["disaggregated"], first["parallelism"]) == (False, "tp4")
    trt = frame.filter(
        (pl.col("framework") == "dynamo-trt")
        & (pl.col("prefill_gpus") == 4)
        & (pl.col("decode_gpus") == 32)
    )
    assert set(trt["parallelism"]) == {
        "prefill 1x(tp4 ep4) decode 4x(tp8 ep8)",
        "prefill 1x(tp4 ep4 dp-attention) decode 1x(tp32 ep32 dp-attention)",
    }
    dp = frame.filter(pl.col("framework") == "dynamo-sglang")["parallelism"]
    assert dp.str.contains("dp-attention").all()


def test_inferencemax_disaggregated_output_is_per_gpu_of_the_deployment(
    inferencemax_rows: list[dict],
) -> None:
    """On a disaggregated record the publisher's output_tput_per_gpu is per decode GPU and
    input_tput_per_gpu per prefill GPU; per GPU of the deployment they add up to tput_per_gpu."""
    frame = read_inferencemax(INFERENCEMAX, INFERENCEMAX_NAME)
    disaggregated = [(i, r) for i, r in enumerate(inferencemax_rows) if r["disagg"]]
    assert len(disaggregated) == 124
    for index, record in disaggregated:
        row = frame.row(index, named=True)
        prefill, decode = record["num_prefill_gpu"], record["num_decode_gpu"]
        input_per_gpu = record["input_tput_per_gpu"] * prefill / (prefill + decode)
        assert row["output_tokens_per_s_per_gpu"] == pytest.approx(
            record["output_tput_per_gpu"] * decode / (prefill + decode)
        )
        assert row["output_tokens_per_s_per_gpu"] + input_per_gpu == pytest.approx(
            row["tokens_per_s_per_gpu"]
        )
        assert row["output_tokens_per_s_per_gpu"] < record["output_tput_per_gpu"]
    for index, record in enumerate(inferencemax_rows):  # aggregated rows stay as published
        if not record["disagg"]:
            output = frame["output_tokens_per_s_per_gpu"][index]
            assert output == pytest.approx(record["output_tput_per_gpu"])
            assert output + record["input_tput_per_gpu"] == pytest.approx(record["tput_per_gpu"])


def test_inferencemax_disaggregated_record(tmp_path: Path) -> None:
    """The dynamo-trt example: 4 prefill + 32 decode GPUs, 57.64 output tokens/s per decode GPU
    and 460.48 input tokens/s per prefill GPU are 102.40 tokens/s per GPU of the deployment."""
    record = inferencemax_record(
        hw="gb200",
        framework="dynamo-trt",
        precision="FP4",
        spec_decoding="MTP",
        disagg=True,
        tput_per_gpu=102.40,
        output_tput_per_gpu=57.64,
        input_tput_per_gpu=460.48,
        num_prefill_gpu=4,
        num_decode_gpu=32,
        prefill_num_workers=1,
        prefill_tp=4,
        prefill_ep=4,
        prefill_dp_attention="false",
        decode_num_workers=4,
        decode_tp=8,
        decode_ep=8,
        decode_dp_attention=False,
    )
    for key in ("tp", "ep"):
        del record[key]
    path = write(tmp_path / "agg.json", json.dumps([record]))
    row = read_inferencemax(path, "agg.json").row(0, named=True)
    assert row["output_tokens_per_s_per_gpu"] == pytest.approx(57.64 * 32 / 36)
    assert row["output_tokens_per_s_per_gpu"] + 460.48 * 4 / 36 == pytest.approx(102.40, abs=0.01)
    assert row["tokens_per_s_per_gpu"] == pytest.approx(102.40)
    assert (row["precision"], row["spec_decoding"], row["disaggregated"]) == ("fp4", "mtp", True)
    assert (row["prefill_gpus"], row["decode_gpus"], row["kv_offload"]) == (4, 32, None)
    assert row["parallelism"] == "prefill 1x(tp4 ep4) decode 4x(tp8 ep8)"


def test_inferencemax_aggregated_parallelism_and_unstated_fields(tmp_path: Path) -> None:
    records = [
        inferencemax_record(tp=8, ep=8, dp_attention="true"),
        inferencemax_record(tp=4, ep=1, dp_attention=False, precision="MXFP4"),
        {k: v for k, v in inferencemax_record().items() if k not in ("tp", "ep", "disagg")},
    ]
    path = write(tmp_path / "agg.json", json.dumps(records))
    frame = read_inferencemax(path, "agg.json")
    assert frame["parallelism"].to_list() == ["tp8 ep8 dp-attention", "tp4", None]
    assert frame["disaggregated"].to_list() == [False, False, None]
    assert frame["precision"].to_list() == ["fp8", "mxfp4", "fp8"]
    assert frame["spec_decoding"].is_null().all()  # no spec_decoding key: not stated
    assert frame["output_tokens_per_s_per_gpu"].to_list() == pytest.approx([50.0] * 3)


def test_inferencemax_disaggregated_record_needs_both_pools(tmp_path: Path) -> None:
    pools = {"num_prefill_gpu": 4, "num_decode_gpu": 32}
    records = [
        inferencemax_record(disagg=True, **pools),
        inferencemax_record(disagg=True, num_decode_gpu=32),
        inferencemax_record(disagg=True, num_prefill_gpu=4, num_decode_gpu=None),
        inferencemax_record(disagg=True, num_prefill_gpu=0, num_decode_gpu=2.5),
        inferencemax_record(disagg="maybe", **pools),
        inferencemax_record(disagg=False, **pools),
    ]
    path = write(tmp_path / "agg.json", json.dumps(records))
    with pytest.raises(InputError) as error:
        read_inferencemax(path, "agg.json")
    found = problems_of(error)
    assert [p[:3] for p in found] == [
        ("agg.json", 2, "num_prefill_gpu"),
        ("agg.json", 3, "num_decode_gpu"),
        ("agg.json", 4, "num_prefill_gpu"),
        ("agg.json", 4, "num_decode_gpu"),
        ("agg.json", 5, "disagg"),
        ("agg.json", 6, "num_prefill_gpu"),
    ]
    assert "a disaggregated row needs num_prefill_gpu and num_decode_gpu" in found[0][3]
    assert found[2][3] == "expected a whole number > 0, got 0"
    assert found[4][3] == "expected true or false, got text 'maybe'"
    assert "not disaggregated has no prefill and decode pools" in found[5][3]


def test_inferencemax_missing_key_is_a_problem_and_a_new_hw_is_its_own_key(tmp_path: Path) -> None:
    bad = inferencemax_record()
    del bad["tput_per_gpu"]
    records = [
        inferencemax_record(),
        bad,
        inferencemax_record(hw="TPU-v7"),
        inferencemax_record(conc="many"),
    ]
    path = write(tmp_path / "agg.json", json.dumps(records))
    with pytest.raises(InputError) as error:
        read_inferencemax(path, "agg.json")
    found = problems_of(error)
    assert [p[:3] for p in found] == [("agg.json", 2, "tput_per_gpu"), ("agg.json", 4, "conc")]
    good = read_inferencemax(write(tmp_path / "ok.json", json.dumps(records[2:3])), "ok.json")
    assert good["accelerator"].to_list() == ["tpu-v7"]


def test_inferencemax_range_checks_name_the_record(tmp_path: Path) -> None:
    records = [inferencemax_record(), inferencemax_record(tput_per_gpu=-5.0)]
    path = write(tmp_path / "agg.json", json.dumps(records))
    with pytest.raises(InputError) as error:
        read_inferencemax(path, "agg.json")
    [(file, row, field, message)] = problems_of(error)
    assert (file, row, field) == ("agg.json", 2, "tput_per_gpu")
    assert "out of range" in message


# --- MLPerf ------------------------------------------------------------------------------


def test_mlperf_reference_file(mlperf_rows: list[dict]) -> None:
    frame, skipped = read_mlperf(MLPERF, MLPERF_NAME)
    assert frame.schema == pl.Schema(BENCHMARKS.schema)
    assert skipped == {
        "mixed_accelerators": 8,
        "no_accelerator": 12,
        "not_tokens_per_s": 8,
        "substituted_model": 21,
    }
    assert frame.height == 363 == len(mlperf_rows) - sum(skipped.values())
    assert (
        frame["isl"].is_null().all()
        and frame["osl"].is_null().all()
        and frame["concurrency"].is_null().all()
    )
    assert (frame["tokens_per_s_per_gpu"] == frame["output_tokens_per_s_per_gpu"]).all()
    assert set(frame["accelerator"]) == {
        "B200",
        "GB200",
        "GB300",
        "H100",
        "H200",
        "H200-NVL",
        "L40S",
        "MI300X",
        "MI325X",
        "MI355X",
        "RTX-PRO-6000",
        "[maxsun] ms-intel arc pro b60 dual 48g turbo",
    }
    assert frame.filter(pl.col("source").str.contains(" open ")).height == 9


def test_mlperf_per_gpu_throughput_on_multi_node_rows(mlperf_rows: list[dict]) -> None:
    frame, _ = read_mlperf(MLPERF, MLPERF_NAME)
    for record in (
        mlperf_rows[261],
        mlperf_rows[44],
    ):  # GB200 NVL72: 18 nodes x 4; Cisco H200: 2 nodes x 8
        assert record["Nodes"] > 1
        per_gpu = record["Performance_Result"] / (record["Nodes"] * record["a#"])
        [row] = frame.filter(
            pl.col("source").str.contains(f"{record['ID']} {record['Model']}:", literal=True)
            & pl.col("source").str.contains(f", {record['Scenario']},", literal=True)
        ).iter_rows(named=True)
        assert row["accelerator"] == accelerator_key(record["Accelerator"])
        assert row["tokens_per_s_per_gpu"] == pytest.approx(per_gpu)
    assert mlperf_rows[261]["Performance_Result"] / 72 == pytest.approx(4023.777777777778)


def test_mlperf_scenarios_carry_the_benchmark_latency_limits(mlperf_rows: list[dict]) -> None:
    frame, _ = read_mlperf(MLPERF, MLPERF_NAME)
    first = frame.row(
        0, named=True
    )  # record 1: AMD MI300X llama2-70b-99 Interactive, 8840.42 tokens/s on 8 GPUs
    assert mlperf_rows[0]["Scenario"] == "Interactive"
    assert first["tokens_per_s_per_gpu"] == pytest.approx(8840.42 / 8)
    assert first["interactivity_tokens_per_s_per_user"] == pytest.approx(1000 / 40)
    assert first["ttft_s"] == pytest.approx(0.45)
    assert (first["framework"], first["precision"]) == (
        mlperf_rows[0]["Software"].split(",")[0],
        "fp8",
    )
    offline = frame.filter(pl.col("source").str.contains(", Offline,", literal=True))
    assert (
        offline["interactivity_tokens_per_s_per_user"].is_null().all()
        and offline["ttft_s"].is_null().all()
    )
    server_405b = frame.filter(
        pl.col("source").str.contains(", Server,", literal=True)
        & (pl.col("model") == "llama3.1-405b")
    )
    assert server_405b["interactivity_tokens_per_s_per_user"].to_list() == pytest.approx(
        [1000 / 175] * server_405b.height
    )
    assert set(server_405b["ttft_s"]) == {6.0}
    assert MLPERF_LATENCY_LIMITS_MS[("deepseek-r1", "Server")] == (2000.0, 80.0)


def test_mlperf_states_no_serving_configuration_beyond_precision() -> None:
    """The summary has no field for speculative decoding, disaggregation, KV offload or
    parallelism (its keys are checked here), so those columns stay empty."""
    rows = json.loads(MLPERF.read_text())
    keys = {key.casefold() for row in rows for key in row}
    for word in ("spec", "disagg", "offload", "parallel", "prefill", "decode"):
        assert not any(word in key for key in keys), word
    frame, _ = read_mlperf(MLPERF, MLPERF_NAME)
    for column in ("spec_decoding", "disaggregated", "prefill_gpus", "decode_gpus"):
        assert frame[column].is_null().all(), column
    assert frame["kv_offload"].is_null().all() and frame["parallelism"].is_null().all()
    assert set(frame["precision"]) == {"fp8", "fp4", "uint4", "mxfp4", None}


def test_mlperf_zero_gpus_is_a_problem_and_skipped_rows_keep_numbering(tmp_path: Path) -> None:
    records = [
        mlperf_record(Accelerator="", **{"a#": ""}),
        mlperf_record(**{"a#": 0}),
        mlperf_record(Performance_Result="fast"),
        mlperf_record(Performance_Result=-1.0),
    ]
    path = write(tmp_path / "summary.json", json.dumps(records))
    with pytest.raises(InputError) as error:
        read_mlperf(path, "summary.json")
    found = problems_of(error)
    assert [p[:3] for p in found] == [
        ("summary.json", 2, "a#"),
        ("summary.json", 3, "Performance_Result"),
        ("summary.json", 4, "Performance_Result"),
    ]
    assert found[0][3] == "expected a whole number > 0, got 0"
    assert found[2][3] == "expected a number > 0, got -1.0"


def test_mlperf_skips_are_counted_not_errors(tmp_path: Path) -> None:
    records = [
        mlperf_record(),
        mlperf_record(Performance_Units="Queries/s"),
        mlperf_record(Model="resnet50"),
        mlperf_record(Accelerator="Example NPU 9000"),
        mlperf_record(UsedModel="llama3_1-70b-fp8_dyn"),
        mlperf_record(Scenario="SingleStream"),
    ]
    path = write(tmp_path / "summary.json", json.dumps(records))
    frame, skipped = read_mlperf(path, "summary.json")
    assert frame.height == 2  # a new accelerator is its own key
    assert frame["tokens_per_s_per_gpu"].to_list() == pytest.approx([1000.0] * 2)
    assert frame["accelerator"].to_list() == ["H200", "example npu 9000"]
    # resnet50 ran llama2-70b-99 (UsedModel): another model than the benchmark's
    assert skipped == {"not_tokens_per_s": 1, "substituted_model": 2, "unknown_scenario": 1}


# --- canonical CSV -----------------------------------------------------------------------


def test_benchmark_csv_maps_names(tmp_path: Path) -> None:
    path = write(
        tmp_path / "points.csv",
        CSV_HEADER + "h200,llama2-70b-99,vllm,fp8,1024,1024,8,1500,lab run\n",
    )
    row = read_benchmark_csv(path, "benchmarks/points.csv").row(0, named=True)
    assert (row["accelerator"], row["model"], row["concurrency"]) == ("H200", "llama2-70b", 8)
    assert row["tokens_per_s_per_gpu"] == pytest.approx(1500.0)
    assert row["source_file"] == "benchmarks/points.csv"


def test_benchmark_csv_new_accelerator_and_model_are_their_own_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path / "points.csv",
        CSV_HEADER + "H200,deepseek-r1,,,,,,10,a\n"
        "Gaudi 3,deepseek-r1,,,,,,10,b\n"
        "b200-trt,openai/gpt-5,,,,,,10,c\n",
    )
    frame = read_benchmark_csv(path, "benchmarks/points.csv")
    assert frame.select("accelerator", "model").rows() == [
        ("H200", "deepseek-r1"),
        ("gaudi 3", "deepseek-r1"),
        ("B200", "gpt-5"),
    ]


def test_benchmark_csv_serving_configuration(tmp_path: Path) -> None:
    path = write(
        tmp_path / "points.csv",
        CONFIG_HEADER + "GB200,deepseek-r1,dynamo-trt,FP4,MTP,TRUE,4,32,no,"
        '"prefill 1x(tp4) decode 4x(tp8 ep8)",100,a\n'
        "H200,deepseek-r1,sglang,NvFP4,Eagle,false,,,Yes,tp8 ep8 dp-attention,50,b\n"
        "H200,deepseek-r1,,,,,,,,,50,c\n"
        "H200,deepseek-r1,vllm,fp8,none,0,,,1,,50,d\n",
    )
    frame = read_benchmark_csv(path, "benchmarks/points.csv")
    assert frame.select(CONFIGURATION).rows() == [
        ("dynamo-trt", "fp4", "mtp", True, 4, 32, False, "prefill 1x(tp4) decode 4x(tp8 ep8)"),
        ("sglang", "nvfp4", "eagle", False, None, None, True, "tp8 ep8 dp-attention"),
        (None, None, None, None, None, None, None, None),
        ("vllm", "fp8", "none", False, None, None, True, None),
    ]
    assert frame.schema == pl.Schema(BENCHMARKS.schema)


def test_benchmark_csv_without_configuration_columns_leaves_them_empty(tmp_path: Path) -> None:
    path = write(tmp_path / "points.csv", CSV_HEADER + "h200,llama2-70b,vllm,FP8,,,,10,a\n")
    row = read_benchmark_csv(path, "benchmarks/points.csv").row(0, named=True)
    assert row["precision"] == "fp8"
    assert all(row[c] is None for c in CONFIGURATION[2:]), row


def test_benchmark_csv_configuration_problems_name_row_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path / "points.csv",
        CONFIG_HEADER + "B200,deepseek-r1,,,,maybe,,,,,10,a\n"
        "B200,deepseek-r1,,,,true,4,,,,10,b\n"
        "B200,deepseek-r1,,,,false,4,8,,,10,c\n"
        "B200,deepseek-r1,,,,true,0,1e6,2,,10,d\n"
        "B200,deepseek-r1,,,,true,2.5,8,,,10,e\n",
    )
    with pytest.raises(InputError) as error:
        read_benchmark_csv(path, "benchmarks/points.csv")
    found = problems_of(error)
    assert [p[1:3] for p in found] == [
        (2, "disaggregated"),
        (3, "decode_gpus"),
        (4, "prefill_gpus"),
        (5, "prefill_gpus"),
        (5, "decode_gpus"),
        (5, "kv_offload"),
        (6, "prefill_gpus"),
    ]
    messages = [p[3] for p in found]
    assert messages[0] == "expected true or false, got 'maybe'"
    assert messages[1].startswith("missing value (prefill_gpus is given")
    assert messages[3].startswith("0 is out of range (must be > 0 and <= 100,000")
    assert messages[5] == "expected true or false, got '2'"
    assert messages[6] == "expected a whole number, got '2.5'"
    assert all(p[0] == "benchmarks/points.csv" for p in found)


def benchmarks_workbook(path: Path, disaggregated: list[object], kv_offload: list[object]) -> Path:
    """A workbook whose sheet `benchmarks` has one row per value; bools are Excel's TRUE/FALSE
    cells, numbers number cells, strings text cells."""
    import xlsxwriter

    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("benchmarks")
    header = ["accelerator", "model", "disaggregated", "kv_offload", "tokens_per_s_per_gpu"]
    sheet.write_row(0, 0, [*header, "source"])
    for row, flags in enumerate(zip(disaggregated, kv_offload, strict=True), start=1):
        sheet.write_row(row, 0, ["H200", "deepseek-r1"])
        for column, value in enumerate(flags, start=2):
            if isinstance(value, bool):
                sheet.write_boolean(row, column, value)
            else:
                sheet.write(row, column, value)
        sheet.write_row(row, 4, [10, "lab"])
    book.close()
    return path


def test_boolean_columns_from_an_xlsx_sheet(tmp_path: Path) -> None:
    """Excel's own TRUE/FALSE cells, text and numbers alike."""
    path = benchmarks_workbook(tmp_path / "points.xlsx", [True, "No", 1], [0, "YES", False])
    frame = read_table_file(path, "points.xlsx", BENCHMARKS)
    assert frame.select("disaggregated", "kv_offload").rows() == [
        (True, False),
        (False, True),
        (True, False),
    ]
    bad = benchmarks_workbook(tmp_path / "bad.xlsx", [True, "perhaps"], [2, "no"])
    with pytest.raises(InputError) as error:
        read_table_file(bad, "bad.xlsx", BENCHMARKS)
    assert problems_of(error) == [
        ("bad.xlsx", 2, "kv_offload", "expected true or false, got '2'"),
        ("bad.xlsx", 3, "disaggregated", "expected true or false, got 'perhaps'"),
    ]


# --- files that are not result lists -----------------------------------------------------


@pytest.mark.parametrize("reader", [read_inferencemax, read_mlperf])
def test_json_that_is_not_a_list(tmp_path: Path, reader) -> None:
    path = write(tmp_path / "results.json", json.dumps({"hw": "h200"}))
    with pytest.raises(InputError) as error:
        reader(path, "results.json")
    [(file, row, _, message)] = problems_of(error)
    assert (file, row) == ("results.json", None)
    assert "expected a JSON list" in message and "an object" in message


@pytest.mark.parametrize("reader", [read_inferencemax, read_mlperf])
def test_list_items_must_be_objects(tmp_path: Path, reader) -> None:
    path = write(tmp_path / "results.json", "[1]")
    with pytest.raises(InputError) as error:
        reader(path, "results.json")
    assert problems_of(error) == [("results.json", 1, None, "expected an object, got a number")]


@pytest.mark.parametrize("reader", [read_inferencemax, read_mlperf, read_benchmark_csv])
def test_empty_file(tmp_path: Path, reader) -> None:
    path = write(tmp_path / "results.csv", "")
    with pytest.raises(InputError) as error:
        reader(path, "results.csv")
    assert problems_of(error) == [("results.csv", None, None, "file is empty")]


@pytest.mark.parametrize("reader", [read_inferencemax, read_mlperf])
def test_not_utf8(tmp_path: Path, reader) -> None:
    path = write(tmp_path / "results.json", b'[{"hw": "h\xe9"}]')
    with pytest.raises(InputError) as error:
        reader(path, "results.json")
    [(file, row, _, message)] = problems_of(error)
    assert (file, row) == ("results.json", 1)
    assert message.startswith("not UTF-8")


# --- the whole folder --------------------------------------------------------------------


def test_read_benchmarks_folder(tmp_path: Path) -> None:
    shutil.copy(INFERENCEMAX, write(tmp_path / INFERENCEMAX_NAME, "x"))
    shutil.copy(MLPERF, write(tmp_path / MLPERF_NAME, "x"))
    write(
        tmp_path / "benchmarks" / "lab.csv",
        CSV_HEADER + "B300,deepseek-r1,vllm,fp4,1024,1024,16,3000,lab\n",
    )
    frame = read_benchmarks(tmp_path)
    assert frame.schema == pl.Schema(BENCHMARKS.schema)
    assert frame.height == 295 + 363 + 1
    assert dict(frame.group_by("source_file").len().iter_rows()) == {
        INFERENCEMAX_NAME: 295,
        MLPERF_NAME: 363,
        "benchmarks/lab.csv": 1,
    }
    assert frame.equals(frame.sort(list(BENCHMARKS.schema), nulls_last=True))
    assert frame.equals(read_benchmarks(tmp_path))


def test_read_benchmarks_does_not_read_derived_csv(tmp_path: Path) -> None:
    from pipelines.ingest.readers.benchmarks import SOURCE

    write(tmp_path / "benchmarks" / "lab.csv", CSV_HEADER + "B300,deepseek-r1,,,,,,10,lab\n")
    write(
        tmp_path / "benchmarks" / "derived.csv",
        "accelerator,model,from_accelerator,throughput_ratio,source\nB300,deepseek-r1,B200,1.5,x\n",
    )
    frame = read_benchmarks(tmp_path)
    assert frame["source_file"].to_list() == ["benchmarks/lab.csv"]
    assert [p.name for p in SOURCE.files(tmp_path)] == ["lab.csv"]
    (tmp_path / "benchmarks" / "lab.csv").unlink()
    with pytest.raises(InputError, match="no benchmark files"):
        read_benchmarks(tmp_path)


def test_read_benchmarks_reports_every_file(tmp_path: Path) -> None:
    write(tmp_path / "benchmarks" / "lab.csv", CSV_HEADER + "Gaudi 3,deepseek-r1,,,,,,inf,a\n")
    write(tmp_path / "benchmarks" / "inferencemax" / "agg.json", "{}")
    write(
        tmp_path / "benchmarks" / "mlperf" / "summary.json",
        json.dumps([mlperf_record(**{"a#": 0})]),
    )
    with pytest.raises(InputError) as error:
        read_benchmarks(tmp_path)
    assert [(p.file, p.row, p.field) for p in error.value.problems] == [
        ("benchmarks/lab.csv", 2, "tokens_per_s_per_gpu"),
        ("benchmarks/inferencemax/agg.json", None, None),
        ("benchmarks/mlperf/summary.json", 1, "a#"),
    ]


def test_read_benchmarks_without_files(tmp_path: Path) -> None:
    (tmp_path / "benchmarks").mkdir()
    with pytest.raises(InputError) as error:
        read_benchmarks(tmp_path)
    [(file, _, _, message)] = problems_of(error)
    assert file == "benchmarks"
    assert "no benchmark files" in message
