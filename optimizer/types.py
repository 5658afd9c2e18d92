"""The closed sets of the product as enums: objectives, time resolutions, solve statuses.

They are `StrEnum`s: a member equals its text (`Objective.COST_PER_TOKEN == "cost-per-token"`)
and JSON writes it as its text. Where other libraries meet them, pass the text (`.value`):
argparse shows a choice's repr in its errors, Dagster's serializer refuses enum members it was
not told of, and polars makes a column of members an Enum dtype.

And the plan document's type, `PlanDocument`. This module imports nothing heavy, so the CLI
may use it before it imports numpy.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import NotRequired, TypedDict, cast


class Objective(StrEnum):
    """What a plan optimizes."""

    COST_PER_TOKEN = "cost-per-token"
    """Annual cost / annual tokens, workload shares fixed (Dinkelbach over MILPs)."""
    MIN_COST = "min-cost"
    """Annual cost, meeting each workload's `demand_tokens_per_s`."""
    MAX_PROFIT = "max-profit"
    """Revenue − annual cost, each workload sold at `price_usd_per_million_tokens`, at most
    `max_tokens_per_s`."""


class TimeResolution(StrEnum):
    """How the year is modelled."""

    FLAT = "flat"
    """One slice: the year at the scenario's utilization and the tariff's mean price."""
    REPRESENTATIVE = "representative"
    """12 months × weekday/weekend × 24 hours, weighted by day counts."""
    HOURLY = "hourly"
    """The 8,760 hours of the reference year."""


class Status(StrEnum):
    """How a solve ended, for a plan that exists (no plan: `Infeasible` or `NoPlanInTime`)."""

    OPTIMAL = "optimal"
    """Proven optimal within the requested gap."""
    TIME_LIMIT = "time_limit"
    """The best plan found when the time limit came; the plan's `mip_gap` says how good."""
    ITERATION_LIMIT = "iteration_limit"
    """Dinkelbach stopped at its iteration limit; the best plan found."""


INFEASIBLE = "infeasible"
"""The status of a row that has no plan (a single-system alternative, a budget of a sweep): not
a `Status`, which is how a solve that found a plan ended."""


# --------------------------------------------------------------------------- the plan document
#
# `optimizer.plan.plan_document` makes it; `pipelines` adds extras (see `PlanDocument`). It is
# plain JSON data: the closed sets above appear as their text (`Status.OPTIMAL.value`), never as
# members, because a plan also goes to Dagster metadata and to polars (see the module docstring).
# A member equals its text, so `plan["status"] == Status.OPTIMAL` holds all the same.
#
# No `from __future__ import annotations` here: `NotRequired` must be seen when the class is
# made, so that `PlanDocument.__required_keys__` (what `missing_plan_keys` checks) is right.


class FleetRow(TypedDict):
    """Nodes of one system on one cooling and power design (rented: cooling and power None)."""

    sku: str
    accelerator: str
    rented: bool
    cooling_id: str | None
    power_id: str | None
    nodes: int
    gpus: int
    it_power_kw: float
    grid_power_kw: float
    annual_cost_usd: float
    """Time-resolved plans: without energy and demand charges (those are the plan's `monthly`)."""
    capex_usd: float


class AllocationRow(TypedDict):
    """GPUs of one system serving one workload, at the operating point that meets its SLO."""

    sku: str
    workload: str
    gpus: float
    """Time-resolved plans: in the slice where (sku, workload) is busiest."""
    tokens_per_s: float
    tokens_per_year: float
    tokens_per_s_per_gpu: float
    interactivity_tokens_per_s_per_user: float | None
    ttft_s: float | None
    concurrency: int | None
    framework: str | None
    precision: str | None
    source: str | None
    interpolated: bool
    configuration: NotRequired[str]
    """The serving configuration in words (`OperatingPoint.configuration`); the fields below
    are its parts. Plans made before configurations were recorded lack them."""
    spec_decoding: NotRequired[str | None]
    disaggregated: NotRequired[bool | None]
    prefill_gpus: NotRequired[int | None]
    decode_gpus: NotRequired[int | None]
    kv_offload: NotRequired[bool | None]
    parallelism: NotRequired[str | None]
    derived: NotRequired[bool]
    """Scaled from another accelerator's measurements (`benchmarks/derived.csv`)."""


class WorkloadRow(TypedDict):
    name: str
    share: float | None
    demand_tokens_per_s: float | None
    tokens_per_s: float
    """Time-resolved plans: the peak."""


class CostComponents(TypedDict):
    """Annual cost [USD/year] by component: `optimizer.economics.COST_COMPONENTS`, in that order."""

    it_capex: float
    cooling_capex: float
    power_capex: float
    shell_capex: float
    grid_connection_capex: NotRequired[float]
    """Plans made before it was a component lack it."""
    energy: float
    demand_charges: float
    fixed_charges: float
    maintenance: float
    other_opex: float
    rental: float


