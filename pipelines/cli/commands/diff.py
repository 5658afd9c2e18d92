"""compare two plans: design, fleet, cost per token by component (exact decomposition), changed
input files"""

import argparse
import json

from pipelines.cli import options
from pipelines.contract.errors import gather


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "plan_a",
        metavar="PLAN_A",
        help="a plan id (or unique prefix), `latest`, or a plan JSON file",
    )
    parser.add_argument("plan_b", metavar="PLAN_B", help="the same, for the plan to compare with A")
    options.add_warehouse(parser)
    parser.add_argument("--json", action="store_true", help="print the diff as JSON")


def run(args: argparse.Namespace) -> int:
    from pipelines.planning.diff import diff_text, plan_diff

    warehouse = options.warehouse_dir(args)
    plan_a, plan_b = gather(
        lambda: options.load_plan(args.plan_a, warehouse),
        lambda: options.load_plan(args.plan_b, warehouse),
    )
    diff = plan_diff(plan_a, plan_b)
    print(
        json.dumps(diff, indent=2) if args.json else diff_text(diff), end="\n" if args.json else ""
    )
    return 0
