"""solve for the lowest cost per token (or cost) and print the plan; kept in the plan history"""

import argparse

from pipelines.commands import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_plan(parser)


def run(args: argparse.Namespace) -> int:
    from pipelines.history import save_plan, stamp
    from pipelines.planning import make_plan

    plan = stamp(make_plan(options.data_dir(args), args.budget_mw, args.objective, options.solver_options(args),
                           args.time_resolution))
    kept = save_plan(plan, options.warehouse_dir(args))
    options.print_plan(plan, args.json)
    if not args.json:
        print(f"\nplan {plan['plan_id']} kept in {kept}")
    return 0
