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
    best_points,
)
from optimizer.tariff import DAY_TYPES, Tariff, TariffTables, flat_year_price, slice_prices
from optimizer.timeslices import priced_slices

Tables = Mapping[str, pl.DataFrame]


class UnknownTariff(ValueError):
    """A tariff override that names no tariff of the inputs (bad input, not infeasible)."""


def plan_inputs(
    tables: Tables,
    budget_mw: float | None = None,
    interpolate: bool = True,
    tariff_id: str | None = None,
) -> PlanInputs:
    """Everything one solve needs, from the canonical tables.

    `budget_mw` and `tariff_id` override the scenario's (an unknown tariff is
    `UnknownTariff`). `operating_points` holds, per (system, workload), the best point of
    each serving configuration; the plan uses the best of them (`best_points`) and the
    lever table takes configurations away (`optimizer.levers`).
    """
    scenario = tables["scenario"].row(0, named=True)
    budget_mw = float(budget_mw if budget_mw is not None else scenario["budget_mw"])
    systems = tuple(_system(row, scenario) for row in tables["hardware"].iter_rows(named=True))
    benchmarks, notes = with_derived_points(
        tables["benchmarks"], tables.get("benchmark_derivations")
    )
    tables = {**tables, "benchmarks": benchmarks}
    workloads, workload_notes = measured_workloads(tables)
    notes += workload_notes + unmeasured_system_notes(tables)
    points = [
        point
        for system in systems
        for workload in workloads
        for point in operating_points(benchmarks, system, workload, interpolate)
    ]
    served = {p.sku for p in points}
    measured = set(benchmarks["accelerator"])
    notes += [
        f"{s.sku}: no operating point meets any workload's SLO; left out"
        for s in systems
        if s.sku not in served and s.accelerator in measured
    ]
    tariff_id = tariff_id or scenario["tariff"]
    known = tables["tariffs"]["tariff_id"].to_list()
    if tariff_id not in known:
        raise UnknownTariff(f"tariff '{tariff_id}' is not in tariffs/ (known: {', '.join(known)})")
    tariff = Tariff.from_tables(tariff_tables(tables), tariff_id)
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
            tariff_id=tariff_id,
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
        required = {
            column: workload[name] for name, column in REQUIREMENTS.items() if workload.get(name)
        }
        if required and candidate_points(rows, None, {**workload, **_no_requirements()}).height:
            allowed = "; ".join(f"{c} {', '.join(map(str, v))}" for c, v in required.items())
            known = f"none in the configurations it requires: {allowed}"
        elif rows.height:
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


def _no_requirements() -> dict[str, None]:
    return dict.fromkeys(REQUIREMENTS)


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
        price_usd_per_million_tokens=row.get("price_usd_per_million_tokens"),
        max_tokens_per_s=row.get("max_tokens_per_s"),
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
    if row.get("power_kinds"):
        fields["power_kinds"] = tuple(row["power_kinds"])
    fields["rental_hosting"] = row.get("rental_hosting") or "remote"
    return System(**fields)


CONFIGURATION = ("framework", "precision", "spec_decoding", "disaggregated", "kv_offload")
"""The columns that make a serving configuration: a throughput–interactivity front is built
per (system, model, isl, osl, configuration). Parallelism and the prefill/decode split are
details of a point: they change along a front."""
CONFIGURATION_DETAILS = ("prefill_gpus", "decode_gpus", "parallelism")
REQUIREMENTS = {f"require_{name}": name for name in CONFIGURATION}
"""Workload column → the configuration column it restricts (`require:` in scenario.yaml)."""
_TEXT_COLUMNS = ("framework", "precision", "spec_decoding", "parallelism")
_FLAG_COLUMNS = ("disaggregated", "kv_offload", "derived")


def with_configuration_columns(benchmarks: pl.DataFrame) -> pl.DataFrame:
    """`benchmarks` with every configuration column (an absent one is empty: not stated) and
    `derived` (False: measured)."""
    missing = {
        name: dtype
        for name, dtype in (
            *((c, pl.String) for c in _TEXT_COLUMNS),
            *((c, pl.Boolean) for c in _FLAG_COLUMNS),
            *((c, pl.Int64) for c in ("prefill_gpus", "decode_gpus")),
        )
        if name not in benchmarks.columns
    }
    frame = benchmarks.with_columns(pl.lit(None, dtype).alias(n) for n, dtype in missing.items())
    return frame.with_columns(pl.col("derived").fill_null(False))


