"""Budget sweep: the best plan at each grid budget, solved in parallel, with the value of one
more MW.

For each budget B of the range, the design is rebuilt for B (`plan_inputs`: the tariff
is priced for a load of B) and solved. The marginal value of one more MW at B is solved
too, not estimated: the plan at B + 1 MW is solved like any other budget, and

    Δ tokens/year = T(B + 1) − T(B),   Δ cost per M tokens = c(B + 1) − c(B),
    marginal cost = (C(B + 1) − C(B)) / (T(B + 1) − T(B)) × 10⁶ USD per extra million tokens.

`budget_pairs` gives the budgets and their B + 1 MW, `budget_point` solves one budget and
`frontier_document` makes the rows from the solved points: `sweep` (`tokenplan sweep`, the
`pareto_frontier` asset) and the distributed `sweep_budgets` job (one step per budget) share
them. `sweep` solves the budgets in a `ProcessPoolExecutor` (default: one worker per CPU).
Each worker receives the canonical tables once, when it starts, and builds each budget's inputs from
them; the workers come from a fork server, which is safe in a process with threads
(a Dagster run). A budget with no plan is a row with status "infeasible" and the reason.

Cost per token can only fall as the budget grows, but for the interconnect: a larger budget
admits every plan a smaller one does (the same nodes fit; rentals keep their `max_nodes`),
and pays g · ΔB more a year for its grid connection (g = 1000 ×
`grid_connection_capex_usd_per_kw` × facility CRF per MW). So up to the MIP gap

    c(B + ΔB) ≤ c(B) + g · ΔB / T(B) × 10⁶     (`rises_with_budget`),

as long as the energy price does not rise with the load (a tariff whose tiers charge more
for more kWh can break this; the `pareto_frontier` asset check reports it).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace

import polars as pl

from optimizer.design import plan_inputs
from optimizer.errors import Infeasible, NoPlanInTime
from optimizer.inputs import SolverOptions
from optimizer.plan import plan_document
from optimizer.solve import solve
from optimizer.types import InputFile, Objective, TimeResolution
from pipelines.reports.frontier import design_text

MARGINAL_MW = 1.0
"""The extra grid capacity whose value each row reports."""
MARGINAL_FIELDS = (
    "marginal_budget_mw",
    "marginal_tokens_per_year",
    "marginal_cost_per_million_tokens_usd",
    "marginal_annual_cost_usd",
    "marginal_usd_per_million_extra_tokens",
)
"""The fields of a row about one more MW (`marginal`)."""

_tables: Mapping[str, pl.DataFrame] | None = None
"""A worker's canonical tables, set once by `_start_worker`."""


def budget_range(start: float, stop: float, step: float) -> list[float]:
    """start, start + step, …, up to and including stop (within float rounding) [MW]."""
    if start <= 0 or step <= 0 or stop < start:
        raise ValueError("need 0 < START ≤ STOP and STEP > 0")
    count = math.floor((stop - start) / step + 1e-9) + 1
    return [round(start + i * step, 9) for i in range(count)]


def parse_budget_range(text: str) -> list[float]:
    """`START:STOP:STEP` (MW) → the budgets; a single number → that budget."""
    parts = text.split(":")
    if len(parts) == 1:
        return budget_range(float(parts[0]), float(parts[0]), 1.0)
    if len(parts) != 3:
        raise ValueError(f"expected START:STOP:STEP in MW, got {text!r}")
    return budget_range(*(float(p) for p in parts))


def budget_pairs(budgets: Iterable[float]) -> list[tuple[float, float]]:
    """The budgets of a sweep, ascending and each once, each with the budget its marginal value is
    solved at: (B, B + `MARGINAL_MW`)."""
    return [(budget, round(budget + MARGINAL_MW, 9)) for budget in sorted(set(budgets))]


def budgets_to_solve(pairs: Iterable[tuple[float, float]]) -> list[float]:
    """Every budget of `budget_pairs`, ascending and each once (a B + 1 may be another row's B)."""
    return sorted({budget for pair in pairs for budget in pair})


