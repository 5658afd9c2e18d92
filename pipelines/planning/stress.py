"""Stress tests and robust plans of a multi-year plan over the scenarios of `scenarios/`.

**Stress test** (`make_stress_test`, `stress_table`). A multi-year plan (the document `tokenplan
horizon` writes) has its purchases and nodes in service kept and is re-dispatched on each
scenario's inputs (`optimizer.horizon.solve_horizon(..., fixed=plan)`: only the GPU allocation
and the facility are solved). Its levelized cost per million tokens there is set against the
scenario's own optimum (the best plan had that scenario been known):

    regret = plan's cost − own cost   (USD per million tokens; and % of own cost) ≥ 0

up to the solver's gap. A plan that cannot meet a scenario's floors or budgets is
`infeasible` there, with the reason.

**Robust plan** (`make_robust_plan`). The two-stage plan of every scenario
(`optimizer.horizon.solve_robust`): the first year's purchases shared, each later year per
scenario, for the least expected levelized cost; each scenario's plan is set against that
scenario's own optimum in the same regret rows.

A regret row (`regret_rows`): scenario, probability, expected (false), plan_status,
plan_cost_per_million_tokens_usd, plan_present_value_cost_usd, plan_present_value_tokens,
plan_reason (why there is no plan, else null), the same four `own_` fields, and
regret_usd_per_million_tokens, regret_pct (null unless both have a cost). The last row is the
expected one (scenario `expected`, expected true, probability the sum): each side's levelized
cost and the regret weighed by the probabilities (Σ p·x / Σ p), so that the expected regret is
the expected plan's cost less the expected own cost; its present values are null, and a side
with no plan in some scenario has none there either.

The expected levelized cost of a plan over the scenarios, what the robust plan minimizes, is
another figure: Σ p·PV cost / Σ p·PV tokens × 10⁶ (`expected_levelized_cost`), in each
document as `expected_cost_per_million_tokens_usd`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer.errors import Infeasible, NoPlan
from optimizer.horizon import HorizonSolution, solve_horizon, solve_robust
from optimizer.horizon.document import build_plan_of, horizon_document
from optimizer.inputs import PlanInputs, SolverOptions
from optimizer.types import InputFile, Objective
from pipelines.contract.errors import InputError, Problem, ProblemList
from pipelines.ingest.files import read_json
from pipelines.ingest.sources import read_inputs
from pipelines.planning.horizon import HORIZON_OBJECTIVES
from pipelines.planning.make_plan import input_file_hashes
from pipelines.planning.scenarios import (
    Case,
    first_year_purchases,
    scenario_cases,
)

if TYPE_CHECKING:
    import polars as pl

EXPECTED = "expected"
INFEASIBLE, NO_PLAN_IN_TIME = "infeasible", "no plan in time"
SIDES = ("plan", "own")
"""The two sides of a regret row: the plan under test, and the scenario's own optimum."""

PLAN_FIELDS = (
    "name",
    "objective",
    "start_year",
    "years",
    "status",
    "mip_gap",
    "power_design",
    "present_value_cost_usd",
    "present_value_tokens",
    "build_plan",
)
"""What a multi-year plan document needs to be stress-tested."""
BUILD_FIELDS = (
    "year",
    "sku",
    "cooling_id",
    "power_id",
    "kind",
    "vintage_year",
    "bought",
    "in_service",
    "retired",
)
COUNTS = ("year", "vintage_year", "bought", "in_service", "retired")
KINDS = ("bought", "existing", "rented")


Outcome = dict[str, Any]
"""One side of a regret row: status, cost_per_million_tokens_usd, present_value_cost_usd,
present_value_tokens, reason."""


def outcome(solve: Callable[[], HorizonSolution]) -> Outcome:
    """What a solve gives: its plan's levelized cost and present values, or why there is none."""
    try:
        solution = solve()
    except NoPlan as error:
        return no_plan_outcome(error)
    return solution_outcome(solution)


def no_plan_outcome(error: NoPlan) -> Outcome:
    return {
        "status": INFEASIBLE if isinstance(error, Infeasible) else NO_PLAN_IN_TIME,
        "cost_per_million_tokens_usd": None,
        "present_value_cost_usd": None,
        "present_value_tokens": None,
        "reason": error.reason,
    }


def solution_outcome(solution: HorizonSolution) -> Outcome:
    return {
        "status": solution.status,
        "cost_per_million_tokens_usd": solution.cost_per_million_tokens_usd,
        "present_value_cost_usd": solution.present_value_cost_usd,
        "present_value_tokens": solution.present_value_tokens,
        "reason": None,
    }


