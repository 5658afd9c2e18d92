"""Names are an open set: new models and accelerators plan end to end; known spellings join.

A planner's own files name products the alias table has never seen (a TPU, Llama 3.3,
gpt-oss), label benchmark runners with suffixes and name models by checkpoint path.
None of that is an error; a workload with no benchmark is left out by name.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from pipelines.cli.main import main
from pipelines.ingest.names import accelerator_key, model_key
from pipelines.ingest.sources import read_inputs


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("h200", "H200"),
        ("NVIDIA H200-SXM-141GB", "H200"),
        ("b200-trt", "B200"),
        ("mi355x-amd_0", "MI355X"),
        ("gb200-nvl72", "GB200"),
        ("H200-NVL", "H200-NVL"),
        ("h100-pcie", "h100-pcie"),
        ("TPU-v6e", "tpu-v6e"),
        ("Gaudi3", "gaudi3"),
        ("  Intel   Gaudi 3 ", "intel gaudi 3"),
    ],
)
def test_accelerator_keys(name: str, key: str) -> None:
    assert accelerator_key(name) == key


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("/models/DeepSeek-R1", "deepseek-r1"),
        ("deepseek-ai/DeepSeek-R1-0528", "deepseek-r1"),
        ("openai/gpt-oss-120b", "gpt-oss-120b"),
        ("meta-llama/Llama-3.3-70B-Instruct", "llama3.3-70b"),
        ("llama-3.3-70b", "llama3.3-70b"),
        ("Qwen/Qwen3-235B-A22B-Instruct-2507-FP8", "qwen3-235b"),
        ("qwen3-235b", "qwen3-235b"),
        ("llama2-70b-99.9", "llama2-70b"),
        ("llama3_1-70b-fp8_dyn", "llama3_1-70b-fp8_dyn"),
        ("my-org/My-Model-7B", "my-model-7b"),
    ],
)
def test_model_keys(name: str, key: str) -> None:
    assert model_key(name) == key


LAB_HEADER = ",".join(
    (
        "accelerator",
        "model",
        "framework",
        "precision",
        "isl",
        "osl",
        "concurrency",
        "tokens_per_s_per_gpu",
        "output_tokens_per_s_per_gpu",
        "interactivity_tokens_per_s_per_user",
        "ttft_s",
        "source",
    )
)
LAB_CSV = f"""{LAB_HEADER}
TPU-v6e,meta-llama/Llama-3.3-70B-Instruct,vllm-tpu,bf16,1024,1024,64,1800,900,40,0.8,lab run 1
TPU-v6e,meta-llama/Llama-3.3-70B-Instruct,vllm-tpu,bf16,1024,1024,16,900,450,80,0.4,lab run 2
b200-trt,llama-3.3-70b,trtllm,fp8,1024,1024,64,6000,3000,45,0.6,lab run 3
"""
TPU_ROW = {
    "sku": "TPU v6e-8 host",
    "vendor": "Google",
    "accelerator": "tpu-v6e",
    "gpus_per_node": "8",
    "node_capex_usd": "180000",
    "node_power_kw": "8.4",
    "node_idle_power_kw": "3.4",
    "nodes_per_rack": "4",
    "cooling_kinds": "air;liquid",
    "lifetime_years": "5",
    "maintenance_pct_per_year": "3",
    "opex_usd_per_gpu_year": "0",
    "source": "estimate for a test",
    "as_of": "2026",
}
IMAX_RECORDS = [
    {
        "hw": "mi355x-amd_0",
        "model": "/models/DeepSeek-R1",
        "framework": "sglang",
        "precision": "fp8",
        "isl": 1024,
        "osl": 1024,
        "conc": 8,
        "tput_per_gpu": 900.0,
        "output_tput_per_gpu": 450.0,
        "median_intvty": 60.0,
        "median_ttft": 0.5,
    },
]


def add_price_sheet_row(data: Path, row: dict[str, str]) -> None:
    """Append `row` (column -> cell) to the bundled price sheet, whatever its columns' order."""
    path = data / "hardware" / "price_sheet.csv"
    sheet = pl.read_csv(path, infer_schema=False)
    pl.concat([sheet, pl.DataFrame([row])], how="diagonal").write_csv(path)


