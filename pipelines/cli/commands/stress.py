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
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="also write stress_test.json, regret.csv and the plan's report with its regret "
        "table, horizon_plan.html, in FOLDER",
    )


def run(args: argparse.Namespace) -> int:
    from pipelines.cli.console import emit
    from pipelines.planning.stress import load_horizon_plan, make_stress_test
    from pipelines.reports.horizon import write_stress_files
    from pipelines.reports.stress import stress_parts

    data, plan, out = gather(
        lambda: options.data_dir(args),
        lambda: load_horizon_plan(args.plan, str(args.plan)),
        lambda: None if args.out is None else options.writable_folder(args.out, "--out"),
    )
    document = make_stress_test(
        data, plan, str(args.plan), args.objective, options.solver_options(args)
    )
    if out is not None:
        write_stress_files(plan, document, out)
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        emit(stress_parts(document))
    return 0
