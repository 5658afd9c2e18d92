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
(i₁, t₁), (i₂, t₂), i₁ < I* < i₂ and t₁ > t₂, the throughput at I* is interpolated

    t(I*) = t₂ + (t₁ − t₂) · (i₂ − I*) / (i₂ − i₁),

and TTFT likewise; the point is used if its interpolated TTFT meets the bound.

All (system, workload) pairs are computed at once, set-wise (`design_points`): one join
of the benchmark rows with the workloads, the fronts per (accelerator, workload,
configuration), then the systems joined on accelerator.

Energy. The flat year prices the tariff for a constant load equal to the MW budget
(`optimizer.tariff.flat_year_price`); tiers on monthly kWh are reached by MW-scale
loads, so the budget is the load the site is built for. Time-resolved plans read the
tariff's marginal prices per representative slice at the same site scale
(`optimizer.tariff.slice_prices`); `tariff_profiles` lists them for every tariff.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from optimizer.errors import Infeasible
from optimizer.inputs import (
    Cooling,
    EnergyPrice,
    Finance,
    Horizon,
    InstalledNodes,
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
    points = design_points(benchmarks, systems, workloads, interpolate)
    served = {p.sku for p in points}
    measured = set(benchmarks["accelerator"])
    notes += [
        f"{s.sku}: no operating point meets any workload's SLO; left out"
        for s in systems
        if s.sku not in served and s.accelerator in measured
    ]
    years = horizon(scenario, budget_mw)
    fleet, fleet_notes = installed_fleet(tables.get("fleet"), years, systems, served)
    notes += fleet_notes
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
        horizon=years,
        fleet=fleet,
    )


def horizon(scenario: Mapping, budget_mw: float) -> Horizon | None:
    """The scenario's multi-year horizon (its `horizon_*` columns); None for a one-year plan.
    Without a budget per year, every year has `budget_mw` (the scenario's, or its override)."""
    start, years = scenario.get("horizon_start_year"), scenario.get("horizon_years")
    if start is None or years is None:
        return None
    budgets, demand = scenario.get("horizon_budget_mw"), scenario.get("horizon_demand_tokens_per_s")
    return Horizon(
        start_year=start,
        years=years,
        budget_mw=(budget_mw,) * years if budgets is None else tuple(budgets),
        demand_tokens_per_s=None if demand is None else tuple(demand),
        energy_escalation_pct_per_year=scenario.get("horizon_energy_escalation_pct_per_year")
        or 0.0,
    )


