"""solve for the lowest cost per token (or cost) and print the plan; kept in the plan history"""

import argparse

from pipelines.cli import options
from pipelines.contract.errors import gather


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_plan(parser)


def run(args: argparse.Namespace) -> int:
    from pipelines.planning.make_plan import make_plan
    from pipelines.warehouse.history import save_plan, stamp

    data, warehouse = gather(
        lambda: options.data_dir(args), lambda: options.warehouse_dir(args, write=True)
    )
    plan = stamp(
        make_plan(
            data, args.budget_mw, args.objective, options.solver_options(args), args.time_resolution
        )
    )
    kept = save_plan(plan, warehouse)
    options.print_plan(plan, args.json)
    if not args.json:
        print(f"\nplan {plan['plan_id']} kept in {kept}")
    return 0