def own_optima(cases: list[Case], objective: str, options: SolverOptions) -> dict[str, Outcome]:
    """Each scenario's own optimum: the plan had it been known."""
    return {
        name: outcome(partial(solve_horizon, inputs, objective, options))
        for name, _, inputs in cases
    }


def own_plan(
    inputs: PlanInputs, objective: str, options: SolverOptions
) -> tuple[Outcome, dict[str, Any] | None]:
    """A scenario's own optimum and its multi-year plan document (None when there is none)."""
    try:
        solution = solve_horizon(inputs, objective, options)
    except NoPlan as error:
        return no_plan_outcome(error), None
    return solution_outcome(solution), horizon_document(inputs, solution)


def stressed_outcome(
    plan_document: Mapping[str, Any], inputs: PlanInputs, objective: str, options: SolverOptions
) -> Outcome:
    """The plan document re-dispatched on `inputs`: its purchases and nodes in service kept."""
    fixed = build_plan_of(dict(plan_document))
    return _kept(outcome(partial(solve_horizon, inputs, objective, options, fixed)))


def stress_table(
    plan_document: Mapping[str, Any],
    cases: list[Case],
    objective: str = Objective.COST_PER_TOKEN,
    options: SolverOptions = SolverOptions(),
) -> list[dict[str, Any]]:
    """The regret rows (module docstring) of the plan document re-dispatched on each case."""
    objective = str(objective)
    stressed = {
        name: stressed_outcome(plan_document, inputs, objective, options)
        for name, _, inputs in cases
    }
    return regret_rows(weights(cases), stressed, own_optima(cases, objective, options))


def weights(cases: list[Case]) -> list[tuple[str, float]]:
    """Each case's name and probability."""
    return [(name, probability) for name, probability, _ in cases]


def _kept(found: Outcome) -> Outcome:
    """A re-dispatch without a plan, its reason said as what it means: the purchases kept."""
    if found["status"] == INFEASIBLE:
        found["reason"] = (
            "with its purchases kept, no dispatch meets this scenario's budgets and floors "
            f"({found['reason']})"
        )
    return found


def regret_rows(
    scenarios: Sequence[tuple[str, float]],
    plans: Mapping[str, Outcome | HorizonSolution],
    own: Mapping[str, Outcome],
) -> list[dict[str, Any]]:
    """One row per scenario (name, probability), the plan's outcome (or solution) against the
    scenario's own optimum, and the expected row."""
    rows = []
    for name, probability in scenarios:
        plan = plans[name]
        planned = solution_outcome(plan) if isinstance(plan, HorizonSolution) else plan
        rows.append(_row(name, probability, False, planned, own[name]))
    rows.append(_expected_row(rows))
    return rows


def _row(
    name: str, probability: float, expected: bool, plan: Outcome, own: Outcome
) -> dict[str, Any]:
    row: dict[str, Any] = {"scenario": name, "probability": probability, "expected": expected}
    for side, found in zip(SIDES, (plan, own), strict=True):
        row |= {f"{side}_{key}": value for key, value in found.items()}
    cost, best = plan["cost_per_million_tokens_usd"], own["cost_per_million_tokens_usd"]
    regret = None if cost is None or best is None else cost - best
    row["regret_usd_per_million_tokens"] = regret
    row["regret_pct"] = None if regret is None or not best else regret / best * 100
    return row


def _expected_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The scenarios' rows weighed by their probabilities (module docstring)."""
    total = math.fsum(r["probability"] for r in rows)
    sides = {side: _expected_side(rows, side, total) for side in SIDES}
    return _row(EXPECTED, total, True, sides["plan"], sides["own"])


def _expected_side(rows: list[dict[str, Any]], side: str, total: float) -> Outcome:
    missing = [r["scenario"] for r in rows if r[f"{side}_reason"] is not None]
    found: Outcome = {
        "status": INFEASIBLE,
        "cost_per_million_tokens_usd": None,
        "present_value_cost_usd": None,
        "present_value_tokens": None,
        "reason": f"no plan in {', '.join(missing)}" if missing else None,
    }
    costs = [(r["probability"], r[f"{side}_cost_per_million_tokens_usd"]) for r in rows]
    if missing or any(cost is None for _, cost in costs) or total <= 0:
        found["reason"] = found["reason"] or "no levelized cost in some scenario"
        return found
    statuses = {r[f"{side}_status"] for r in rows}
    found["status"] = statuses.pop() if len(statuses) == 1 else "mixed"
    found["cost_per_million_tokens_usd"] = math.fsum(p * c for p, c in costs) / total
    return found


