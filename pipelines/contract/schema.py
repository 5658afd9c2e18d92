"""The canonical tables: every column's name, type, unit (in its name), default and range.

This module is the data contract of DESIGN.md in code. Readers turn each input format
into these tables; the optimizer reads only these tables. Every canonical table also
carries `source_file`, the input file (relative to the data folder) a row came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

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
    min / max: inclusive bounds unless min_exclusive. Every numeric column has both: a
        value outside them is a unit slip or a wrong cell, never a bigger site.
    why: the reason for the bounds, shown with an out-of-range value and in the contract.
    choices: allowed values of a string column (or of each item of a list column).
    lowercase: text (or each item of a list) is lower-cased as read, so `FP4` is `fp4`.
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
    why: str = ""
    choices: tuple[str, ...] | None = None
    lowercase: bool = False

    def bounds_text(self) -> str:
        low = (
            ""
            if self.min is None
            else (f"> {_bound(self.min)}" if self.min_exclusive else f">= {_bound(self.min)}")
        )
        high = "" if self.max is None else f"<= {_bound(self.max)}"
        return " and ".join(t for t in (low, high) if t)

    def within_range(self, value):
        """Whether a finite value (a float, or each of a polars Series) lies within the bounds."""
        ok = True
        if self.min is not None:
            ok = (value > self.min if self.min_exclusive else value >= self.min) & ok
        if self.max is not None:
            ok = (value <= self.max) & ok
        return ok

    def range_text(self) -> str:
        """The bounds with their reason, as an out-of-range problem states them."""
        return self.bounds_text() + (f": {self.why}" if self.why else "")


def _bound(value: float) -> str:
    """A bound as people write it: 10,000,000 rather than 1e+07; 1e+12 stays short."""
    return f"{int(value):,}" if float(value).is_integer() and abs(value) < 1e9 else f"{value:g}"


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
POWER_KINDS = ("ac", "dc")
"""Power-delivery kinds: `ac` = 415/480 VAC distribution, `dc` = 800 VDC."""
RENTAL_HOSTINGS = ("remote", "on_site")
F64, I64, STR, BOOL = pl.Float64(), pl.Int64(), pl.String(), pl.Boolean()


class Bounds(TypedDict, total=False):
    """A column's range as keyword arguments of `Column`: shared by several columns."""

    min: float
    max: float
    min_exclusive: bool
    why: str


def above_min(bounds: Bounds) -> Bounds:
    """`bounds` with the minimum itself excluded (a throughput of 0 is no operating point)."""
    strict = bounds.copy()
    strict["min_exclusive"] = True
    return strict


# Bounds shared by several columns, each with its reason.
GPUS = Bounds(
    min=0,
    max=1024,
    min_exclusive=True,
    why="the largest NVLink domain announced in one rack is 576 GPUs",
)
NODE_KW = Bounds(
    min=0,
    max=2000,
    why="announced racks reach about 600 kW; 2 MW in one node is watts written as kW",
)
PCT = Bounds(min=0, max=100, why="a percentage")
USD_PER_KW_IT = Bounds(
    min=0,
    max=100_000,
    why="facility plant costs about $1,000-$15,000 per kW of IT; $100,000 is a unit slip",
)
RACK_KW = Bounds(
    min=0, max=5000, min_exclusive=True, why="the densest racks planned are about 1 MW"
)
SEQUENCE = Bounds(
    min=0,
    max=10_000_000,
    min_exclusive=True,
    why="the longest context windows offered are about 10 million tokens",
)
THROUGHPUT = Bounds(
    min=0,
    max=10_000_000,
    why="published points reach about 100,000 tokens/s per GPU; 10 million is a wrong cell",
)
INTERACTIVITY = Bounds(
    min=0, max=100_000, why="the fastest systems serve about 2,000 tokens/s to one user"
)
TTFT = Bounds(min=0, max=3600, why="a first token after an hour is no interactive service")
ENERGY_RATE = Bounds(
    min=0,
    max=10,
    why="retail industrial energy costs $0.03-$0.40/kWh; $10/kWh is beyond wholesale scarcity caps",
)
DEMAND_RATE = Bounds(min=0, max=1000, why="demand charges are about $1-$40 per kW-month")
USD_PER_MONTH = Bounds(
    min=0, max=10_000_000, why="a utility's fixed charges are far below $10 million a month"
)
PERIOD = Bounds(min=0, max=287, why="12 months x 24 hours of two day types use at most 288 periods")
TIER = Bounds(min=0, max=99, why="tariffs have a handful of tiers")
MONEY_LIMIT = Bounds(min=0, max=1e11, why="$100 billion a year is beyond any single site")
POOL_GPUS = Bounds(
    min=0,
    max=100_000,
    min_exclusive=True,
    why="published disaggregated deployments use up to a few hundred GPUs per pool; 100,000 is "
    "a wrong cell",
)
TOKEN_RATE = Bounds(
    min=0, max=1e10, why="the largest providers serve about 10^8-10^9 tokens/s in all"
)
BUDGET = Bounds(
    min=0,
    max=10_000,
    min_exclusive=True,
    why="the largest campuses announced are a few GW; 10 GW is a unit slip (kW written as MW)",
)
YEAR = Bounds(min=2000, max=2100, why="a year before 2000 or after 2100 is a typo in a plan")

