"""Benchmark the solve: Dinkelbach's chain against one MILP at λ*, the whole plan, the sweep,
and process start-up.

Run: `uv run python benchmarks/bench_solve.py` (all, a few minutes), `--quick` (about a
minute), `--json` (one JSON document on stdout), `--repo PATH` (measure the checkout at PATH
with this same script; what it lacks is reported as n/a), `--compare FILE` (a `--json`
document of another run: cost per token and chain time per instance side by side).

1. Chain vs one MILP. On 24 instances of `benchmarks/bench_optimizer.py` (6 sizes × 4
   seeds; --quick 7), the plan is solved as `tokenplan` solves it (`optimizer.solve.solve`:
   greedy start, Dinkelbach's MILPs), and the MILP at the final ratio λ* is solved once more
   alone: the model compiled, the coefficient of θ set to −λ*·κ (as `dinkelbach.ratio_cost`),
   written to MPS and read by a fresh `highspy.Highs` (1 thread, mip_rel_gap = --gap,
   mip_abs_gap = gap × C in the model's 10⁶ USD, no MIP start). chain/one is the chain's
   HiGHS seconds over that one MILP's; the target is within 2x on every instance above 10⁴
   nonzeros. The one MILP's plan is checked against the chain's cost per token (it may not
   be better by more than the gap).
2. Whole plan, growing in systems and in workloads (tables of `benchmarks/bench_design.py`):
   read (the tables written to Parquet and read back with polars: the path of a warehouse
   snapshot), design space (`plan_inputs`), then the pieces of `plan_from_inputs`: build and
   HiGHS inside `solve` (the rest of the solve call is "other": start plan, extraction), the
   plan document, the single-system alternatives, the lever table.
3. Sweep warm vs cold on the bundled data (`sweep`, jobs=1, each budget and its +1 MW): wall
   seconds (the fastest of 2, run alternately) and MILPs, and whether cost per token never
   rises with the budget by more than `rises_with_budget` allows.
4. Start-up: `python -c "import pipelines.cli.main"` and `python -m pipelines.cli.main plan
   --no-save` on the bundled data, in subprocesses (bytecode written: PYTHONDONTWRITEBYTECODE
   removed), one unreported warm-up run, then the median of 3.

Times are wall-clock on whatever else the machine runs: compare the ratios printed by one run,
not the seconds of two.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parents[1]

SEED = 20260101
CHAIN_SIZES = (
    # (skus, coolings, power designs, workloads, budget MW), as bench_optimizer's SIZES
    (25, 3, 2, 10, 50),
    (50, 3, 2, 20, 100),
    (100, 3, 2, 20, 200),
    (100, 3, 2, 50, 200),
    (200, 3, 2, 50, 300),
    (400, 3, 2, 100, 500),
)
CHAIN_SEEDS = 4
"""Seeds per size: seed k of the size at index j is SEED + j + 1000 k."""
QUICK_CHAIN = ((0, 2), (1, 2), (2, 2), (4, 1))
"""--quick: (index of CHAIN_SIZES, seeds)."""
BIG_NNZ = 10_000
TARGET_RATIO = 2.0

DESIGN_SEED = 20260301
POINTS = 20
SYSTEMS = (25, 50, 100, 200, 375)
SYSTEMS_WORKLOADS = 20
WORKLOADS = (5, 10, 20, 50, 100)
WORKLOADS_SYSTEMS = 50
QUICK_SYSTEMS = (25, 50)
QUICK_WORKLOADS = (5, 20)

SWEEP_BUDGETS = (5.0, 60.0, 5.0)
QUICK_SWEEP_BUDGETS = (5.0, 20.0, 5.0)
SWEEP_REPEATS = 2
STARTUP_RUNS = 3


# --- the project under test -------------------------------------------------------------------


def load_project(repo: Path) -> dict[str, ModuleType]:
    """Import the project from `repo` (first on sys.path, before any of it is imported) and
    its benchmark generators, `benchmarks/bench_optimizer.py` and `bench_design.py`."""
    sys.path.insert(0, str(repo))
    generators = {}
    for name in ("bench_optimizer", "bench_design"):
        path = repo / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        generators[name] = module
    import optimizer

    where = Path(optimizer.__file__).resolve().parents[1]
    if where != repo.resolve():
        raise SystemExit(f"the optimizer was imported from {where}, not from {repo}")
    return generators


def milp_count(solution: Any) -> int:
    """The MILPs of a solve with a λ (Dinkelbach's), as bench_optimizer counts them."""
    return sum(1 for it in solution.iterations if it.get("lambda_usd_per_token") is not None)


def timed(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - began, result


# --- 1. chain vs one MILP ---------------------------------------------------------------------


def one_milp(inputs: Any, lam: float, cost_usd: float, gap: float, time_limit: float) -> dict:
    """The MILP at λ = `lam` [USD/token] alone: compiled, θ's cost −λκ, through an MPS file into
    a fresh `highspy.Highs`. Its HiGHS seconds, status and the C/T of its plan."""
    import highspy
    import numpy as np

    from optimizer.model import USD_UNIT, model_data
    from optimizer.solve.highs import compile_problem
    from optimizer.solve.results import cost_and_tokens

    data = model_data(inputs, "cost-per-token", "flat")
    problem = compile_problem(data)
    problem.highs.changeColsCost(
        1,
        np.array([problem.throughput_column], dtype=np.int32),
        np.array([-lam * data.serving_seconds]),
    )
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "at_lambda_star.mps")
        problem.highs.writeModel(path)
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.readModel(path)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("mip_rel_gap", gap)
    highs.setOptionValue("mip_abs_gap", gap * cost_usd / USD_UNIT)
    highs.setOptionValue("time_limit", time_limit)
    seconds, _ = timed(highs.run)
    status = highs.modelStatusToString(highs.getModelStatus())
    x = np.array(highs.getSolution().col_value)
    cost, tokens = cost_and_tokens(problem, x) if len(x) == problem.n_columns else (0.0, 0.0)
    return {
        "seconds": seconds,
        "status": status,
        "cost_per_million_tokens_usd": cost / tokens * 1e6 if tokens > 0 else None,
    }


def chain_instances(quick: bool) -> list[tuple[tuple, int]]:
    """(size, seed) of each instance of part 1."""
    counts = QUICK_CHAIN if quick else [(j, CHAIN_SEEDS) for j in range(len(CHAIN_SIZES))]
    return [(CHAIN_SIZES[j], SEED + j + 1000 * k) for j, seeds in counts for k in range(seeds)]


def chain_vs_one(generate: Callable, quick: bool, gap: float, time_limit: float) -> dict:
    from optimizer.inputs import SolverOptions
    from optimizer.solve import solve

    options = SolverOptions(time_limit_s=time_limit, mip_rel_gap=gap)
    solve(generate(2, 1, 1, 1, 1, SEED), options=options)  # warm up imports
    rows = []
    for size, seed in chain_instances(quick):
        inputs = generate(*size, seed=seed)
        solution = solve(inputs, options=options)
        lam = solution.annual_cost_usd / solution.tokens_per_year
        one = one_milp(inputs, lam, solution.annual_cost_usd, gap, time_limit)
        chain_cpt = solution.cost_per_million_tokens_usd
        one_cpt = one["cost_per_million_tokens_usd"]
        rows.append(
            {
                "instance": "x".join(map(str, size[:4])) + f"@{size[4]}MW",
                "seed": seed,
                "nnz": solution.n_nonzeros,
                "milps": milp_count(solution),
                "chain_s": solution.solve_seconds,
                "chain_milps_s": sum(
                    it["seconds"]
                    for it in solution.iterations
                    if it.get("lambda_usd_per_token") is not None
                ),
                "build_s": solution.build_seconds,
                "status": solution.status,
                "gap": solution.mip_gap,
                "one_s": one["seconds"],
                "one_status": one["status"],
                "ratio": solution.solve_seconds / one["seconds"] if one["seconds"] else None,
                "cost_per_million_tokens_usd": chain_cpt,
                "one_cost_per_million_tokens_usd": one_cpt,
                # the one MILP's plan beating the chain's by more than the gap: the chain is wrong
                "one_better": one_cpt is not None and one_cpt < chain_cpt * (1 - gap),
            }
        )
        _progress(f"chain {rows[-1]['instance']} seed {seed}: {rows[-1]['ratio']:.2f}x")
    big = [r["ratio"] for r in rows if r["nnz"] > BIG_NNZ and r["ratio"] is not None]
    return {
        "gap": gap,
        "time_limit_s": time_limit,
        "rows": rows,
        "big_instances": len(big),
        "max_ratio_big": max(big) if big else None,
        "median_ratio_big": statistics.median(big) if big else None,
        "all_big_within_target": all(r <= TARGET_RATIO for r in big) if big else None,
    }


def print_chain(result: dict) -> None:
    print(
        f"\n1. Dinkelbach chain vs one MILP at λ* (gap {result['gap']:g}, "
        f"time limit {result['time_limit_s']:g} s per solve; HiGHS seconds, 1 thread; "
        "chain s = Solution.solve_seconds, LPs included; in MILPs = its Dinkelbach MILPs)"
    )
    header = (
        f"{'instance':>22} {'seed':>8} {'nnz':>7} {'MILPs':>5} {'chain s':>8} {'in MILPs':>8} "
        f"{'one s':>7} "
        f"{'chain/one':>9} {'>1e4':>4} {'<=2x':>4} {'status':>10} {'USD/M tok':>10} "
        f"{'one USD/M':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in result["rows"]:
        big = r["nnz"] > BIG_NNZ
        within = "" if not big else "yes" if r["ratio"] <= TARGET_RATIO else "NO"
        odd = "  one MILP better!" if r["one_better"] else ""
        print(
            f"{r['instance']:>22} {r['seed']:>8} {r['nnz']:>7} {r['milps']:>5} "
            f"{r['chain_s']:>8.2f} {r.get('chain_milps_s', math.nan):>8.2f} {r['one_s']:>7.2f} "
            f"{_num(r['ratio'], '.2f'):>9} "
            f"{'yes' if big else '':>4} {within:>4} {r['status']:>10} "
            f"{r['cost_per_million_tokens_usd']:>10.4f} "
            f"{_num(r['one_cost_per_million_tokens_usd'], '.4f'):>10}{odd}"
        )
    print(
        f"above {BIG_NNZ:,} nnz ({result['big_instances']} instances): chain/one max "
        f"{_num(result['max_ratio_big'], '.2f')}, median {_num(result['median_ratio_big'], '.2f')}"
        f"; all within {TARGET_RATIO:g}x: {_yes(result['all_big_within_target'])}"
    )


# --- 2. whole plan ----------------------------------------------------------------------------


def whole_plan(generate_tables: Callable, quick: bool, gap: float, time_limit: float) -> dict:
    import polars as pl

    from optimizer.design import plan_inputs
    from optimizer.inputs import SolverOptions
    from optimizer.plan import plan_document
    from optimizer.solve import solve
    from optimizer.types import Objective, TimeResolution
    from pipelines.planning.comparisons import with_alternatives
    from pipelines.planning.levers import with_levers

    options = SolverOptions(time_limit_s=time_limit, mip_rel_gap=gap)
    objective = Objective.COST_PER_TOKEN
    cases = [("systems", n, SYSTEMS_WORKLOADS) for n in (QUICK_SYSTEMS if quick else SYSTEMS)]
    cases += [
        ("workloads", WORKLOADS_SYSTEMS, n) for n in (QUICK_WORKLOADS if quick else WORKLOADS)
    ]
    warm_up = plan_inputs(generate_tables(10, 5, POINTS, DESIGN_SEED))  # imports, thread pools
    with_levers(
        plan_document(warm_up, solve(warm_up, objective, options), objective),
        warm_up,
        objective,
        options,
    )
    rows = []
    for growing, systems, workloads in cases:
        tables = generate_tables(systems, workloads, POINTS, DESIGN_SEED)
        with tempfile.TemporaryDirectory() as folder:
            for name, frame in tables.items():
                frame.write_parquet(Path(folder) / f"{name}.parquet")
            read_s, tables = timed(
                lambda folder=folder, names=list(tables): {
                    name: pl.read_parquet(Path(folder) / f"{name}.parquet") for name in names
                }
            )
        design_s, inputs = timed(plan_inputs, tables)
        # the pieces of `plan_from_inputs`, in its order
        solve_call_s, solution = timed(solve, inputs, objective, options, TimeResolution.FLAT)
        document_s, plan = timed(plan_document, inputs, solution, objective)
        alternatives_s, plan = timed(with_alternatives, plan, inputs, objective, options)
        levers_s, plan = timed(with_levers, plan, inputs, objective, options)
        row = {
            "growing": growing,
            "systems": systems,
            "workloads": workloads,
            "systems_in_inputs": len(inputs.systems),
            "points": len(inputs.operating_points),
            "nnz": solution.n_nonzeros,
            "milps": milp_count(solution),
            "read_s": read_s,
            "design_s": design_s,
            "build_s": solution.build_seconds,
            "solve_s": solution.solve_seconds,
            "other_s": solve_call_s - solution.build_seconds - solution.solve_seconds,
            "document_s": document_s,
            "alternatives_s": alternatives_s,
            "levers_s": levers_s,
            "cost_per_million_tokens_usd": solution.cost_per_million_tokens_usd,
        }
        row["total_s"] = read_s + design_s + solve_call_s + document_s + alternatives_s + levers_s
        rows.append(row)
        _progress(f"plan {systems} systems x {workloads} workloads: {row['total_s']:.1f} s")
    return {"gap": gap, "time_limit_s": time_limit, "points_per_front": POINTS, "rows": rows}


def print_plan(result: dict) -> None:
    print(
        f"\n2. Whole plan (bench_design tables, ~{result['points_per_front']} points per front, "
        f"gap {result['gap']:g}; read = Parquet → polars, the warehouse snapshot path; "
        "other = rest of the solve call)"
    )
    header = (
        f"{'systems':>7} {'wl':>4} {'in plan':>7} {'points':>6} {'nnz':>7} {'MILPs':>5} "
        f"{'read':>6} {'design':>6} {'build':>6} {'solve':>6} {'other':>6} {'doc':>5} "
        f"{'altern.':>7} {'levers':>6} {'total':>7}  {'share of total':<30}"
    )
    for growing in ("systems", "workloads"):
        rows = [r for r in result["rows"] if r["growing"] == growing]
        if not rows:
            continue
        print(f"growing in {growing} (seconds):")
        print(header)
        print("-" * len(header))
        for r in rows:
            shares = {
                "alt": r["alternatives_s"],
                "solve": r["solve_s"],
                "lev": r["levers_s"],
                "build": r["build_s"],
                "design": r["design_s"],
            }
            top = sorted(shares.items(), key=lambda kv: -kv[1])[:3]
            share = " ".join(f"{k} {v / r['total_s']:.0%}" for k, v in top)
            print(
                f"{r['systems']:>7} {r['workloads']:>4} {r['systems_in_inputs']:>7} "
                f"{r['points']:>6} {r['nnz']:>7} {r['milps']:>5} {r['read_s']:>6.2f} "
                f"{r['design_s']:>6.2f} {r['build_s']:>6.2f} {r['solve_s']:>6.2f} "
                f"{r['other_s']:>6.2f} {r['document_s']:>5.2f} {r['alternatives_s']:>7.2f} "
                f"{r['levers_s']:>6.2f} {r['total_s']:>7.2f}  {share:<30}"
            )


# --- 3. sweep warm vs cold --------------------------------------------------------------------


def sweep_warm_cold(repo: Path, quick: bool, gap: float, time_limit: float) -> dict:
    from optimizer.economics import crf
    from optimizer.inputs import SolverOptions
    from pipelines.ingest.sources import read_inputs
    from pipelines.planning import sweep as sweep_module

    tables = read_inputs(repo / "datasets")
    budgets = sweep_module.budget_range(*(QUICK_SWEEP_BUDGETS if quick else SWEEP_BUDGETS))
    options = SolverOptions(time_limit_s=time_limit, mip_rel_gap=gap)
    scenario = tables["scenario"].row(0, named=True)
    grid_usd_per_mw_year = (
        1000.0
        * (scenario.get("grid_connection_capex_usd_per_kw") or 0.0)
        * crf(scenario["wacc"], scenario["facility_lifetime_years"])
    )
    has_warm = "warm" in inspect.signature(sweep_module.sweep).parameters
    counted = {"milps": 0, "solves": 0}
    solve = sweep_module.solve

    def counting_solve(*args: Any, **kwargs: Any) -> Any:
        solution = solve(*args, **kwargs)
        counted["milps"] += milp_count(solution)
        counted["solves"] += 1
        return solution

    sweep_module.solve = counting_solve  # jobs=1: every solve is in this process
    runs: dict[str, dict | None] = {"warm": None, "cold": None}
    modes = ("warm", "cold") if has_warm else ("cold",)
    try:
        sweep_module.sweep(tables, budgets[:1], options=options, jobs=1)  # warm up
        for _ in range(SWEEP_REPEATS):  # alternating; the fastest of each
            for mode in modes:
                counted.update(milps=0, solves=0)
                kwargs = {"warm": mode == "warm"} if has_warm else {}
                seconds, frontier = timed(
                    sweep_module.sweep, tables, budgets, options=options, jobs=1, **kwargs
                )
                _progress(f"sweep {mode}: {seconds:.1f} s")
                if runs[mode] is not None and runs[mode]["seconds"] <= seconds:
                    continue
                rows = frontier["rows"]
                rises = sweep_module.rises_with_budget(rows, grid_usd_per_mw_year, gap)
                runs[mode] = {
                    "seconds": seconds,
                    "milps": counted["milps"],
                    "solves": counted["solves"],
                    "monotone": not rises,
                    "rises": rises,
                    "costs": [r["cost_per_million_tokens_usd"] for r in rows],
                }
    finally:
        sweep_module.solve = solve
    warm, cold = runs["warm"], runs["cold"]
    differs = None
    if warm and cold:
        pairs = [(a, b) for a, b in zip(warm["costs"], cold["costs"], strict=True) if a and b]
        differs = max((abs(a / b - 1) for a, b in pairs), default=0.0)
    return {
        "gap": gap,
        "budgets": budgets,
        "warm": warm,
        "cold": cold,
        "warm_over_cold": warm["seconds"] / cold["seconds"] if warm and cold else None,
        "max_cost_difference": differs,
        "note": None
        if has_warm
        else "sweep has no `warm` here: every budget from the greedy start",
    }


def print_sweep(result: dict) -> None:
    budgets = result["budgets"]
    print(
        f"\n3. Sweep on the bundled data, budgets {budgets[0]:g}..{budgets[-1]:g} MW "
        f"({len(budgets)}) and each +1 MW, jobs=1, gap {result['gap']:g}; "
        f"fastest of {SWEEP_REPEATS}, alternating"
    )
    if result["note"]:
        print(f"   ({result['note']})")
    print(f"{'':>6} {'seconds':>8} {'solves':>6} {'MILPs':>6} {'monotone':>8}  rises")
    for mode in ("warm", "cold"):
        run = result[mode]
        if run is None:
            print(f"{mode:>6} {'n/a':>8} {'n/a':>6} {'n/a':>6} {'n/a':>8}")
            continue
        print(
            f"{mode:>6} {run['seconds']:>8.2f} {run['solves']:>6} {run['milps']:>6} "
            f"{_yes(run['monotone']):>8}  {run['rises'] or ''}"
        )
    print(
        f"warm/cold: {_num(result['warm_over_cold'], '.2f')}; largest cost-per-token difference "
        f"between them: {_num(result['max_cost_difference'], '.2e')}"
    )


# --- 4. start-up ------------------------------------------------------------------------------


def startup(repo: Path, runs: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(repo), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    commands = {
        "import pipelines.cli.main": [sys.executable, "-c", "import pipelines.cli.main"],
        "plan --no-save": [
            sys.executable,
            "-m",
            "pipelines.cli.main",
            "plan",
            "--no-save",
            "--data",
            str(repo / "datasets"),
        ],
    }
    result = {}
    for name, command in commands.items():
        times, failed = [], None
        for run in range(runs + 1):  # the first run writes the bytecode: not counted
            began = time.perf_counter()
            done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - began
            if done.returncode != 0:
                failed = (done.stderr or done.stdout).strip().splitlines()[-1:]
                break
            if run:
                times.append(seconds)
        result[name] = {
            "median_s": statistics.median(times) if times and not failed else None,
            "runs_s": times,
            "error": failed,
        }
        _progress(f"start-up {name}: {result[name]['median_s']}")
    return result


def print_startup(result: dict) -> None:
    print("\n4. Start-up (subprocesses, bytecode written, median of 3 after a warm-up run)")
    for name, r in result.items():
        detail = f"{r['median_s']:.2f} s" if r["median_s"] is not None else f"failed: {r['error']}"
        command = f"-m pipelines.cli.main {name}" if "plan" in name else f'-c "{name}"'
        print(f"   python {command:<44} {detail}")


# --- comparison with another run --------------------------------------------------------------


def print_compare(result: dict, other: dict, path: str) -> None:
    """Per instance of part 1: this run's chain against `other`'s (a `--json` document)."""
    theirs = {(r["instance"], r["seed"]): r for r in other.get("chain", {}).get("rows", [])}
    gap = result["chain"]["gap"]
    print(f"\nChain against {path} ({other.get('repo')}): cost per token must agree within the gap")
    header = (
        f"{'instance':>22} {'seed':>8} {'MILPs':>9} {'chain s':>15} {'this/other':>10} "
        f"{'USD/M tok (this, other)':>25} {'rel. diff':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in result["chain"]["rows"]:
        o = theirs.get((r["instance"], r["seed"]))
        if o is None:
            continue
        a, b = r["cost_per_million_tokens_usd"], o["cost_per_million_tokens_usd"]
        diff = a / b - 1
        flag = "" if abs(diff) <= gap else "  beyond the gap"
        print(
            f"{r['instance']:>22} {r['seed']:>8} {r['milps']:>4}/{o['milps']:<4} "
            f"{r['chain_s']:>7.2f}/{o['chain_s']:<7.2f} {r['chain_s'] / o['chain_s']:>10.2f} "
            f"{a:>12.4f}/{b:<12.4f} {diff:>+9.1e}{flag}"
        )


# --- main -------------------------------------------------------------------------------------


def _num(value: float | None, spec: str) -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (format(value, spec))
    )


def _yes(value: bool | None) -> str:
    return "n/a" if value is None else "yes" if value else "NO"


def _progress(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


SECTIONS = ("chain", "plan", "sweep", "startup")


def measure(repo: Path, only: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """The sections of `only`, measured on the project at `repo`."""
    generators = load_project(repo)
    result: dict[str, Any] = {
        "repo": str(repo),
        "quick": args.quick,
        "gap": args.gap,
        "time_limit_s": args.time_limit,
        "cpus": os.cpu_count(),
    }
    began = time.perf_counter()
    if "chain" in only:
        generate = generators["bench_optimizer"].generate
        result["chain"] = chain_vs_one(generate, args.quick, args.gap, args.time_limit)
    if "plan" in only:
        generate_tables = generators["bench_design"].generate
        result["plan"] = whole_plan(generate_tables, args.quick, args.gap, args.time_limit)
    if "sweep" in only:
        result["sweep"] = sweep_warm_cold(repo, args.quick, args.gap, args.time_limit)
    if "startup" in only:
        result["startup"] = startup(repo, STARTUP_RUNS)
    result["seconds"] = time.perf_counter() - began
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and smaller cases")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument("--gap", type=float, default=1e-3, help="relative MIP gap (default 0.1%%)")
    parser.add_argument(
        "--time-limit", type=float, default=120.0, help="seconds per solve (default 120)"
    )
    parser.add_argument("--repo", type=Path, default=HERE, help="the checkout to measure")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}"
    )
    parser.add_argument("--compare", help="a --json document of another run (part 1 side by side)")
    parser.add_argument(
        "--load", help="print a --json document of an earlier run instead of running"
    )
    args = parser.parse_args()
    repo = args.repo.resolve()
    only = [s for s in args.only.split(",") if s]
    if unknown := set(only) - set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    # --json: everything else (HiGHS, progress bars) goes to stderr; the document to stdout.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w") if args.json else sys.stdout
    if args.json:
        sys.stdout.flush()
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    if args.load:
        result = json.loads(Path(args.load).read_text())
    else:
        result = measure(repo, only, args)
    if args.json:
        json.dump(result, out, indent=1, default=str)
        out.write("\n")
        out.flush()
        return
    where = f"project: {result['repo']}   ({result['cpus']} CPUs"
    print(f"{where}, shared: read the ratios of one run, not the seconds)")
    if "chain" in result:
        print_chain(result["chain"])
    if "plan" in result:
        print_plan(result["plan"])
    if "sweep" in result:
        print_sweep(result["sweep"])
    if "startup" in result:
        print_startup(result["startup"])
    if args.compare and "chain" in result:
        print_compare(result, json.loads(Path(args.compare).read_text()), args.compare)
    print(f"\n{result['seconds']:.0f} s in all")


if __name__ == "__main__":
    main()
