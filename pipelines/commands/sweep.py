"""solve the best plan across grid budgets (in parallel) and print cost per token, tokens/s per MW and the design"""

import argparse
import json
import sys
from pathlib import Path

from pipelines.commands import options


def _budgets(text: str) -> list[float]:
    from pipelines.sweep import parse_budget_range

    try:
        return parse_budget_range(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_data(parser)
    parser.add_argument("--budget-mw", type=_budgets, required=True, metavar="START:STOP:STEP",
                        help="grid budgets in MW, stop included (e.g. 5:40:5)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: the CPU count)")
    options.add_solver(parser)
    parser.add_argument("--time-resolution", choices=options.TIME_RESOLUTIONS, default="flat",
                        help="as for `plan` (default flat)")
    parser.add_argument("--json", action="store_true", help="print only the frontier document (JSON)")
    parser.add_argument("--chart", type=Path, default=None, metavar="PATH",
                        help="also write the cost-per-token chart as SVG to PATH")


def run(args: argparse.Namespace) -> int:
    from pipelines.ingest import read_inputs
    from pipelines.planning import input_file_hashes
    from pipelines.storage import write_atomically
    from pipelines.sweep import frontier_charts, sweep, sweep_text

    data = options.data_dir(args)
    tables = read_inputs(data)
    frontier = sweep(tables, args.budget_mw, args.objective, options.solver_options(args), args.jobs,
                     progress=sys.stderr.isatty(), inputs_files=input_file_hashes(data),
                     time_resolution=args.time_resolution)
    if args.chart:
        chart = frontier_charts(frontier)[0]
        write_atomically(args.chart, lambda tmp: Path(tmp).write_text(chart, encoding="utf-8"))
    if args.json:
        print(json.dumps(frontier, indent=2))
        return 0
    print(sweep_text(frontier), end="")
    jobs, budgets = frontier["jobs"], len(frontier["rows"])
    print(f"\n{budgets} budget{'s' * (budgets != 1)} (+{frontier['marginal_mw']:g} MW each for the marginal value) "
          f"solved in {frontier['seconds']:.1f} s with {jobs} worker{'s' * (jobs != 1)}")
    if args.chart:
        print(f"chart: {args.chart}")
    return 0
