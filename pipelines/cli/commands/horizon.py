"""plan the years of the scenario's horizon: what to buy, keep and retire each year, from the
installed fleet (fleet.csv), for the lowest levelized cost per token (or cost); --robust: one
first year for every scenario of scenarios/"""

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from pipelines.cli import options
from pipelines.contract.errors import gather

OBJECTIVES = ("cost-per-token", "min-cost")  # pipelines.planning.horizon.HORIZON_OBJECTIVES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_data(parser)
    options.add_solver(parser, OBJECTIVES)
    parser.add_argument(
        "--json", action="store_true", help="print only the multi-year plan document (JSON)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="also write the plan as horizon_plan.json, horizon_plan.html (report with charts) "
        "and yearly.csv, build_plan.csv, cash_flow.csv in FOLDER (--robust: robust_plan.json "
        "and robust_plan.html)",
    )
    parser.add_argument(
        "--robust",
        action="store_true",
        help="plan for every scenario of scenarios/ at once: the first year's purchases shared, "
        "each later year per scenario, for the least expected levelized cost; prints the shared "
        "first year, each scenario's plan and its regret against that scenario's own optimum",
    )


def run(args: argparse.Namespace) -> int:
    from pipelines.ingest.sources import read_inputs
    from pipelines.planning.horizon import make_horizon_plan
    from pipelines.reports.horizon import horizon_parts, write_horizon_files

    data, out = gather(
        lambda: options.data_dir(args),
        lambda: None if args.out is None else options.writable_folder(args.out, "--out"),
    )
    if args.robust:
        return _run_robust(args, data, out)
    tables = read_inputs(data)
    options.check_plan_inputs(tables, args.objective, None)
    plan = make_horizon_plan(data, args.objective, options.solver_options(args), tables)
    return _show(args, plan, horizon_parts, write_horizon_files, out, "multi-year plan")


def _run_robust(args: argparse.Namespace, data: Path, out: Path | None) -> int:
    from pipelines.planning.stress import make_robust_plan
    from pipelines.reports.horizon import write_robust_files
    from pipelines.reports.stress import robust_parts

    document = make_robust_plan(data, args.objective, options.solver_options(args))
    return _show(args, document, robust_parts, write_robust_files, out, "robust plan")


def _show(
    args: argparse.Namespace,
    document: dict,
    parts: Callable[[dict], list],
    write: Callable[[dict, Path], object],
    out: Path | None,
    what: str,
) -> int:
    """Write `document` to `out` (if given), then print it: JSON, or as text `parts`."""
    from pipelines.cli.console import emit

    if out is not None:
        write(document, out)
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        emit(parts(document))
    if out is not None:
        options.say(f"{what} written to {out}")
    return 0
