"""Benchmark operating points (canonical CSV, InferenceMAX, MLPerf) into the `benchmarks` table.

Every reader ends in the same place: canonical records passed through
`tabular.read_records`, so a JSON row gets the same parsing, range checks and problem
messages as a CSV row. Throughputs are tokens per second per GPU; interactivity is
tokens per second per user (1 / TPOT); TTFT is in seconds.

Accelerator and model names go through `names.py`, an open set: a name the alias table
does not know is its own key, never an error. MLPerf files hold rows that are no
per-GPU operating point (CPU-only systems, mixed clusters, substituted models, non-LLM
results); those rows are skipped and counted.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

from pipelines.contract.errors import InputError, Problem, ProblemList, gather
from pipelines.contract.schema import BENCHMARKS
from pipelines.ingest.files import read_json
from pipelines.ingest.folder import input_files, relative_name
from pipelines.ingest.names import accelerator_key, model_key
from pipelines.ingest.readers.derived import DERIVED_FILE
from pipelines.ingest.source import Source
from pipelines.ingest.tabular import (
    MAX_PROBLEMS_PER_FILE,
    parse_boolean,
    read_records,
    read_table_file,
)

logger = logging.getLogger(__name__)

BENCHMARK_FOLDER = "benchmarks"
CSV_PATTERN = f"{BENCHMARK_FOLDER}/*.csv"
INFERENCEMAX_PATTERN = f"{BENCHMARK_FOLDER}/inferencemax/*.json"
MLPERF_PATTERN = f"{BENCHMARK_FOLDER}/mlperf/*.json"
PATTERNS = (CSV_PATTERN, INFERENCEMAX_PATTERN, MLPERF_PATTERN)
EXCLUDE = (DERIVED_FILE,)
"""Matches `CSV_PATTERN` but holds derivations, not points (`readers/derived.py`)."""

MLPERF_LATENCY_LIMITS_MS: dict[tuple[str, str], tuple[float, float]] = {
    ("llama2-70b", "Server"): (2000.0, 200.0),
    ("llama2-70b", "Interactive"): (450.0, 40.0),
    ("llama3.1-405b", "Server"): (6000.0, 175.0),
    ("llama3.1-405b", "Interactive"): (4500.0, 80.0),
    ("llama3.1-8b", "Server"): (2000.0, 100.0),
    ("llama3.1-8b", "Interactive"): (500.0, 30.0),
    ("mixtral-8x7b", "Server"): (2000.0, 200.0),
    ("deepseek-r1", "Server"): (2000.0, 80.0),
    ("deepseek-r1", "Interactive"): (1500.0, 15.0),
}
"""MLPerf Inference latency constraints: (model key, scenario) -> (TTFT limit ms, TPOT limit ms).

