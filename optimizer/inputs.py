"""Plain typed inputs of the optimizer: no Pyomo, no polars, no files.

`optimizer.design` builds a `PlanInputs` from the canonical tables; the model reads
only this. Units are in the field names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class System:
    """One purchasable (or rentable) node type: an 8-GPU server or a whole NVL72 rack."""

    sku: str
    accelerator: str
    gpus_per_node: int
    node_capex_usd: float | None
    """Purchase price; None for a rented system."""
    node_power_kw: float
    """IT power at full serving load, also what is provisioned; 0 for a rented system."""
    node_idle_power_kw: float
    nodes_per_rack: int
    cooling_kinds: tuple[str, ...]
    lifetime_years: float
    maintenance_pct_per_year: float = 0.0
    opex_usd_per_gpu_year: float = 0.0
    max_nodes: int | None = None
    rental_usd_per_gpu_hour: float | None = None
    power_kinds: tuple[str, ...] = ("ac", "dc")
    """The power-delivery kinds (`PowerDesign.kind`) the system can be fed by."""
    rental_hosting: str = "remote"
    """A rented system `remote` (in the provider's data center) or `on_site` (racked here)."""
    available_from_year: int | None = None
    """Multi-year plans: the first year it can be bought or rented (None: from the start)."""
    available_until_year: int | None = None
    """Multi-year plans: the last year it can be bought or rented (None: to the end)."""
    capex_decline_pct_per_year: float = 0.0
    """Multi-year plans: bought in year y it costs `node_capex_usd` × (1 − decline/100)^(y − y0),
    y0 the horizon's first year."""

    @property
    def rented(self) -> bool:
        """Rented rows have no capex: they are paid by the GPU-hour."""
        return self.node_capex_usd is None

    @property
    def on_site(self) -> bool:
        """Whether the system uses the site's power, cooling and power chain: every owned
        system, and a rented one hosted `on_site`."""
        return not self.rented or self.rental_hosting == "on_site"

    @property
    def rack_kw(self) -> float:
        return self.node_power_kw * self.nodes_per_rack

    def available_in(self, year: int | None) -> bool:
        """Whether it can be bought (or rented) in `year` (None: any year)."""
        first, last = self.available_from_year, self.available_until_year
        return year is None or ((first is None or first <= year) and (last is None or year <= last))

    def window_text(self) -> str:
        """When it can be bought: `from 2027`, `until 2026`, `in 2026-2028`."""
        first, last = self.available_from_year, self.available_until_year
        if first is not None and last is not None:
            return f"in {first}-{last}"
        return f"from {first}" if first is not None else f"until {last}"


@dataclass(frozen=True)
class Cooling:
    cooling_id: str
    kind: str
    overhead_kw_per_kw_it: float
    capex_usd_per_kw_it: float
    opex_pct_per_year: float
    max_rack_kw: float
    water_l_per_kwh: float = 0.0


@dataclass(frozen=True)
class PowerDesign:
    power_id: str
    name: str
    efficiency: float
    capex_usd_per_kw_it: float
    maintenance_usd_per_kw_year: float
    max_rack_kw: float
    kind: str = "ac"
    """`ac` (415/480 VAC distribution) or `dc` (800 VDC)."""


LOAD_SHAPES = ("interactive", "batch")
BATCH_QUOTAS = ("annual", "daily")


@dataclass(frozen=True)
class Workload:
    """What the factory serves. `share` in cost-per-token mode, `demand_tokens_per_s` in
    min-cost mode.

    The load shape matters only in time-resolved plans (`optimizer.timeslices`): an
    interactive workload follows `load_profile` over the day and the fleet is sized for
    its peak; a batch workload's tokens may be served in any slice, due over the year or
    equally every day (`batch_quota`).
    """

    name: str
    share: float | None = None
    demand_tokens_per_s: float | None = None
    load_shape: str = "interactive"
    load_profile: tuple[float, ...] | None = None
    """Interactive: 24 hourly fractions of the peak, hour 0 = midnight (None: the default
    diurnal profile)."""
    batch_quota: str = "annual"
    price_usd_per_million_tokens: float | None = None
    """What a million tokens of this workload sell for (max-profit)."""
    max_tokens_per_s: float | None = None
    """What the market takes, a rate while serving like `demand_tokens_per_s` (max-profit);
    None: no cap."""
    demand_by_year: tuple[float, ...] | None = None
    """Multi-year plans: `demand_tokens_per_s` of each year of the horizon (min-cost)."""


@dataclass(frozen=True)
class OperatingPoint:
    """The throughput one GPU of `sku` delivers on `workload` at its SLO in one serving
    configuration (the best such point of that configuration).

    The configuration (framework, precision, spec_decoding, disaggregated, kv_offload) is
    what the lever table takes away; `ModelData` uses the best point per (sku, workload)
    of those left (`best_points`). The other descriptive fields say where the figure comes
    from; they are carried into the plan's allocation rows and do not enter the model.
    """

    sku: str
    workload: str
    tokens_per_s_per_gpu: float
    interactivity_tokens_per_s_per_user: float | None = None
    ttft_s: float | None = None
    concurrency: int | None = None
    framework: str | None = None
    precision: str | None = None
    source: str | None = None
    interpolated: bool = False
    spec_decoding: str | None = None
    """`none`, `mtp`, `eagle`, …; None: not stated."""
    disaggregated: bool | None = None
    prefill_gpus: int | None = None
    decode_gpus: int | None = None
    kv_offload: bool | None = None
    parallelism: str | None = None
    derived: bool = False
    """Scaled from another accelerator's measurements (`benchmarks/derived.csv`)."""

    @property
    def configuration(self) -> str:
        """The serving configuration in words: `dynamo-trt fp4 mtp disaggregated`."""
        parts = [self.framework or "engine not stated", self.precision or "precision not stated"]
        if self.spec_decoding not in (None, "none"):
            parts.append(str(self.spec_decoding))
        if self.disaggregated:
            parts.append("disaggregated")
        if self.kv_offload:
            parts.append("kv-offload")
        return " ".join(parts)


def best_points(
    points: tuple[OperatingPoint, ...] | list[OperatingPoint],
) -> dict[tuple[str, str], OperatingPoint]:
    """The operating point a plan uses for each (sku, workload): the most tokens/s per GPU
    over its configurations (the first in input order on a tie).

    A GPU costs the same whichever configuration it serves in (its node's capex, power and
    opex do not depend on it), so for each (s, w) a plan's cost is unchanged and its tokens
    are highest with the best configuration: choosing it ahead of the solve is optimal.
    """
    best: dict[tuple[str, str], OperatingPoint] = {}
    for point in points:
        key = (point.sku, point.workload)
        if key not in best or point.tokens_per_s_per_gpu > best[key].tokens_per_s_per_gpu:
            best[key] = point
    return best


@dataclass(frozen=True)
class EnergyPrice:
    """The tariff as a flat year: what a constant load pays.

    energy_usd_per_kwh: average price per kWh over the year (TOU periods, tiers and
        adjustments applied for a constant load).
    demand_usd_per_kw_month: demand charges per kW of provisioned grid power per month,
        averaged over the 12 months (a constant load peaks in every demand period).
    fixed_usd_per_year: fixed and customer charges for the year.
    """

    tariff_id: str
    energy_usd_per_kwh: float
    demand_usd_per_kw_month: float = 0.0
    fixed_usd_per_year: float = 0.0


@dataclass(frozen=True)
class TariffSlices:
    """The tariff as marginal prices on the 576 representative slices (time-resolved plans).

    Slice i = (month − 1) · 48 + day type · 24 + hour, day type 0 = weekday, 1 = weekend
    (`optimizer.tariff.slice_prices` explains the prices).

    energy_usd_per_kwh: (576) marginal energy price of each slice.
    demand_period: (576) TOU demand period of each slice; −1: the tariff has no TOU demand charge.
    demand_usd_per_kw: per TOU demand period, the charge per kW of the month's peak in that period.
    flat_demand_usd_per_kw: (12) per month, the charge per kW of the month's peak.
    energy_adjustment_usd, demand_adjustment_usd: (12) per month, what the tiers below the
    margin add to the charges at marginal prices (0 without tiers).
    """

    tariff_id: str
    energy_usd_per_kwh: tuple[float, ...]
    demand_period: tuple[int, ...]
    demand_usd_per_kw: tuple[float, ...]
    flat_demand_usd_per_kw: tuple[float, ...]
    energy_adjustment_usd: tuple[float, ...] = (0.0,) * 12
    demand_adjustment_usd: tuple[float, ...] = (0.0,) * 12


@dataclass(frozen=True)
class Finance:
    wacc: float
    facility_lifetime_years: float
    utilization: float
    shell_capex_usd_per_kw_it: float
    fixed_opex_usd_per_year: float = 0.0
    hours_per_year: float = 8760.0
    carbon_kg_per_kwh: float | None = None
    availability: float = 1.0
    """Fraction of the on-site GPUs serving at any time (failures, maintenance, spares)."""
    grid_connection_capex_usd_per_kw: float = 0.0
    """Interconnect and substation per kW of the budget: a fixed cost of the site."""


@dataclass(frozen=True)
class Horizon:
    """The years of a multi-year plan (scenario.yaml `horizon`): y0 = `start_year`, …,
    y0 + `years` − 1."""

    start_year: int
    years: int
    budget_mw: tuple[float, ...]
    """The grid budget of each year (the connection may grow in steps)."""
    demand_tokens_per_s: tuple[float, ...] | None = None
    """The site's served floor of each year, all workloads (cost-per-token)."""
    energy_escalation_pct_per_year: float = 0.0
    """Energy prices in year y: × (1 + escalation/100)^(y − y0)."""

    @property
    def year_list(self) -> tuple[int, ...]:
        return tuple(range(self.start_year, self.start_year + self.years))


@dataclass(frozen=True)
class InstalledNodes:
    """Nodes the site already has (a row of fleet.csv): sunk capital, in service until
    `installed_year` + the system's lifetime, unless retired earlier."""

    sku: str
    cooling_id: str | None
    power_id: str | None
    nodes: int
    installed_year: int


@dataclass(frozen=True)
class PlanInputs:
    """Everything one solve needs."""

    budget_mw: float
    systems: tuple[System, ...]
    coolings: tuple[Cooling, ...]
    power_designs: tuple[PowerDesign, ...]
    workloads: tuple[Workload, ...]
    operating_points: tuple[OperatingPoint, ...]
    energy: EnergyPrice
    finance: Finance
    name: str = "site"
    notes: tuple[str, ...] = field(default=())
    """Why inputs were left out (e.g. a system with no operating point for any workload)."""
    tariff_slices: TariffSlices | None = None
    """The tariff per time slice; needed by time-resolved plans only."""
    horizon: Horizon | None = None
    """The years of a multi-year plan; None: one year."""
    fleet: tuple[InstalledNodes, ...] = ()
    """The installed fleet (multi-year plans)."""


ProgressHook = Callable[[dict[str, Any]], None]
"""A `SolverOptions.on_progress` callback."""


@dataclass(frozen=True)
class SolverOptions:
    """HiGHS settings. A run that stops at its time limit returns its best plan with status and
    gap."""

    time_limit_s: float = 300.0
    mip_rel_gap: float = 1e-4
    threads: int = 1
    dinkelbach_tolerance: float = 1e-6
    """Stop when F(λ) = min cost − λ·tokens is within this fraction of the cost."""
    max_iterations: int = 25
    progress: bool = False
    """Report each Dinkelbach iteration (or the one MILP of min-cost and max-profit): to
    `on_progress` when it is set, else as a line on stderr. Sub-solves (the single-system
    alternatives, the lever table, a sweep's budgets) turn it off."""
    on_progress: ProgressHook | None = field(default=None, compare=False, repr=False)
    """Called with each progress event, a plain dict, while `progress` is on (never from a
    worker process). From the solve (`optimizer.solve.dinkelbach`):
    `{"event": "iteration", "iteration", "cost_per_million_tokens_usd", "gap", "seconds"}`
    (the best ratio so far; gap None until proven) and `{"event": "milp", "objective",
    "annual_cost_usd", "gap", "seconds"}`; the plan pipeline around it reports its steps with
    `{"event": "step", "step", "done", "total", "item"}` (`pipelines.planning`)."""

    def report(self, event: dict[str, Any]) -> None:
        """Hand `event` to `on_progress`, when `progress` is on and there is one."""
        if self.progress and self.on_progress is not None:
            self.on_progress(event)


def inputs_to_dict(inputs: PlanInputs) -> dict:
    """`PlanInputs` as plain JSON-serializable data (the `design_space` asset stores this)."""
    return asdict(inputs)


def inputs_from_dict(data: dict) -> PlanInputs:
    """The inverse of `inputs_to_dict`."""
    return PlanInputs(
        budget_mw=data["budget_mw"],
        systems=tuple(
            System(
                **{
                    **s,
                    "cooling_kinds": tuple(s["cooling_kinds"]),
                    "power_kinds": tuple(s.get("power_kinds", ("ac", "dc"))),
                }
            )
            for s in data["systems"]
        ),
        coolings=tuple(Cooling(**c) for c in data["coolings"]),
        power_designs=tuple(PowerDesign(**p) for p in data["power_designs"]),
        workloads=tuple(_workload(w) for w in data["workloads"]),
        operating_points=tuple(OperatingPoint(**o) for o in data["operating_points"]),
        energy=EnergyPrice(**data["energy"]),
        finance=Finance(**data["finance"]),
        name=data["name"],
        notes=tuple(data["notes"]),
        tariff_slices=_tariff_slices(data.get("tariff_slices")),
        horizon=_horizon(data.get("horizon")),
        fleet=tuple(InstalledNodes(**row) for row in data.get("fleet", ())),
    )


def _horizon(data: dict | None) -> Horizon | None:
    if data is None:
        return None
    demand = data.get("demand_tokens_per_s")
    return Horizon(
        **{
            **data,
            "budget_mw": tuple(data["budget_mw"]),
            "demand_tokens_per_s": None if demand is None else tuple(demand),
        }
    )


def _workload(data: dict) -> Workload:
    profile, by_year = data.get("load_profile"), data.get("demand_by_year")
    return Workload(
        **{
            **data,
            "load_profile": None if profile is None else tuple(profile),
            "demand_by_year": None if by_year is None else tuple(by_year),
        }
    )


def _tariff_slices(data: dict | None) -> TariffSlices | None:
    if data is None:
        return None
    # JSON data: TariffSlices itself rejects a field name it does not have.
    fields: dict[str, Any] = {
        name: value if isinstance(value, str) else tuple(value) for name, value in data.items()
    }
    return TariffSlices(**fields)
