"""solve for the lowest cost per token (or cost) and print the plan; kept in the plan history"""

import argparse

from pipelines.cli import options
from pipelines.contract.errors import gather


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_plan(parser)
    parser.add_argument(
        "--no-save",
        action="store_true",
        help="a trial plan: print it, but do not keep it in the plan history",
    )


def run(args: argparse.Namespace) -> int:
    from pipelines.cli.progress import Progress
    from pipelines.ingest.sources import read_inputs
    from pipelines.planning.make_plan import make_plan
    from pipelines.warehouse.history import save_plan, stamp

    data, warehouse = gather(
        lambda: options.data_dir(args),
        lambda: options.warehouse_dir(args, write=not args.no_save),
    )
    tables = read_inputs(data)
    options.check_plan_inputs(tables, args.objective, args.tariff)
    with Progress() as progress:
        solver = progress.solver_options(options.solver_options(args), args.time_resolution)
        plan = stamp(
            make_plan(
                data,
                args.budget_mw,
                args.objective,
                solver,
                args.time_resolution,
                tariff_id=args.tariff,
                tables=tables,
            )
        )
    kept = None if args.no_save else save_plan(plan, warehouse)
    options.print_plan(plan, args.json)
    if kept is None:
        where = f"trial plan {plan['plan_id']}: not kept (--no-save)"
    else:
        where = f"plan {plan['plan_id']} kept in {kept}"
    if args.json:
        options.say(where)
    else:
        print(f"\n{where}")
    return 0
