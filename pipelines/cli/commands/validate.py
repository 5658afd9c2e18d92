"""check an input folder: one line per canonical table (rows, source files)"""

import argparse

from pipelines.cli import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_data(parser)


def run(args: argparse.Namespace) -> int:
    from pipelines.cli.console import emit
    from pipelines.ingest.sources import SOURCES, read_inputs
    from pipelines.reports.text import TEXT, Table

    data = options.data_dir(args)
    tables = read_inputs(data)
    listed = [
        (name, tables[name].height, ", ".join(str(p.relative_to(data)) for p in source.files(data)))
        for source in SOURCES
        for name in source.tables
    ]
    digits = max(len(f"{rows:,}") for _, rows, _ in listed)
    emit(
        [
            Table(
                None,
                [[name, rows_text(rows, digits), files] for name, rows, files in listed],
                (TEXT, TEXT, TEXT),
            )
        ]
    )
    return 0


def rows_text(rows: int, digits: int) -> str:
    """`17,304 rows`, `     1 row `: the count right-aligned in `digits`, the noun after it."""
    return f"{rows:>{digits},} {'row' if rows == 1 else 'rows':<4}"
