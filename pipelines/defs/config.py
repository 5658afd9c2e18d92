"""Run config as the launchpad shows it: every field documented, every value range-checked.

Dagster checks run config against types only, so a run launched with `budget_mw: -5` or
`mip_rel_gap: 3` would reach the solver. `RunConfig` checks each value against the same
range as the CLI option that sets it (`pipelines.contract.ranges`) when the step builds
its config, before anything is read or solved: a bad value fails the run at once, with
every problem and the allowed range in the message.

Field docstrings are the field descriptions the launchpad shows (`use_attribute_docstrings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Self

import dagster as dg
from pydantic import ConfigDict, model_validator

from optimizer.types import Objective, TimeResolution
from pipelines.contract.ranges import BUDGET_MW, JOBS, MIP_GAP, THREADS, TIME_LIMIT_S, Bounds

__all__ = ["BUDGET_MW", "JOBS", "MIP_GAP", "THREADS", "TIME_LIMIT_S", "Bounds", "RunConfig"]

OBJECTIVES = tuple(objective.value for objective in Objective)
TIME_RESOLUTIONS = tuple(resolution.value for resolution in TimeResolution)


class RunConfig(dg.Config):
    """Run config whose fields are range-checked (`RANGES`, `CHOICES`) when a step builds it.

    A bad value raises `dg.Failure` (not pydantic's `ValueError`), so the step fails with
    the message alone and is not retried.
    """

    model_config = ConfigDict(use_attribute_docstrings=True)

    RANGES: ClassVar[Mapping[str, Bounds]] = {}
    """Numeric field → its range (a None value, where the field allows it, is not checked)."""
    CHOICES: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    """Text field → its allowed values."""

    def problems(self) -> list[str]:
        """Every field out of its range or choices, in words."""
        found = []
        for name, bounds in self.RANGES.items():
            value = getattr(self, name)
            if value is not None and value not in bounds:
                found.append(f"{name} must be {bounds.describe(kind='')}, got {value!r}")
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
