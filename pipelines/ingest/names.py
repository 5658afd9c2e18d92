"""Published accelerator and model names mapped to the keys the canonical tables join on.

Names are an open set: whatever a file says is a name. Benchmark publishers spell the
same product many ways (InferenceMAX writes `hw: h200` or a runner label `b200-trt`,
MLPerf writes `Accelerator: NVIDIA H200-SXM-141GB`, a price sheet writes `H200`), so a
name becomes its key in three steps, on the normalized form (casefolded, runs of
whitespace collapsed to one space, ends trimmed):

1. The alias tables below: every spelling found in the published InferenceMAX and
   MLPerf Inference v5.1 result files tokenplan ships, next to the key it means. Each
   key also maps to itself.
2. Models: a checkpoint path or hub id keeps its last part (`/models/DeepSeek-R1`,
   `openai/gpt-oss-120b` → `deepseek-r1`, `gpt-oss-120b`). Both: a known name followed
   by a suffix at a `-` or `_` is that name — a runner label (`mi355x-amd_0`,
   `b200-trt`) for an accelerator, a packaging or quantization tag (`-instruct`, `-fp8`)
   for a model — except where the suffix names another product (`-pcie`, `-nvl`).
3. Any other name is its own key, in the normalized form: `TPU-v6e` → `tpu-v6e`,
   never an error. A price sheet and a benchmark file that spell a new product the same
   way (up to case and spacing) join.

No fuzzy matching: a new spelling of a known product is added here deliberately.

Decisions:
- `H200-NVL` (PCIe card, 600 W, NVLink bridge) is a different product from the H200 SXM
  module and keeps its own key; `Virtualized NVIDIA H200-SXM-141GB` is the SXM part
  under a hypervisor, so `H200`.
- `RTX-PRO-6000` (RTX PRO 6000 Blackwell Server Edition) and `L40S` are PCIe data-center
  cards with MLPerf results; they get keys so their spellings join.
- InferenceMAX DeepSeek-R1 rows name checkpoints (the original R1, R1-0528, vendor FP4 /
  MXFP4 quantizations, even a cluster path). They are all the same 671B MoE model, so all
  map to `deepseek-r1`; the quantization shows in the `precision` column.
- MLPerf `llama2-70b-99` and `llama2-70b-99.9` are one model at two accuracy targets, so
  both map to `llama2-70b`. `UsedModel` spellings of the same model (`llama3_1-405b`,
  `llama2-70b-fp8_quark`, an FP8 quantization) map too; open-division substitutes that are
  a different model (`llama3_1-70b-fp8_dyn`, a Llama 3.1 70B in a Llama 2 70B slot,
  `llama3_1-405b_pruned`) keep their own keys, and the MLPerf reader skips them.
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
    "VR200": "VR200",
    "NVIDIA VR200": "VR200",
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
    "llama-3.1-405b": "llama3.1-405b",
    "llama3.1-8b": "llama3.1-8b",
    "llama3_1-8b": "llama3.1-8b",
    "llama-3.1-8b": "llama3.1-8b",
    "llama3.3-70b": "llama3.3-70b",
    "llama-3.3-70b": "llama3.3-70b",
    "llama3_3-70b": "llama3.3-70b",
    "mixtral-8x7b": "mixtral-8x7b",
    "gpt-oss-120b": "gpt-oss-120b",
    "qwen3-235b": "qwen3-235b",
    "qwen3-235b-a22b": "qwen3-235b",
}
"""Published model name (InferenceMAX `model`, MLPerf `Model` / `UsedModel`, a hub id's last
part) -> model key."""

OTHER_PRODUCT_SUFFIXES = frozenset({"pcie", "nvl"})
"""Suffixes that name a different product, not a runner or a build: `h100-pcie` is not an
H100 SXM (`-nvl72`, a rack of the same chip, is not in this set)."""

MODEL_VARIANT_SUFFIXES = frozenset(
    {
        "instruct",
        "chat",
        "it",
        "base",
        "preview",
        "v1",
        "v2",
        "v3",
        "2507",
        "0528",
        "fp8",
        "fp4",
        "nvfp4",
        "mxfp4",
        "int8",
        "int4",
        "w4a16",
        "w8a8",
        "awq",
        "gptq",
        "dynamic",
    }
)
"""Tags after a model name that keep the same model for serving speed: an instruction-tuned
release, a dated refresh, a quantized checkpoint (the precision column says which)."""

SEPARATORS = "-_"


def normalize(name: str) -> str:
    """The form names are compared in: casefolded, whitespace runs collapsed, ends trimmed."""
    return " ".join(name.split()).casefold()


_ACCELERATOR_INDEX = {normalize(name): key for name, key in ACCELERATORS.items()}
_MODEL_INDEX = {normalize(name): key for name, key in MODELS.items()}


def accelerator_key(name: str) -> str:
    """The accelerator key a published name means (see the module docstring); never fails."""
    normal = normalize(name)
    return (
        _known_prefix(normal, _ACCELERATOR_INDEX, lambda tag: tag not in OTHER_PRODUCT_SUFFIXES)
        or normal
    )


def model_key(name: str) -> str:
    """The model key a published name or checkpoint path means (see the module docstring)."""
    normal = normalize(name)
    if normal in _MODEL_INDEX:
        return _MODEL_INDEX[normal]
    last = normal.rstrip("/").rsplit("/", 1)[-1].strip()
    return _known_prefix(last, _MODEL_INDEX, lambda tag: tag in MODEL_VARIANT_SUFFIXES) or last


def _known_prefix(normal: str, index: dict[str, str], allowed) -> str | None:
    """The key of `normal`, or of its longest prefix ending before a separator whose cut-off
    tags (each part between separators) are all `allowed`; None when no prefix is known."""
    if normal in index:
        return index[normal]
    cut = len(normal)
    while True:
        cut = max(normal.rfind(sep, 0, cut) for sep in SEPARATORS)
        if cut <= 0:
            return None
        tags = normal[cut + 1 :]
        for sep in SEPARATORS[1:]:
            tags = tags.replace(sep, SEPARATORS[0])
        if not all(allowed(tag) for tag in tags.split(SEPARATORS[0]) if tag):
            return None
        if normal[:cut] in index:
            return index[normal[:cut]]