def expected_levelized_cost(rows: list[dict[str, Any]]) -> float | None:
    """The plan's Σ p·PV cost / Σ p·PV tokens × 10⁶ over the scenario rows; None when it has
    no plan in one of them."""
    scenarios = [r for r in rows if not r["expected"]]
    if any(r["plan_reason"] is not None for r in scenarios):
        return None
    cost = math.fsum(r["probability"] * r["plan_present_value_cost_usd"] for r in scenarios)
    tokens = math.fsum(r["probability"] * r["plan_present_value_tokens"] for r in scenarios)
    return cost / tokens * 1e6 if tokens > 0 else None


# --------------------------------------------------------------------------- the plan file


def load_horizon_plan(path: Path, name: str | None = None) -> dict[str, Any]:
    """A multi-year plan document from a JSON file (`tokenplan horizon --json` or
    `--out FOLDER`'s horizon_plan.json); bad input naming the file when it is missing,
    unreadable, not JSON or not such a plan."""
    name = name or str(path)
    if not path.exists():
        raise InputError([Problem(name, "file not found")])
    if not path.is_file():
        raise InputError([Problem(name, "not a file: give a multi-year plan JSON file")])
    return check_horizon_plan(read_json(path, name), name)


def check_horizon_plan(document: object, name: str) -> dict[str, Any]:
    """`document` when it is a multi-year plan document whose build plan can be kept fixed;
    else bad input naming the file and field."""
    what = "a multi-year plan (as `tokenplan horizon --json` prints it or `--out` writes it)"
    if not isinstance(document, dict):
        raise InputError([Problem(name, f"not {what}: a {type(document).__name__}")])
    missing = [key for key in PLAN_FIELDS if key not in document]
    if missing:
        raise InputError([Problem(name, f"not {what}: no {', '.join(missing)}")])
    problems = ProblemList()
    if document["objective"] not in HORIZON_OBJECTIVES:
        problems.add(
            name,
            f"'{document['objective']}' is not an objective of multi-year plans "
            f"({', '.join(HORIZON_OBJECTIVES)})",
            field="objective",
        )
    for key in ("start_year", "years"):
        if not _whole(document[key]):
            problems.add(name, f"expected a whole number, got {document[key]!r}", field=key)
    for key in ("present_value_cost_usd", "present_value_tokens"):
        if not _number(document[key]):
            problems.add(name, f"expected a number, got {document[key]!r}", field=key)
    rows = document["build_plan"]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        problems.add(name, "expected a list of build plan rows, each an object", field="build_plan")
        rows = []
    for index, row in enumerate(rows, start=1):
        _check_build_row(row, f"build_plan[{index}]", name, problems)
    problems.raise_if_any(limit=20)
    return document


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_build_row(row: dict, where: str, name: str, problems: ProblemList) -> None:
    missing = [key for key in BUILD_FIELDS if key not in row]
    if missing:
        problems.add(name, f"no {', '.join(missing)}", field=where)
        return
    if not isinstance(row["sku"], str):
        problems.add(name, f"expected a system's sku, got {row['sku']!r}", field=f"{where}.sku")
    for key in ("cooling_id", "power_id"):
        if row[key] is not None and not isinstance(row[key], str):
            problems.add(name, f"expected text or null, got {row[key]!r}", field=f"{where}.{key}")
    if row["kind"] not in KINDS:
        problems.add(
            name, f"expected one of {', '.join(KINDS)}, got {row['kind']!r}", field=f"{where}.kind"
        )
    for key in COUNTS:
        if not _whole(row[key]) or row[key] < 0:
            problems.add(
                name, f"expected a whole number >= 0, got {row[key]!r}", field=f"{where}.{key}"
            )


def check_plan_fits(plan: Mapping[str, Any], inputs: PlanInputs, name: str) -> None:
    """The plan's years are the scenarios' and its systems, cooling options and power designs
    are among their inputs; else bad input naming the plan file."""
    problems = ProblemList()
    horizon = inputs.horizon
    assert horizon is not None  # `scenario_cases` refuses a scenario without one
    span = f"{horizon.start_year}-{horizon.start_year + horizon.years - 1}"
    if (plan["start_year"], plan["years"]) != (horizon.start_year, horizon.years):
        problems.add(
            name,
            f"plans {plan['start_year']} and {plan['years']} years; the scenarios plan {span} "
            f"({horizon.years} years, scenario.yaml's horizon)",
            field="start_year",
        )
    systems = {s.sku for s in inputs.systems}
    coolings = {c.cooling_id for c in inputs.coolings}
    powers = {p.power_id for p in inputs.power_designs}
    for index, row in enumerate(plan["build_plan"], start=1):
        where = f"build_plan[{index}]"
        if row["sku"] not in systems:
            problems.add(
                name,
                f"system '{row['sku']}' is not among the systems the scenarios plan with "
                f"({', '.join(sorted(systems))})",
                field=f"{where}.sku",
            )
        if row["cooling_id"] is not None and row["cooling_id"] not in coolings:
            problems.add(
                name,
                f"cooling '{row['cooling_id']}' is not in cooling.csv",
                field=f"{where}.cooling_id",
            )
        if row["power_id"] is not None and row["power_id"] not in powers:
            problems.add(
                name,
                f"power design '{row['power_id']}' is not in power.csv",
                field=f"{where}.power_id",
            )
    problems.raise_if_any(limit=20)