class CapexComponents(TypedDict):
    """Upfront capex [USD] by component: `optimizer.economics.CAPEX_COMPONENTS`, in that order."""

    it: float
    cooling: float
    power: float
    shell: float
    grid_connection: float


class TariffAssumption(TypedDict):
    """The tariff as the flat year prices it (`optimizer.inputs.EnergyPrice`)."""

    tariff_id: str
    energy_usd_per_kwh: float
    demand_usd_per_kw_month: float
    fixed_usd_per_year: float


SYSTEM_FIELDS = (
    "sku",
    "accelerator",
    "gpus_per_node",
    "node_capex_usd",
    "node_power_kw",
    "node_idle_power_kw",
    "lifetime_years",
    "maintenance_pct_per_year",
    "opex_usd_per_gpu_year",
    "rental_usd_per_gpu_hour",
    "rental_hosting",
)
"""The fields of a system that its costs are computed from (`SystemAssumption`)."""


class SystemAssumption(TypedDict):
    sku: str
    accelerator: str
    gpus_per_node: int
    node_capex_usd: float | None
    node_power_kw: float
    node_idle_power_kw: float
    lifetime_years: float
    maintenance_pct_per_year: float
    opex_usd_per_gpu_year: float
    rental_usd_per_gpu_hour: float | None
    rental_hosting: str


class CoolingAssumption(TypedDict):
    """`optimizer.inputs.Cooling` as data."""

    cooling_id: str
    kind: str
    overhead_kw_per_kw_it: float
    capex_usd_per_kw_it: float
    opex_pct_per_year: float
    max_rack_kw: float
    water_l_per_kwh: float


class PowerAssumption(TypedDict):
    """`optimizer.inputs.PowerDesign` as data."""

    power_id: str
    name: str
    efficiency: float
    capex_usd_per_kw_it: float
    maintenance_usd_per_kw_year: float
    max_rack_kw: float
    kind: str


class Assumptions(TypedDict):
    """What the plan's costs are computed from (`optimizer.plan.assumptions`): enough for a
    workbook to recompute every cost by formula."""

    wacc: float
    facility_lifetime_years: float
    utilization: float
    availability: float
    hours_per_year: float
    shell_capex_usd_per_kw_it: float
    grid_connection_capex_usd_per_kw: float
    fixed_opex_usd_per_year: float
    carbon_kg_per_kwh: float | None
    budget_mw: float
    tariff: TariffAssumption
    systems: list[SystemAssumption]
    """The systems of the fleet."""
    coolings: list[CoolingAssumption]
    """The cooling options of the fleet."""
    power_designs: list[PowerAssumption]
    """The power design of the fleet."""


class GainVsFlat(TypedDict):
    """A time-resolved plan's gain over the flat year in cost per million tokens [USD], split
    (`optimizer.solve.with_like_for_like`): utilization = flat(u) − flat(u'), tariff_timing =
    flat(u') − the plan's, total = their sum; u' the flat utilization that realizes what the
    plan realizes."""

    utilization: float
    tariff_timing: float
    total: float
    flat_utilization: float
    realized_flat_utilization: float | None


class SolverIteration(TypedDict):
    """One MILP of the solve (Dinkelbach's iterations; 0: a start or a dispatch)."""

    iteration: int
    lambda_usd_per_token: float | None
    cost_usd: float | None
    tokens: float | None
    F: float | None
    mip_gap: float | None
    seconds: float | None


class SolverInfo(TypedDict):
    name: str
    status: str
    """A `Status`."""
    mip_gap: float | None
    seconds: float
    build_seconds: float
    solve_seconds: float
    n_variables: int
    n_constraints: int
    n_nonzeros: int
    iterations: list[SolverIteration]


class InputFile(TypedDict):
    """An input file the plan was made from, by content hash."""

    file: str
    sha256: str
    bytes: NotRequired[int]
    """Dagster plans: read from the input folder when the file there still has the hash."""


class MonthRow(TypedDict):
    """Energy and demand charges of one month of a time-resolved plan."""

    month: int
    energy_kwh: float
    energy_usd: float
    peak_grid_kw: float
    demand_usd: float


class SystemUtilization(TypedDict):
    sku: str
    gpus: int
    utilization: float | None


class RealizedUtilization(TypedDict):
    """GPU-hours serving / GPU-hours of the year, beside the flat year's assumed utilization."""

    fleet: float | None
    flat_assumption: float
    by_system: list[SystemUtilization]


class Slices(TypedDict):
    """A time-resolved year slice by slice, as columns of equal length."""

    month: list[int]
    day_type: list[str]
    hour: list[int]
    weight_days: list[float]
    grid_kw: list[float]
    price_usd_per_kwh: list[float]
    tokens_per_s: dict[str, list[float]]
    """Per workload."""


