"""The design space: canonical tables → `PlanInputs` (plain data the model reads).

Operating points. For system s (accelerator a) and workload w, the candidate benchmark
rows are those of accelerator a and w's model whose (isl, osl) equal w's (a workload
with no isl/osl takes rows with none: MLPerf's variable-length datasets). A row meets
the SLO when

    interactivity ≥ min_interactivity_w   and   ttft ≤ max_ttft_w

(an empty interactivity or TTFT is an unbounded, offline measurement: it meets no bound).
Every GPU costs the same whichever point it runs at, so only the best point matters:

    tps[s, w] = max { tokens_per_s_per_gpu(r) : r meets the SLO of w }.

Between measured points the SLO may fall inside a gap of the throughput–interactivity
Pareto front of one (framework, precision) configuration. With front points
(i₁, t₁), (i₂, t₂), i₁ < I* ≤ i₂ and t₁ > t₂, the throughput at I* is interpolated

    t(I*) = t₂ + (t₁ − t₂) · (i₂ − I*) / (i₂ − i₁),

and TTFT likewise; the point is used if its interpolated TTFT meets the bound.

Energy. The flat year prices the tariff for a constant load equal to the MW budget
(`optimizer.tariff.flat_year_price`); tiers on monthly kWh are reached by MW-scale
loads, so the budget is the load the site is built for. Time-resolved plans read the
tariff's marginal prices per representative slice at the same site scale
(`optimizer.tariff.slice_prices`); `tariff_profiles` lists them for every tariff.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

import polars as pl

from optimizer.errors import Infeasible
from optimizer.inputs import (
    Cooling,
    EnergyPrice,
    Finance,
    OperatingPoint,
    PlanInputs,
    PowerDesign,
    System,
    Workload,
)
from optimizer.tariff import DAY_TYPES, Tariff, TariffTables, flat_year_price, slice_prices
from optimizer.timeslices import priced_slices

Tables = Mapping[str, pl.DataFrame]


def plan_inputs(
    tables: Tables, budget_mw: float | None = None, interpolate: bool = True
) -> PlanInputs:
    """Everything one solve needs, from the canonical tables.

    `budget_mw` overrides the scenario's.
    """
    scenario = tables["scenario"].row(0, named=True)
    budget_mw = float(budget_mw if budget_mw is not None else scenario["budget_mw"])
    systems = tuple(_system(row, scenario) for row in tables["hardware"].iter_rows(named=True))
    workloads, notes = measured_workloads(tables)
    notes += unmeasured_system_notes(tables)
    points = []
    for system in systems:
        for workload in workloads:
            point = best_operating_point(tables["benchmarks"], system, workload, interpolate)
            if point is not None:
                points.append(point)
    served = {p.sku for p in points}
    measured = set(tables["benchmarks"]["accelerator"])
    notes += [
        f"{s.sku}: no operating point meets any workload's SLO; left out"
        for s in systems
        if s.sku not in served and s.accelerator in measured
    ]
    tariff = Tariff.from_tables(tariff_tables(tables), scenario["tariff"])
    energy_usd_per_kwh, demand_usd_per_kw_month, fixed_usd_per_year = flat_year_price(
        tariff, budget_mw * 1000.0
    )
    return PlanInputs(
        name=scenario["name"],
        budget_mw=budget_mw,
        systems=tuple(s for s in systems if s.sku in served),
        coolings=tuple(
            Cooling(**_fields(row, Cooling)) for row in tables["cooling"].iter_rows(named=True)
        ),
        power_designs=tuple(
            PowerDesign(**_fields(row, PowerDesign))
            for row in tables["power"].iter_rows(named=True)
        ),
        workloads=tuple(_workload(w) for w in workloads),
        operating_points=tuple(points),
        energy=EnergyPrice(
            tariff_id=scenario["tariff"],
            energy_usd_per_kwh=energy_usd_per_kwh,
            demand_usd_per_kw_month=demand_usd_per_kw_month,
            fixed_usd_per_year=fixed_usd_per_year,
        ),
        finance=Finance(**_fields(scenario, Finance)),
        notes=tuple(notes),
        tariff_slices=slice_prices(tariff, budget_mw * 1000.0),
    )


def measured_workloads(tables: Tables) -> tuple[list[dict], list[str]]:
    """The workloads with at least one benchmark row (their model, isl and osl) on an
    accelerator of the price sheets, and a note naming each one without.

    A workload without a benchmark cannot be planned, but the rest can: it is left out,
    and in cost-per-token mode the others' shares are scaled to sum to 1. None left is
    `Infeasible`, with every workload's note as the reason.
    """
    benchmarks = tables["benchmarks"].filter(
        pl.col("accelerator").is_in(tables["hardware"]["accelerator"].to_list())
    )
    kept, notes = [], []
    for workload in tables["workloads"].iter_rows(named=True):
        rows = benchmarks.filter(pl.col("model") == workload["model"])
        if candidate_points(rows, None, workload).height:
            kept.append(workload)
            continue
        lengths = (
            ""
            if workload["isl"] is None and workload["osl"] is None
            else f" at isl {workload['isl']} / osl {workload['osl']}"
        )
        measured = sorted({f"{isl}/{osl}" for isl, osl in rows.select("isl", "osl").iter_rows()})
        if rows.height:
            known = f"measured isl/osl for it: {', '.join(measured)}"
        else:
            known = (
                f"models with benchmarks: {', '.join(sorted(set(benchmarks['model']))) or 'none'}"
            )
        notes.append(
            f"workload {workload['name']} (model {workload['model']}): no benchmark "
            f"rows{lengths} on the systems of the price sheets ({known}); planned without it"
        )
    if not kept:
        raise Infeasible("; ".join(notes))
    shares = [w["share"] for w in kept]
    if len(kept) < tables["workloads"].height and None not in shares:
        total = sum(shares)
        if total <= 0:
            raise Infeasible("; ".join(notes) + "; the workloads left have no share of the tokens")
        kept = [w | {"share": w["share"] / total} for w in kept]
        notes.append(
            f"shares of the workloads planned ({', '.join(w['name'] for w in kept)}) scaled by "
            f"1/{total:g} to sum to 1"
        )
    return kept, notes


def unmeasured_system_notes(tables: Tables) -> list[str]:
    """A note for each system whose accelerator has no benchmark row, naming the ones that have."""
    measured = sorted(set(tables["benchmarks"]["accelerator"]))
    return [
        f"{row['sku']} (accelerator {row['accelerator']}): no benchmark rows for this accelerator "
        f"(accelerators with benchmarks: {', '.join(measured)}); left out"
        for row in tables["hardware"].iter_rows(named=True)
        if row["accelerator"] not in measured
    ]


def _workload(row: Mapping) -> Workload:
    profile = row.get("load_profile")
    return Workload(
        name=row["name"],
        share=row["share"],
        demand_tokens_per_s=row["demand_tokens_per_s"],
        load_shape=row.get("load_shape") or "interactive",
        load_profile=None if profile is None else tuple(profile),
        batch_quota=row.get("batch_quota") or "annual",
    )


def tariff_profile_frame(tables: Tables, site_kw: float) -> pl.DataFrame:
    """Every tariff's marginal prices per representative slice at `site_kw`
    (`optimizer.tariff.slice_prices`): one row per (tariff_id, month, day_type, hour) with
    weight_days (days of the reference year the slice stands for), energy_usd_per_kwh,
    demand_period (TOU; null without a TOU demand charge), demand_usd_per_kw (that
    period's charge per kW of the month's peak in it) and flat_demand_usd_per_kw (the
    month's charge per kW of its peak)."""
    frames = []
    for tariff_id in tables["tariffs"]["tariff_id"]:
        prices = slice_prices(Tariff.from_tables(tariff_tables(tables), tariff_id), site_kw)
        slices = priced_slices(prices, "representative")
        period = slices.demand_period
        frames.append(
            pl.DataFrame(
                {
                    "tariff_id": [tariff_id] * len(slices),
                    "month": slices.month,
                    "day_type": [DAY_TYPES[d] for d in slices.day_type],
                    "hour": slices.hour,
                    "weight_days": slices.weight_days,
                    "energy_usd_per_kwh": slices.price_usd_per_kwh,
                    "demand_period": [None if d < 0 else int(d) for d in period],
                    "demand_usd_per_kw": [
                        0.0 if d < 0 else float(slices.demand_usd_per_kw[d]) for d in period
                    ],
                    "flat_demand_usd_per_kw": slices.flat_demand_usd_per_kw[slices.month - 1],
                },
                schema_overrides={"month": pl.Int64, "hour": pl.Int64, "demand_period": pl.Int64},
            )
        )
    return pl.concat(frames)


def tariff_tables(tables: Tables) -> TariffTables:
    return TariffTables(
        tariffs=tables["tariffs"],
        energy_rates=tables["tariff_energy_rates"],
        demand_rates=tables["tariff_demand_rates"],
        schedules=tables["tariff_schedules"],
    )


def _fields(row: Mapping, cls) -> dict:
    return {name: row[name] for name in cls.__dataclass_fields__ if name in row}


def _system(row: Mapping, scenario: Mapping) -> System:
    fields = _fields(row, System)
    fields["cooling_kinds"] = tuple(row["cooling_kinds"] or ())
    fields["lifetime_years"] = row["lifetime_years"] or scenario["it_lifetime_years"]
    fields["node_power_kw"] = row["node_power_kw"] or 0.0  # rented systems draw no site power
    fields["node_idle_power_kw"] = row["node_idle_power_kw"] or 0.0
    return System(**fields)


def candidate_points(
    benchmarks: pl.DataFrame, accelerator: str | None, workload: Mapping
) -> pl.DataFrame:
    """Benchmark rows of this accelerator (None: any) and the workload's model and sequence
    lengths."""
    rows = benchmarks.filter(pl.col("model") == workload["model"])
    if accelerator is not None:
        rows = rows.filter(pl.col("accelerator") == accelerator)
    for length in ("isl", "osl"):
        rows = rows.filter(
            pl.col(length).is_null()
            if workload[length] is None
            else pl.col(length) == workload[length]
        )
    return rows


def meets_slo(workload: Mapping) -> pl.Expr:
    """interactivity ≥ minimum and TTFT ≤ maximum; an unbounded (empty) measurement meets no
    bound."""
    low, high = workload["min_interactivity_tokens_per_s_per_user"], workload["max_ttft_s"]
    condition = pl.lit(True)
    if low is not None and low > 0:
        condition &= pl.col("interactivity_tokens_per_s_per_user").fill_null(0.0) >= low
    if high is not None:
        condition &= pl.col("ttft_s").is_not_null() & (pl.col("ttft_s") <= high)
    return condition


def best_operating_point(
    benchmarks: pl.DataFrame, system: System, workload: Mapping, interpolate: bool = True
) -> OperatingPoint | None:
    """The highest tokens/s per GPU that meets the workload's SLO, measured or interpolated."""
    rows = candidate_points(benchmarks, system.accelerator, workload)
    measured = rows.filter(meets_slo(workload)).sort("tokens_per_s_per_gpu", descending=True)
    best = measured.row(0, named=True) if measured.height else None
    point = None if best is None else _point(system, workload, best, interpolated=False)
    if interpolate:
        for candidate in _interpolated_points(rows, workload):
            if point is None or candidate["tokens_per_s_per_gpu"] > point.tokens_per_s_per_gpu:
                point = _point(system, workload, candidate, interpolated=True)
    return point


def _point(system: System, workload: Mapping, row: Mapping, interpolated: bool) -> OperatingPoint:
    return OperatingPoint(
        sku=system.sku,
        workload=workload["name"],
        tokens_per_s_per_gpu=row["tokens_per_s_per_gpu"],
        interactivity_tokens_per_s_per_user=row["interactivity_tokens_per_s_per_user"],
        ttft_s=row["ttft_s"],
        concurrency=row["concurrency"],
        framework=row["framework"],
        precision=row["precision"],
        source=row["source"],
        interpolated=interpolated,
    )


def pareto_front(points: pl.DataFrame) -> pl.DataFrame:
    """Points no other point beats on both interactivity and throughput, by interactivity
    ascending."""
    ordered = points.sort(
        ["interactivity_tokens_per_s_per_user", "tokens_per_s_per_gpu"], descending=[True, True]
    )
    front, best = [], float("-inf")
    for row in ordered.iter_rows(named=True):
        if row["tokens_per_s_per_gpu"] > best:
            front.append(row)
            best = row["tokens_per_s_per_gpu"]
    return pl.DataFrame(front[::-1], schema=points.schema)


def _interpolated_points(rows: pl.DataFrame, workload: Mapping) -> list[dict]:
    """For each (framework, precision) front, the point at the interactivity bound, if it lies
    in a gap."""
    target = workload["min_interactivity_tokens_per_s_per_user"]
    if not target:
        return []
    rows = rows.filter(
        pl.col("interactivity_tokens_per_s_per_user").is_not_null() & pl.col("ttft_s").is_not_null()
    )
    found = []
    for _, group in rows.group_by(["framework", "precision"], maintain_order=True):
        front = pareto_front(group).to_dicts()
        for low, high in pairwise(front):
            i1, i2 = (
                low["interactivity_tokens_per_s_per_user"],
                high["interactivity_tokens_per_s_per_user"],
            )
            if not (i1 < target < i2):
                continue
            weight = (i2 - target) / (i2 - i1)
            point = dict(high)
            point["tokens_per_s_per_gpu"] = high["tokens_per_s_per_gpu"] + weight * (
                low["tokens_per_s_per_gpu"] - high["tokens_per_s_per_gpu"]
            )
            point["ttft_s"] = high["ttft_s"] + weight * (low["ttft_s"] - high["ttft_s"])
            point["interactivity_tokens_per_s_per_user"] = target
            point["concurrency"] = None
            point["source"] = (
                f"interpolated between {low['source']} (conc {low['concurrency']}) and "
                f"conc {high['concurrency']}"
            )
            if workload["max_ttft_s"] is None or point["ttft_s"] <= workload["max_ttft_s"]:
                found.append(point)
    return found
