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
        help=f"a folder, or a file with the format's suffix: for {one_file} that file, for csv "
        "and parquet one file per table beside it (--out x.csv: x_fleet.csv, "
        "x_allocation.csv, ...) (default: <warehouse>/exports/)",
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
        written = (
            _export_tables_beside(plan, fmt, out)
            if _tables_beside(fmt, out)
            else export_plan(plan, fmt, out, frontier)
        )
        for path in written:
            print(path)
    return 0


SUFFIXES = {export.suffix: name for name, export in EXPORTS.items()}
"""The file suffix of each format."""


def _tables_beside(fmt: str, out: Path) -> bool:
    """Whether `out` names the files of a per-table format (`--format csv --out x.csv`): one file
    per table beside it, `x_<table>.csv` (an existing folder named `x.csv` stays a folder)."""
    return EXPORTS[fmt].per_table and out.suffix == EXPORTS[fmt].suffix and not out.is_dir()


def table_files(fmt: str, out: Path) -> list[Path]:
    """The files `--out x.csv` stands for: `x_fleet.csv`, `x_allocation.csv`, ... beside it."""
    from pipelines.reports.exports import TABLES

    return [out.with_name(f"{out.stem}_{table}{out.suffix}") for table in TABLES]


def _export_tables_beside(plan: PlanDocument, fmt: str, out: Path) -> list[Path]:
    """The plan's tables as `fmt` in `table_files(fmt, out)`, each with its `plan_id` column,
    each replaced atomically (as `export_plan` writes them in a folder)."""
    import polars as pl

    from pipelines.reports.exports import plan_id, plan_tables
    from pipelines.warehouse.files import write_atomically

    write_table = EXPORTS[fmt].write_table
    assert write_table is not None  # a per-table format
    paths = table_files(fmt, out)
    for path, frame in zip(paths, plan_tables(plan).values(), strict=True):
        frame = frame.select(pl.lit(plan_id(plan)).alias("plan_id"), pl.all())

        def write(tmp: str, frame: pl.DataFrame = frame) -> None:
            write_table(frame, Path(tmp))

        write_atomically(path, write)
    return paths


def _check_out(out: Path, formats: tuple[str, ...], named_by: str) -> None:
    """Bad input, before anything is written: `--out` with the suffix of another format than
    the one written (`--format json --out plan.xlsx`, or any file with `--format all`); a
    one-file target (`--out plan.json`) that is a folder; a folder the formats write in that
    is not writable (as `pipelines.reports.exports.export_plan` and `_tables_beside` pick
    them)."""
    if out.suffix in SUFFIXES and not out.is_dir():
        wrong = [fmt for fmt in formats if EXPORTS[fmt].suffix != out.suffix]
        if wrong:
            what = (
                "--format all writes every format: --out must be a folder"
                if len(formats) > 1
                else f"has the suffix of {SUFFIXES[out.suffix]} files, but --format is "
                f"{formats[0]}: give a {EXPORTS[formats[0]].suffix} file or a folder"
            )
            raise InputError([Problem(str(out), what, field=named_by)])
    for fmt in formats:
        if EXPORTS[fmt].is_file_target(out):
            if out.is_dir():
                raise InputError(
                    [Problem(str(out), f"is a folder, not the {fmt} file to write", field=named_by)]
                )
            options.writable_folder(out.resolve().parent, named_by)
        elif _tables_beside(fmt, out):
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
