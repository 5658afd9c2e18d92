"""export a plan from the history: the plan document (json), tables (csv, parquet), a workbook
(xlsx) or a report (md, html)"""

import argparse
import json
from pathlib import Path

from optimizer.types import PlanDocument
from pipelines.cli import options
from pipelines.contract.errors import InputError, Problem, gather
from pipelines.reports.exports import EXPORTS

FORMATS = (*EXPORTS, "all")
"""Every format of `pipelines.reports.exports.EXPORTS`, and `all`."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    one_file = "/".join(name for name, export in EXPORTS.items() if not export.per_table)
    parser.add_argument(
        "--format",
        choices=FORMATS,
        required=True,
        help="; ".join(f"{name}: {export.help}" for name, export in EXPORTS.items())
        + "; all: every format",
    )
    parser.add_argument(
        "--plan",
        default="latest",
        help="a plan id (or its unique prefix) in the history, `latest` (default) or a plan JSON "
        "file",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"a folder, or a file for {one_file} (default: <warehouse>/exports/)",
    )
    parser.add_argument(
        "--frontier",
        type=Path,
        default=None,
        help="a budget sweep (`tokenplan sweep --json`) to chart in the report (default: the "
        "warehouse's pareto_frontier.json if it was made from the same input files)",
    )
    options.add_warehouse(parser)


def run(args: argparse.Namespace) -> int:
    from pipelines.reports.exports import EXPORTS_FOLDER, export_plan

    warehouse = options.warehouse_dir(args)
    formats = tuple(EXPORTS) if args.format == "all" else (args.format,)
    out = args.out or warehouse / EXPORTS_FOLDER
    plan, _ = gather(
        lambda: options.load_plan(args.plan, warehouse),
        lambda: _check_out(out, formats, "--out" if args.out else "--warehouse"),
    )
    frontier = _frontier(plan, args.frontier, warehouse)
    for fmt in formats:
        for path in export_plan(plan, fmt, out, frontier):
            print(path)
    return 0


def _check_out(out: Path, formats: tuple[str, ...], named_by: str) -> None:
    """Bad input, before anything is written, unless each folder the formats write in is writable
    and each one-file target (`--out plan.json`) is not a folder (as
    `pipelines.reports.exports.export_plan` picks them)."""
    for fmt in formats:
        if EXPORTS[fmt].is_file_target(out):
            if out.is_dir():
                raise InputError(
                    [Problem(str(out), f"is a folder, not the {fmt} file to write", field=named_by)]
                )
            options.writable_folder(out.resolve().parent, named_by)
        else:
            options.writable_folder(out.resolve(), named_by)


def _frontier(plan: PlanDocument, path: Path | None, warehouse: Path) -> dict | None:
    """The sweep to chart (`pipelines.reports.frontier.frontier_for`); a file that is not a sweep's
    JSON object: bad input."""
    from pipelines.reports.frontier import FRONTIER_FILE, frontier_for

    if path and not path.is_file():
        raise InputError(
            [
                Problem(
                    str(path), "frontier file not found (write one with `tokenplan sweep --json`)"
                )
            ]
        )
    name = str(path or warehouse / FRONTIER_FILE)
    try:
        frontier = frontier_for(plan, path, warehouse)
    except json.JSONDecodeError as error:
        raise InputError(
            [
                Problem(
                    name,
                    f"not a sweep's JSON: {error.msg} (column {error.colno})",
                    row=error.lineno,
                )
            ]
        ) from None
    except UnicodeDecodeError:
        raise InputError([Problem(name, "not a sweep's JSON: not UTF-8 text")]) from None
    if frontier is not None and not (
        isinstance(frontier, dict) and isinstance(frontier.get("rows"), list)
    ):
        raise InputError(
            [
                Problem(
                    name,
                    "not a sweep's JSON: expected an object with rows "
                    "(write one with `tokenplan sweep --json`)",
                )
            ]
        )
    return frontier
