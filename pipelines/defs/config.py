"""Run config as the launchpad shows it: every field documented, every value range-checked.

Dagster checks run config against types only, so a run launched with `budget_mw: -5` or
`mip_rel_gap: 3` would reach the solver. `RunConfig` checks each value against the same
range as the CLI option that sets it (`pipelines.cli.options`, and the `scenario` table's
contract for budgets) when the step builds its config, before anything is read or solved:
a bad value fails the run at once, with every problem and the allowed range in the message.

Field docstrings are the field descriptions the launchpad shows (`use_attribute_docstrings`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Self

import dagster as dg
from pydantic import ConfigDict, model_validator

from optimizer.types import Objective, TimeResolution
from pipelines.contract.schema import TABLES


@dataclass(frozen=True)
class Range:
    """The values a numeric field takes: low..high, each end open or closed, and why."""

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

    def describe(self) -> str:
        """e.g. `> 0 and <= 10,000 MW (why)`."""
        text = (
            f"{'>' if self.low_open else '>='} {self.low:,.10g} and "
            f"{'<' if self.high_open else '<='} {self.high:,.10g}"
            + (f" {self.unit}" if self.unit else "")
        )
        return f"{text} ({self.why})" if self.why else text


_BUDGET = TABLES["scenario"].column("budget_mw")
assert _BUDGET.min is not None and _BUDGET.max is not None  # the contract bounds budget_mw
BUDGET_MW = Range(
    _BUDGET.min, _BUDGET.max, low_open=_BUDGET.min_exclusive, unit="MW", why=_BUDGET.why
)
"""As `budget_mw` in the scenario (and `--budget-mw`)."""
# The ranges of the CLI options (`pipelines.cli.options`, which this layer may not import;
# tests/defs/test_config.py holds them equal).
TIME_LIMIT_S = Range(0, 7 * 24 * 3600, low_open=True, unit="s", why="a week at most")
MIP_GAP = Range(0, 1, high_open=True, why="relative: 0 proves the optimum, 1 would accept any plan")
THREADS = Range(1, 256, why="more than any common server's hardware threads")
JOBS = Range(1, 256, why="worker processes; more than the CPUs only costs memory")
OBJECTIVES = tuple(objective.value for objective in Objective)
TIME_RESOLUTIONS = tuple(resolution.value for resolution in TimeResolution)


class RunConfig(dg.Config):
    """Run config whose fields are range-checked (`RANGES`, `CHOICES`) when a step builds it.

    A bad value raises `dg.Failure` (not pydantic's `ValueError`), so the step fails with
    the message alone and is not retried.
    """

    model_config = ConfigDict(use_attribute_docstrings=True)

    RANGES: ClassVar[Mapping[str, Range]] = {}
    """Numeric field → its range (a None value, where the field allows it, is not checked)."""
    CHOICES: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    """Text field → its allowed values."""

    def problems(self) -> list[str]:
        """Every field out of its range or choices, in words."""
        found = []
        for name, bounds in self.RANGES.items():
            value = getattr(self, name)
            if value is not None and value not in bounds:
                found.append(f"{name} must be {bounds.describe()}, got {value!r}")
        for name, choices in self.CHOICES.items():
            value = getattr(self, name)
            if value not in choices:
                found.append(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return found

    @model_validator(mode="after")
    def _within_ranges(self) -> Self:
        problems = self.problems()
        if problems:
            raise dg.Failure(
                description=f"bad run config ({type(self).__name__}): " + "; ".join(problems),
                metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))},
                allow_retries=False,
            )
        return self
