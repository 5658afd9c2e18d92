"""stress-test a multi-year plan: keep its purchases, re-dispatch it in each scenario of
scenarios/ and compare it with that scenario's own optimum (regret)"""

import argparse
import json
from pathlib import Path

from pipelines.cli import options
from pipelines.contract.errors import gather

OBJECTIVES = ("cost-per-token", "min-cost")  # pipelines.planning.horizon.HORIZON_OBJECTIVES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "plan",
        metavar="PLAN",
        type=Path,
        help="a multi-year plan JSON file: horizon_plan.json of `tokenplan horizon --out FOLDER`, "
        "or what `tokenplan horizon --json` prints; its objective is the stress test's unless "
        "--objective says otherwise",
    )
    options.add_data(parser)
    options.add_solver(parser, OBJECTIVES)
    parser.set_defaults(objective=None)  # the plan's
    parser.add_argument(
        "--json", action="store_true", help="print only the stress test document (JSON)"
    )


def run(args: argparse.Namespace) -> int:
    from pipelines.cli.console import emit
    from pipelines.planning.stress import load_horizon_plan, make_stress_test
    from pipelines.reports.stress import stress_parts

    data, plan = gather(
        lambda: options.data_dir(args),
        lambda: load_horizon_plan(args.plan, str(args.plan)),
    )
    document = make_stress_test(
        data, plan, str(args.plan), args.objective, options.solver_options(args)
    )
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        emit(stress_parts(document))
    return 0
