"""Benchmark the fleet MILP (Pyomo build → compile → HiGHS, Dinkelbach) on generated instances.

Run: `uv run python benchmarks/bench_optimizer.py` (all sizes) or `--quick` (small ones).

Instances are random but seeded (fixed `SEED`), from a few SKUs up to 100 SKUs × 3
coolings × 2 power designs × 20 workloads and beyond. Each (sku, workload) has ONE
operating point: the design-space step (upstream of the optimizer) has already reduced
the ~20 measured points per (sku, workload) to the best one that meets the workload's
SLO, so the MILP has one GPU-allocation column per (sku, workload).

Printed per size: variables, constraints, nonzeros (of the compiled matrix), Pyomo
build seconds (data + model + compile to matrices), HiGHS seconds (summed over
iterations), Dinkelbach iterations, total seconds, and the final gap on cost per token.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optimizer.inputs import (  # noqa: E402
    Cooling,
    EnergyPrice,
    Finance,
    OperatingPoint,
    PlanInputs,
    PowerDesign,
    SolverOptions,
    System,
    Workload,
)
from optimizer.solve import solve  # noqa: E402

SEED = 20260101

# (name, gpus_per_node, capex per GPU [USD], IT kW per GPU, tokens/s per GPU on a median workload)
ACCELERATORS = (
    ("H100", 8, 50_000, 1.275, 400),
    ("H200", 8, 55_000, 1.275, 520),
    ("B200", 8, 60_000, 1.79, 1_400),
    ("MI355X", 8, 45_000, 1.8, 1_200),
    ("GB200", 72, 43_000, 1.83, 3_000),
    ("GB300", 72, 52_000, 2.08, 4_200),
)

COOLINGS = (
    Cooling("air", "air", 0.35, 2480, 3.0, 50),
    Cooling("dlc", "liquid", 0.15, 2813, 3.5, 200),
    Cooling("immersion", "immersion", 0.06, 3000, 4.0, 200),
)
POWER_DESIGNS = (
    PowerDesign("ac415", "415 VAC", 0.91, 3721, 75, 150),
    PowerDesign("dc800", "800 VDC", 0.955, 3386, 22.5, 1000),
)

SIZES = (
    # (skus, coolings, power designs, workloads, budget MW)
    (3, 2, 1, 2, 5),
    (10, 3, 2, 5, 20),
    (25, 3, 2, 10, 50),
    (50, 3, 2, 20, 100),
    (100, 3, 2, 20, 200),
    (200, 3, 2, 50, 300),
    (400, 3, 2, 100, 500),
    (500, 3, 2, 100, 600),
)
QUICK_SIZES = SIZES[:3]


def generate(
    n_skus: int, n_coolings: int, n_power: int, n_workloads: int, budget_mw: float, seed: int
) -> PlanInputs:
    """A random but plausible instance: ~10% rented SKUs, some supply caps, Dirichlet shares."""
    rng = random.Random(seed)
    systems = []
    for i in range(n_skus):
        name, gpus, capex_per_gpu, kw_per_gpu, _ = rng.choice(ACCELERATORS)
        scale = rng.uniform(0.8, 1.25)
        if rng.random() < 0.1:
            systems.append(
                System(
                    sku=f"{name}-rent-{i}",
                    accelerator=name,
                    gpus_per_node=gpus,
                    node_capex_usd=None,
                    node_power_kw=0.0,
                    node_idle_power_kw=0.0,
                    nodes_per_rack=1,
                    cooling_kinds=(),
                    lifetime_years=5,
                    max_nodes=rng.choice((None, rng.randint(5, 200))),
                    rental_usd_per_gpu_hour=round(capex_per_gpu / 25_000 * scale, 2),
                )
            )
            continue
        node_kw = round(gpus * kw_per_gpu * rng.uniform(0.9, 1.1), 1)
        if gpus == 72:
            kinds, per_rack = ("liquid",), 1
        else:
            kinds = rng.choice(
                (("air", "liquid", "immersion"), ("air", "liquid"), ("liquid", "immersion"))
            )
            per_rack = rng.randint(2, 6)
        systems.append(
            System(
                sku=f"{name}-{i}",
                accelerator=name,
                gpus_per_node=gpus,
                node_capex_usd=round(gpus * capex_per_gpu * scale, -3),
                node_power_kw=node_kw,
                node_idle_power_kw=round(0.4 * node_kw, 2),
                nodes_per_rack=per_rack,
                cooling_kinds=kinds,
                lifetime_years=rng.choice((4, 5, 6)),
                maintenance_pct_per_year=rng.uniform(2, 5),
                opex_usd_per_gpu_year=rng.choice((0, 500, 1500)),
                max_nodes=rng.choice((None, None, rng.randint(20, 400))),
            )
        )
    weights = [rng.expovariate(1.0) for _ in range(n_workloads)]
    workloads = tuple(Workload(f"w{j}", share=x / sum(weights)) for j, x in enumerate(weights))
    workload_factor = [rng.uniform(0.2, 3.0) for _ in range(n_workloads)]
    base = {a[0]: a[4] for a in ACCELERATORS}
    points = tuple(
        OperatingPoint(
            sku=s.sku,
            workload=w.name,
            tokens_per_s_per_gpu=round(
                base[s.accelerator] * workload_factor[j] * rng.lognormvariate(0, 0.3), 1
            ),
        )
        for s in systems
        for j, w in enumerate(workloads)
    )
    return PlanInputs(
        budget_mw=budget_mw,
        systems=tuple(systems),
        coolings=COOLINGS[:n_coolings],
        power_designs=POWER_DESIGNS[:n_power],
        workloads=workloads,
        operating_points=points,
        energy=EnergyPrice(
            "flat",
            0.0892,
            demand_usd_per_kw_month=rng.choice((0.0, 8.0)),
            fixed_usd_per_year=12_000,
        ),
        finance=Finance(
            wacc=0.08,
            facility_lifetime_years=15,
            utilization=0.7,
            shell_capex_usd_per_kw_it=5500,
            fixed_opex_usd_per_year=3_500_000,
        ),
        name=f"bench-{n_skus}x{n_coolings}x{n_power}x{n_workloads}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the small sizes")
    parser.add_argument("--gap", type=float, default=1e-3, help="relative MIP gap (default 0.1%%)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per instance")
    parser.add_argument(
        "--progress", action="store_true", help="print Dinkelbach iterations to stderr"
    )
    args = parser.parse_args()
    options = SolverOptions(
        time_limit_s=args.time_limit, mip_rel_gap=args.gap, progress=args.progress
    )

    solve(
        generate(2, 1, 1, 1, 1, SEED), options=options
    )  # warm up imports (scipy.sparse, pyomo writers)
    header = (
        f"{'instance (sku x cool x power x wl)':>36} {'vars':>7} {'cons':>6} {'nnz':>8} "
        f"{'build s':>8} {'HiGHS s':>8} {'iters':>5} {'total s':>8} {'gap':>9} {'status':>10} "
        f"{'USD/M tok':>10}"
    )
    print(header)
    print("-" * len(header))
    for i, size in enumerate(QUICK_SIZES if args.quick else SIZES):
        inputs = generate(*size, seed=SEED + i)
        began = time.perf_counter()
        solution = solve(inputs, options=options)
        total = time.perf_counter() - began
        milps = sum(1 for it in solution.iterations if it["lambda_usd_per_token"] is not None)
        gap = "n/a" if solution.mip_gap is None else f"{solution.mip_gap:.2e}"
        label = f"{size[0]} x {size[1]} x {size[2]} x {size[3]} ({size[4]} MW)"
        print(
            f"{label:>36} {solution.n_variables:>7} {solution.n_constraints:>6} "
            f"{solution.n_nonzeros:>8} {solution.build_seconds:>8.2f} "
            f"{solution.solve_seconds:>8.2f} {milps:>5} {total:>8.2f} "
            f"{gap:>9} {solution.status:>10} {solution.cost_per_million_tokens_usd:>10.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