HARDWARE = Table(
    "hardware",
    key=("sku",),
    doc="Purchasable or rentable systems; one row per node (an 8-GPU server or a whole NVL72 "
    "rack).",
    columns=(
        Column("sku", STR, "unique system name"),
        Column("vendor", STR, "maker"),
        Column(
            "accelerator",
            STR,
            "accelerator joining benchmarks (H100, H200, B200, GB200, MI355X, or any "
            "other name: an open set)",
        ),
        Column("gpus_per_node", I64, "GPUs in one node", **GPUS),
        Column(
            "node_capex_usd",
            F64,
            "purchase price of one node incl. in-node networking; empty for rental-only rows",
            required=False,
            nullable=True,
            min=0,
            max=100_000_000,
            why="a whole NVL72 rack costs about $3-4 million; $100 million per node is a unit slip",
        ),
        Column(
            "node_power_kw",
            F64,
            "IT power of one node at full serving load, also what is provisioned",
            nullable=True,
            **above_min(NODE_KW),
        ),
        Column(
            "node_idle_power_kw",
            F64,
            "IT power of one idle node",
            required=False,
            nullable=True,
            default="=node_power_kw",
            **NODE_KW,
        ),
        Column(
            "nodes_per_rack",
            I64,
            "nodes in one rack",
            required=False,
            default=1,
            min=0,
            max=64,
            min_exclusive=True,
            why="a 48U rack holds at most a few dozen servers",
        ),
        Column(
            "cooling_kinds",
            LIST_OF_STRINGS,
            "`;`-separated cooling kinds the system supports",
            required=False,
            default=[],
            choices=COOLING_KINDS,
        ),
        Column(
            "power_kinds",
            LIST_OF_STRINGS,
            "`;`-separated power-delivery kinds the system can be fed by: ac (415/480 VAC), dc "
            "(800 VDC); a GB200 NVL72 rack takes 415/480 VAC to its 54 V shelves only",
            required=False,
            default=list(POWER_KINDS),
            choices=POWER_KINDS,
        ),
        Column(
            "lifetime_years",
            F64,
            "depreciation life; empty: the scenario's it_lifetime_years",
            required=False,
            nullable=True,
            min=0,
            max=30,
            min_exclusive=True,
            why="accelerators are depreciated over 3-7 years; 30 years bounds any schedule",
        ),
        Column(
            "maintenance_pct_per_year",
            F64,
            "maintenance, percent of node capex per year",
            required=False,
            default=0.0,
            **PCT,
        ),
        Column(
            "opex_usd_per_gpu_year",
            F64,
            "licences, staff and other opex per GPU per year",
            required=False,
            default=0.0,
            min=0,
            max=1_000_000,
            why="more than a GPU's price every year is a unit slip",
        ),
        Column(
            "max_nodes",
            I64,
            "supply cap on nodes; empty: no limit",
            required=False,
            nullable=True,
            min=0,
            max=1_000_000,
            why="a million nodes is beyond any site's supply",
        ),
        Column(
            "rental_usd_per_gpu_hour",
            F64,
            "rental price; a row with it and no capex is rented",
            required=False,
            nullable=True,
            min=0,
            max=1000,
            why="GPUs rent for about $1-$15 per hour; $1,000 is a unit slip",
        ),
        Column(
            "rental_hosting",
            STR,
            "where a rented row (rental price, no capex) runs: remote uses no site power; on_site "
            "is racked on the site and uses its power, cooling and power chain (and needs "
            "node_power_kw). An owned row is on the site anyway: leave it empty",
            required=False,
            default="remote",
            choices=RENTAL_HOSTINGS,
        ),
        Column(
            "available_from_year",
            I64,
            "multi-year plans: the first year the system can be bought or rented; empty: from the "
            "horizon's start",
            required=False,
            nullable=True,
            **YEAR,
        ),
        Column(
            "available_until_year",
            I64,
            "multi-year plans: the last year the system can be bought or rented, not before "
            "available_from_year; empty: to the horizon's end",
            required=False,
            nullable=True,
            **YEAR,
        ),
        Column(
            "capex_decline_pct_per_year",
            F64,
            "multi-year plans: a bought row's node_capex_usd falls this percent a year from the "
            "horizon's start_year (bought rows only); empty: no decline",
            required=False,
            nullable=True,
            min=0,
            max=90,
            why="accelerator prices fall about 10-30% a year; 90% a year is a wrong cell",
        ),
        Column("source", STR, "where the figures come from"),
        Column("as_of", STR, "date of the figures", required=False, nullable=True),
    ),
)

