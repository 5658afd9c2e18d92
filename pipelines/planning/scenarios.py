"""The scenarios of the input folder (`scenarios/*.yaml`) as plan inputs, and the robust plan.

An overlay (`pipelines.ingest.readers.scenarios`) becomes a scenario's `PlanInputs` in three
steps: its fields set on the canonical `scenario` row (checked as scenario.yaml is), then
`optimizer.design.plan_inputs` on the tables with that row, then its multipliers on the plan
inputs: each system's price (`node_capex_usd`, or `rental_usd_per_gpu_hour` of a rented one)
× its capex multiplier, each operating point's tokens/s per GPU × its system's throughput
multiplier, the energy price per kWh (the flat year's and each time slice's, with the tiers'
monthly energy adjustment) × the energy price multiplier.

Stress tests and the robust plan of these scenarios: `pipelines.planning.stress`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from optimizer.design import plan_inputs
from optimizer.horizon import HorizonSolution
from optimizer.inputs import PlanInputs
from pipelines.contract.errors import InputError, Problem
from pipelines.ingest.readers.scenario import SCENARIO_FILE
from pipelines.ingest.readers.scenarios import (
    SCENARIOS_FOLDER,
    SCENARIOS_PATTERN,
    Overlay,
    multiplier,
    overridden_scenario,
    table_overlays,
)

if TYPE_CHECKING:
    import polars as pl

Case = tuple[str, float, PlanInputs]
"""A scenario as the optimizer takes it: name, probability, plan inputs."""


def scenario_cases(tables: Mapping[str, pl.DataFrame]) -> list[Case]:
    """Each scenario of the canonical `scenarios` table as (name, probability, plan inputs), in
    file order. Bad input when there are none or when scenario.yaml has no horizon."""
    overlays = table_overlays(tables["scenarios"])
    if not overlays:
        raise InputError(
            [
                Problem(
                    SCENARIOS_FOLDER,
                    f"no scenario files ({SCENARIOS_PATTERN}): stress tests and robust plans need "
                    "at least one, each an overlay on scenario.yaml with its probability",
                )
            ]
        )
    if tables["scenario"]["horizon_years"][0] is None:
        raise InputError([no_horizon()])
    return [
        (overlay.name, overlay.probability, overlay_inputs(tables, overlay)) for overlay in overlays
    ]


def scenario_case(tables: Mapping[str, pl.DataFrame], name: str) -> Case:
    """The scenario `name` of the canonical `scenarios` table as (name, probability, plan
    inputs); bad input when there is no such scenario or scenario.yaml has no horizon."""
    overlays = {o.name: o for o in table_overlays(tables["scenarios"])}
    if name not in overlays:
        known = ", ".join(overlays) or "none"
        raise InputError([Problem(SCENARIOS_FOLDER, f"no scenario '{name}' (scenarios: {known})")])
    if tables["scenario"]["horizon_years"][0] is None:
        raise InputError([no_horizon()])
    overlay = overlays[name]
    return overlay.name, overlay.probability, overlay_inputs(tables, overlay)


def no_horizon() -> Problem:
    return Problem(
        SCENARIO_FILE,
        "a multi-year plan needs a horizon: {start_year: 2026, years: 5} at least",
        field="horizon",
    )


def overlay_inputs(tables: Mapping[str, pl.DataFrame], overlay: Overlay) -> PlanInputs:
    """The plan inputs of one scenario (module docstring)."""
    scenario = overridden_scenario(tables["scenario"], overlay)
    return with_multipliers(plan_inputs({**tables, "scenario": scenario}), overlay)


def with_multipliers(inputs: PlanInputs, overlay: Overlay) -> PlanInputs:
    """`inputs` with the overlay's capex, throughput and energy price multipliers applied."""
    capex, throughput = overlay.capex_multipliers, overlay.throughput_multipliers
    accelerators = {s.sku: s.accelerator for s in inputs.systems}
    systems = []
    for s in inputs.systems:
        factor = multiplier(capex, s.sku, s.accelerator)
        systems.append(
            replace(
                s,
                node_capex_usd=None if s.node_capex_usd is None else s.node_capex_usd * factor,
                rental_usd_per_gpu_hour=(
                    None
                    if s.rental_usd_per_gpu_hour is None
                    else s.rental_usd_per_gpu_hour * factor
                ),
            )
        )
    points = tuple(
        replace(
            p,
            tokens_per_s_per_gpu=p.tokens_per_s_per_gpu
            * multiplier(throughput, p.sku, accelerators.get(p.sku, "")),
        )
        for p in inputs.operating_points
    )
    energy = overlay.energy_price_multiplier
    slices = inputs.tariff_slices
    if slices is not None and energy != 1.0:
        slices = replace(
            slices,
            energy_usd_per_kwh=tuple(v * energy for v in slices.energy_usd_per_kwh),
            energy_adjustment_usd=tuple(v * energy for v in slices.energy_adjustment_usd),
        )
    return replace(
        inputs,
        systems=tuple(systems),
        operating_points=points,
        energy=replace(inputs.energy, energy_usd_per_kwh=inputs.energy.energy_usd_per_kwh * energy),
        tariff_slices=slices,
    )


def first_year_purchases(
    inputs: PlanInputs, plans: Sequence[HorizonSolution]
) -> list[dict[str, Any]]:
    """What every plan of `plans` buys (or starts renting) alike in their first year: one row
    per system, cooling, power design and kind, with the nodes and their GPUs. (The robust
    plan's scenarios share their first year's decisions; what one of them does otherwise in
    that year is its own.)"""
    systems = {s.sku: s for s in inputs.systems}

    def first_buys(plan: HorizonSolution) -> dict[tuple, int]:
        first = min((y.year for y in plan.years), default=None)
        return {
            (r.sku, r.cooling_id or "", r.power_id or "", r.kind): r.bought
            for r in plan.vintages
            if r.year == first and r.vintage_year == first and r.bought > 0
        }

    buys = [first_buys(plan) for plan in plans]
    shared = {key: n for key, n in buys[0].items() if all(b.get(key) == n for b in buys[1:])}
    return [
        {
            "sku": sku,
            "accelerator": systems[sku].accelerator,
            "cooling_id": cooling or None,
            "power_id": power or None,
            "kind": kind,
            "nodes": nodes,
            "gpus": nodes * systems[sku].gpus_per_node,
        }
        for (sku, cooling, power, kind), nodes in sorted(shared.items())
    ]
