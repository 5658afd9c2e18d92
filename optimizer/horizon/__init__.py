"""Multi-year plans: an existing fleet, and what to buy, keep and retire each year.

    data.py     years, vintages, what a node of each costs when (`horizon_data`)
    model.py    the multi-year MILP in Pyomo (`create_horizon_model`)
    solve.py    compile → HiGHS (Dinkelbach | one MILP) → `HorizonSolution`; a plan
                re-dispatched (`fixed`), the two-stage plan of scenarios (`solve_robust`)
    document.py the plan document (plain JSON)

A one-year horizon with no existing fleet is the one-year model (tests/optimizer/test_horizon.py
checks it on the bundled data).
"""

from optimizer.horizon.data import HorizonData, Vintage, horizon_data
from optimizer.horizon.solve import (
    HorizonSolution,
    RobustSolution,
    VintageYear,
    YearSummary,
    solve_horizon,
    solve_robust,
)

__all__ = [
    "HorizonData",
    "HorizonSolution",
    "RobustSolution",
    "Vintage",
    "VintageYear",
    "YearSummary",
    "horizon_data",
    "solve_horizon",
    "solve_robust",
]
