"""Benchmark multi-year plans (`optimizer.horizon.solve_horizon`).

Run: `uv run python benchmarks/bench_horizon.py` (both instances) or `--quick` (the bundled
horizon only); `--json` for machines.

Instances:
- bundled: the bundled input folder's horizon (scenario.yaml `horizon`, fleet.csv), end to end
  from the input files (read, design, build, solve);
- generated: `bench_optimizer.generate` systems (`--systems`, default 50) over `--years`
  (default 10) years, seeded: each system buyable from a random year in the first five, a
  yearly capex decline of 0-15%, lifetimes of at most 5 years, the grid budget doubling in
  the middle year, energy escalating 2% a year.

Printed per instance: years, systems, variables, rows, nonzeros, seconds to read and design
(bundled), to build, to solve, MILPs, the status and gap at `--gap` (default 0.1%).
Targets on a 2-core machine: the bundled horizon end to end under 30 s; the generated one to
0.1% under 5 minutes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_optimizer import generate  # noqa: E402

from optimizer.design import plan_inputs  # noqa: E402
from optimizer.horizon import solve_horizon  # noqa: E402
from optimizer.inputs import Horizon, PlanInputs, SolverOptions  # noqa: E402
from pipelines.ingest.sources import read_inputs  # noqa: E402

SEED = 20261206


def generated(systems: int, years: int, seed: int = SEED) -> PlanInputs:
    """The generated instance of the module docstring."""
    inputs = generate(systems, 3, 2, 10, 100, seed=seed)
    rng = random.Random(seed)
    shelf = tuple(
        replace(
            s,
            available_from_year=2026 + rng.choice((0, 0, 0, 1, 2, 3, 4)),
            capex_decline_pct_per_year=0.0 if s.rented else rng.choice((0.0, 5.0, 10.0, 15.0)),
            lifetime_years=min(s.lifetime_years, 5),
        )
        for s in inputs.systems
    )
    budgets = tuple(100.0 if t < years // 2 else 200.0 for t in range(years))
    return replace(inputs, systems=shelf, horizon=Horizon(2026, years, budgets, None, 2.0))


def measure(name: str, inputs: PlanInputs, options: SolverOptions, **before: float) -> dict:
    began = time.perf_counter()
    plan = solve_horizon(inputs, options=options)
    return {
        "instance": name,
        "years": plan.years[-1].year - plan.years[0].year + 1,
        "systems": len(inputs.systems),
        "variables": plan.n_variables,
        "rows": plan.n_constraints,
        "nonzeros": plan.n_nonzeros,
        **before,
        "build_s": plan.build_seconds,
        "solve_s": plan.solve_seconds,
        "total_s": sum(before.values()) + time.perf_counter() - began,
        "milps": sum(1 for it in plan.iterations if it["lambda_usd_per_token"] is not None),
        "status": plan.status,
        "gap": plan.mip_gap,
        "cost_per_million_tokens_usd": plan.cost_per_million_tokens_usd,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the bundled horizon only")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--gap", type=float, default=1e-3, help="relative MIP gap (default 0.1%%)")
    parser.add_argument("--systems", type=int, default=50)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args()
    options = SolverOptions(mip_rel_gap=args.gap, time_limit_s=args.time_limit)

    began = time.perf_counter()
    tables = read_inputs(REPO / "datasets")
    read_s = time.perf_counter() - began
    began = time.perf_counter()
    bundled = plan_inputs(tables)
    design_s = time.perf_counter() - began
    if bundled.horizon is None:
        bundled = replace(bundled, horizon=Horizon(2026, 5, (bundled.budget_mw,) * 5))
    rows = [measure("bundled", bundled, options, read_s=read_s, design_s=design_s)]
    if not args.quick:
        rows.append(measure("generated", generated(args.systems, args.years), options))
    if args.json:
        print(json.dumps({"gap": args.gap, "instances": rows}, indent=2))
        return
    header = (
        f"{'instance':>10} {'years':>5} {'systems':>7} {'vars':>7} {'rows':>7} {'nnz':>8} "
        f"{'build s':>8} {'solve s':>8} {'total s':>8} {'MILPs':>5} {'status':>10} {'gap':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        gap = "-" if r["gap"] is None else f"{r['gap']:.1e}"
        print(
            f"{r['instance']:>10} {r['years']:>5} {r['systems']:>7} {r['variables']:>7} "
            f"{r['rows']:>7} {r['nonzeros']:>8} {r['build_s']:>8.2f} {r['solve_s']:>8.2f} "
            f"{r['total_s']:>8.2f} {r['milps']:>5} {r['status']:>10} {gap:>9}"
        )


if __name__ == "__main__":
    main()
