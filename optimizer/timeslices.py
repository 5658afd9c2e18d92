"""Time slices of the planning year: the calendar, the tariff per slice, load shapes.

Plain numpy over `PlanInputs`; no Pyomo. The model (`optimizer.model`) reads `TimeSlices`.

Resolutions (`TIME_RESOLUTIONS`):

- `flat`: no slices. The year at the scenario's utilization and the tariff's average
  price (`optimizer.economics`).
- `representative`: 12 months × {weekday, weekend} × 24 hours = 576 slices. Slice
  (m, d, h) stands for hour h of every day of type d in month m of the reference year
  (`optimizer.tariff.reference_year_hours`: non-leap, 1 January a Monday, Saturday and
  Sunday the weekend, holidays are weekdays); its weight is that day count, `weight_days`.
- `hourly`: the 8760 hours of the reference year, each of weight one day.

The hours a slice stands for: W_t = weight_days_t × hours_per_year / 8760, so
Σ_t W_t = hours_per_year (8760 unless the scenario says otherwise).

Prices (`PricedSlices`): a slice takes the prices of its representative slice in
`TariffSlices`: energy π_t [USD/kWh], TOU demand period d_t, and the monthly demand
rates. Tariff schedules are per (month, day type, hour) and load profiles per hour of day,
so both resolutions describe the same year: an hourly plan is the representative plan
with each slice split into its days, and the two have the same optimum. Hourly is the
size check, and the place for loads that would vary from one day to the next.

Load shapes. An interactive workload w delivers f_w(h) × its peak throughput in hour h,
f_w scaled so that max_h f_w(h) = 1; the scenario may give it as `load_profile` (24
hourly fractions). When it does not, `DEFAULT_DIURNAL_PROFILE`, a stylized day rather
than a measured trace:

    f(h) = 0.7 + 0.3 · cos(2π (h − 14) / 24)

peak 1.0 at 14:00, trough 0.4 at 02:00, mean 0.7 (the default scenario's flat
utilization, so a flat and a time-resolved plan of an interactive fleet serve the same
tokens per GPU). The shape (a night trough, an early-afternoon peak at 2.5× the trough)
follows the daily cycles reported for production LLM serving, e.g. the Microsoft Office
365 traces characterized in SageServe (arXiv:2502.14617); the numbers are a planning
assumption. Batch workloads have no profile: the model places their tokens.

Load states (`TimeSlices`). The model has its per-slice variables and rows per load
state q. When no workload is batch, the fleet's load in a slice depends only on the hour
of day, so the slices collapse to 24 states, one per hour, each standing for every slice
of its hour; with a batch workload each slice is a state.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from optimizer.inputs import BATCH_QUOTAS, LOAD_SHAPES, PlanInputs, TariffSlices, Workload
from optimizer.tariff import (
    HOURS_PER_YEAR,
    REPRESENTATIVE_SLICES,
    reference_year_hours,
    representative_slice,
)
from optimizer.types import TimeResolution

TIME_RESOLUTIONS = tuple(resolution.value for resolution in TimeResolution)
"""The `TimeResolution` texts, in order (text, so that a message listing them reads well)."""
HOURS_PER_DAY = 24
DEFAULT_DIURNAL_PROFILE = tuple(
    0.7 + 0.3 * math.cos(2 * math.pi * (h - 14) / HOURS_PER_DAY) for h in range(HOURS_PER_DAY)
)
"""The interactive load shape when the scenario gives none (see the module docstring)."""


@dataclass(frozen=True)
class PricedSlices:
    """The slices of the reference year at one resolution, priced by the tariff. One entry per
    slice t."""

    resolution: str
    month: np.ndarray
    """1..12"""
    day_type: np.ndarray
    """0 weekday, 1 weekend"""
    hour: np.ndarray
    """0..23, hour of day"""
    day: np.ndarray
    """The day the slice belongs to (daily quotas): representative (month, day type) 0..23;
    hourly day of year 0..364."""
    weight_days: np.ndarray
    """Days of the reference year the slice stands for."""
    weight_hours: np.ndarray
    """W_t = weight_days × hours_per_year / 8760 [h/year]."""
    price_usd_per_kwh: np.ndarray
    """π_t, marginal energy price."""
    demand_period: np.ndarray
    """d_t, TOU demand period (−1: none)."""
    demand_usd_per_kw: np.ndarray
    """r_d per TOU demand period [USD per kW of the month's peak in d]."""
    flat_demand_usd_per_kw: np.ndarray
    """r_m per month [USD per kW of the month's peak]."""
    energy_adjustment_usd: np.ndarray
    """a_m per month: what the energy tiers below the margin add [USD]
    (`optimizer.tariff.slice_prices`)."""
    demand_adjustment_usd: np.ndarray
    """b_m per month: what the demand tiers below the margin add [USD]."""
    slice_of_hour: np.ndarray
    """(8760) the slice each hour of the reference year belongs to."""

    def __len__(self) -> int:
        return len(self.month)

    def monthly(self, grid_kw: np.ndarray) -> list[dict]:
        """The energy and demand charges of a grid load P_t [kW per slice], month by month.

        energy_kwh_m = Σ_{t∈m} W_t P_t,   energy_usd_m = Σ_{t∈m} W_t π_t P_t + a_m,
        peak_grid_kw_m = max_{t∈m} P_t,
        demand_usd_m = r_m · peak_m + Σ_d r_d · max_{t∈m, d_t=d} P_t + b_m.
        """
        grid_kw = np.asarray(grid_kw, dtype=float)
        rows = []
        for m in range(1, 13):
            in_month = self.month == m
            load, hours = grid_kw[in_month], self.weight_hours[in_month]
            periods = self.demand_period[in_month]
            peak = float(load.max())
            demand = (
                self.flat_demand_usd_per_kw[m - 1] * peak
                + self.demand_adjustment_usd[m - 1]
                + sum(
                    self.demand_usd_per_kw[d] * load[periods == d].max()
                    for d in np.unique(periods[periods >= 0])
                )
            )
            energy = (hours * self.price_usd_per_kwh[in_month]) @ load + self.energy_adjustment_usd[
                m - 1
            ]
            rows.append(
                {
                    "month": m,
                    "energy_kwh": float(hours @ load),
                    "energy_usd": float(energy),
                    "peak_grid_kw": peak,
                    "demand_usd": float(demand),
                }
            )
        return rows

    def hourly(self, values: np.ndarray) -> np.ndarray:
        """A per-slice series as the 8760 hours of the reference year (each hour takes its
        slice's value)."""
        return np.asarray(values, dtype=float)[self.slice_of_hour]


def priced_slices(
    tariff: TariffSlices, resolution: str, hours_per_year: float = HOURS_PER_YEAR
) -> PricedSlices:
    """The slices of `resolution` (representative | hourly) with the tariff's prices."""
    year = reference_year_hours()
    representative = representative_slice(year)
    if resolution == "representative":
        index = np.arange(REPRESENTATIVE_SLICES)
        month, day_type, hour = index // 48 + 1, index // 24 % 2, index % 24
        day = index // 24
        weight_days = np.bincount(representative, minlength=REPRESENTATIVE_SLICES).astype(float)
        slice_of_hour = representative
    elif resolution == "hourly":
        month, day_type, hour = year.month, year.weekend.astype(int), year.hour
        day = np.arange(HOURS_PER_YEAR) // HOURS_PER_DAY
        weight_days = np.ones(HOURS_PER_YEAR)
        index = representative
        slice_of_hour = np.arange(HOURS_PER_YEAR)
    else:
        raise ValueError(
            f"time resolution must be representative or hourly to have slices, got {resolution!r}"
        )
    return PricedSlices(
        resolution=resolution,
        month=month,
        day_type=day_type,
        hour=hour,
        day=day,
        weight_days=weight_days,
        weight_hours=weight_days * hours_per_year / HOURS_PER_YEAR,
        price_usd_per_kwh=np.asarray(tariff.energy_usd_per_kwh)[index],
        demand_period=np.asarray(tariff.demand_period, dtype=int)[index],
        demand_usd_per_kw=np.asarray(tariff.demand_usd_per_kw, dtype=float),
        flat_demand_usd_per_kw=np.asarray(tariff.flat_demand_usd_per_kw, dtype=float),
        energy_adjustment_usd=np.asarray(tariff.energy_adjustment_usd, dtype=float),
        demand_adjustment_usd=np.asarray(tariff.demand_adjustment_usd, dtype=float),
        slice_of_hour=slice_of_hour,
    )


def inputs_priced_slices(inputs: PlanInputs, resolution: str) -> PricedSlices:
    """`priced_slices` of the inputs' tariff and planning year."""
    if inputs.tariff_slices is None:
        raise ValueError(
            "a time-resolved plan needs the tariff per slice (PlanInputs.tariff_slices)"
        )
    return priced_slices(inputs.tariff_slices, resolution, inputs.finance.hours_per_year)


def load_profile(workload: Workload) -> np.ndarray:
    """f_w(h), h = 0..23: the workload's profile (or the default) scaled so that its peak is 1."""
    profile = np.asarray(
        workload.load_profile if workload.load_profile is not None else DEFAULT_DIURNAL_PROFILE,
        dtype=float,
    )
    if (
        profile.shape != (HOURS_PER_DAY,)
        or not np.isfinite(profile).all()
        or (profile < 0).any()
        or profile.max() <= 0
    ):
        raise ValueError(
            f"workload {workload.name}: load_profile must be 24 hourly fractions >= 0, not all 0"
        )
    return profile / profile.max()


@dataclass(frozen=True)
class TimeSlices:
    """What a time-resolved model reads: the priced slices, their load states q and the load
    shapes."""

    slices: PricedSlices
    state_of_slice: np.ndarray
    """(slices) the load state of each slice."""
    state_hour: tuple[int, ...]
    """h_q, hour of day of state q."""
    state_weight_hours: np.ndarray
    """W_q = Σ_{t→q} W_t [h/year]."""
    state_energy_usd_per_kw: np.ndarray
    """E_q = Σ_{t→q} W_t π_t: the energy charge of drawing 1 kW in state q [USD/year]."""
    month_states: tuple[tuple[int, ...], ...]
    """Per month m = 1..12 (index m − 1), the states with a slice in m."""
    period_states: dict[tuple[int, int], tuple[int, ...]]
    """(month, TOU demand period d) → the states with a slice in that month and period."""
    day_states: tuple[tuple[int, ...], ...]
    """Per day D, its 24 states, hours 0..23 (with batch workloads; empty when the states are
    hours)."""
    day_share_of_year: np.ndarray
    """Per day D, Σ_{q ∈ D} W_q / H: the share of the year it stands for (its states' weights
    are equal)."""
    first_state_of_hour: tuple[int, ...]
    """(24) a state of each hour of day: where a load that repeats every day is stated once."""
    profiles: dict[str, np.ndarray]
    """Interactive workload → f_w(h), h = 0..23, max 1."""
    batch: tuple[str, ...]
    """Batch workloads."""
    daily: tuple[str, ...]
    """Batch workloads whose tokens are due equally every day."""

    @property
    def states(self) -> int:
        return len(self.state_hour)

    @property
    def hours_per_year(self) -> float:
        return float(self.slices.weight_hours.sum())


def time_slices(inputs: PlanInputs, resolution: str, workloads: Iterable[str]) -> TimeSlices:
    """The slices of `resolution` for the active `workloads` (names) of `inputs`."""
    slices = inputs_priced_slices(inputs, resolution)
    by_name = {w.name: w for w in inputs.workloads}
    active = [by_name[name] for name in workloads]
    for w in active:
        if w.load_shape not in LOAD_SHAPES or w.batch_quota not in BATCH_QUOTAS:
            raise ValueError(
                f"workload {w.name}: load_shape must be one of {LOAD_SHAPES} and batch_quota "
                f"one of {BATCH_QUOTAS}, got {w.load_shape!r}, {w.batch_quota!r}"
            )
    batch = tuple(w.name for w in active if w.load_shape == "batch")
    state_of_slice = np.arange(len(slices)) if batch else slices.hour
    states = int(state_of_slice.max()) + 1
    state_hour = np.zeros(states, dtype=int)
    state_hour[state_of_slice] = slices.hour

    def states_where(mask: np.ndarray) -> tuple[int, ...]:
        return tuple(int(q) for q in np.unique(state_of_slice[mask]))

    period_states = {}
    for m in range(1, 13):
        periods = slices.demand_period[slices.month == m]
        for d in np.unique(periods[periods >= 0]):
            period_states[m, int(d)] = states_where(
                (slices.month == m) & (slices.demand_period == d)
            )
    days = int(slices.day.max()) + 1
    return TimeSlices(
        slices=slices,
        state_of_slice=state_of_slice,
        state_hour=tuple(int(h) for h in state_hour),
        state_weight_hours=np.bincount(
            state_of_slice, weights=slices.weight_hours, minlength=states
        ),
        state_energy_usd_per_kw=np.bincount(
            state_of_slice, weights=slices.weight_hours * slices.price_usd_per_kwh, minlength=states
        ),
        month_states=tuple(states_where(slices.month == m) for m in range(1, 13)),
        period_states=period_states,
        day_states=tuple(
            tuple(int(q) for q in state_of_slice[slices.day == d]) for d in range(days)
        )
        if batch
        else (),
        day_share_of_year=np.bincount(slices.day, weights=slices.weight_hours)
        / slices.weight_hours.sum()
        if batch
        else np.zeros(0),
        first_state_of_hour=tuple(
            int(np.flatnonzero(state_hour == h)[0]) for h in range(HOURS_PER_DAY)
        ),
        profiles={w.name: load_profile(w) for w in active if w.load_shape == "interactive"},
        batch=batch,
        daily=tuple(w.name for w in active if w.load_shape == "batch" and w.batch_quota == "daily"),
    )