def with_derived_points(
    benchmarks: pl.DataFrame, derivations: pl.DataFrame | None
) -> tuple[pl.DataFrame, list[str]]:
    """The measured points plus the derived ones of `benchmarks/derived.csv`, and a note for each
    derivation with nothing to scale.

    A derivation (accelerator a, model m, from_accelerator f, ratio r, source) copies every
    measured point of f on m to a, tokens/s per GPU (both columns) × r, interactivity and
    TTFT unchanged, `derived` true and the source naming both. Derived points compete with
    a's own measurements, point by point, like any other point.
    """
    frame = with_configuration_columns(benchmarks)
    if derivations is None or derivations.height == 0:
        return frame, []
    measured = frame.filter(~pl.col("derived"))
    derived, notes = [], []
    for row in derivations.iter_rows(named=True):
        ratio = row["throughput_ratio"]
        rows = measured.filter(
            (pl.col("accelerator") == row["from_accelerator"]) & (pl.col("model") == row["model"])
        )
        if rows.height == 0:
            notes.append(
                f"derived points of {row['accelerator']} on {row['model']}: "
                f"{row['from_accelerator']} has no measured point for that model; none derived"
            )
            continue
        derived.append(
            rows.with_columns(
                pl.lit(row["accelerator"]).alias("accelerator"),
                pl.col("tokens_per_s_per_gpu") * ratio,
                pl.col("output_tokens_per_s_per_gpu") * ratio,
                pl.lit(True).alias("derived"),
                (
                    pl.lit(
                        f"derived from {row['from_accelerator']} x {ratio:g} ({row['source']}); "
                        "measured: "
                    )
                    + pl.col("source")
                ).alias("source"),
            )
        )
    return pl.concat([frame, *derived], how="vertical_relaxed"), notes


def candidate_points(
    benchmarks: pl.DataFrame, accelerator: str | None, workload: Mapping
) -> pl.DataFrame:
    """Benchmark rows of this accelerator (None: any) and the workload's model and sequence
    lengths, in the configurations the workload allows (`require_*`: a row that does not
    state a required field does not meet the requirement)."""
    rows = benchmarks.filter(pl.col("model") == workload["model"])
    if accelerator is not None:
        rows = rows.filter(pl.col("accelerator") == accelerator)
    for length in ("isl", "osl"):
        rows = rows.filter(
            pl.col(length).is_null()
            if workload[length] is None
            else pl.col(length) == workload[length]
        )
    for requirement, column in REQUIREMENTS.items():
        allowed = workload.get(requirement)
        if allowed is not None and column in rows.columns:
            text = pl.col(column).cast(pl.String).str.to_lowercase()
            rows = rows.filter(text.is_in([str(v).lower() for v in allowed]).fill_null(False))
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


def operating_points(
    benchmarks: pl.DataFrame, system: System, workload: Mapping, interpolate: bool = True
) -> list[OperatingPoint]:
    """Per serving configuration (`CONFIGURATION`), the highest tokens/s per GPU that meets the
    workload's SLO, measured or interpolated on that configuration's front; derived and
    measured points of a configuration are fronts of their own."""
    rows = with_configuration_columns(candidate_points(benchmarks, system.accelerator, workload))
    found = []
    for _, group in rows.group_by([*CONFIGURATION, "derived"], maintain_order=True):
        measured = group.filter(meets_slo(workload)).sort("tokens_per_s_per_gpu", descending=True)
        best = measured.row(0, named=True) if measured.height else None
        point = None if best is None else _point(system, workload, best, interpolated=False)
        for candidate in _interpolated_points(group, workload) if interpolate else ():
            if point is None or candidate["tokens_per_s_per_gpu"] > point.tokens_per_s_per_gpu:
                point = _point(system, workload, candidate, interpolated=True)
        if point is not None:
            found.append(point)
    return found


def best_operating_point(
    benchmarks: pl.DataFrame, system: System, workload: Mapping, interpolate: bool = True
) -> OperatingPoint | None:
    """The highest tokens/s per GPU that meets the workload's SLO over every configuration."""
    points = operating_points(benchmarks, system, workload, interpolate)
    return best_points(points).get((system.sku, workload["name"]))


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
        spec_decoding=row["spec_decoding"],
        disaggregated=row["disaggregated"],
        prefill_gpus=row["prefill_gpus"],
        decode_gpus=row["decode_gpus"],
        kv_offload=row["kv_offload"],
        parallelism=row["parallelism"],
        derived=bool(row["derived"]),
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
    """The points of one configuration's front at the interactivity bound, where it lies in a
    gap of the front."""
    target = workload["min_interactivity_tokens_per_s_per_user"]
    if not target:
        return []
    rows = rows.filter(
        pl.col("interactivity_tokens_per_s_per_user").is_not_null() & pl.col("ttft_s").is_not_null()
    )
    found = []
    front = pareto_front(rows).to_dicts()
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
        for detail in CONFIGURATION_DETAILS:  # the split and parallelism lie between the two
            point[detail] = None
        point["source"] = (
            f"interpolated between {low['source']} (conc {low['concurrency']}) and "
            f"conc {high['concurrency']}"
        )
        if workload["max_ttft_s"] is None or point["ttft_s"] <= workload["max_ttft_s"]:
            found.append(point)
    return found
