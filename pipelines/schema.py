"""The canonical tables: every column's name, type, unit (in its name), default and range.

This module is the data contract of DESIGN.md in code. Readers turn each input format
into these tables; the optimizer reads only these tables. Every canonical table also
carries `source_file`, the input file (relative to the data folder) a row came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from optimizer.inputs import BATCH_QUOTAS, LOAD_SHAPES

LIST_OF_STRINGS = pl.List(pl.String)
LIST_OF_FLOATS = pl.List(pl.Float64)


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    required: the column must be present in an input file.
    nullable: a cell may be empty (after `default` is applied).
    default: value for an absent optional column or an empty cell; a string naming
        another column (`"=node_power_kw"`) copies that column.
    min / max: inclusive bounds unless min_exclusive.
    choices: allowed values of a string column (or of each item of a list column).
    """

    name: str
    dtype: pl.DataType
    doc: str
    required: bool = True
    nullable: bool = False
    default: object = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    choices: tuple[str, ...] | None = None

    def bounds_text(self) -> str:
        low = "" if self.min is None else (f"> {self.min:g}" if self.min_exclusive else f">= {self.min:g}")
        high = "" if self.max is None else f"<= {self.max:g}"
        return " and ".join(t for t in (low, high) if t)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    doc: str = ""

    @property
    def schema(self) -> dict[str, pl.DataType]:
        """The canonical polars schema, `source_file` included."""
        return {c.name: c.dtype for c in self.columns} | {"source_file": pl.String()}

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)


COOLING_KINDS = ("air", "liquid", "immersion")
F64, I64, STR = pl.Float64(), pl.Int64(), pl.String()

HARDWARE = Table(
    "hardware",
    key=("sku",),
    doc="Purchasable or rentable systems; one row per node (an 8-GPU server or a whole NVL72 rack).",
    columns=(
        Column("sku", STR, "unique system name"),
        Column("vendor", STR, "maker"),
        Column("accelerator", STR, "accelerator key joining benchmarks (H100, H200, B200, GB200, MI355X, ...)"),
        Column("gpus_per_node", I64, "GPUs in one node", min=0, min_exclusive=True),
        Column("node_capex_usd", F64, "purchase price of one node incl. in-node networking; empty for rental-only rows",
               required=False, nullable=True, min=0),
        Column("node_power_kw", F64, "IT power of one node at full serving load, also what is provisioned",
               nullable=True, min=0, min_exclusive=True),
        Column("node_idle_power_kw", F64, "IT power of one idle node", required=False, nullable=True,
               default="=node_power_kw", min=0),
        Column("nodes_per_rack", I64, "nodes in one rack", required=False, default=1, min=0, min_exclusive=True),
        Column("cooling_kinds", LIST_OF_STRINGS, "`;`-separated cooling kinds the system supports",
               required=False, default=[], choices=COOLING_KINDS),
        Column("lifetime_years", F64, "depreciation life; empty: the scenario's it_lifetime_years",
               required=False, nullable=True, min=0, min_exclusive=True),
        Column("maintenance_pct_per_year", F64, "maintenance, percent of node capex per year", required=False,
               default=0.0, min=0, max=100),
        Column("opex_usd_per_gpu_year", F64, "licences, staff and other opex per GPU per year", required=False,
               default=0.0, min=0),
        Column("max_nodes", I64, "supply cap on nodes; empty: no limit", required=False, nullable=True, min=0),
        Column("rental_usd_per_gpu_hour", F64, "rental price; a row with it and no capex is rented",
               required=False, nullable=True, min=0),
        Column("source", STR, "where the figures come from"),
        Column("as_of", STR, "date of the figures", required=False, nullable=True),
    ),
)

BENCHMARKS = Table(
    "benchmarks",
    doc="Measured throughput operating points, one row per point.",
    columns=(
        Column("accelerator", STR, "accelerator key"),
        Column("model", STR, "model key (deepseek-r1, llama2-70b, ...)"),
        Column("framework", STR, "serving framework", required=False, nullable=True),
        Column("precision", STR, "weight precision (fp8, fp4, ...)", required=False, nullable=True),
        Column("isl", I64, "input sequence length, tokens; empty: a dataset of varying lengths",
               required=False, nullable=True, min=0, min_exclusive=True),
        Column("osl", I64, "output sequence length, tokens; empty: a dataset of varying lengths",
               required=False, nullable=True, min=0, min_exclusive=True),
        Column("concurrency", I64, "concurrent requests", required=False, nullable=True, min=0),
        Column("tokens_per_s_per_gpu", F64, "input + output tokens per second per GPU", min=0,
               min_exclusive=True),
        Column("output_tokens_per_s_per_gpu", F64, "output tokens per second per GPU", required=False,
               nullable=True, min=0),
        Column("interactivity_tokens_per_s_per_user", F64, "1 / TPOT; empty: not bounded (offline)",
               required=False, nullable=True, min=0),
        Column("ttft_s", F64, "time to first token; empty: not bounded (offline)", required=False,
               nullable=True, min=0),
        Column("source", STR, "where the point was measured"),
    ),
)

