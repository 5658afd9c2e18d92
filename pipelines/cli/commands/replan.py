"""run the Dagster job `replan` (ingest → design → plan → export) on the instance and print the
plan"""

import argparse
from pathlib import Path

from pipelines.cli import options
from pipelines.contract.errors import InputError, Problem, gather

JOB = "replan"
JOB_STEPS = "ingest → design → plan → export"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_plan(parser)


def run(args: argparse.Namespace) -> int:
    from pipelines.cli.progress import Progress
    from pipelines.cli.run_job import run_job
    from pipelines.ingest.sources import read_inputs
    from pipelines.warehouse.history import read_plan

    data, warehouse = gather(
        lambda: options.data_dir(args), lambda: options.warehouse_dir(args, write=True)
    )
    tables = read_inputs(data)  # every problem reported before anything is written
    options.check_plan_inputs(tables, args.objective, args.tariff)
    run_config = {
        "ops": {
            "design_space": {"config": design_config(args)},
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
    with Progress() as progress, progress.spinner(f"Dagster job {JOB} ({JOB_STEPS})") as spinner:
        result = run_job(
            JOB,
            data,
            warehouse,
            run_config,
            on_step=lambda step: spinner.say(f"Dagster job {JOB} ({JOB_STEPS}): {step}"),
        )
    plan = read_plan(Path(result.written["build_plan"]))
    options.print_plan(plan, args.json)
    where = f"Dagster run {result.run_id}; plan {plan['plan_id']} in {result.written['build_plan']}"
    if args.json:
        options.say(where)
    else:
        print(f"\n{where}")
    return 0


def design_config(args: argparse.Namespace) -> dict:
    """The run config of `design_space`: the budget, and the tariff when `--tariff` overrides it
    (its `DesignConfig.tariff`)."""
    config: dict = {"budget_mw": args.budget_mw}
    if args.tariff is not None:
        from pipelines.defs.design.assets import DesignConfig

        if "tariff" not in DesignConfig.model_fields:
            raise InputError(
                [
                    Problem(
                        options.COMMAND_LINE,
                        "this Dagster code location's design_space takes no tariff yet; "
                        "`tokenplan plan --tariff` plans without Dagster",
                        field="--tariff",
                    )
                ]
            )
        config["tariff"] = args.tariff
    return config
