"""run the Dagster job `replan` (ingest → design → plan) on the instance and print the plan"""

import argparse
from pathlib import Path

from pipelines.cli import options
from pipelines.contract.errors import gather


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_plan(parser)


def run(args: argparse.Namespace) -> int:
    from pipelines.cli.run_job import run_job
    from pipelines.ingest.sources import read_inputs
    from pipelines.warehouse.history import read_plan

    data, warehouse = gather(
        lambda: options.data_dir(args), lambda: options.warehouse_dir(args, write=True)
    )
    read_inputs(data)  # every problem reported before anything is written
    run_config = {
        "ops": {
            "design_space": {"config": {"budget_mw": args.budget_mw}},
            "build_plan": {
                "config": {
                    "objective": args.objective,
                    "time_limit_s": args.time_limit,
                    "mip_rel_gap": args.gap,
                    "threads": args.threads,
                    "time_resolution": args.time_resolution,
                }
            },
        }
    }
    result = run_job("replan", data, warehouse, run_config)
    plan = read_plan(Path(result.written["build_plan"]))
    options.print_plan(plan, args.json)
    if not args.json:
        print(
            f"\nDagster run {result.run_id}; plan {plan['plan_id']} in "
            f"{result.written['build_plan']}"
        )
    return 0