COOLING = Table(
    "cooling",
    key=("cooling_id",),
    doc="Cooling options.",
    columns=(
        Column("cooling_id", STR, "unique id"),
        Column("kind", STR, "air | liquid | immersion", choices=COOLING_KINDS),
        Column("overhead_kw_per_kw_it", F64, "cooling + facility overhead per kW of IT", min=0),
        Column("capex_usd_per_kw_it", F64, "cooling plant capex per kW of IT", min=0),
        Column("opex_pct_per_year", F64, "cooling opex, percent of its capex per year", min=0, max=100),
        Column("max_rack_kw", F64, "densest rack it can cool", min=0, min_exclusive=True),
        Column("water_l_per_kwh", F64, "water use per kWh of IT", required=False, default=0.0, min=0),
        Column("source", STR, "where the figures come from", required=False, nullable=True),
    ),
)

POWER = Table(
    "power",
    key=("power_id",),
    doc="Power-delivery designs (grid to chip).",
    columns=(
        Column("power_id", STR, "unique id"),
        Column("name", STR, "description"),
        Column("efficiency", F64, "grid-to-chip efficiency, 0 < efficiency <= 1", min=0, max=1, min_exclusive=True),
        Column("capex_usd_per_kw_it", F64, "power chain capex per kW of IT", min=0),
        Column("maintenance_usd_per_kw_year", F64, "power chain maintenance per kW of IT per year", min=0),
        Column("max_rack_kw", F64, "densest rack it can feed", min=0, min_exclusive=True),
        Column("source", STR, "where the figures come from", required=False, nullable=True),
    ),
)

TARIFF_CSV = Table(
    "tariff_csv",
    key=("tariff_id",),
    doc="Simple flat tariffs as a CSV file (input format only; ingested into the tariff tables).",
    columns=(
        Column("tariff_id", STR, "unique id"),
        Column("energy_usd_per_kwh", F64, "energy price", min=0),
        Column("demand_usd_per_kw_month", F64, "demand charge on the monthly peak", required=False, default=0.0,
               min=0),
        Column("fixed_usd_per_month", F64, "fixed charge", required=False, default=0.0, min=0),
        Column("source", STR, "where the price comes from", required=False, nullable=True),
    ),
)

TARIFFS = Table(
    "tariffs",
    key=("tariff_id",),
    doc="One row per tariff (URDB document or flat CSV row).",
    columns=(
        Column("tariff_id", STR, "URDB label or CSV tariff_id"),
        Column("name", STR, "tariff name", nullable=True),
        Column("utility", STR, "utility", nullable=True),
        Column("kind", STR, "urdb | flat", choices=("urdb", "flat")),
        Column("fixed_usd_per_month", F64, "fixed charge per month", min=0),
        Column("fixed_usd_per_day", F64, "fixed charge per day (billed per day of the month)", min=0),
        Column("min_usd_per_month", F64, "minimum monthly charge", min=0),
        Column("demand_window_min", F64, "demand averaging window, minutes", nullable=True, min=0),
        Column("source", STR, "where the tariff comes from", nullable=True),
    ),
)

TARIFF_ENERGY_RATES = Table(
    "tariff_energy_rates",
    key=("tariff_id", "period", "tier"),
    doc="Energy charges: one row per (tariff, period, tier). Tier bounds are monthly kWh.",
    columns=(
        Column("tariff_id", STR, "tariff"),
        Column("period", I64, "0-based period index used by the energy schedules", min=0),
        Column("tier", I64, "0-based tier index", min=0),
        Column("max_kwh", F64, "tier upper bound, kWh per month; empty: unbounded", nullable=True, min=0),
        Column("rate_usd_per_kwh", F64, "rate"),
        Column("adj_usd_per_kwh", F64, "adjustment (riders) added to the rate"),
    ),
)