From mlcommons/inference `loadgen/mlperf.conf` (`<model>.Server.ttft_latency` /
`tpot_latency`; the Interactive scenario is the `<model>-interactive.Server` entry),
checked at commit 001712e9. Both are 99th-percentile limits (`*.Server.
target_latency_percentile = 99`), so a Server or Interactive result is a point that
delivers at least 1000 / TPOT tokens/s per user and at most TTFT to the first token for
99% of requests: a conservative bound, not a measured median as in InferenceMAX.
Offline has no latency constraint.
"""

MLPERF_TOKEN_UNITS = "Tokens/s"
MLPERF_OFFLINE = "Offline"


class MlperfRead(NamedTuple):
    """What `read_mlperf` returns: the canonical rows and how many rows were skipped, by reason.

    Skip reasons: `not_tokens_per_s` (Queries/s or other units: not an LLM tokens row),
    `no_accelerator` (empty, e.g. CPU-only systems), `mixed_accelerators` (two products in
    one system), `substituted_model` (open division ran a different model than the
    benchmark's, per `UsedModel`), `unknown_scenario` (no latency constraints known for
    that model and scenario). A model or accelerator the alias table does not know is its
    own key (`names.py`), not a reason to skip.
    """

    frame: pl.DataFrame
    skipped: dict[str, int]


def read_benchmarks(data_dir: Path) -> pl.DataFrame:
    """Every benchmark file under `data_dir` as one canonical table, sorted.

    Reads `benchmarks/*.csv` (except `benchmarks/derived.csv`), `benchmarks/inferencemax/*.json`
    and `benchmarks/mlperf/*.json`; file names in problems and in `source_file` are relative
    to `data_dir`. Problems of all files are raised together. MLPerf skip counts are logged
    per file.
    """
    readers: dict[str, Callable[[Path, str], pl.DataFrame]] = {
        CSV_PATTERN: read_benchmark_csv,
        INFERENCEMAX_PATTERN: read_inferencemax,
        MLPERF_PATTERN: _read_mlperf_logging_skips,
    }
    found = gather(
        *(partial(input_files, data_dir, (pattern,), False, EXCLUDE) for pattern in readers)
    )
    calls = [
        partial(reader, path, relative_name(data_dir, path))
        for reader, paths in zip(readers.values(), found, strict=True)
        for path in paths
    ]
    if not calls:
        expected = f"{', '.join(PATTERNS[:-1])} or {PATTERNS[-1]}"
        raise InputError([Problem(BENCHMARK_FOLDER, f"no benchmark files (expected {expected})")])
    frame = pl.concat(gather(*calls), how="vertical")
    if frame.height == 0:
        raise InputError([Problem(BENCHMARK_FOLDER, "no usable benchmark rows in any file")])
    return frame.sort(list(BENCHMARKS.schema), nulls_last=True)


SOURCE = Source(
    name="benchmarks",
    patterns=PATTERNS,
    tables=("benchmarks",),
    read=lambda data_dir, _: {"benchmarks": read_benchmarks(data_dir)},
    description="Throughput operating points from InferenceMAX, MLPerf Inference and canonical CSV "
    "files.",
    exclude=EXCLUDE,
)


def read_benchmark_csv(path: Path, name: str) -> pl.DataFrame:
    """A canonical benchmarks CSV, with `accelerator` and `model` mapped to their keys.

    Every column is read as given (precision and spec_decoding lower-cased); `_row_rules`
    checks the pool sizes against `disaggregated`.
    """
    frame = read_table_file(path, name, BENCHMARKS, rules=_row_rules)
    return frame.with_columns(
        pl.col("accelerator").map_elements(accelerator_key, return_dtype=pl.String),
        pl.col("model").map_elements(model_key, return_dtype=pl.String),
    )


POOLS = ("prefill_gpus", "decode_gpus")


def _row_rules(frame: pl.DataFrame, rows: pl.Series, name: str, problems: ProblemList) -> None:
    """What a typed cell cannot say, for every benchmarks format.

    - prefill_gpus and decode_gpus are given both or neither (the two pools of one
      disaggregated deployment);
    - a row stated not disaggregated has no pools.
    """
    for line, row in zip(rows, frame.select("disaggregated", *POOLS).iter_rows(), strict=True):
        disaggregated, *pools = row
        given = [pool for pool, size in zip(POOLS, pools, strict=True) if size is not None]
        if given and disaggregated is False:
            problems.add(
                name,
                "a row that is not disaggregated has no prefill and decode pools",
                row=line,
                field=given[0],
            )
        elif len(given) == 1:
            [missing] = set(POOLS) - set(given)
            problems.add(
                name,
                f"missing value ({given[0]} is given: a disaggregated deployment has both pools)",
                row=line,
                field=missing,
            )


INFERENCEMAX_FIELDS = {
    "accelerator": "hw",
    "model": "model",
    "framework": "framework",
    "precision": "precision",
    "spec_decoding": "spec_decoding",
    "disaggregated": "disagg",
    "prefill_gpus": "num_prefill_gpu",
    "decode_gpus": "num_decode_gpu",
    "isl": "isl",
    "osl": "osl",
    "concurrency": "conc",
    "tokens_per_s_per_gpu": "tput_per_gpu",
    "output_tokens_per_s_per_gpu": "output_tput_per_gpu",
    "interactivity_tokens_per_s_per_user": "median_intvty",
    "ttft_s": "median_ttft",
}
"""Canonical column -> InferenceMAX record key (problems name the record key).
`spec_decoding`, `disagg` and the pool sizes may be absent (not stated)."""
INFERENCEMAX_OPTIONAL = ("spec_decoding", "disagg", "num_prefill_gpu", "num_decode_gpu")
INFERENCEMAX_POOLS = ("num_prefill_gpu", "num_decode_gpu")
"""GPUs of the prefill and of the decode pool: every disaggregated record needs both."""
INFERENCEMAX_STAGES = ("prefill", "decode")
INFERENCEMAX_TEXTS = ("hw", "model", "framework", "precision")
INFERENCEMAX_NUMBERS = (
    "isl",
    "osl",
    "conc",
    "tput_per_gpu",
    "output_tput_per_gpu",
    "median_intvty",
    "median_ttft",
)
INFERENCEMAX_CONFIG = (
    "model",
    "tp",
    "ep",
    "dp_attention",
    "disagg",
    "prefill_num_workers",
    "prefill_tp",
    "prefill_ep",
    "prefill_dp_attention",
    "decode_num_workers",
    "decode_tp",
    "decode_ep",
    "decode_dp_attention",
    "spec_decoding",
    "_gha_run_id",
)
"""Record keys copied into `source` (when present) so a point can be traced to its run."""


def read_inferencemax(path: Path, name: str) -> pl.DataFrame:
    """InferenceMAX `agg_*.json` rows (a JSON list of objects) as canonical benchmark rows.

    `hw` -> accelerator, `model` -> model key, `conc` -> concurrency, `tput_per_gpu`
    (input + output tokens/s per GPU) -> tokens_per_s_per_gpu, `median_intvty` (tokens/s
    per user) and `median_ttft` (s); `spec_decoding`, `disagg` -> disaggregated,
    `num_prefill_gpu` / `num_decode_gpu` -> prefill_gpus / decode_gpus (on disaggregated
    rows, which need both); parallelism from the tp/ep/dp_attention keys
    (`_inferencemax_parallelism`). The file does not state KV offload: kv_offload is empty.

    `tput_per_gpu` divides by every GPU of the deployment. `output_tput_per_gpu` does too on
    an aggregated row, but on a disaggregated row it is per decode GPU (and
    `input_tput_per_gpu` per prefill GPU), so output_tokens_per_s_per_gpu =
    `output_tput_per_gpu` × num_decode_gpu / (num_prefill_gpu + num_decode_gpu): then
    output + input per GPU of the deployment is `tput_per_gpu`, as on aggregated rows.
    """
    problems = ProblemList()
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    for row, item in _json_records(path, name, problems):
        if not _has_fields(item, row, name, INFERENCEMAX_TEXTS, INFERENCEMAX_NUMBERS, problems):
            continue
        disaggregated = _inferencemax_disaggregated(item, row, name, problems)
        if disaggregated is None and item.get("disagg") is not None:
            continue  # a disagg that is no true/false: a problem
        output = item["output_tput_per_gpu"]
        if disaggregated:
            if not _has_pools(item, row, name, problems):
                continue
            prefill, decode = (item[key] for key in INFERENCEMAX_POOLS)
            output = output * decode / (prefill + decode)
        accelerator, model = accelerator_key(item["hw"]), model_key(item["model"])
        config = ", ".join(f"{k}={_text(item[k])}" for k in INFERENCEMAX_CONFIG if k in item)
        records.append(
            {
                column: item.get(key) if key in INFERENCEMAX_OPTIONAL else item[key]
                for column, key in INFERENCEMAX_FIELDS.items()
            }
            | {
                "accelerator": accelerator,
                "model": model,
                "disaggregated": disaggregated,
                "output_tokens_per_s_per_gpu": output,
                "kv_offload": None,
                "parallelism": _inferencemax_parallelism(item, bool(disaggregated)),
                "source": f"InferenceMAX {item['framework']}: {config}",
            }
        )
        rows.append(row)
    return _finish(records, rows, name, problems, INFERENCEMAX_FIELDS)


def _inferencemax_disaggregated(
    item: dict[str, Any], row: int, name: str, problems: ProblemList
) -> bool | None:
    """`disagg` as true/false; None when absent or null (not stated) or not true/false (then a
    problem)."""
    value = item.get("disagg")
    if value is None:
        return None
    flag = parse_boolean(value)
    if flag is None:
        problems.add(
            name,
            f"expected true or false, got {_json_kind(value)} {value!r}",
            row=row,
            field="disagg",
        )
    return flag


def _has_pools(item: dict[str, Any], row: int, name: str, problems: ProblemList) -> bool:
    """Whether a disaggregated record has both pool sizes, whole numbers > 0; else problems."""
    ok = True
    for key in INFERENCEMAX_POOLS:
        value = item.get(key)
        if value is None:
            problems.add(
                name,
                "missing or null: a disaggregated row needs num_prefill_gpu and num_decode_gpu",
                row=row,
                field=key,
            )
            ok = False
        elif not _is_number(value):
            problems.add(
                name, f"expected a number, got {_json_kind(value)} {value!r}", row=row, field=key
            )
            ok = False
        else:
            ok = _is_positive(value, name, row, key, problems, whole=True) and ok
    return ok


def _inferencemax_parallelism(item: dict[str, Any], disaggregated: bool) -> str | None:
    """Compact parallelism text: `tp8 ep8 dp-attention` on an aggregated row, `prefill
    1x(tp4 ep4) decode 4x(tp8 ep8)` (workers x layout per pool) on a disaggregated one. ep is
    left out when 1, dp-attention when false; empty when the record has none of the keys."""
    if not disaggregated:
        return _layout(item, "") or None
    stages = []
    for stage in INFERENCEMAX_STAGES:
        layout, workers = _layout(item, f"{stage}_"), item.get(f"{stage}_num_workers")
        if layout or workers is not None:
            count = "" if workers is None else f"{_text(workers)}x"
            stages.append(f"{stage} {count}({layout})")
    return " ".join(stages) or None


def _layout(item: dict[str, Any], prefix: str) -> str:
    """`tp<n> ep<n> dp-attention` from the record's `<prefix>tp`, `ep`, `dp_attention` keys."""
    parts = []
    tp, ep = item.get(f"{prefix}tp"), item.get(f"{prefix}ep")
    if tp is not None:
        parts.append(f"tp{_text(tp)}")
    if ep is not None and ep != 1:
        parts.append(f"ep{_text(ep)}")
    if parse_boolean(item.get(f"{prefix}dp_attention")):
        parts.append("dp-attention")
    return " ".join(parts)


