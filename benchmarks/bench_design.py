"""Benchmark the design space (`optimizer.design.plan_inputs`) on generated canonical tables.

Run: `uv run python benchmarks/bench_design.py` (375 systems × 100 workloads), `--quick`
(60 × 20), or `--systems N --workloads M`.

The generated tables are seeded (`SEED`): the bundled scenario, tariffs, cooling and power
designs; `--systems` systems spread over the accelerators of `ACCELERATORS` (one of them
with no benchmark rows); `--workloads` workloads over `MODELS` × `SEQUENCES` with random
SLOs (a few requiring a configuration); and per (accelerator, model, isl, osl,
configuration) about `--points` benchmark points along a throughput–interactivity front,
with noise (some points dominated, some offline with no interactivity or TTFT), plus one
derivation (`benchmarks/derived.csv`); about 2% of the workloads have a model with no
benchmark rows (left out with a note).

`plan_inputs` is timed with the current `optimizer/design.py` and with the one of the git
revision `--reference` (default HEAD; loaded from `git show` into a module of its own), in
the same process, best of `--repeat`; the ratio is printed, and whether both give the same
`PlanInputs` (operating points in order, notes and all).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import polars as pl  # noqa: E402

from optimizer import design  # noqa: E402
from pipelines.ingest.sources import read_inputs  # noqa: E402

SEED = 20260301
ACCELERATORS = (
    "H100",
    "H200",
    "B200",
    "B300",
    "GB200",
    "GB300",
    "MI300X",
    "MI325X",
    "MI355X",
    "TPU-v6",
    "TPU-v7",
    "NEW-1",  # no benchmark rows: its systems are left out with a note
)
MODELS = ("deepseek-r1", "llama2-70b", "gpt-oss-120b", "qwen3-235b")
SEQUENCES = ((1024, 1024), (1024, 8192), (8192, 1024), (None, None))
CONFIGURATIONS = (
    # framework, precision, spec_decoding, disaggregated, kv_offload
    ("sglang", "fp8", "none", False, None),
    ("dynamo-trt", "fp4", "mtp", True, None),
    ("vllm", "fp8", None, None, None),
    ("trt-llm", "fp4", "eagle", False, True),
    (None, None, None, None, None),
)


def generate(n_systems: int, n_workloads: int, points: int, seed: int = SEED) -> dict:
    """Canonical tables: the bundled ones with generated hardware, workloads and benchmarks."""
    rng = random.Random(seed)
    tables = dict(read_inputs(REPO / "datasets"))
    templates = tables["hardware"].to_dicts()
    hardware = [
        templates[i % len(templates)]
        | {"sku": f"system-{i}", "accelerator": rng.choice(ACCELERATORS)}
        for i in range(n_systems)
    ]
    tables["hardware"] = pl.DataFrame(hardware, schema=tables["hardware"].schema)

    template = tables["workloads"].row(0, named=True)
    workloads = []
    for j in range(n_workloads):
        isl, osl = rng.choice(SEQUENCES)
        requirement = rng.random()
        workloads.append(
            template
            | {
                "name": f"w{j}",
                "model": "unbenchmarked-model" if rng.random() < 0.02 else rng.choice(MODELS),
                "isl": isl,
                "osl": osl,
                "min_interactivity_tokens_per_s_per_user": (
                    None if rng.random() < 0.05 else round(rng.uniform(3, 90), 1)
                ),
                "max_ttft_s": None if rng.random() < 0.1 else round(rng.uniform(0.3, 8), 2),
                "share": 1.0 / n_workloads,
                "require_precision": ["fp8"] if requirement < 0.05 else None,
                "require_framework": ["Dynamo-TRT", "vllm"] if 0.05 <= requirement < 0.1 else None,
                "require_disaggregated": ["false"] if 0.1 <= requirement < 0.13 else None,
            }
        )
    tables["workloads"] = pl.DataFrame(workloads, schema=tables["workloads"].schema)

    rows = []
    for accelerator in ACCELERATORS[:-1]:
        scale = rng.uniform(300, 5000)
        for model in MODELS:
            for isl, osl in SEQUENCES:
                if rng.random() < 0.2:
                    continue
                for framework, precision, spec, disaggregated, offload in CONFIGURATIONS:
                    if rng.random() < 0.25:
                        continue
                    factor = scale * rng.uniform(0.5, 2.0)
                    for c in range(rng.randint(points // 2, points + points // 2)):
                        concurrency = 2 ** (c % 12) * (1 + c // 12)
                        interactivity = 200 / (1 + 0.3 * concurrency) * rng.uniform(0.8, 1.2)
                        offline = rng.random() < 0.03
                        rows.append(
                            {
                                "accelerator": accelerator,
                                "model": model,
                                "framework": framework,
                                "precision": precision,
                                "spec_decoding": spec,
                                "disaggregated": disaggregated,
                                "prefill_gpus": rng.randint(1, 8) if disaggregated else None,
                                "decode_gpus": rng.randint(1, 16) if disaggregated else None,
                                "kv_offload": offload,
                                "parallelism": rng.choice(("tp8", "tp4 ep4", None)),
                                "isl": isl,
                                "osl": osl,
                                "concurrency": None if offline else concurrency,
                                "tokens_per_s_per_gpu": round(
                                    factor * concurrency**0.6 * rng.uniform(0.85, 1.15), 3
                                ),
                                "output_tokens_per_s_per_gpu": None,
                                "interactivity_tokens_per_s_per_user": (
                                    None if offline else round(interactivity, 3)
                                ),
                                "ttft_s": (None if offline else round(0.05 * concurrency**0.5, 4)),
                                "source": f"bench {accelerator} {model} {c}",
                                "source_file": "generated",
                            }
                        )
    rng.shuffle(rows)
    tables["benchmarks"] = pl.DataFrame(rows, schema=tables["benchmarks"].schema)
    tables["benchmark_derivations"] = pl.DataFrame(
        {
            "accelerator": ["TPU-v7"],
            "model": [MODELS[0]],
            "from_accelerator": ["GB200"],
            "throughput_ratio": [1.3],
            "source": ["generated ratio"],
            "source_file": ["generated"],
        },
        schema=tables["benchmark_derivations"].schema,
    )
    return tables


def reference_design(revision: str) -> ModuleType:
    """`optimizer/design.py` of git `revision`, loaded as a module of its own."""
    text = subprocess.run(
        ["git", "show", f"{revision}:optimizer/design.py"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    spec = importlib.util.spec_from_loader(f"design_at_{revision}", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    exec(compile(text, f"{revision}:optimizer/design.py", "exec"), module.__dict__)
    return module


def timed(function, tables: dict, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = function(tables)
        best = min(best, time.perf_counter() - began)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=375)
    parser.add_argument("--workloads", type=int, default=100)
    parser.add_argument("--points", type=int, default=20, help="points per front (about)")
    parser.add_argument("--quick", action="store_true", help="60 systems x 20 workloads")
    parser.add_argument("--reference", default="HEAD", help="git revision to compare with")
    parser.add_argument("--no-reference", action="store_true", help="time the current one only")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    args = parser.parse_args()
    systems, workloads = (60, 20) if args.quick else (args.systems, args.workloads)
    tables = generate(systems, workloads, args.points)
    print(
        f"{systems} systems x {workloads} workloads, {tables['benchmarks'].height:,} benchmark "
        f"rows, {len(set(tables['hardware']['accelerator']))} accelerators"
    )
    design.plan_inputs(tables)  # warm up (imports, polars thread pool)
    seconds, inputs = timed(design.plan_inputs, tables, args.repeat)
    print(
        f"plan_inputs (current):     {seconds:8.2f} s   "
        f"{len(inputs.operating_points):,} operating points, {len(inputs.notes)} notes"
    )
    if args.no_reference:
        return
    reference = reference_design(args.reference)
    before, expected = timed(reference.plan_inputs, tables, args.repeat)
    print(f"plan_inputs ({args.reference + '):':<12}     {before:8.2f} s")
    print(f"ratio {args.reference} / current: {before / seconds:,.1f}x")
    print("same PlanInputs:", "yes" if inputs == expected else "NO")
    if inputs != expected:
        sys.exit(1)


if __name__ == "__main__":
    main()