def installed_fleet(
    fleet: pl.DataFrame | None,
    years: Horizon | None,
    systems: Sequence[System],
    served: set[str],
) -> tuple[tuple[InstalledNodes, ...], list[str]]:
    """The fleet table's rows still in service at the horizon's start, and a note naming each
    row left out: past its lifetime (installed_year + lifetime_years <= start_year), or of a
    system the plan leaves out. No horizon: no fleet (ingest refuses a fleet without one)."""
    if fleet is None or years is None:
        return (), []
    lifetimes = {s.sku: s.lifetime_years for s in systems}
    kept, notes = [], []
    for row in fleet.iter_rows(named=True):
        nodes = InstalledNodes(**_fields(row, InstalledNodes))
        what = f"fleet: {nodes.nodes} nodes of {nodes.sku} installed in {nodes.installed_year}"
        lifetime = lifetimes.get(nodes.sku)
        if lifetime is not None and nodes.installed_year + lifetime <= years.start_year:
            notes.append(
                f"{what}: past its {lifetime:g}-year lifetime by the start year "
                f"{years.start_year}; left out"
            )
        elif nodes.sku not in served:
            notes.append(f"{what}: the plan leaves {nodes.sku} out (see its note); left out")
        else:
            kept.append(nodes)
    return tuple(kept), notes


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
    profile, by_year = row.get("load_profile"), row.get("demand_by_year")
    return Workload(
        name=row["name"],
        share=row["share"],
        demand_tokens_per_s=row["demand_tokens_per_s"],
        load_shape=row.get("load_shape") or "interactive",
        load_profile=None if profile is None else tuple(profile),
        batch_quota=row.get("batch_quota") or "annual",
        price_usd_per_million_tokens=row.get("price_usd_per_million_tokens"),
        max_tokens_per_s=row.get("max_tokens_per_s"),
        demand_by_year=None if by_year is None else tuple(by_year),
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
    fields["capex_decline_pct_per_year"] = row.get("capex_decline_pct_per_year") or 0.0
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
_INTERACTIVITY = "interactivity_tokens_per_s_per_user"
_TPS = "tokens_per_s_per_gpu"
_FRONT = [*CONFIGURATION, "derived"]
"""A front: the points of one serving configuration, measured or derived."""
_GROUP = ["accelerator", "_w", *_FRONT]
"""(accelerator, workload, configuration, derived): one front, the same for every system of
the accelerator."""
_BENCHMARK_COLUMNS = [
    "accelerator",
    "model",
    "isl",
    "osl",
    *_FRONT,
    *CONFIGURATION_DETAILS,
    "concurrency",
    _TPS,
    _INTERACTIVITY,
    "ttft_s",
    "source",
]
_POINT_FIELDS = list(OperatingPoint.__dataclass_fields__)


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
        condition &= pl.col(_INTERACTIVITY).fill_null(0.0) >= low
    if high is not None:
        condition &= pl.col("ttft_s").is_not_null() & (pl.col("ttft_s") <= high)
    return condition


def operating_points(
    benchmarks: pl.DataFrame, system: System, workload: Mapping, interpolate: bool = True
) -> list[OperatingPoint]:
    """Per serving configuration (`CONFIGURATION`), the highest tokens/s per GPU that meets the
    workload's SLO, measured or interpolated on that configuration's front; derived and
    measured points of a configuration are fronts of their own (`design_points` for one
    system and one workload)."""
    return design_points(benchmarks, [system], [workload], interpolate)


def best_operating_point(
    benchmarks: pl.DataFrame, system: System, workload: Mapping, interpolate: bool = True
) -> OperatingPoint | None:
    """The highest tokens/s per GPU that meets the workload's SLO over every configuration."""
    points = operating_points(benchmarks, system, workload, interpolate)
    return best_points(points).get((system.sku, workload["name"]))


def design_points(
    benchmarks: pl.DataFrame,
    systems: Sequence[System],
    workloads: Sequence[Mapping],
    interpolate: bool = True,
) -> list[OperatingPoint]:
    """Per (system s, workload w, serving configuration c), the best point meeting w's SLO:
    measured, or interpolated at the interactivity bound on c's front (the module docstring
    states the maths), computed for all (s, w, c) at once.

    A front depends on the accelerator, not on the system, so each (accelerator, w, c) is
    computed once, in four set-wise steps:

    1. candidates: the benchmark rows joined with the workloads on (model, isl, osl), an
       empty length matching an empty one, and kept where the workload's `require_*`
       allow the row's configuration (`candidate_points` for every pair at once);
    2. measured: per (a, w, c), the row of most tokens/s per GPU among those meeting the
       SLO (`meets_slo`; the first in the benchmarks' order on a tie);
    3. interpolated: per (a, w, c), with rows by interactivity descending (throughput
       descending, then the benchmarks' order, on a tie), a row is on the front when its
       throughput exceeds the running maximum of the rows before it (`pareto_front`);
       the front point straddling the bound I* with the next one on the front,
       i₁ < I* < i₂, gives t(I*) and its TTFT, kept when that meets the TTFT bound;
    4. per (a, w, c) the interpolated point when it beats the measured one, joined with
       the systems on accelerator.

    Order: systems, then workloads, in the order given, then configurations in the order of
    their first benchmark row (what `group_by(maintain_order=True)` of the candidate rows
    gives).
    """
    if not systems or not workloads:
        return []
    accelerators = list(dict.fromkeys(s.accelerator for s in systems))
    rows = (
        with_configuration_columns(benchmarks)
        .select(_BENCHMARK_COLUMNS)
        .with_row_index("_row")
        .filter(pl.col("accelerator").is_in(accelerators))
    )
    untyped = [c for c in ("model", "isl", "osl") if rows.schema[c] == pl.Null]  # all empty
    rows = rows.with_columns(
        pl.col(c).cast(pl.String if c == "model" else pl.Int64) for c in untyped
    )
    stated = [c for c in CONFIGURATION if c in benchmarks.columns]
    candidates = _candidates(rows, _workload_frame(workloads, rows.schema), stated)
    if candidates.height == 0:
        return []
    low, high = pl.col("_low"), pl.col("_high")
    meets = (low.is_null() | (low <= 0) | (pl.col(_INTERACTIVITY).fill_null(0.0) >= low)) & (
        high.is_null() | (pl.col("ttft_s").is_not_null() & (pl.col("ttft_s") <= high))
    )
    groups = candidates.group_by(_GROUP).agg(pl.col("_row").min().alias("_first"))
    measured = (
        candidates.filter(meets)
        .sort([_TPS, "_row"], descending=[True, False])
        .unique(_GROUP, keep="first", maintain_order=True)
        .select(
            *_GROUP,
            *(
                pl.col(c).alias(f"_m_{c}")
                for c in (_TPS, _INTERACTIVITY, "ttft_s", "concurrency", "source")
            ),
            *(pl.col(c).alias(f"_m_{c}") for c in CONFIGURATION_DETAILS),
        )
    )
    found = groups.join(measured, on=_GROUP, how="left", nulls_equal=True)
    if interpolate:
        found = found.join(
            _interpolated(candidates), on=_GROUP, how="left", nulls_equal=True
        ).with_columns(
            _use=pl.col("_i_" + _TPS).is_not_null()
            & (pl.col("_m_" + _TPS).is_null() | (pl.col("_i_" + _TPS) > pl.col("_m_" + _TPS)))
        )
    else:
        found = found.with_columns(_use=pl.lit(False))
    found = found.filter(pl.col("_use") | pl.col("_m_" + _TPS).is_not_null())

    def chosen(column: str, interpolated: pl.Expr | None = None) -> pl.Expr:
        value = pl.lit(None) if interpolated is None else interpolated
        return pl.when(pl.col("_use")).then(value).otherwise(pl.col("_m_" + column)).alias(column)

    points = found.select(
        *_GROUP,
        "_first",
        chosen(_TPS, pl.col("_i_" + _TPS) if interpolate else None),
        chosen(_INTERACTIVITY, pl.col("_i_" + _INTERACTIVITY) if interpolate else None),
        chosen("ttft_s", pl.col("_i_ttft_s") if interpolate else None),
        chosen("concurrency"),
        chosen("source", pl.col("_i_source") if interpolate else None),
        *(chosen(c) for c in CONFIGURATION_DETAILS),
        pl.col("_use").alias("interpolated"),
    )
    fleet = pl.DataFrame(
        {
            "_s": range(len(systems)),
            "sku": [s.sku for s in systems],
            "accelerator": [s.accelerator for s in systems],
        },
        schema={"_s": pl.Int64, "sku": pl.String, "accelerator": rows.schema["accelerator"]},
    )
    names = pl.DataFrame(
        {"_w": range(len(workloads)), "workload": [w["name"] for w in workloads]},
        schema={"_w": pl.Int64, "workload": pl.String},
    )
    table = (
        fleet.join(points, on="accelerator")
        .join(names, on="_w")
        .sort("_s", "_w", "_first")
        .select(_POINT_FIELDS)
    )
    return [OperatingPoint(*row) for row in table.iter_rows()]


def _workload_frame(workloads: Sequence[Mapping], schema: pl.Schema) -> pl.DataFrame:
    """One row per workload: its index `_w`, model and lengths (the benchmarks' types), SLO
    bounds `_low` and `_high`, and each `require_*` as a lower-cased list (null: no
    requirement)."""
    return pl.DataFrame(
        {
            "_w": range(len(workloads)),
            "model": [w["model"] for w in workloads],
            "isl": [w["isl"] for w in workloads],
            "osl": [w["osl"] for w in workloads],
            "_low": [w["min_interactivity_tokens_per_s_per_user"] for w in workloads],
            "_high": [w["max_ttft_s"] for w in workloads],
            **{
                f"_{requirement}": [
                    None if w.get(requirement) is None else [str(v).lower() for v in w[requirement]]
                    for w in workloads
                ]
                for requirement in REQUIREMENTS
            },
        },
        schema={
            "_w": pl.Int64,
            "model": schema["model"],
            "isl": schema["isl"],
            "osl": schema["osl"],
            "_low": pl.Float64,
            "_high": pl.Float64,
            **{f"_{requirement}": pl.List(pl.String) for requirement in REQUIREMENTS},
        },
    )


def _candidates(rows: pl.DataFrame, workloads: pl.DataFrame, stated: list[str]) -> pl.DataFrame:
    """Every (benchmark row, workload) pair of `candidate_points`: same model, the same
    (isl, osl) with an empty one matching an empty one, a configuration the workload allows
    (requirements on the configuration columns `stated` by the benchmark table)."""
    pairs = rows.join(workloads, on=["model", "isl", "osl"], nulls_equal=True).filter(
        pl.col("model").is_not_null()
    )
    for requirement, column in REQUIREMENTS.items():
        if column not in stated:
            continue
        allowed = pl.col(f"_{requirement}")
        text = pl.col(column).cast(pl.String).str.to_lowercase()
        pairs = pairs.filter(
            allowed.is_null() | (text.is_not_null() & allowed.list.contains(text).fill_null(False))
        )
    return pairs.drop(f"_{requirement}" for requirement in REQUIREMENTS)


def _on_front(by: list[str]) -> pl.Expr:
    """Of rows by interactivity descending, those whose throughput exceeds every one before
    them (in each group of `by`)."""
    before = pl.col(_TPS).cum_max().shift(1)
    if by:
        before = before.over(by)
    return before.is_null() | (pl.col(_TPS) > before)


def _by_interactivity(points: pl.DataFrame) -> pl.DataFrame:
    """Points by interactivity descending, then throughput descending, then input order (empty
    values first)."""
    return points.sort([_INTERACTIVITY, _TPS], descending=[True, True], maintain_order=True)


def _interpolated(candidates: pl.DataFrame) -> pl.DataFrame:
    """Per (accelerator, workload, configuration) the point of its front at the workload's
    interactivity bound I*, where I* falls in a gap of the front (i₁ < I* < i₂):

        w = (i₂ − I*) / (i₂ − i₁),  t(I*) = t₂ + w (t₁ − t₂),  TTFT(I*) = TTFT₂ + w (TTFT₁ − TTFT₂),

    kept when TTFT(I*) meets the workload's bound. Columns `_i_<field>`; the descriptive
    fields of the point are those of the front point above the bound (i₂)."""
    target = pl.col("_low")
    rows = candidates.filter(
        target.is_not_null()
        & (target != 0)
        & pl.col(_INTERACTIVITY).is_not_null()
        & pl.col("ttft_s").is_not_null()
    )
    front = _by_interactivity(rows).filter(_on_front(_GROUP))

    def below(column: str) -> pl.Expr:  # the next front point down in interactivity
        return pl.col(column).shift(-1).over(_GROUP)

    i2 = pl.col(_INTERACTIVITY)
    gaps = front.with_columns(
        _i1=below(_INTERACTIVITY),
        _t1=below(_TPS),
        _f1=below("ttft_s"),
        _s1=below("source"),
        _c1=below("concurrency"),
    ).filter((pl.col("_i1") < target) & (target < i2))
    weight = (i2 - target) / (i2 - pl.col("_i1"))
    points = gaps.select(
        *_GROUP,
        (pl.col(_TPS) + weight * (pl.col("_t1") - pl.col(_TPS))).alias("_i_" + _TPS),
        target.alias("_i_" + _INTERACTIVITY),
        (pl.col("ttft_s") + weight * (pl.col("_f1") - pl.col("ttft_s"))).alias("_i_ttft_s"),
        pl.format(
            "interpolated between {} (conc {}) and conc {}",
            _text(pl.col("_s1")),
            _text(pl.col("_c1")),
            _text(pl.col("concurrency")),
        ).alias("_i_source"),
        pl.col("_high"),
    )
    return points.filter(pl.col("_high").is_null() | (pl.col("_i_ttft_s") <= pl.col("_high"))).drop(
        "_high"
    )


def _text(column: pl.Expr) -> pl.Expr:
    """A value as Python's f-string writes it (an empty one as `None`)."""
    return column.cast(pl.String).fill_null("None")


def pareto_front(points: pl.DataFrame) -> pl.DataFrame:
    """Points no other point beats on both interactivity and throughput, by interactivity
    ascending (of equal ones, the first in input order)."""
    return _by_interactivity(points).filter(_on_front([])).reverse()
