"""solve the best plan across grid budgets (each from the plan of the one below) and print cost
per token, tokens/s per MW and the design"""

import argparse
import json
from pathlib import Path

from pipelines.cli import options
from pipelines.contract.errors import InputError, Problem, gather


def _budgets(text: str) -> list[float] | options.BadValue:
    """`--budget-mw START:STOP:STEP` (or one budget): each budget in `options.BUDGET_MW`, the step
    a finite MW > 0, at most `options.MAX_BUDGETS` budgets; else a `BadValue` that
    `options.bad_options` reports."""
    from pipelines.planning.sweep import parse_budget_range

    def bad(message: str) -> options.BadValue:
        return options.BadValue("--budget-mw", f"{message}, got {text!r}")

    parts = text.split(":")
    if len(parts) not in (1, 3):
        return bad("expected START:STOP:STEP in MW (e.g. 5:40:5) or one budget")
    budget = options.bounded_float("--budget-mw", options.BUDGET_MW)
    if any(isinstance(budget(part), options.BadValue) for part in parts[:2]):
        which = "each budget (START and STOP)" if len(parts) == 3 else "a budget"
        return bad(f"{which} must be {options.BUDGET_MW.describe()}")
    if len(parts) == 3:
        start, stop = float(parts[0]), float(parts[1])
        step = budget(parts[2])
        if isinstance(step, options.BadValue):
            return bad(f"STEP must be {options.BUDGET_MW.describe()}")
        if stop < start:
            return bad("need START <= STOP in START:STOP:STEP")
        if (stop - start) / step + 1 > options.MAX_BUDGETS + 1e-9:
            return bad(
                f"at most {options.MAX_BUDGETS:,} budgets per sweep (each is a full solve): "
                "raise STEP"
            )
    try:
        return parse_budget_range(text)
    except ValueError as error:
        return bad(str(error))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_data(parser)
    parser.add_argument(
        "--budget-mw",
        type=_budgets,
        required=True,
        metavar="START:STOP:STEP",
        help="grid budgets in MW, stop included (e.g. 5:40:5)",
    )
    parser.add_argument(
        "--jobs",
        type=options.bounded_int("--jobs", options.JOBS),
        default=None,
        help="worker processes, 1 to 256, when the solves are long enough to pay for them "
        "(default: the CPU count)",
    )
    options.add_tariff(parser)
    options.add_solver(parser)
    parser.add_argument(
        "--time-resolution",
        choices=options.TIME_RESOLUTIONS,
        default="flat",
        help="as for `plan` (default flat)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print only the frontier document (JSON)"
    )
    parser.add_argument(
        "--chart",
        type=Path,
        default=None,
        metavar="PATH",
        help="also write the cost-per-token chart as SVG to PATH",
    )


def run(args: argparse.Namespace) -> int:
    from pipelines.cli.console import emit
    from pipelines.cli.progress import Progress
    from pipelines.ingest.sources import read_inputs
    from pipelines.planning.make_plan import input_file_hashes
    from pipelines.planning.sweep import sweep
    from pipelines.reports.frontier import frontier_charts
    from pipelines.reports.text import Paragraph, sweep_parts, sweep_summary
    from pipelines.warehouse.files import write_atomically

    data, _ = gather(lambda: options.data_dir(args), lambda: _chart_folder(args.chart))
    tables = read_inputs(data)
    options.check_plan_inputs(tables, args.objective, args.tariff)
    with Progress() as progress:
        frontier = sweep(
            tables,
            args.budget_mw,
            args.objective,
            progress.solver_options(options.solver_options(args), args.time_resolution),
            args.jobs,
            inputs_files=input_file_hashes(data),
            time_resolution=args.time_resolution,
            tariff_id=args.tariff,
        )
    if args.chart:
        chart = frontier_charts(frontier)[0]
        write_atomically(args.chart, lambda tmp: Path(tmp).write_text(chart, encoding="utf-8"))
    if args.json:
        print(json.dumps(frontier, indent=2))
        return 0
    lines = [sweep_summary(frontier)] + ([f"chart: {args.chart}"] if args.chart else [])
    emit([*sweep_parts(frontier), Paragraph("\n".join(lines))])
    return 0


def _chart_folder(chart: Path | None) -> Path | None:
    """The folder `--chart` is written in, checked before the sweep solves (bad input unless
    writable)."""
    if chart is None:
        return None
    if chart.is_dir():
        raise InputError(
            [Problem(str(chart), "is a folder; --chart is the SVG file to write", field="--chart")]
        )
    return options.writable_folder(chart.resolve().parent, "--chart")