MLPERF_TEXTS = ("Model", "Scenario", "Accelerator", "Performance_Units")
MLPERF_NUMBERS = ("Performance_Result", "Nodes", "a#")


def read_mlperf(path: Path, name: str) -> MlperfRead:
    """MLPerf Inference `summary_results.json` rows (a JSON list of objects): the LLM tokens rows.

    MLPerf's LLM tokens/s counts generated (output) tokens for the whole system, so
    per GPU = `Performance_Result / (Nodes × a#)`, and both tokens_per_s_per_gpu and
    output_tokens_per_s_per_gpu are that figure (it understates input + output
    throughput). isl and osl stay empty: MLPerf datasets have prompts and answers of
    varying lengths. Offline rows have no latency bound (interactivity and TTFT empty);
    Server and Interactive rows carry the benchmark's limits from
    `MLPERF_LATENCY_LIMITS_MS` as interactivity = 1000 / TPOT ms and ttft_s = TTFT ms / 1000.
    framework is the first item of `Software`; precision is `weight_data_types`
    lowercased (`UNSET` -> empty); concurrency stays empty. The summary states no
    speculative decoding, disaggregation, KV offload or parallelism: those stay empty.
    Closed and open division rows are both kept; division, availability, submitter and
    system go to `source`.

    Rows that cannot become a per-GPU point are skipped and counted (see `MlperfRead`);
    `Performance_Result`, `Nodes` and `a#` are checked on the rows kept.
    """
    problems = ProblemList()
    skipped: Counter[str] = Counter()
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    for row, item in _json_records(path, name, problems):
        if not _has_fields(item, row, name, MLPERF_TEXTS, (), problems):
            continue
        reason = _mlperf_skip_reason(item)
        if reason is not None:
            skipped[reason] += 1
            continue
        if not _has_fields(item, row, name, (), MLPERF_NUMBERS, problems):
            continue
        checks = [
            _is_positive(item[key], name, row, key, problems, whole=key != "Performance_Result")
            for key in MLPERF_NUMBERS
        ]
        if not all(checks):
            continue
        model = model_key(item["Model"])
        scenario = item["Scenario"]
        ttft_ms, tpot_ms = MLPERF_LATENCY_LIMITS_MS.get((model, scenario), (None, None))
        tokens_per_s_per_gpu = item["Performance_Result"] / (item["Nodes"] * item["a#"])
        precision = str(item.get("weight_data_types") or "").strip().casefold()
        records.append(
            {
                "accelerator": accelerator_key(item["Accelerator"]),
                "model": model,
                "framework": str(item.get("Software") or "").split(",")[0].strip() or None,
                "precision": None if precision in ("", "unset") else precision,
                "isl": None,
                "osl": None,
                "concurrency": None,
                "tokens_per_s_per_gpu": tokens_per_s_per_gpu,
                "output_tokens_per_s_per_gpu": tokens_per_s_per_gpu,
                "interactivity_tokens_per_s_per_user": None
                if tpot_ms is None
                else 1000.0 / tpot_ms,
                "ttft_s": None if ttft_ms is None else ttft_ms / 1000.0,
                "source": _mlperf_source(item),
            }
        )
        rows.append(row)
    return MlperfRead(_finish(records, rows, name, problems, {}), dict(sorted(skipped.items())))