BENCHMARKS = Table(
    "benchmarks",
    doc="Measured throughput operating points, one row per point.",
    columns=(
        Column("accelerator", STR, "accelerator (an open set; see docs/contract.md, Names)"),
        Column("model", STR, "model (deepseek-r1, llama2-70b, or any other name: an open set)"),
        Column("framework", STR, "serving framework", required=False, nullable=True),
        Column(
            "precision",
            STR,
            "weight precision, lower-cased (`FP4` is fp4); other spellings (nvfp4, mxfp4) are "
            "values of their own",
            required=False,
            nullable=True,
            lowercase=True,
        ),
        Column(
            "spec_decoding",
            STR,
            "speculative decoding method, lower-cased (none, mtp, eagle, ...); empty: not stated",
            required=False,
            nullable=True,
            lowercase=True,
        ),
        Column(
            "disaggregated",
            BOOL,
            "prefill and decode run on separate GPU pools; empty: not stated",
            required=False,
            nullable=True,
        ),
        Column(
            "prefill_gpus",
            I64,
            "GPUs of the deployment's prefill pool (disaggregated rows); empty: not stated",
            required=False,
            nullable=True,
            **POOL_GPUS,
        ),
        Column(
            "decode_gpus",
            I64,
            "GPUs of the deployment's decode pool (disaggregated rows); empty: not stated",
            required=False,
            nullable=True,
            **POOL_GPUS,
        ),
        Column(
            "kv_offload",
            BOOL,
            "KV cache offloaded to CPU memory or storage; empty: not stated",
            required=False,
            nullable=True,
        ),
        Column(
            "parallelism",
            STR,
            "parallelism as given, free text (`tp8 ep8 dp-attention`, `prefill 1x(tp4) decode "
            "4x(tp8 ep8)`); empty: not stated",
            required=False,
            nullable=True,
        ),
        Column(
            "isl",
            I64,
            "input sequence length, tokens; empty: a dataset of varying lengths",
            required=False,
            nullable=True,
            **SEQUENCE,
        ),
        Column(
            "osl",
            I64,
            "output sequence length, tokens; empty: a dataset of varying lengths",
            required=False,
            nullable=True,
            **SEQUENCE,
        ),
        Column(
            "concurrency",
            I64,
            "concurrent requests",
            required=False,
            nullable=True,
            min=0,
            max=10_000_000,
            why="ten million requests in flight on one deployment is a wrong cell",
        ),
        Column(
            "tokens_per_s_per_gpu",
            F64,
            "input + output tokens per second per GPU, counting every GPU of the deployment "
            "(prefill + decode GPUs of a disaggregated one)",
            **above_min(THROUGHPUT),
        ),
        Column(
            "output_tokens_per_s_per_gpu",
            F64,
            "output tokens per second per GPU, counting every GPU of the deployment (prefill + "
            "decode GPUs of a disaggregated one, not the decode GPUs alone)",
            required=False,
            nullable=True,
            **THROUGHPUT,
        ),
        Column(
            "interactivity_tokens_per_s_per_user",
            F64,
            "1 / TPOT; empty: not bounded (offline)",
            required=False,
            nullable=True,
            **INTERACTIVITY,
        ),
        Column(
            "ttft_s",
            F64,
            "time to first token; empty: not bounded (offline)",
            required=False,
            nullable=True,
            **TTFT,
        ),
        Column("source", STR, "where the point was measured"),
    ),
)

