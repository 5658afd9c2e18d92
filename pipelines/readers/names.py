"""Published accelerator and model names mapped to the keys the canonical tables join on.

Benchmark publishers spell the same product many ways: InferenceMAX writes `hw: h200`,
MLPerf writes `Accelerator: NVIDIA H200-SXM-141GB`, a price sheet writes `H200`. The
tables below list every spelling found in the published files we ingest (see
/work/shared/reference-data: InferenceMAX `agg_dsr1_1k1k.json`, MLPerf Inference v5.1
`summary_results.json`) next to the key it means. Each key also maps to itself.

Lookup is exact on a normalized form (casefolded, runs of whitespace collapsed to one
space): no fuzzy matching, so a new spelling is added here deliberately, never guessed.

Decisions:
- `H200-NVL` (PCIe card, 600 W, NVLink bridge) is a different product from the H200 SXM
  module and keeps its own key; `Virtualized NVIDIA H200-SXM-141GB` is the SXM part
  under a hypervisor, so `H200`.
- `RTX-PRO-6000` (RTX PRO 6000 Blackwell Server Edition) and `L40S` are PCIe data-center
  cards with MLPerf results; they get keys so those rows are usable.
- Intel Arc Pro B60 (a workstation card in MLPerf v5.1) is left unmapped.
- Mixed systems (`AMD Instinct MI300X ... (x32), AMD Instinct MI325X ... (x16)`) name two
  products in one string; they are not in the table, and the MLPerf reader skips them.
- InferenceMAX DeepSeek-R1 rows name checkpoints (the original R1, R1-0528, vendor FP4 /
  MXFP4 quantizations, even a cluster path). They are all the same 671B MoE model, so all
  map to `deepseek-r1`; the quantization shows in the `precision` column.
- MLPerf `llama2-70b-99` and `llama2-70b-99.9` are one model at two accuracy targets, so
  both map to `llama2-70b`. `UsedModel` spellings of the same model (`llama3_1-405b`,
  `llama2-70b-fp8_quark`, an FP8 quantization) map too; open-division substitutes that are
  a different model (`llama3_1-70b-fp8_dyn`, `llama3_1-405b_pruned`) are left unmapped.
"""

from __future__ import annotations

ACCELERATORS: dict[str, str] = {
    "H100": "H100",
    "NVIDIA H100-SXM-80GB": "H100",
    "H200": "H200",
    "NVIDIA H200-SXM-141GB": "H200",
    "Virtualized NVIDIA H200-SXM-141GB": "H200",
    "H200-NVL": "H200-NVL",
    "NVIDIA H200-NVL-141GB": "H200-NVL",
    "B200": "B200",
    "NVIDIA B200-SXM-180GB": "B200",
    "B300": "B300",
    "GB200": "GB200",
    "NVIDIA GB200": "GB200",
    "GB300": "GB300",
    "NVIDIA GB300": "GB300",
    "MI300X": "MI300X",
    "AMD Instinct MI300X 192GB HBM3": "MI300X",
    "MI325X": "MI325X",
    "AMD Instinct MI325X 256GB HBM3e": "MI325X",
    "MI355X": "MI355X",
    "AMD Instinct MI355X 288GB HBM3e": "MI355X",
    "RTX-PRO-6000": "RTX-PRO-6000",
    "NVIDIA RTX PRO 6000 Blackwell Server Edition": "RTX-PRO-6000",
    "L40S": "L40S",
    "NVIDIA L40S": "L40S",
}
"""Published accelerator name -> accelerator key (InferenceMAX `hw` values such as `h200`
match their key through casefolding)."""

MODELS: dict[str, str] = {
    "deepseek-r1": "deepseek-r1",
    "deepseek-ai/DeepSeek-R1": "deepseek-r1",
    "deepseek-ai/DeepSeek-R1-0528": "deepseek-r1",
    "amd/DeepSeek-R1-0528-MXFP4-Preview": "deepseek-r1",
    "nvidia/DeepSeek-R1-0528-FP4-V2": "deepseek-r1",
    "/mnt/lustre01/models/deepseek-r1-0528-fp4-v2": "deepseek-r1",
    "llama2-70b": "llama2-70b",
    "llama2-70b-99": "llama2-70b",
    "llama2-70b-99.9": "llama2-70b",
    "llama2-70b-fp8_quark": "llama2-70b",
    "llama3.1-405b": "llama3.1-405b",
    "llama3_1-405b": "llama3.1-405b",
    "llama3.1-8b": "llama3.1-8b",
    "llama3_1-8b": "llama3.1-8b",
    "mixtral-8x7b": "mixtral-8x7b",
}
"""Published model name (InferenceMAX `model`, MLPerf `Model` / `UsedModel`) -> model key."""


def normalize(name: str) -> str:
    """The form names are compared in: casefolded, whitespace runs collapsed, ends trimmed."""
    return " ".join(name.split()).casefold()


_ACCELERATOR_INDEX = {normalize(name): key for name, key in ACCELERATORS.items()}
_MODEL_INDEX = {normalize(name): key for name, key in MODELS.items()}


def accelerator_key(name: str) -> str | None:
    """The accelerator key a published name means, or None when the name is not in the table."""
    return _ACCELERATOR_INDEX.get(normalize(name))


def model_key(name: str) -> str | None:
    """The model key a published name means, or None when the name is not in the table."""
    return _MODEL_INDEX.get(normalize(name))


def accelerator_keys() -> list[str]:
    """Every accelerator key, sorted (for error messages)."""
    return sorted(set(ACCELERATORS.values()))


def model_keys() -> list[str]:
    """Every model key, sorted (for error messages)."""
    return sorted(set(MODELS.values()))