# --------------------------------------------------------------------------- the pipelines


def make_stress_test(
    data_dir: Path,
    plan: Mapping[str, Any],
    plan_file: str,
    objective: str | None = None,
    options: SolverOptions = SolverOptions(),
    tables: Mapping[str, pl.DataFrame] | None = None,
) -> dict[str, Any]:
    """The stress test document of `plan` (read from `plan_file`) over the input folder's
    scenarios: plan (its file, name, objective, start_year, years and levelized cost as made),
    objective, expected_cost_per_million_tokens_usd (the plan's, `expected_levelized_cost`),
    regret (the rows of `stress_table`), inputs (the files, scenarios/ among them).
    `objective` None: the plan's."""
    if tables is None:
        tables = read_inputs(data_dir)
    cases = scenario_cases(tables)
    check_plan_fits(plan, cases[0][2], plan_file)
    objective = str(objective or plan["objective"])
    rows = stress_table(plan, cases, objective, options)
    return stress_document(plan, plan_file, objective, rows, input_file_hashes(data_dir))


def stress_document(
    plan: Mapping[str, Any],
    plan_file: str,
    objective: str,
    rows: list[dict[str, Any]],
    inputs: list[InputFile],
) -> dict[str, Any]:
    """The stress test document of `plan` (`make_stress_test`) from its regret rows."""
    return {
        "plan": {
            "file": plan_file,
            "name": plan["name"],
            "objective": plan["objective"],
            "start_year": plan["start_year"],
            "years": plan["years"],
            "cost_per_million_tokens_usd": plan.get("cost_per_million_tokens_usd"),
        },
        "objective": objective,
        "expected_cost_per_million_tokens_usd": expected_levelized_cost(rows),
        "regret": rows,
        "inputs": inputs,
    }


def make_robust_plan(
    data_dir: Path,
    objective: str = Objective.COST_PER_TOKEN,
    options: SolverOptions = SolverOptions(),
    tables: Mapping[str, pl.DataFrame] | None = None,
) -> dict[str, Any]:
    """The robust plan document of the input folder's scenarios:

    name, objective, start_year, years, status, mip_gap,
    expected_cost_per_million_tokens_usd (Σ p·PV cost / Σ p·PV tokens × 10⁶),
    first_year (what every scenario's plan buys or rents alike in the first year: sku,
    accelerator, cooling_id, power_id, kind, nodes, gpus), scenarios (name, probability and
    plan: the multi-year plan document of that scenario, `optimizer.horizon.document`), regret
    (each scenario's plan against that scenario's own optimum, and the expected row), solver
    (seconds, iterations), inputs (the files, scenarios/ among them).

    Raises `InputError` for bad or missing scenarios, `Infeasible` when no first year lets
    every scenario meet its budgets and floors."""
    if tables is None:
        tables = read_inputs(data_dir)
    return robust_document(tables, objective, options, input_file_hashes(data_dir))


def robust_document(
    tables: Mapping[str, pl.DataFrame],
    objective: str,
    options: SolverOptions,
    inputs_files: list[InputFile],
) -> dict[str, Any]:
    """The robust plan document of the scenarios of `tables` (`make_robust_plan`), made from
    `inputs_files`."""
    cases = scenario_cases(tables)
    objective = str(objective)
    robust = solve_robust(cases, objective, options)
    plans = {name: robust.plans[name] for name, _, _ in cases}
    rows = regret_rows(weights(cases), plans, own_optima(cases, objective, options))
    first_name, _, first_inputs = cases[0]
    first_plan = plans[first_name]
    years = [y.year for y in first_plan.years]
    return {
        "name": first_inputs.name,
        "objective": objective,
        "start_year": years[0],
        "years": len(years),
        "status": robust.status,
        "mip_gap": robust.mip_gap,
        "expected_cost_per_million_tokens_usd": robust.expected_cost_per_million_tokens_usd,
        "first_year": first_year_purchases(first_inputs, list(plans.values())),
        "scenarios": [
            {
                "name": name,
                "probability": probability,
                "plan": horizon_document(inputs, plans[name]),
            }
            for name, probability, inputs in cases
        ],
        "regret": rows,
        "solver": {"name": "highs", "iterations": robust.iterations, "seconds": robust.seconds},
        "inputs": inputs_files,
    }
