"""The ranges of the values a planner sets when running a plan (not in an input file): the CLI's
options and the Dagster run config read them from here, so a value means the same in both.
Inputs in files have their ranges on their `Column`s (`pipelines.contract.schema`).

Standard library only: the CLI parses its options before it imports polars or numpy, so
`BUDGET_MW` repeats the `budget_mw` column's bounds (tests/defs/test_config.py holds them
equal)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    """The range of a numeric value: low..high, each end open or closed, and why."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    unit: str = ""
    why: str = ""

    def __contains__(self, value: float) -> bool:
        try:
            value = float(value)
        except OverflowError:  # an int beyond any float
            return False
        return (
            math.isfinite(value)
            and (value > self.low if self.low_open else value >= self.low)
            and (value < self.high if self.high_open else value <= self.high)
        )

    def describe(self, kind: str = "a finite number", unit: bool = True) -> str:
        """e.g. `a finite number > 0 and <= 10,000 MW (why)`; `unit=False` when `kind` names it,
        `kind=""` for the range alone."""
        low, high = f"{self.low:,.10g}", f"{self.high:,.10g}"
        text = (
            f"{kind + ' ' if kind else ''}{'>' if self.low_open else '>='} {low} "
            f"and {'<' if self.high_open else '<='} {high}"
            f"{' ' + self.unit if self.unit and unit else ''}"
        )
        return f"{text} ({self.why})" if self.why else text


BUDGET_MW = Bounds(
    0,
    10_000,
    low_open=True,
    unit="MW",
    why="the largest announced campuses are a few GW; as budget_mw in scenario.yaml",
)
"""As `budget_mw` in scenario.yaml (`--budget-mw`, a sweep's budgets, `DesignConfig`)."""
TIME_LIMIT_S = Bounds(0, 7 * 24 * 3600, low_open=True, unit="s", why="a week at most")
MIP_GAP = Bounds(
    0, 1, high_open=True, why="relative: 0 proves the optimum, 1 would accept any plan"
)
THREADS = Bounds(1, 256, why="more than any common server's hardware threads")
JOBS = Bounds(1, 256, why="worker processes; more than the CPUs only costs memory")
MAX_BUDGETS = 1_000
"""Budgets one sweep may solve: each is a full solve (and one more at +1 MW); 1,000 is hours
already."""