BENCHMARK_DERIVATIONS = Table(
    "benchmark_derivations",
    key=("accelerator", "model"),
    doc="Derived operating points: an accelerator's throughput on a model as a ratio of another "
    "accelerator's measured points (`benchmarks/derived.csv`; optional).",
    columns=(
        Column("accelerator", STR, "accelerator the points are derived for (an open set)"),
        Column("model", STR, "model (an open set)"),
        Column(
            "from_accelerator",
            STR,
            "accelerator whose measured points of the model are scaled; not `accelerator` itself",
        ),
        Column(
            "throughput_ratio",
            F64,
            "tokens per second per GPU of `accelerator` / that of `from_accelerator` at the same "
            "interactivity and TTFT",
            min=0,
            max=100,
            min_exclusive=True,
            why="one accelerator generation is about 1.5-4x the one before; 100x is a wrong cell",
        ),
        Column("source", STR, "where the ratio comes from"),
    ),
)

COOLING = Table(
    "cooling",
    key=("cooling_id",),
    doc="Cooling options.",
    columns=(
        Column("cooling_id", STR, "unique id"),
        Column("kind", STR, "air | liquid | immersion", choices=COOLING_KINDS),
        Column(
            "overhead_kw_per_kw_it",
            F64,
            "cooling + facility overhead per kW of IT",
            min=0,
            max=2,
            why="2 kW of overhead per kW of IT is a PUE of 3, worse than any data center built",
        ),
        Column("capex_usd_per_kw_it", F64, "cooling plant capex per kW of IT", **USD_PER_KW_IT),
        Column("opex_pct_per_year", F64, "cooling opex, percent of its capex per year", **PCT),
        Column("max_rack_kw", F64, "densest rack it can cool", **RACK_KW),
        Column(
            "water_l_per_kwh",
            F64,
            "water use per kWh of IT",
            required=False,
            default=0.0,
            min=0,
            max=100,
            why="evaporative cooling uses about 0-2 litres per kWh",
        ),
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
        Column(
            "kind",
            STR,
            "ac (415/480 VAC distribution) | dc (800 VDC); a system's power_kinds must include it",
            choices=POWER_KINDS,
        ),
        Column(
            "efficiency",
            F64,
            "grid-to-chip efficiency, 0 < efficiency <= 1",
            min=0,
            max=1,
            min_exclusive=True,
            why="a fraction of the grid's power that reaches the chips",
        ),
        Column("capex_usd_per_kw_it", F64, "power chain capex per kW of IT", **USD_PER_KW_IT),
        Column(
            "maintenance_usd_per_kw_year",
            F64,
            "power chain maintenance per kW of IT per year",
            min=0,
            max=10_000,
            why="maintenance above the chain's own price every year is a unit slip",
        ),
        Column("max_rack_kw", F64, "densest rack it can feed", **RACK_KW),
        Column("source", STR, "where the figures come from", required=False, nullable=True),
    ),
)