@pytest.fixture
def own_files(data: Path) -> Path:
    """The bundled folder with a planner's own files: a TPU, Llama 3.3, gpt-oss, runner labels,
    and a scenario without a name."""
    (data / "benchmarks" / "lab.csv").write_text(LAB_CSV)
    (data / "benchmarks" / "inferencemax" / "agg_runner_labels.json").write_text(
        json.dumps(IMAX_RECORDS)
    )
    add_price_sheet_row(data, TPU_ROW)
    scenario = yaml.safe_load((data / "scenario.yaml").read_text())
    del scenario["name"]
    llama = next(w for w in scenario["workloads"] if w["name"] == "llama-70b-api")
    llama["share"] = round(llama["share"] - 0.1, 9)
    scenario["workloads"] += [
        {
            "name": "llama-33-chat",
            "model": "llama-3.3-70b",
            "isl": 1024,
            "osl": 1024,
            "min_interactivity_tokens_per_s_per_user": 30,
            "max_ttft_s": 1.0,
            "share": 0.05,
        },
        {
            "name": "gpt-oss",
            "model": "openai/gpt-oss-120b",
            "isl": 1024,
            "osl": 1024,
            "min_interactivity_tokens_per_s_per_user": 30,
            "share": 0.05,
        },
    ]
    (data / "scenario.yaml").write_text(yaml.safe_dump(scenario, sort_keys=False))
    return data


def test_new_names_are_keys_not_errors(own_files: Path) -> None:
    tables = read_inputs(own_files)
    benchmarks = tables["benchmarks"]
    assert set(
        benchmarks.filter(benchmarks["source_file"] == "benchmarks/lab.csv")["accelerator"]
    ) == {"tpu-v6e", "B200"}
    assert set(benchmarks.filter(benchmarks["source_file"] == "benchmarks/lab.csv")["model"]) == {
        "llama3.3-70b"
    }
    runner = benchmarks.filter(
        benchmarks["source_file"] == "benchmarks/inferencemax/agg_runner_labels.json"
    )
    assert runner.select("accelerator", "model").row(0) == ("MI355X", "deepseek-r1")
    assert "tpu-v6e" in set(tables["hardware"]["accelerator"])
    assert set(tables["workloads"]["model"]) == {
        "deepseek-r1",
        "llama2-70b",
        "llama3.3-70b",
        "gpt-oss-120b",
    }
    assert tables["scenario"]["name"][0] == own_files.name


def test_a_plan_is_made_with_new_names_and_without_the_unmeasured_workload(
    own_files: Path, tmp_path: Path, capsys
) -> None:
    assert (
        main(["plan", "--data", str(own_files), "--warehouse", str(tmp_path / "w"), "--json"]) == 0
    )
    plan = json.loads(capsys.readouterr().out)
    assert plan["status"] == "optimal"
    assert plan["name"] == own_files.name
    served = {row["workload"] for row in plan["allocation"] if row["tokens_per_s"] > 0}
    assert "llama-33-chat" in served and "gpt-oss" not in served
    note = next(n for n in plan["notes"] if n.startswith("workload gpt-oss"))
    assert (
        "model gpt-oss-120b" in note
        and "models with benchmarks:" in note
        and "llama3.3-70b" in note
    )
    assert any("scaled by 1/0.95" in n for n in plan["notes"])
    shares = {w["name"]: w["share"] for w in plan["workloads"]}
    assert set(shares) == {"chat", "reasoning-batch", "llama-70b-api", "llama-33-chat"}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["chat"] == pytest.approx(0.5 / 0.95)
    tpu = next(row for row in plan["alternatives"] if row["sku"] == "TPU v6e-8 host")
    assert tpu["status"] != "left out"


def test_a_system_without_benchmarks_is_named_with_the_keys_that_exist(
    own_files: Path, tmp_path: Path, capsys
) -> None:
    add_price_sheet_row(
        own_files,
        TPU_ROW
        | {
            "sku": "Gaudi 3 8-OAM",
            "vendor": "Intel",
            "accelerator": "Gaudi3",
            "node_capex_usd": "150000",
            "node_power_kw": "10",
            "node_idle_power_kw": "4",
            "cooling_kinds": "air",
        },
    )
    assert (
        main(["plan", "--data", str(own_files), "--warehouse", str(tmp_path / "w"), "--json"]) == 0
    )
    notes = json.loads(capsys.readouterr().out)["notes"]
    note = next(n for n in notes if n.startswith("Gaudi 3 8-OAM"))
    assert (
        "accelerator gaudi3" in note
        and "accelerators with benchmarks:" in note
        and "tpu-v6e" in note
    )


def test_no_workload_with_a_benchmark_is_infeasible_with_the_reason(
    own_files: Path, tmp_path: Path, capsys
) -> None:
    scenario = (own_files / "scenario.yaml").read_text()
    for model in ("deepseek-r1", "llama2-70b", "llama-3.3-70b"):
        scenario = scenario.replace(f"model: {model}\n", "model: brand-new-model\n")
    (own_files / "scenario.yaml").write_text(scenario)
    assert main(["plan", "--data", str(own_files), "--warehouse", str(tmp_path / "w")]) == 1
    errors = capsys.readouterr().err
    assert (
        "infeasible" in errors
        and "model brand-new-model" in errors
        and "models with benchmarks:" in errors
    )
