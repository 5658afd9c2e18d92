"""Why a solve ends without a plan.

    NoPlan              no plan; `reason` says why in words
      Infeasible        the inputs admit no plan
      NoPlanInTime      the time limit came before any plan was found (a longer one may find one)

A solve that finds a plan returns it, whatever its status (`optimizer.types.Status`); these
are raised only when there is none. This module imports nothing, so callers may catch them
without importing the solver.
"""

from __future__ import annotations


class NoPlan(Exception):
    """A solve ended without a plan; `reason` says why in words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Infeasible(NoPlan):
    """The inputs admit no plan; `reason` says why in words."""


class NoPlanInTime(NoPlan):
    """The time limit came before any plan was found; a longer limit may find one."""