def budget_point(
    tables: Mapping[str, pl.DataFrame],
    budget_mw: float,
    objective: str,
    options: SolverOptions,
    time_resolution: str = TimeResolution.FLAT,
    tariff_id: str | None = None,
) -> dict:
    """The best plan at one budget, summarized: cost per token, tokens/s per MW, grid MW, design.
    `tariff_id` overrides the scenario's tariff."""
    point = {
        "budget_mw": budget_mw,
        "status": "infeasible",
        "reason": None,
        "cost_per_million_tokens_usd": None,
        "tokens_per_s_per_mw": None,
        "tokens_per_year": None,
        "annual_cost_usd": None,
        "grid_power_mw": None,
        "power_design": None,
        "fleet": [],
        "seconds": 0.0,
    }
    started = time.perf_counter()
    inputs = plan_inputs(tables, budget_mw, tariff_id=tariff_id)
    try:
        solution = solve(inputs, objective, replace(options, progress=False), time_resolution)
        plan = plan_document(inputs, solution, Objective(objective))  # `solve` took only these
    except Infeasible as error:
        return point | {"reason": error.reason, "seconds": time.perf_counter() - started}
    except NoPlanInTime as error:
        return point | {
            "status": "time_limit",
            "reason": str(error),
            "seconds": time.perf_counter() - started,
        }
    return (
        point
        | {
            key: plan[key]
            for key in (
                "status",
                "cost_per_million_tokens_usd",
                "tokens_per_s_per_mw",
                "tokens_per_year",
                "annual_cost_usd",
                "grid_power_mw",
                "power_design",
            )
        }
        | {
            "fleet": [
                {
                    "sku": r["sku"],
                    "cooling_id": r["cooling_id"],
                    "power_id": r["power_id"],
                    "nodes": r["nodes"],
                }
                for r in sorted(plan["fleet"], key=lambda r: -r["grid_power_kw"])
            ],
            "seconds": time.perf_counter() - started,
        }
    )


def _start_worker(tables: Mapping[str, pl.DataFrame]) -> None:
    global _tables
    _tables = tables


def _solve_in_worker(
    budget_mw: float,
    objective: str,
    options: SolverOptions,
    time_resolution: str,
    tariff_id: str | None = None,
) -> dict:
    assert _tables is not None  # set by `_start_worker` when the worker started
    return budget_point(_tables, budget_mw, objective, options, time_resolution, tariff_id)


def solve_budgets(
    tables: Mapping[str, pl.DataFrame],
    budgets: list[float],
    objective: str,
    options: SolverOptions,
    time_resolution: str,
    jobs: int,
    on_done: Callable[[int, int, float], None] | None = None,
    tariff_id: str | None = None,
) -> dict[float, dict]:
    """Every budget solved, by budget; `on_done(done, total, budget)` after each (in this
    process). A worker gets the options without their progress callback."""
    options = replace(options, progress=False, on_progress=None)
    results: dict[float, dict] = {}
    if jobs <= 1:
        for budget in budgets:
            results[budget] = budget_point(
                tables, budget, objective, options, time_resolution, tariff_id
            )
            if on_done:
                on_done(len(results), len(budgets), budget)
        return results
    # Not "fork": polars' thread pool in this process would deadlock a forked child. The fork
    # server imports this module (the optimizer, polars) and scipy.stats (which Pyomo imports on
    # the first compile, ~1-3 s) once; each worker forks from it ready to solve.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, "scipy.stats"])
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(budgets)),
        mp_context=context,
        initializer=_start_worker,
        initargs=(dict(tables),),
    ) as pool:
        futures = {
            pool.submit(
                _solve_in_worker, budget, objective, options, time_resolution, tariff_id
            ): budget
            for budget in budgets
        }
        for future in as_completed(futures):
            budget = futures[future]
            results[budget] = future.result()
            if on_done:
                on_done(len(results), len(budgets), budget)
    return results


def sweep(
    tables: Mapping[str, pl.DataFrame],
    budgets: list[float],
    objective: str = Objective.COST_PER_TOKEN,
    options: SolverOptions = SolverOptions(),
    jobs: int | None = None,
    progress: bool = False,
    inputs_files: list[InputFile] | None = None,
    time_resolution: str = TimeResolution.FLAT,
    tariff_id: str | None = None,
) -> dict:
    """The frontier document (`frontier_document`) of `budgets`, each budget and each B + 1 MW
    solved in `jobs` worker processes (default: one per CPU); `tariff_id` overrides the
    scenario's tariff.

    Progress: with `options.progress` and `options.on_progress`, a step `sweep` after each solve:
    `done` and `total` count solves (each budget and its B + 1 MW), `budgets_done` and
    `budgets` the budgets asked for whose both solves are done; else with `progress` a bar on
    stderr."""
    started = time.perf_counter()
    pairs = budget_pairs(budgets)
    jobs = jobs or os.cpu_count() or 1
    solved: set[float] = set()

    def on_done(done: int, total: int, budget: float) -> None:
        solved.add(budget)
        options.report(
            {
                "event": "step",
                "step": "sweep",
                "done": done,
                "total": total,
                "item": budget,
                "budgets_done": sum(b in solved and more in solved for b, more in pairs),
                "budgets": len(pairs),
            }
        )

    reporting = options.progress and options.on_progress is not None
    to_solve = budgets_to_solve(pairs)
    options.report(
        {
            "event": "step",
            "step": "sweep",
            "done": 0,
            "total": len(to_solve),
            "item": None,
            "budgets_done": 0,
            "budgets": len(pairs),
        }
    )
    points = solve_budgets(
        tables,
        to_solve,
        objective,
        options,
        time_resolution,
        jobs,
        on_done if reporting else _progress_bar if progress else None,
        tariff_id,
    )
    document = frontier_document(
        points, pairs, objective, time_resolution, jobs, time.perf_counter() - started, inputs_files
    )
    return document | ({"tariff": tariff_id} if tariff_id else {})