TARIFF_CSV = Table(
    "tariff_csv",
    key=("tariff_id",),
    doc="Simple flat tariffs as a CSV file (input format only; ingested into the tariff tables).",
    columns=(
        Column("tariff_id", STR, "unique id"),
        Column("energy_usd_per_kwh", F64, "energy price", **ENERGY_RATE),
        Column(
            "demand_usd_per_kw_month",
            F64,
            "demand charge on the monthly peak",
            required=False,
            default=0.0,
            **DEMAND_RATE,
        ),
        Column(
            "fixed_usd_per_month", F64, "fixed charge", required=False, default=0.0, **USD_PER_MONTH
        ),
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
        Column("fixed_usd_per_month", F64, "fixed charge per month", **USD_PER_MONTH),
        Column(
            "fixed_usd_per_day",
            F64,
            "fixed charge per day (billed per day of the month)",
            min=0,
            max=1_000_000,
            why="a utility's fixed charges are far below $1 million a day",
        ),
        Column("min_usd_per_month", F64, "minimum monthly charge", **USD_PER_MONTH),
        Column(
            "demand_window_min",
            F64,
            "demand averaging window, minutes",
            nullable=True,
            min=0,
            max=1440,
            why="a demand window is 15-60 minutes; a day at most",
        ),
        Column("source", STR, "where the tariff comes from", nullable=True),
    ),
)

TARIFF_ENERGY_RATES = Table(
    "tariff_energy_rates",
    key=("tariff_id", "period", "tier"),
    doc="Energy charges: one row per (tariff, period, tier). Tier bounds are monthly kWh.",
    columns=(
        Column("tariff_id", STR, "tariff"),
        Column("period", I64, "0-based period index used by the energy schedules", **PERIOD),
        Column("tier", I64, "0-based tier index", **TIER),
        Column(
            "max_kwh",
            F64,
            "tier upper bound, kWh per month; empty: unbounded",
            nullable=True,
            min=0,
            max=1e12,
            why="a terawatt-hour a month is beyond any meter",
        ),
        Column("rate_usd_per_kwh", F64, "rate", **ENERGY_RATE),
        Column(
            "adj_usd_per_kwh",
            F64,
            "adjustment (riders) added to the rate; may be a credit",
            min=-10,
            max=10,
            why="riders add or credit cents per kWh",
        ),
    ),
)

TARIFF_DEMAND_RATES = Table(
    "tariff_demand_rates",
    key=("tariff_id", "kind", "period", "tier"),
    doc="Demand charges: TOU (peak within a period each month) and flat (monthly peak).",
    columns=(
        Column("tariff_id", STR, "tariff"),
        Column("kind", STR, "tou | flat", choices=("tou", "flat")),
        Column("period", I64, "0-based period index", **PERIOD),
        Column("tier", I64, "0-based tier index", **TIER),
        Column(
            "max_kw",
            F64,
            "tier upper bound, kW; empty: unbounded",
            nullable=True,
            min=0,
            max=1e9,
            why="a terawatt is beyond any meter",
        ),
        Column("rate_usd_per_kw", F64, "rate per kW of the month's peak", **DEMAND_RATE),
        Column(
            "adj_usd_per_kw",
            F64,
            "adjustment added to the rate; may be a credit",
            min=-1000,
            max=1000,
            why="riders add or credit dollars per kW",
        ),
    ),
)

TARIFF_SCHEDULES = Table(
    "tariff_schedules",
    key=("tariff_id", "schedule", "day_type", "month", "hour"),
    doc="Which period applies: energy and TOU demand per (day type, month, hour); flat demand per "
    "month.",
    columns=(
        Column("tariff_id", STR, "tariff"),
        Column(
            "schedule",
            STR,
            "energy | demand | flat_demand",
            choices=("energy", "demand", "flat_demand"),
        ),
        Column("day_type", STR, "weekday | weekend | all", choices=("weekday", "weekend", "all")),
        Column("month", I64, "1..12", min=1, max=12, why="a month of the year"),
        Column(
            "hour",
            I64,
            "0..23; empty for flat_demand",
            nullable=True,
            min=0,
            max=23,
            why="an hour of the day",
        ),
        Column("period", I64, "0-based period index", **PERIOD),
    ),
)