class Alternative(TypedDict):
    """The best plan with one system only (`pipelines.planning.comparisons`)."""

    sku: str
    rented: bool
    status: str
    """A `Status`, or `INFEASIBLE` (then `reason` says why and the numbers are None)."""
    reason: str | None
    nodes: int | None
    gpus: int | None
    cost_per_million_tokens_usd: float | None
    tokens_per_s_per_mw: float | None
    annual_cost_usd: float | None
    grid_power_mw: float | None
    advantage_ratio: float | None
    """Its cost per token / the chosen plan's (flat-year) cost per token."""


class LeverRow(TypedDict):
    """The plan with one lever taken away (`pipelines.planning.levers`)."""

    lever: str
    """The lever's key (`optimizer.levers.LEVERS`)."""
    name: str
    """What it is, in words (FP4, speculative decoding, …)."""
    without: str
    """What the solve took away, in words."""
    in_data: bool
    """Whether the inputs have the lever at all (if not, the row is the plan itself)."""
    used_by_plan: bool
    status: str
    """A `Status`, or `INFEASIBLE` (then `reason` says why and the numbers are None)."""
    reason: str | None
    cost_per_million_tokens_usd: float | None
    tokens_per_s_per_mw: float | None
    annual_cost_usd: float | None
    margin_usd_per_year: float | None
    cost_ratio: float | None
    """Cost per token without the lever / the plan's (flat-year) cost per token: what the
    lever is worth (1.8: a token costs 1.8x without it)."""
    tokens_per_mw_ratio: float | None
    """The plan's tokens/s per MW / tokens/s per MW without the lever."""


class PlanDocument(TypedDict):
    """A plan: what `optimizer.plan.plan_document` returns (its module docstring says what the
    fields mean), with the extras added by `pipelines`. Required keys: what every plan has."""

    name: str
    status: str
    """A `Status`."""
    objective: str
    """An `Objective`."""
    budget_mw: float
    grid_power_mw: float
    it_power_mw: float
    pue: float | None
    power_design: str | None
    fleet: list[FleetRow]
    allocation: list[AllocationRow]
    workloads: list[WorkloadRow]
    tokens_per_year: float
    annual_cost_usd: float
    capex_usd: float
    costs_usd_per_year: CostComponents
    cost_per_million_tokens_usd: float | None
    tokens_per_s_per_mw: float | None
    kwh_per_million_tokens: float | None
    solver: SolverInfo
    inputs: list[InputFile]
    notes: list[str]
    # Every plan since site economics (older plan files lack them; see `optimizer.plan`):
    carbon_kg_per_million_tokens: NotRequired[float | None]
    water_l_per_million_tokens: NotRequired[float | None]
    revenue_usd_per_year: NotRequired[float | None]
    margin_usd_per_year: NotRequired[float | None]
    availability: NotRequired[float]
    capex_usd_by_component: NotRequired[CapexComponents]
    """Upfront capex by component; `capex_usd` is their sum (before: IT and facility only)."""
    tariff: NotRequired[str]
    """The tariff id the plan was priced with."""
    assumptions: NotRequired[Assumptions]
    # Time-resolved plans only (see `optimizer.plan`):
    time_resolution: NotRequired[str]
    """A `TimeResolution` other than flat."""
    flat_cost_per_million_tokens_usd: NotRequired[float | None]
    flat_at_realized_utilization_cost_per_million_tokens_usd: NotRequired[float | None]
    gain_vs_flat_usd_per_million_tokens: NotRequired[GainVsFlat | None]
    monthly: NotRequired[list[MonthRow]]
    realized_utilization: NotRequired[RealizedUtilization]
    slices: NotRequired[Slices]
    # Added by pipelines:
    alternatives: NotRequired[list[Alternative]]
    """`pipelines.planning.comparisons.with_alternatives`."""
    levers: NotRequired[list[LeverRow]]
    """`pipelines.planning.levers.with_levers`."""
    plan_id: NotRequired[str]
    """`pipelines.warehouse.history.stamp`; a plan file without one is named by its file name."""
    created_at: NotRequired[str]
    """`pipelines.warehouse.history.stamp`: ISO 8601, UTC, to the second."""
    inputs_snapshot: NotRequired[str | None]
    """The Dagster job's plans: the tables snapshot they were made from."""


def cost_components(plan: PlanDocument) -> Mapping[str, float]:
    """The plan's `costs_usd_per_year` as a mapping to iterate (a TypedDict's values are `object`
    to a type checker): component → USD/year, in report order."""
    return cast(Mapping[str, float], plan["costs_usd_per_year"])


def missing_plan_keys(document: Mapping[str, object]) -> list[str]:
    """The keys every plan has that `document` lacks, sorted; none: it is a plan."""
    return sorted(PlanDocument.__required_keys__ - document.keys())
