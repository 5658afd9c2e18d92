"""Budget sweep: the best plan at each grid budget, each solved from the plan of the budget
below, with the value of one more MW.

For each budget B of the range, the design is rebuilt for B (`plan_inputs`: the tariff
is priced for a load of B) and solved. The marginal value of one more MW at B is solved
too, not estimated: the plan at B + 1 MW is solved like any other budget, and

    Δ tokens/year = T(B + 1) − T(B),   Δ cost per M tokens = c(B + 1) − c(B),
    marginal cost = (C(B + 1) − C(B)) / (T(B + 1) − T(B)) × 10⁶ USD per extra million tokens.

Warm, in ascending order. A plan's fleet fits every larger budget (the same nodes fit;
rentals keep their `max_nodes`, the supply caps do not change), so the budgets are solved
in ascending order, each from the plan below (`optimizer.solve.solve(start=…)`): that fleet,
dispatched at the new budget by one LP, is the solve's first plan (MIP start and λ0 of
Dinkelbach), and the plan found is never worse than it. A time-resolved sweep chains its
flat plans so (each budget's flat plan, solved from the one below, starts its time-resolved
solve); the time-resolved plans are each optimal within the gap. `warm=False` solves every
budget from the greedy start instead, as independent solves.

Where. `solve_chunk` solves contiguous budgets in ascending order; `sweep` (`tokenplan sweep`,
the `pareto_frontier` asset) and the distributed `sweep_budgets` job (one step per chunk)
share it, and `frontier_document`, which makes the rows. `solve_budgets` solves the smallest
budget first, in this process: its plan fits every larger budget. When that solve's CPU
time × the budgets left is small against a process pool's start-up (`POOL_START_S`), the
rest follow in this process; else they are split into `jobs` contiguous chunks
(`contiguous_chunks`), each solved by a worker from the smallest budget's plan, then each
budget from the one before it. Each worker receives the canonical tables once, when it
starts; the workers come from a fork server, which is safe in a process with threads (a
Dagster run). A budget with no plan is a row with status "infeasible" and the reason.

Monotone. A larger budget admits every plan a smaller one does, pays g · ΔB more a year for
its grid connection (g = 1000 × `grid_connection_capex_usd_per_kw` × facility CRF per MW)
and buys its energy at the tariff's price for the larger load. B's fleet at B + ΔB serves the
same tokens, so, as long as the energy price does not rise with the load,

    c(B + ΔB) ≤ c(B) + g · ΔB / T(B) × 10⁶     (`rises_with_budget`)

by construction wherever B + ΔB was solved from B's plan (flat, in one process or inside a
chunk), and up to the MIP gap elsewhere: a chunk's first budget (solved from the smallest
budget's plan), a cold sweep, a time-resolved plan. A tariff whose tiers charge more for
more kWh can break it (the `pareto_frontier` asset check reports it).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from typing import Any

import polars as pl

from optimizer.design import plan_inputs
from optimizer.errors import Infeasible, NoPlanInTime
from optimizer.inputs import PlanInputs, SolverOptions
from optimizer.plan import plan_document
from optimizer.solve import Solution, solve
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
POOL_START_S = 1.5
"""Seconds a process pool costs before its first solve: the fork server importing the
optimizer and polars, the tables sent to each worker (~1 s the first time in a process on a
busy 2-core machine, ~0.35 s after). `solve_budgets` keeps a sweep in this process unless the
pool would save more than this."""

_tables: Mapping[str, pl.DataFrame] | None = None
"""A worker's canonical tables, set once by `_start_worker`."""
_solved: Any = None
"""A worker's queue to this process: each budget as it is solved (progress)."""


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
    """The best plan at one budget, summarized: cost per token, tokens/s per MW, grid MW, design,
    solved from the greedy start. `tariff_id` overrides the scenario's tariff."""
    inputs = plan_inputs(tables, budget_mw, tariff_id=tariff_id)
    return plan_point(inputs, objective, options, time_resolution)[0]