SCENARIO = Table(
    "scenario",
    doc="The planning question: one row of site and finance figures.",
    columns=(
        Column("name", STR, "site name; default: the input folder's name", required=False),
        Column("budget_mw", F64, "grid interconnect", **BUDGET),
        Column("tariff", STR, "tariff id or URDB label"),
        Column(
            "wacc",
            F64,
            "weighted average cost of capital, fraction per year",
            min=0,
            max=1,
            why="a fraction: 0.08 is 8%",
        ),
        Column(
            "it_lifetime_years",
            F64,
            "IT depreciation life",
            min=0,
            max=30,
            min_exclusive=True,
            why="accelerators are depreciated over 3-7 years; 30 years bounds any schedule",
        ),
        Column(
            "facility_lifetime_years",
            F64,
            "cooling, power chain and shell life",
            min=0,
            max=60,
            min_exclusive=True,
            why="buildings and plant are depreciated over 15-40 years",
        ),
        Column(
            "utilization",
            F64,
            "fraction of hours the fleet serves at its operating point",
            min=0,
            max=1,
            min_exclusive=True,
            why="a fraction of the hours",
        ),
        Column(
            "shell_capex_usd_per_kw_it",
            F64,
            "building, site, white space per kW of IT",
            **USD_PER_KW_IT,
        ),
        Column(
            "grid_connection_capex_usd_per_kw",
            F64,
            "interconnect and substation capex per kW of budget_mw",
            required=False,
            default=0.0,
            min=0,
            max=20_000,
            why="interconnects and substations cost about $100-$2,000 per kW; $20,000 is a unit "
            "slip",
        ),
        Column(
            "availability",
            F64,
            "fraction of installed GPUs serving at any time (the rest down for repair or "
            "maintenance)",
            required=False,
            default=1.0,
            min=0,
            max=1,
            min_exclusive=True,
            why="a fraction of the GPUs",
        ),
        Column(
            "fixed_opex_usd_per_year",
            F64,
            "site staff, insurance, ...",
            required=False,
            default=0.0,
            **MONEY_LIMIT,
        ),
        Column(
            "carbon_kg_per_kwh",
            F64,
            "grid carbon intensity",
            required=False,
            nullable=True,
            min=0,
            max=2,
            why="coal generation emits about 1 kg CO2e per kWh",
        ),
        Column(
            "hours_per_year",
            F64,
            "hours in the planning year",
            required=False,
            default=8760.0,
            min=8760,
            max=8784,
            why="a year has 8,760 hours (8,784 in a leap year); downtime is `utilization`",
        ),
        Column(
            "horizon_start_year",
            I64,
            "multi-year plans: the horizon's first year (`horizon.start_year`); empty: a one-year "
            "plan",
            required=False,
            nullable=True,
            **YEAR,
        ),
        Column(
            "horizon_years",
            I64,
            "multi-year plans: years in the horizon (`horizon.years`); empty: a one-year plan",
            required=False,
            nullable=True,
            min=1,
            max=30,
            why="a plan beyond 30 years outlives every system and most buildings",
        ),
        Column(
            "horizon_budget_mw",
            LIST_OF_FLOATS,
            "multi-year plans: grid interconnect of each year of the horizon (`horizon.budget_mw`: "
            "a list of `horizon.years` numbers, or one number for every year); empty: budget_mw "
            "every year",
            required=False,
            nullable=True,
            **BUDGET,
        ),
        Column(
            "horizon_demand_tokens_per_s",
            LIST_OF_FLOATS,
            "multi-year plans: tokens per second the site serves at least, all workloads, in each "
            "year of the horizon (`horizon.demand_tokens_per_s`: a list of `horizon.years` "
            "numbers, or one number for every year); empty: no floor",
            required=False,
            nullable=True,
            **TOKEN_RATE,
        ),
        Column(
            "horizon_energy_escalation_pct_per_year",
            F64,
            "multi-year plans: energy prices change by this percent a year from the horizon's "
            "start_year (`horizon.energy_price_escalation_pct_per_year`; negative: they fall); "
            "empty: 0",
            required=False,
            nullable=True,
            min=-50,
            max=100,
            why="energy prices rarely move more than a few percent a year; doubling every year "
            "is a wrong cell",
        ),
    ),
)

