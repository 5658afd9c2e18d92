"""Options and helpers several commands share."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines import paths
from pipelines.errors import InputError, Problem

OBJECTIVES = ("cost-per-token", "min-cost")
TIME_RESOLUTIONS = ("flat", "representative", "hourly")
"""As `optimizer.timeslices.TIME_RESOLUTIONS` (not imported: the CLI starts without numpy)."""


def add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=None,
                        help="input folder (default: $TOKENPLAN_DATA or the bundled datasets/)")


def add_warehouse(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", type=Path, default=None,
                        help="where tables and plans are written (default: $TOKENPLAN_WAREHOUSE or warehouse/)")


def add_solver(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--objective", choices=OBJECTIVES, default="cost-per-token")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds for the whole solve (default 300)")
    parser.add_argument("--gap", type=float, default=1e-4, help="relative MIP gap (default 1e-4)")
    parser.add_argument("--threads", type=int, default=1, help="HiGHS threads (default 1)")


def add_plan(parser: argparse.ArgumentParser) -> None:
    """Data, warehouse, budget, solver options and --json: what `plan` and `replan` take."""
    add_data(parser)
    add_warehouse(parser)
    parser.add_argument("--budget-mw", type=float, default=None, help="grid interconnect (default: the scenario's)")
    add_solver(parser)
    parser.add_argument("--time-resolution", choices=TIME_RESOLUTIONS, default="flat",
                        help="flat year (default), representative days (12 months x weekday/weekend x 24 h) "
                             "or all 8760 hours: time-of-use prices, monthly peaks, load shapes")
    parser.add_argument("--json", action="store_true", help="print only the plan document (JSON)")


def data_dir(args: argparse.Namespace) -> Path:
    data = (args.data or paths.data_dir()).resolve()
    if not data.is_dir():
        raise InputError([Problem(str(data), "input folder not found")])
    return data


def warehouse_dir(args: argparse.Namespace) -> Path:
    return (args.warehouse or paths.warehouse_dir()).resolve()


def solver_options(args: argparse.Namespace):
    from optimizer.inputs import SolverOptions

    return SolverOptions(time_limit_s=args.time_limit, mip_rel_gap=args.gap, threads=args.threads,
                         progress=sys.stderr.isatty())


def print_plan(plan: dict, as_json: bool) -> None:
    from pipelines.render import plan_text

    if as_json:
        print(json.dumps(plan, indent=2))
    else:
        print(plan_text(plan), end="")


def load_plan(reference: str, warehouse: Path) -> dict:
    """A plan from the history (`latest`, a plan id or its prefix) or a plan JSON file; a plan
    file without a plan id is named by its file name. Not found: bad input."""
    from pipelines.history import load_plan as load

    try:
        plan = load(reference, warehouse)
    except FileNotFoundError as error:
        raise InputError([Problem(reference, str(error))]) from None
    if "plan_id" not in plan:
        plan["plan_id"] = Path(reference).stem
    return plan
