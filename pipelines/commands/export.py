"""export a plan from the history: the plan document (json), tables (csv, parquet), a workbook (xlsx) or a report (md, html)"""

import argparse
from pathlib import Path

from pipelines.commands import options
from pipelines.errors import InputError, Problem

FORMATS = ("json", "csv", "parquet", "xlsx", "md", "html", "all")
"""`pipelines.exports.FORMATS` and `all` (listed here so that the CLI starts without importing polars)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, required=True,
                        help="json: the plan document; csv, parquet: fleet, allocation, costs, inputs and "
                             "alternatives tables; xlsx: a workbook; md, html: the report; all: every format")
    parser.add_argument("--plan", default="latest",
                        help="a plan id (or its unique prefix) in the history, `latest` (default) or a plan JSON file")
    parser.add_argument("--out", type=Path, default=None,
                        help="a folder, or a file for json/xlsx/md/html (default: <warehouse>/exports/)")
    parser.add_argument("--frontier", type=Path, default=None,
                        help="a budget sweep (`tokenplan sweep --json`) to chart in the report (default: the "
                             "warehouse's pareto_frontier.json if it was made from the same input files)")
    options.add_warehouse(parser)


def run(args: argparse.Namespace) -> int:
    from pipelines.exports import EXPORTS_FOLDER, export_plan
    from pipelines.exports import FORMATS as WRITTEN
    from pipelines.sweep import frontier_for

    warehouse = options.warehouse_dir(args)
    plan = options.load_plan(args.plan, warehouse)
    if args.frontier and not args.frontier.is_file():
        raise InputError([Problem(str(args.frontier), "frontier file not found (write one with `tokenplan sweep --json`)")])
    frontier = frontier_for(plan, args.frontier, warehouse)
    out = args.out or warehouse / EXPORTS_FOLDER
    for fmt in WRITTEN if args.format == "all" else (args.format,):
        for path in export_plan(plan, fmt, out, frontier):
            print(path)
    return 0
