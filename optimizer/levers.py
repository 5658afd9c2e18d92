"""The levers of cost per token, each as a way to take it out of a plan's inputs.

A lever is what the articles on cost per token name: FP4, speculative decoding / multi-token
prediction, disaggregated prefill/decode, KV-cache offload (serving configurations of the
benchmark points), liquid cooling and 800 VDC power (facility designs). Taking one away
removes from `PlanInputs` every operating point, cooling option or power design that uses
it; a plan solved on what is left is the plan without that lever, and its cost per token
beside the plan's is what the lever is worth on this site (`pipelines.planning.levers`).

A point uses
- FP4 when its precision names fp4 (`fp4`, `nvfp4`, `mxfp4`);
- speculative decoding when `spec_decoding` is stated and not `none`;
- disaggregation, KV offload when the point says so (not stated: not used);
and a cooling option other than `air` is liquid cooling (direct liquid or immersion), a
power design of kind `dc` is 800 VDC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from optimizer.inputs import Cooling, OperatingPoint, PlanInputs, PowerDesign


@dataclass(frozen=True)
class Lever:
    key: str
    name: str
    """In words, as the lever table shows it."""
    without: str
    """What taking it away leaves, in words."""
    point: Callable[[OperatingPoint], bool] | None = None
    cooling: Callable[[Cooling], bool] | None = None
    power: Callable[[PowerDesign], bool] | None = None

    def in_inputs(self, inputs: PlanInputs) -> bool:
        """Whether any point, cooling option or power design of `inputs` uses the lever."""
        return (
            any(map(self.point, inputs.operating_points))
            if self.point
            else any(map(self.cooling, inputs.coolings))
            if self.cooling
            else any(map(self.power, inputs.power_designs))
            if self.power
            else False
        )

    def remove(self, inputs: PlanInputs) -> PlanInputs:
        """`inputs` without every point, cooling option and power design that uses the lever."""
        keep = _not(self.point), _not(self.cooling), _not(self.power)
        return replace(
            inputs,
            operating_points=tuple(filter(keep[0], inputs.operating_points)),
            coolings=tuple(filter(keep[1], inputs.coolings)),
            power_designs=tuple(filter(keep[2], inputs.power_designs)),
        )


def _not(uses: Callable | None) -> Callable[[object], bool]:
    return (lambda _: True) if uses is None else (lambda item: not uses(item))


def uses_fp4(point: OperatingPoint) -> bool:
    return "fp4" in (point.precision or "").lower()


def uses_speculative_decoding(point: OperatingPoint) -> bool:
    return (point.spec_decoding or "none").lower() != "none"


LEVERS: tuple[Lever, ...] = (
    Lever("fp4", "FP4", "no FP4 operating points", point=uses_fp4),
    Lever(
        "speculative_decoding",
        "speculative decoding / MTP",
        "no speculative decoding",
        point=uses_speculative_decoding,
    ),
    Lever(
        "disaggregation",
        "disaggregated prefill/decode",
        "no disaggregated serving",
        point=lambda p: bool(p.disaggregated),
    ),
    Lever(
        "kv_offload", "KV-cache offload", "no KV-cache offload", point=lambda p: bool(p.kv_offload)
    ),
    Lever(
        "liquid_cooling", "liquid cooling", "air cooling only", cooling=lambda c: c.kind != "air"
    ),
    Lever("dc_power", "800 VDC power", "415 VAC only", power=lambda p: p.kind == "dc"),
)
"""Every lever, in the order of the lever table."""