TARIFF_DEMAND_RATES = Table(
    "tariff_demand_rates",
    key=("tariff_id", "kind", "period", "tier"),
    doc="Demand charges: TOU (peak within a period each month) and flat (monthly peak).",
    columns=(
        Column("tariff_id", STR, "tariff"),
        Column("kind", STR, "tou | flat", choices=("tou", "flat")),
        Column("period", I64, "0-based period index", min=0),
        Column("tier", I64, "0-based tier index", min=0),
        Column("max_kw", F64, "tier upper bound, kW; empty: unbounded", nullable=True, min=0),
        Column("rate_usd_per_kw", F64, "rate per kW of the month's peak"),
        Column("adj_usd_per_kw", F64, "adjustment added to the rate"),
    ),
)

TARIFF_SCHEDULES = Table(
    "tariff_schedules",
    key=("tariff_id", "schedule", "day_type", "month", "hour"),
    doc="Which period applies: energy and TOU demand per (day type, month, hour); flat demand per month.",
    columns=(
        Column("tariff_id", STR, "tariff"),
        Column("schedule", STR, "energy | demand | flat_demand", choices=("energy", "demand", "flat_demand")),
        Column("day_type", STR, "weekday | weekend | all", choices=("weekday", "weekend", "all")),
        Column("month", I64, "1..12", min=1, max=12),
        Column("hour", I64, "0..23; empty for flat_demand", nullable=True, min=0, max=23),
        Column("period", I64, "0-based period index", min=0),
    ),
)

SCENARIO = Table(
    "scenario",
    doc="The planning question: one row of site and finance figures.",
    columns=(
        Column("name", STR, "site name"),
        Column("budget_mw", F64, "grid interconnect", min=0, min_exclusive=True),
        Column("tariff", STR, "tariff id or URDB label"),
        Column("wacc", F64, "weighted average cost of capital, fraction per year", min=0, max=1),
        Column("it_lifetime_years", F64, "IT depreciation life", min=0, min_exclusive=True),
        Column("facility_lifetime_years", F64, "cooling, power chain and shell life", min=0, min_exclusive=True),
        Column("utilization", F64, "fraction of hours the fleet serves at its operating point", min=0, max=1,
               min_exclusive=True),
        Column("shell_capex_usd_per_kw_it", F64, "building, site, white space per kW of IT", min=0),
        Column("fixed_opex_usd_per_year", F64, "site staff, insurance, ...", required=False, default=0.0, min=0),
        Column("carbon_kg_per_kwh", F64, "grid carbon intensity", required=False, nullable=True, min=0),
        Column("hours_per_year", F64, "hours in the planning year", required=False, default=8760.0, min=0,
               min_exclusive=True, max=8784),
    ),
)

WORKLOADS = Table(
    "workloads",
    key=("name",),
    doc="What the factory serves, with service-level objectives.",
    columns=(
        Column("name", STR, "unique workload name"),
        Column("model", STR, "model key joining benchmarks"),
        Column("isl", I64, "input sequence length; empty: as the benchmark dataset", required=False, nullable=True,
               min=0, min_exclusive=True),
        Column("osl", I64, "output sequence length; empty: as the benchmark dataset", required=False,
               nullable=True, min=0, min_exclusive=True),
        Column("min_interactivity_tokens_per_s_per_user", F64, "SLO: lowest acceptable 1 / TPOT",
               required=False, nullable=True, min=0),
        Column("max_ttft_s", F64, "SLO: longest acceptable time to first token", required=False, nullable=True,
               min=0, min_exclusive=True),
        Column("share", F64, "fraction of delivered tokens (cost-per-token mode)", required=False, nullable=True,
               min=0, max=1),
        Column("demand_tokens_per_s", F64, "tokens per second to serve (min-cost mode)", required=False,
               nullable=True, min=0),
        Column("load_shape", STR, "interactive | batch", required=False, default="interactive",
               choices=LOAD_SHAPES),
        Column("load_profile", LIST_OF_FLOATS, "interactive: 24 hourly fractions of the peak load, hour 0 = "
               "midnight (`;`-separated; in scenario.yaml a list); empty: the default diurnal profile",
               required=False, nullable=True),
        Column("batch_quota", STR, "batch: tokens due over the year (annual) or equally every day (daily)",
               required=False, default="annual", choices=BATCH_QUOTAS),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (HARDWARE, BENCHMARKS, COOLING, POWER, TARIFFS, TARIFF_ENERGY_RATES, TARIFF_DEMAND_RATES,
              TARIFF_SCHEDULES, SCENARIO, WORKLOADS)
}
"""Every canonical table, by name (= its Dagster asset and its Parquet file)."""