def _read_mlperf_logging_skips(path: Path, name: str) -> pl.DataFrame:
    result = read_mlperf(path, name)
    if result.skipped:
        logger.info(
            "%s: kept %d MLPerf rows, skipped %d: %s",
            name,
            result.frame.height,
            sum(result.skipped.values()),
            result.skipped,
        )
    return result.frame


def _mlperf_skip_reason(item: dict[str, Any]) -> str | None:
    """Why an MLPerf row cannot become a per-GPU operating point, or None to keep it."""
    if item["Performance_Units"] != MLPERF_TOKEN_UNITS:
        return "not_tokens_per_s"
    model = model_key(item["Model"])
    accelerator = item["Accelerator"].strip()
    if not accelerator:
        return "no_accelerator"
    if "," in accelerator:
        return "mixed_accelerators"
    used = item.get("UsedModel")
    if isinstance(used, str) and used.strip() and model_key(used) != model:
        return "substituted_model"
    if (
        item["Scenario"] != MLPERF_OFFLINE
        and (model, item["Scenario"]) not in MLPERF_LATENCY_LIMITS_MS
    ):
        return "unknown_scenario"
    return None


def _mlperf_source(item: dict[str, Any]) -> str:
    head = " ".join(_text(item[k]) for k in ("version", "Category", "ID", "Model") if item.get(k))
    system = " ".join(_text(item[k]) for k in ("Submitter", "System") if item.get(k))
    return (
        f"MLPerf Inference {head}: {system}, {item['Scenario']}, "
        f"{item['Nodes']} node(s) x {item['a#']} GPUs, "
        f"{_text(item.get('Availability', 'availability unknown'))}"
    )