REQUIREMENTS = {
    "framework": "serving frameworks",
    "precision": "weight precisions",
    "spec_decoding": "speculative decoding methods",
    "disaggregated": "disaggregation (true, false)",
    "kv_offload": "KV offload (true, false)",
}
"""`require:` keys of a workload in scenario.yaml -> what they restrict; each is stored in the
workloads column `require_<key>` and restricts the benchmarks column `<key>`."""
BOOLEAN_REQUIREMENTS = ("disaggregated", "kv_offload")
"""`require:` keys whose values are true or false (the benchmarks column is a boolean)."""

WORKLOADS = Table(
    "workloads",
    key=("name",),
    doc="What the factory serves, with service-level objectives.",
    columns=(
        Column("name", STR, "unique workload name"),
        Column("model", STR, "model joining benchmarks (an open set)"),
        Column(
            "isl",
            I64,
            "input sequence length; empty: as the benchmark dataset",
            required=False,
            nullable=True,
            **SEQUENCE,
        ),
        Column(
            "osl",
            I64,
            "output sequence length; empty: as the benchmark dataset",
            required=False,
            nullable=True,
            **SEQUENCE,
        ),
        Column(
            "min_interactivity_tokens_per_s_per_user",
            F64,
            "SLO: lowest acceptable 1 / TPOT",
            required=False,
            nullable=True,
            **INTERACTIVITY,
        ),
        Column(
            "max_ttft_s",
            F64,
            "SLO: longest acceptable time to first token",
            required=False,
            nullable=True,
            **above_min(TTFT),
        ),
        Column(
            "share",
            F64,
            "fraction of delivered tokens (cost-per-token mode)",
            required=False,
            nullable=True,
            min=0,
            max=1,
            why="a fraction of the tokens",
        ),
        Column(
            "demand_tokens_per_s",
            F64,
            "tokens per second to serve (min-cost mode)",
            required=False,
            nullable=True,
            **TOKEN_RATE,
        ),
        Column(
            "demand_by_year",
            LIST_OF_FLOATS,
            "multi-year plans (min-cost): tokens per second to serve in each year of the horizon, "
            "from `demand_tokens_per_s: [...]` in scenario.yaml, a list of `horizon.years` "
            "numbers (demand_tokens_per_s then holds the first year's); empty: "
            "demand_tokens_per_s every year",
            required=False,
            nullable=True,
            **TOKEN_RATE,
        ),
        Column(
            "price_usd_per_million_tokens",
            F64,
            "what a million delivered tokens sell for (max-profit mode)",
            required=False,
            nullable=True,
            min=0,
            max=10_000,
            why="API prices run from about $0.05 to $200 per million tokens; $10,000 is a price "
            "per billion tokens or a wrong cell",
        ),
        Column(
            "max_tokens_per_s",
            F64,
            "max-profit: the most tokens per second the market takes at that price, a rate while "
            "serving; empty: no limit",
            required=False,
            nullable=True,
            **above_min(TOKEN_RATE),
        ),
        Column(
            "load_shape",
            STR,
            "interactive | batch",
            required=False,
            default="interactive",
            choices=LOAD_SHAPES,
        ),
        Column(
            "load_profile",
            LIST_OF_FLOATS,
            "interactive: 24 hourly fractions of the peak load, hour 0 = "
            "midnight (`;`-separated; in scenario.yaml a list); empty: the default diurnal profile",
            required=False,
            nullable=True,
        ),
        Column(
            "batch_quota",
            STR,
            "batch: tokens due over the year (annual) or equally every day (daily)",
            required=False,
            default="annual",
            choices=BATCH_QUOTAS,
        ),
        *(
            Column(
                f"require_{name}",
                LIST_OF_STRINGS,
                f"allowed {what} of the benchmark rows it may use, lower-cased (`require: "
                f"{{{name}: [...]}}` in scenario.yaml); a row that does not state it does not "
                "qualify; empty: any",
                required=False,
                nullable=True,
                lowercase=True,
            )
            for name, what in REQUIREMENTS.items()
        ),
    ),
)

