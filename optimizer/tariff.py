"""The tariff engine: a year's electricity bill from an hourly load, URDB / NREL SAM rules.

Plain Python and numpy over the canonical tariff tables; no Pyomo. Hourly data, so
kW in an hour = kWh in that hour.

Rules (as SAM's `Utilityrate5` computes a bill without a system, no net metering):

- **Energy.** For month m, E_p = kWh used in energy period p and E = Σ_p E_p. Tier
  bounds U_{p,0} < U_{p,1} < … (kWh per month, the last = ∞) apply to the month's
  total E, and each period takes its share E_p / E of every tier:

      kWh_{p,t} = (E_p / E) · max(0, min(E, U_{p,t}) − U_{p,t−1}),   U_{p,−1} = 0
      energy_m  = Σ_p Σ_t kWh_{p,t} · (rate_{p,t} + adj_{p,t})

  This is SAM's `ur_calc` ("distribute across tier boundaries … prorate based on total
  net per period / total net"), not a per-period split of E_p over the tiers.
- **TOU demand.** For each demand period p in month m, P_{m,p} = the peak kW over the
  month's hours in p; charge = Σ_t max(0, min(P_{m,p}, D_{p,t}) − D_{p,t−1}) · (rate + adj).
- **Flat demand.** The month's overall peak P_m, priced the same way with the tiers of
  the flat period that `flatdemandmonths` assigns to m.
- **Fixed.** $/month + $/day × days in month.
- **Minimum.** When energy + demand + fixed < the monthly minimum, the difference is
  added (SAM compares the whole monthly bill, fixed charges included).

For the optimizer, `slice_prices` turns a tariff into marginal prices on the
representative slices (month × weekday/weekend × hour) of the same reference year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from optimizer.inputs import TariffSlices


@dataclass(frozen=True)
class TariffTables:
    """The four canonical tariff tables (`tariffs`, `tariff_energy_rates`,
    `tariff_demand_rates`, `tariff_schedules`), each as the data contract defines it."""

    tariffs: pl.DataFrame
    energy_rates: pl.DataFrame
    demand_rates: pl.DataFrame
    schedules: pl.DataFrame


HOURS_PER_YEAR = 8760
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
"""The reference year is not a leap year (as SAM's 8760-hour year)."""


@dataclass(frozen=True)
class YearHours:
    """Calendar of the 8760 hours of the reference year, hour 0 = 1 January 00:00."""

    month: np.ndarray
    """(8760,) month 1..12."""
    hour: np.ndarray
    """(8760,) hour of day 0..23."""
    weekend: np.ndarray
    """(8760,) True on Saturdays and Sundays."""


def reference_year_hours(start_weekday: int = 0) -> YearHours:
    """The reference non-leap year whose 1 January falls on `start_weekday`
    (0 = Monday … 6 = Sunday).

    The default, Monday, is SAM's: its schedules treat hour 0 of an 8760-hour year as
    Monday 00:00 (as in 2018 or 2029; 2025 starts on a Wednesday, start_weekday=2).
    Days 5 and 6 of each week from Monday (Saturday, Sunday) are the weekend. Holidays
    are weekdays.
    """
    if not 0 <= start_weekday <= 6:
        raise ValueError(f"start_weekday must be 0 (Monday) .. 6 (Sunday), got {start_weekday}")
    day = np.arange(HOURS_PER_YEAR) // 24
    month = np.repeat(np.arange(1, 13), DAYS_IN_MONTH * 24)
    weekday = (day + start_weekday) % 7
    return YearHours(month=month, hour=np.arange(HOURS_PER_YEAR) % 24, weekend=weekday >= 5)


DAY_TYPES = ("weekday", "weekend")
REPRESENTATIVE_SLICES = 12 * len(DAY_TYPES) * 24
"""Representative slices: 12 months × weekday/weekend × 24 hours."""


def representative_slice(year: YearHours) -> np.ndarray:
    """(8760,) index of each hour's representative slice: (month − 1) · 48 + day type · 24 + hour,
    day type 0 = weekday, 1 = weekend (the order of `TariffSlices`)."""
    return (year.month - 1) * 48 + year.weekend.astype(int) * 24 + year.hour


@dataclass(frozen=True)
class Tiers:
    """Tiered prices of a set of periods.

    upper: (periods, tiers) tier upper bounds (kWh per month or kW), ∞ for the last tier;
    a period with fewer tiers is padded with tiers whose lower bound is already ∞.
    price_usd: (periods, tiers) rate + adj per kWh or per kW.
    """

    upper: np.ndarray
    price_usd: np.ndarray

    @property
    def periods(self) -> int:
        return self.upper.shape[0]

    def amounts(self, quantity: float, period: int) -> np.ndarray:
        """How much of `quantity` falls in each tier of `period`:
        max(0, min(q, U_t) − U_{t−1}), U_{−1} = 0."""
        upper = self.upper[period]
        lower = np.concatenate(([0.0], upper[:-1]))
        return np.maximum(0.0, np.minimum(quantity, upper) - lower)

    def charge(self, quantity: float, period: int) -> float:
        """Σ_t amount_t × price_t for `quantity` (kW) in `period`."""
        return float(self.amounts(quantity, period) @ self.price_usd[period])

    def marginal_price(self, quantity: float, period: int) -> float:
        """price_t of the tier the next unit above `quantity` falls in
        (first t with U_t > quantity)."""
        tier = int(np.searchsorted(self.upper[period], quantity, side="right"))
        return float(self.price_usd[period, min(tier, self.upper.shape[1] - 1)])


@dataclass(frozen=True)
class Tariff:
    """One tariff, ready to bill an hourly load of the reference year."""

    tariff_id: str
    energy_period: np.ndarray
    """(8760,) energy period of each hour."""
    energy: Tiers
    """Energy tiers, bounds in kWh per month, prices $/kWh; no periods: no energy charge."""
    demand_period: np.ndarray
    """(8760,) TOU demand period of each hour."""
    demand: Tiers
    """TOU demand tiers, bounds in kW, prices $/kW; no periods: no TOU demand charge."""
    flat_demand_period: np.ndarray
    """(12,) flat demand period of each month."""
    flat_demand: Tiers
    """Flat demand tiers on the monthly peak, bounds in kW, prices $/kW."""
    fixed_usd_per_month: float
    fixed_usd_per_day: float
    min_usd_per_month: float

    @classmethod
    def from_tables(cls, tables: TariffTables, tariff_id: str, start_weekday: int = 0) -> Tariff:
        """The tariff `tariff_id` of the canonical tables, on the reference year `start_weekday`."""
        row = tables.tariffs.filter(pl.col("tariff_id") == tariff_id)
        if row.height != 1:
            known = ", ".join(sorted(tables.tariffs["tariff_id"]))
            raise KeyError(f"no tariff '{tariff_id}' (tariffs: {known})")
        year = reference_year_hours(start_weekday)
        schedules = tables.schedules.filter(pl.col("tariff_id") == tariff_id)
        energy = _tiers(
            tables.energy_rates.filter(pl.col("tariff_id") == tariff_id),
            "max_kwh",
            "rate_usd_per_kwh",
            "adj_usd_per_kwh",
        )
        demand_rates = tables.demand_rates.filter(pl.col("tariff_id") == tariff_id)
        demand = _tiers(
            demand_rates.filter(pl.col("kind") == "tou"),
            "max_kw",
            "rate_usd_per_kw",
            "adj_usd_per_kw",
        )
        flat = _tiers(
            demand_rates.filter(pl.col("kind") == "flat"),
            "max_kw",
            "rate_usd_per_kw",
            "adj_usd_per_kw",
        )
        flat_months = np.zeros(12, dtype=int)
        if flat.periods:
            flat_rows = schedules.filter(pl.col("schedule") == "flat_demand").sort("month")
            if flat_rows["month"].to_list() != list(range(1, 13)):
                raise ValueError(
                    f"tariff '{tariff_id}': flat demand needs a period for each of the 12 months"
                )
            flat_months = flat_rows["period"].to_numpy()
        no_periods = np.zeros(HOURS_PER_YEAR, dtype=int)
        tariff = row.row(0, named=True)
        return cls(
            tariff_id=tariff_id,
            energy_period=_hourly_periods(schedules, "energy", year, tariff_id)
            if energy.periods
            else no_periods,
            energy=energy,
            demand_period=_hourly_periods(schedules, "demand", year, tariff_id)
            if demand.periods
            else no_periods,
            demand=demand,
            flat_demand_period=flat_months,
            flat_demand=flat,
            fixed_usd_per_month=tariff["fixed_usd_per_month"],
            fixed_usd_per_day=tariff["fixed_usd_per_day"],
            min_usd_per_month=tariff["min_usd_per_month"],
        )


def _tiers(rates: pl.DataFrame, upper: str, rate: str, adj: str) -> Tiers:
    """(periods, tiers) arrays from canonical rate rows; periods must be 0..P−1.

    The last tier of each period takes everything above the previous bound, even when
    the document gives it a `max` (URDB sometimes does); a bounded last tier would
    leave the excess unpriced.
    """
    if rates.is_empty():
        return Tiers(upper=np.zeros((0, 1)), price_usd=np.zeros((0, 1)))
    periods = int(rates["period"].to_numpy().max()) + 1
    tiers = int(rates["tier"].to_numpy().max()) + 1
    bounds = np.full((periods, tiers), np.inf)
    price = np.zeros((periods, tiers))
    for r in rates.iter_rows(named=True):
        bounds[r["period"], r["tier"]] = np.inf if r[upper] is None else r[upper]
        price[r["period"], r["tier"]] = r[rate] + r[adj]
    last_tier = rates.group_by("period").agg(pl.col("tier").max())
    bounds[last_tier["period"].to_numpy(), last_tier["tier"].to_numpy()] = np.inf
    return Tiers(upper=bounds, price_usd=price)


def _hourly_periods(
    schedules: pl.DataFrame, schedule: str, year: YearHours, tariff_id: str
) -> np.ndarray:
    """(8760,) period of each hour from the weekday and weekend 12 × 24 schedules
    ('all' fills both)."""
    grids = {}
    for day_type in ("weekday", "weekend"):
        grid = np.full((12, 24), -1)
        rows = schedules.filter(
            (pl.col("schedule") == schedule) & pl.col("day_type").is_in(["all", day_type])
        )
        for r in rows.sort(pl.col("day_type") != "all").iter_rows(named=True):
            grid[r["month"] - 1, r["hour"]] = r["period"]
        if (grid < 0).any():
            raise ValueError(
                f"tariff '{tariff_id}': the {day_type} {schedule} schedule misses some month/hour"
            )
        grids[day_type] = grid
    return np.where(
        year.weekend,
        grids["weekend"][year.month - 1, year.hour],
        grids["weekday"][year.month - 1, year.hour],
    )


@dataclass(frozen=True)
class Bill:
    """A year's bill, USD. `months`: 12 dicts {month, energy_kwh, peak_kw, energy_usd,
    demand_usd, fixed_usd, minimum_usd, total_usd}."""

    annual_usd: float
    energy_usd: float
    demand_usd: float
    fixed_usd: float
    minimum_usd: float
    months: list[dict]


def bill(tariff: Tariff, load_kw: np.ndarray) -> Bill:
    """The bill of `load_kw` (8760 hourly kW ≥ 0 of the reference year) under `tariff`.

    See the module docstring for the rules of each charge.
    """
    load_kw = np.asarray(load_kw, dtype=float)
    if load_kw.shape != (HOURS_PER_YEAR,):
        raise ValueError(
            f"load_kw must have {HOURS_PER_YEAR} hourly values, got shape {load_kw.shape}"
        )
    if (load_kw < 0).any() or not np.isfinite(load_kw).all():
        raise ValueError("load_kw must be finite and >= 0 (no export)")
    month_of_hour = reference_year_hours().month
    months = []
    for m in range(1, 13):
        hours = month_of_hour == m
        load = load_kw[hours]
        energy_usd = _energy_charge(tariff, load, tariff.energy_period[hours])
        demand_usd = _tou_demand_charge(tariff, load, tariff.demand_period[hours])
        if tariff.flat_demand.periods:
            demand_usd += tariff.flat_demand.charge(load.max(), tariff.flat_demand_period[m - 1])
        fixed_usd = tariff.fixed_usd_per_month + tariff.fixed_usd_per_day * DAYS_IN_MONTH[m - 1]
        subtotal = energy_usd + demand_usd + fixed_usd
        minimum_usd = max(0.0, tariff.min_usd_per_month - subtotal)
        months.append(
            {
                "month": m,
                "energy_kwh": float(load.sum()),
                "peak_kw": float(load.max()),
                "energy_usd": energy_usd,
                "demand_usd": demand_usd,
                "fixed_usd": float(fixed_usd),
                "minimum_usd": minimum_usd,
                "total_usd": float(subtotal + minimum_usd),
            }
        )

    def total(key: str) -> float:
        return float(sum(month[key] for month in months))

    return Bill(
        annual_usd=total("total_usd"),
        energy_usd=total("energy_usd"),
        demand_usd=total("demand_usd"),
        fixed_usd=total("fixed_usd"),
        minimum_usd=total("minimum_usd"),
        months=months,
    )


def _energy_charge(tariff: Tariff, load_kwh: np.ndarray, periods: np.ndarray) -> float:
    """One month's energy charge: tiers on the month's total kWh E, shared by period (E_p / E)."""
    if not tariff.energy.periods:
        return 0.0
    period_kwh = np.bincount(periods, weights=load_kwh, minlength=tariff.energy.periods)
    total_kwh = period_kwh.sum()
    if total_kwh <= 0:
        return 0.0
    return float(
        sum(
            period_kwh[p] / total_kwh * tariff.energy.charge(total_kwh, int(p))
            for p in np.flatnonzero(period_kwh)
        )
    )


def _tou_demand_charge(tariff: Tariff, load_kw: np.ndarray, periods: np.ndarray) -> float:
    """One month's TOU demand charge: each period's peak within the month, on that period's
    tiers."""
    if not tariff.demand.periods:
        return 0.0
    return float(
        sum(tariff.demand.charge(load_kw[periods == p].max(), p) for p in np.unique(periods))
    )


def flat_year_price(tariff: Tariff, load_kw: float) -> tuple[float, float, float]:
    """The tariff as flat prices for a constant load of `load_kw` kW all year.

    With L = load_kw and B = bill(tariff, L in every hour):

        energy_usd_per_kwh       = B.energy_usd / (8760 · L)
        demand_usd_per_kw_month  = B.demand_usd / (12 · L)
        fixed_usd_per_year       = B.fixed_usd = 12 · $/month + 365 · $/day

    A constant load peaks at L in every period of every month, so without demand tiers
    the demand price is (1/12) Σ_m [Σ_{p in month m} (rate + adj)_p + flat (rate + adj)_m];
    without energy tiers the energy price is the hour-weighted average of the period
    prices (rate + adj). Tiers apply to the month's 24 · days · L kWh and to L kW.
    The minimum monthly charge is left out: it binds only when a month's whole bill is
    below it.
    """
    if load_kw <= 0:
        raise ValueError(f"load_kw must be > 0, got {load_kw}")
    b = bill(tariff, np.full(HOURS_PER_YEAR, float(load_kw)))
    return (b.energy_usd / (HOURS_PER_YEAR * load_kw), b.demand_usd / (12 * load_kw), b.fixed_usd)


def slice_prices(tariff: Tariff, site_kw: float) -> TariffSlices:
    """The tariff as marginal prices on the representative slices, for a site of `site_kw`.

    Energy: slice (m, d, h) lies in one energy period p (schedules are per month, day type
    and hour); its price is rate + adj of the tier of p that a constant site-scale load
    reaches in month m, E_m = site_kw × 24 × days_m kWh (tier bounds are monthly kWh).
    TOU demand: per period, the rate + adj of the tier that site_kw reaches; flat demand:
    per month, that of its period's tier at site_kw.

    A MW-scale site is past every tier bound of the bundled tariffs, so these are the last
    tiers' prices, and the model prices kWh and kW exactly at the margin. The lower tiers
    then add a constant per month, Σ_{t<last} (U_t − U_{t−1}) · (price_t − price_last): the
    adjustments, measured as `bill` of a constant site_kw load less its charges at the
    marginal prices (0 without tiers). Left out: the minimum charge, which a site past
    its tier bounds does not reach.
    """
    if site_kw <= 0:
        raise ValueError(f"site_kw must be > 0, got {site_kw}")
    year = reference_year_hours()
    _, first_hour = np.unique(representative_slice(year), return_index=True)
    month = year.month[first_hour]
    energy = np.zeros(REPRESENTATIVE_SLICES)
    if tariff.energy.periods:
        monthly_kwh = site_kw * 24 * DAYS_IN_MONTH[month - 1]
        energy = np.array(
            [
                tariff.energy.marginal_price(kwh, p)
                for kwh, p in zip(monthly_kwh, tariff.energy_period[first_hour], strict=True)
            ]
        )
    demand_period = (
        tariff.demand_period[first_hour]
        if tariff.demand.periods
        else np.full(REPRESENTATIVE_SLICES, -1)
    )
    flat = [
        tariff.flat_demand.marginal_price(site_kw, p) if tariff.flat_demand.periods else 0.0
        for p in tariff.flat_demand_period
    ]
    tou = [tariff.demand.marginal_price(site_kw, p) for p in range(tariff.demand.periods)]

    # The adjustments: the bill of a constant site_kw less its charges at the marginal prices.
    constant = bill(tariff, np.full(HOURS_PER_YEAR, float(site_kw)))
    marginal_energy = np.bincount(
        year.month - 1, weights=energy[representative_slice(year)] * site_kw, minlength=12
    )
    energy_adjustment, demand_adjustment = [], []
    for m, month_bill in enumerate(constant.months):
        periods = np.unique(demand_period[m * 48 : (m + 1) * 48])  # the month's 48 slices
        marginal_demand = site_kw * (flat[m] + sum(tou[d] for d in periods if d >= 0))
        energy_usd, demand_usd = month_bill["energy_usd"], month_bill["demand_usd"]
        energy_adjustment.append(_beyond_rounding(energy_usd - marginal_energy[m], energy_usd))
        demand_adjustment.append(_beyond_rounding(demand_usd - marginal_demand, demand_usd))
    return TariffSlices(
        tariff_id=tariff.tariff_id,
        energy_usd_per_kwh=tuple(float(x) for x in energy),
        demand_period=tuple(int(p) for p in demand_period),
        demand_usd_per_kw=tuple(tou),
        flat_demand_usd_per_kw=tuple(float(x) for x in flat),
        energy_adjustment_usd=tuple(energy_adjustment),
        demand_adjustment_usd=tuple(demand_adjustment),
    )


def _beyond_rounding(difference: float, scale: float) -> float:
    """`difference`, or 0.0 when it is rounding error against `scale`."""
    return float(difference) if abs(difference) > 1e-9 * max(abs(scale), 1.0) else 0.0