def frontier_document(
    points: Mapping[float, dict],
    pairs: list[tuple[float, float]],
    objective: str,
    time_resolution: str,
    jobs: int,
    seconds: float,
    inputs_files: list[InputFile] | None = None,
) -> dict:
    """The frontier document: one row per budget of `pairs` (`budget_pairs`) with its plan
    summary (`points`: the `budget_point` of every budget solved, by budget) and the marginal
    value of `MARGINAL_MW` more, solved at B + 1 MW; `jobs` workers solved them in `seconds`.

    Fields: objective, time_resolution, marginal_mw, jobs, seconds, inputs (files and hashes,
    as in a plan), rows: budget_mw, status, reason, cost_per_million_tokens_usd,
    tokens_per_s_per_mw, tokens_per_year, annual_cost_usd, grid_power_mw, power_design, fleet
    (sku, cooling_id, power_id, nodes), seconds, design (text), and `MARGINAL_FIELDS` (None
    when B or B + 1 has no plan).
    """
    rows = [
        points[budget]
        | {"design": design_text(points[budget])}
        | marginal(points[budget], points[more])
        for budget, more in pairs
    ]
    return {
        "objective": Objective(objective).value,
        "time_resolution": TimeResolution(time_resolution).value,
        "marginal_mw": MARGINAL_MW,
        "jobs": jobs,
        "seconds": seconds,
        "inputs": list(inputs_files or []),
        "rows": rows,
    }


def rises_with_budget(
    rows: list[dict], grid_usd_per_mw_year: float, mip_rel_gap: float
) -> list[tuple[float, float]]:
    """The (budget, next budget) pairs of solved rows where cost per token rises by more than
    the interconnect of the extra MW can explain (module docstring), with 2 × the gap as
    tolerance."""
    solved = [r for r in rows if r["cost_per_million_tokens_usd"] is not None]
    return [
        (a["budget_mw"], b["budget_mw"])
        for a, b in zip(solved, solved[1:], strict=False)
        if b["cost_per_million_tokens_usd"]
        > a["cost_per_million_tokens_usd"] * (1 + 2 * mip_rel_gap)
        + grid_usd_per_mw_year * (b["budget_mw"] - a["budget_mw"]) / a["tokens_per_year"] * 1e6
    ]


def marginal(here: dict, more: dict) -> dict:
    """The change from budget B (`here`) to B + 1 MW (`more`), both solved."""
    fields = dict.fromkeys(MARGINAL_FIELDS) | {"marginal_budget_mw": more["budget_mw"]}
    if here["cost_per_million_tokens_usd"] is None or more["cost_per_million_tokens_usd"] is None:
        return fields
    tokens = more["tokens_per_year"] - here["tokens_per_year"]
    cost = more["annual_cost_usd"] - here["annual_cost_usd"]
    return fields | {
        "marginal_tokens_per_year": tokens,
        "marginal_cost_per_million_tokens_usd": more["cost_per_million_tokens_usd"]
        - here["cost_per_million_tokens_usd"],
        "marginal_annual_cost_usd": cost,
        "marginal_usd_per_million_extra_tokens": cost / tokens * 1e6 if tokens > 0 else None,
    }


def _progress_bar(done: int, total: int, budget: float, width: int = 30) -> None:
    filled = round(width * done / total)
    sys.stderr.write(
        f"\rsolving budgets and +1 MW [{'#' * filled}{'.' * (width - filled)}] "
        f"{done}/{total} solves"
    )
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()