FLEET = Table(
    "fleet",
    key=("sku", "cooling_id", "power_id", "installed_year"),
    doc="The installed fleet of a multi-year plan: nodes the site already owns (`fleet.csv`; "
    "optional).",
    columns=(
        Column("sku", STR, "a bought system of the price sheets (a row with node_capex_usd)"),
        Column(
            "cooling_id",
            STR,
            "the cooling option it runs on (cooling.csv); its kind is one of the system's "
            "cooling_kinds",
        ),
        Column(
            "power_id",
            STR,
            "the power design feeding it (power.csv); its kind is one of the system's power_kinds",
        ),
        Column(
            "nodes",
            I64,
            "nodes installed",
            min=1,
            max=1_000_000,
            why="a million nodes is beyond any site",
        ),
        Column(
            "installed_year",
            I64,
            "the year the nodes went into service, at most horizon.start_year; they serve until "
            "installed_year + the system's lifetime_years",
            **YEAR,
        ),
    ),
)

SCENARIOS = Table(
    "scenarios",
    key=("name",),
    doc="The futures of a multi-year plan: one row per file of `scenarios/*.yaml`, an overlay on "
    "scenario.yaml with its probability (optional folder).",
    columns=(
        Column("name", STR, "the scenario's name (its `name:`, else the file's stem); unique"),
        Column(
            "probability",
            F64,
            "its probability; the folder's sum to 1",
            min=0,
            min_exclusive=True,
            max=1,
            why="a probability",
        ),
        Column(
            "settings",
            STR,
            "what the file sets besides name and probability (scenario.yaml fields, `horizon:` "
            "fields, multipliers), as JSON",
        ),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        HARDWARE,
        BENCHMARKS,
        BENCHMARK_DERIVATIONS,
        COOLING,
        POWER,
        TARIFFS,
        TARIFF_ENERGY_RATES,
        TARIFF_DEMAND_RATES,
        TARIFF_SCHEDULES,
        SCENARIO,
        WORKLOADS,
        FLEET,
        SCENARIOS,
    )
}
"""Every canonical table, by name (= its Dagster asset and its Parquet file)."""


def contract_markdown(table: Table) -> str:
    """The table's columns as the Markdown table docs/contract.md shows (a test keeps the two
    equal)."""
    lines = [
        "| column | type | required | default | range | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for c in table.columns:
        kind = {
            F64: "number",
            I64: "whole number",
            STR: "text",
            BOOL: "true/false",
            LIST_OF_STRINGS: "`;`-list of text",
            LIST_OF_FLOATS: "`;`-list of numbers",
        }[c.dtype]
        default = (
            ""
            if c.default is None
            else (
                f"`{c.default[1:]}`"
                if isinstance(c.default, str) and c.default.startswith("=")
                else f"`{';'.join(c.default)}`"
                if isinstance(c.default, list) and c.default
                else f"`{c.default}`"
            )
        )
        required = ("yes" if c.required else "no") + (", may be empty" if c.nullable else "")
        bounds = c.bounds_text()
        if c.choices:
            bounds = " \\| ".join(c.choices)
        meaning = c.doc.replace("|", "\\|") + (f" *Range: {c.why}.*" if c.why else "")
        lines.append(f"| `{c.name}` | {kind} | {required} | {default} | {bounds} | {meaning} |")
    return "\n".join(lines)
