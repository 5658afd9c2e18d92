"""The `tokenplan` command line.

Exit codes: 0 done, 1 infeasible (the reason on stderr), 2 bad input (file, row or
field, and what is wrong, on stderr).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipelines import paths
from pipelines.errors import InputError, Problem

EXIT_OK, EXIT_INFEASIBLE, EXIT_BAD_INPUT = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return args.run(args)
    except InputError as error:
        print(f"tokenplan: bad input ({len(error.problems)} problem{'s' * (len(error.problems) != 1)}):",
              file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tokenplan", description=__doc__.splitlines()[0].strip("."))
    commands = parser.add_subparsers(title="commands")

    def command(name: str, run: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        sub.add_argument("--data", type=Path, default=None,
                         help="input folder (default: $TOKENPLAN_DATA or the bundled datasets/)")
        return sub

    command("validate", _validate, "check an input folder: one line per canonical table")
    ingest = command("ingest", _ingest, "read and validate the inputs into the warehouse's Parquet tables")
    _warehouse_option(ingest)
    return parser


def _warehouse_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", type=Path, default=None,
                        help="where tables and plans are written (default: $TOKENPLAN_WAREHOUSE or warehouse/)")


def _data(args: argparse.Namespace) -> Path:
    data = (args.data or paths.data_dir()).resolve()
    if not data.is_dir():
        raise InputError([Problem(str(data), "input folder not found")])
    return data


def _validate(args: argparse.Namespace) -> int:
    from pipelines.ingest import SOURCES, read_inputs

    data = _data(args)
    tables = read_inputs(data)
    for source in SOURCES:
        files = ", ".join(str(p.relative_to(data)) for p in source.files(data))
        for name in source.tables:
            print(f"{name:<20} {tables[name].height:>6} rows   {files}")
    return EXIT_OK


def _ingest(args: argparse.Namespace) -> int:
    from pipelines.ingest import read_inputs
    from pipelines.run import run_job

    data = _data(args)
    started = time.perf_counter()
    read_inputs(data)  # every problem reported before anything is written
    warehouse = (args.warehouse or paths.warehouse_dir()).resolve()
    result = run_job("ingest_only", data, warehouse)
    for key, path in result.written.items():
        print(f"{key:<20} {path}")
    print(f"ingested in {time.perf_counter() - started:.1f} s (Dagster run {result.run_id})")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