def _json_records(path: Path, name: str, problems: ProblemList) -> list[tuple[int, dict[str, Any]]]:
    """The objects of a JSON list with their 1-based index; non-objects become problems."""
    data = read_json(path, name)
    if not isinstance(data, list):
        raise InputError(
            [Problem(name, f"expected a JSON list of result rows, got {_json_kind(data)}")]
        )
    if not data:
        raise InputError([Problem(name, "no records (the JSON list is empty)")])
    records = []
    for row, item in enumerate(data, start=1):
        if isinstance(item, dict):
            records.append((row, item))
        else:
            problems.add(name, f"expected an object, got {_json_kind(item)}", row=row)
    return records


def _has_fields(
    item: dict[str, Any],
    row: int,
    name: str,
    texts: tuple[str, ...],
    numbers: tuple[str, ...],
    problems: ProblemList,
) -> bool:
    """Whether the record has every key, text where text is expected and a finite number where a
    number is."""
    ok = True
    for key in (*texts, *numbers):
        value = item.get(key)
        if key not in item or value is None:
            problems.add(name, "required key is missing or null", row=row, field=key)
        elif key in texts and not isinstance(value, str):
            problems.add(
                name, f"expected text, got {_json_kind(value)} {value!r}", row=row, field=key
            )
        elif key in numbers and not _is_number(value):
            problems.add(
                name, f"expected a number, got {_json_kind(value)} {value!r}", row=row, field=key
            )
        else:
            continue
        ok = False
    return ok


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_positive(
    value: Any, name: str, row: int, field: str, problems: ProblemList, whole: bool
) -> bool:
    """Whether a number (already checked finite) is > 0 and, if `whole`, an integer; else a
    problem."""
    if value > 0 and (isinstance(value, int) or not whole):
        return True
    problems.add(
        name,
        f"expected {'a whole number' if whole else 'a number'} > 0, got {value!r}",
        row=row,
        field=field,
    )
    return False


def _finish(
    records: list[dict[str, Any]],
    rows: list[int],
    name: str,
    problems: ProblemList,
    keys: dict[str, str],
) -> pl.DataFrame:
    """Canonical records through the CSV parsing and range checks; raise every problem of the file
    together.

    `rows[i]` is the 1-based index in the file of `records[i]`, and `keys` maps a
    canonical column to the record key it came from, so problems name the record and key
    as published even when records before it were skipped.
    """
    frame = BENCHMARKS.empty()
    if records:
        try:
            frame = read_records(records, BENCHMARKS, name, first_row=1, rules=_row_rules)
        except InputError as error:
            problems.extend(
                replace(
                    p,
                    row=None if p.row is None else rows[p.row - 1],
                    field=None if p.field is None else keys.get(p.field, p.field),
                )
                for p in error.problems
            )
    _raise_sorted(problems)
    return frame


def _raise_sorted(problems: ProblemList) -> None:
    problems.sort(key=lambda p: p.row or 0)
    problems.raise_if_any(limit=MAX_PROBLEMS_PER_FILE)


def _text(value: Any) -> str:
    """A JSON value as source text: booleans as JSON spells them."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number")