def plan_point(
    inputs: PlanInputs,
    objective: str,
    options: SolverOptions,
    time_resolution: str = TimeResolution.FLAT,
    start: Solution | None = None,
) -> tuple[dict, Solution | None]:
    """The best plan of `inputs` (one budget) summarized as a row of the frontier (budget_mw,
    status, reason, cost_per_million_tokens_usd, tokens_per_s_per_mw, tokens_per_year,
    annual_cost_usd, grid_power_mw, power_design, fleet, seconds), and the flat plan that
    starts the next budget (None when there is none).

    `start`: the flat plan of a smaller budget (its fleet fits these inputs), or None for the
    greedy start. Time-resolved, the flat plan of `inputs` is solved from it, then starts the
    time-resolved solve."""
    point = {
        "budget_mw": inputs.budget_mw,
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
    options = replace(options, progress=False)
    flat: Solution | None = None
    try:
        if time_resolution == TimeResolution.FLAT:
            solution = flat = solve(inputs, objective, options, time_resolution, start=start)
        else:
            try:
                flat = solve(inputs, objective, options, TimeResolution.FLAT, start=start)
            except Infeasible:
                flat = None  # as `solve`: the time-resolved year may still have a plan
            solution = solve(inputs, objective, options, time_resolution, start=flat)
        plan = plan_document(inputs, solution, Objective(objective))  # `solve` took only these
    except Infeasible as error:
        return point | {"reason": error.reason, "seconds": time.perf_counter() - started}, flat
    except NoPlanInTime as error:
        return point | {
            "status": "time_limit",
            "reason": str(error),
            "seconds": time.perf_counter() - started,
        }, flat
    summary = (
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
    return summary, flat


def solve_ascending(
    inputs_at: Callable[[float], PlanInputs],
    budgets: Iterable[float],
    objective: str,
    options: SolverOptions,
    time_resolution: str = TimeResolution.FLAT,
    start: Solution | None = None,
    warm: bool = True,
    on_done: Callable[[float], None] | None = None,
) -> tuple[dict[float, dict], Solution | None]:
    """`budgets` in ascending order (`inputs_at(B)`: the inputs at budget B), each `plan_point`
    from the last flat plan found (the first from `start`, a smaller budget's plan, or the
    greedy start when None); `warm=False`: each from the greedy start. The points by budget,
    and the last flat plan found (`start` if none); `on_done(B)` after each."""
    points: dict[float, dict] = {}
    last = start
    for budget in sorted(budgets):
        point, plan = plan_point(
            inputs_at(budget), objective, options, time_resolution, last if warm else None
        )
        points[budget] = point
        last = plan if plan is not None else last
        if on_done:
            on_done(budget)
    return points, last


def solve_chunk(
    tables: Mapping[str, pl.DataFrame],
    budgets: Iterable[float],
    objective: str,
    options: SolverOptions,
    time_resolution: str = TimeResolution.FLAT,
    tariff_id: str | None = None,
    start: Solution | None = None,
    warm: bool = True,
    on_done: Callable[[float], None] | None = None,
) -> dict[float, dict]:
    """The `plan_point` of each budget of a chunk, by budget: solved in ascending order, each
    from the plan of the one before (the first from `start`, a smaller budget's plan, or the
    greedy start when None); `warm=False`: each from the greedy start. `tariff_id` overrides
    the scenario's tariff; `on_done(B)` after each budget."""
    inputs_at = partial(plan_inputs, tables, tariff_id=tariff_id)
    return solve_ascending(
        inputs_at, budgets, objective, options, time_resolution, start, warm, on_done
    )[0]


def contiguous_chunks(budgets: Iterable[float], count: int) -> list[list[float]]:
    """The budgets, ascending, in `count` (at most one per budget) contiguous chunks whose
    sizes differ by at most one, the larger first."""
    ordered = sorted(budgets)
    count = max(1, min(count, len(ordered)))
    size, larger = divmod(len(ordered), count)
    bounds = [i * size + min(i, larger) for i in range(count + 1)]
    return [ordered[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _start_worker(tables: Mapping[str, pl.DataFrame], solved: Any) -> None:
    global _tables, _solved
    _tables, _solved = tables, solved


def _solve_chunk_in_worker(
    budgets: list[float],
    objective: str,
    options: SolverOptions,
    time_resolution: str,
    tariff_id: str | None,
    start: Solution | None,
    warm: bool,
) -> dict[float, dict]:
    assert _tables is not None  # set by `_start_worker` when the worker started
    return solve_chunk(
        _tables,
        budgets,
        objective,
        options,
        time_resolution,
        tariff_id,
        start,
        warm,
        _solved.put,
    )


def solve_budgets(
    tables: Mapping[str, pl.DataFrame],
    budgets: list[float],
    objective: str,
    options: SolverOptions,
    time_resolution: str,
    jobs: int,
    on_done: Callable[[int, int, float], None] | None = None,
    tariff_id: str | None = None,
    warm: bool = True,
) -> tuple[dict[float, dict], int]:
    """Every budget solved (`plan_point`), by budget, and the number of processes that solved
    them; `on_done(done, total, budget)` after each (in this process). A worker gets the options
    without their progress callback.

    The smallest budget is solved first, in this process, from the greedy start. Then, if its
    CPU time × the budgets left × (1 − 1/workers) is at most `POOL_START_S` (or `jobs` is 1), the
    others in this process, each from the plan before; else in `jobs` worker processes, one
    `solve_chunk` of contiguous budgets each, starting from the smallest budget's plan.
    `warm=False`: every budget from the greedy start, on the same processes."""
    options = replace(options, progress=False, on_progress=None)
    if not budgets:
        return {}, 1
    first, *rest = sorted(set(budgets))
    done = 0

    def solved(budget: float) -> None:
        nonlocal done
        done += 1
        if on_done:
            on_done(done, len(rest) + 1, budget)

    began = time.process_time()
    point, plan = plan_point(
        plan_inputs(tables, first, tariff_id=tariff_id), objective, options, time_resolution
    )
    work = time.process_time() - began  # CPU seconds: the same on a busy machine
    results = {first: point}
    solved(first)
    start = plan if warm else None
    workers = min(jobs, len(rest))
    if workers <= 1 or work * len(rest) * (1 - 1 / workers) <= POOL_START_S:
        results |= solve_chunk(
            tables, rest, objective, options, time_resolution, tariff_id, start, warm, solved
        )
        return results, 1
    # Not "fork": polars' thread pool in this process would deadlock a forked child. The fork
    # server imports this module (the optimizer, polars) once; each worker forks from it ready
    # to solve.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    progress = context.Queue()
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(dict(tables), progress),
    ) as pool:
        futures = [
            pool.submit(
                _solve_chunk_in_worker,
                chunk,
                objective,
                options,
                time_resolution,
                tariff_id,
                start,
                warm,
            )
            for chunk in contiguous_chunks(rest, workers)
        ]
        _follow(progress, futures, len(rest), solved)
        for future in futures:
            results |= future.result()
    progress.close()
    return results, workers


def _follow(
    progress: Any, futures: list[Future], count: int, solved: Callable[[float], None]
) -> None:
    """Call `solved(B)` for each of the `count` budgets the workers report on `progress`, as
    they come; a worker's error is raised here."""
    while count:
        try:
            budget = progress.get(timeout=0.1)
        except queue.Empty:
            for future in futures:
                if future.done():
                    future.result()  # raises the worker's error
            continue
        solved(budget)
        count -= 1


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
    warm: bool = True,
) -> dict:
    """The frontier document (`frontier_document`) of `budgets`, each budget and each B + 1 MW
    solved in ascending order from the plan below (`solve_budgets`: in this process, or in up to
    `jobs` worker processes, default one per CPU, when the solves are long); `warm=False`: each
    from the greedy start. `tariff_id` overrides the scenario's tariff. The document's `jobs`
    is the number of processes that solved.

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
    points, workers = solve_budgets(
        tables,
        to_solve,
        objective,
        options,
        time_resolution,
        jobs,
        on_done if reporting else _progress_bar if progress else None,
        tariff_id,
        warm,
    )
    document = frontier_document(
        points,
        pairs,
        objective,
        time_resolution,
        workers,
        time.perf_counter() - started,
        inputs_files,
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
    the interconnect of the extra MW can explain (module docstring), with 2 × the gap (and
    10⁻⁹ for rounding: past its plateau a plan keeps its fleet and pays just the interconnect)
    as tolerance.

    A warm flat sweep meets the bound by construction from each budget to the next one it
    solves (the energy price not rising with the load), so from row to row too while the
    tokens do not fall between them (a B + 1 MW solved between two rows). The tolerance is
    for plans that are only optimal within the gap: a cold sweep, a worker's first budget,
    time-resolved plans."""
    solved = [r for r in rows if r["cost_per_million_tokens_usd"] is not None]
    return [
        (a["budget_mw"], b["budget_mw"])
        for a, b in zip(solved, solved[1:], strict=False)
        if b["cost_per_million_tokens_usd"]
        > a["cost_per_million_tokens_usd"] * (1 + 2 * mip_rel_gap + 1e-9)
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
