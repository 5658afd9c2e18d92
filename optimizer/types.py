"""The closed sets of the product as enums: objectives, time resolutions, solve statuses.

They are `StrEnum`s, so a member is its text wherever text goes (JSON, Parquet, the CLI's
choices, Dagster config): `Objective.COST_PER_TOKEN == "cost-per-token"`. This module imports
nothing heavy, so the CLI may use it before it imports numpy.
"""

from __future__ import annotations

from enum import StrEnum


class Objective(StrEnum):
    """What a plan optimizes."""

    COST_PER_TOKEN = "cost-per-token"
    """Annual cost / annual tokens, workload shares fixed (Dinkelbach over MILPs)."""
    MIN_COST = "min-cost"
    """Annual cost, meeting each workload's `demand_tokens_per_s`."""


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
