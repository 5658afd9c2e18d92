"""check an input folder: one line per canonical table (rows, source files)"""

import argparse

from pipelines.cli import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_data(parser)


def run(args: argparse.Namespace) -> int:
    from pipelines.ingest.sources import SOURCES, read_inputs

    data = options.data_dir(args)
    tables = read_inputs(data)
    width = max(len(name) for name in tables)
    for source in SOURCES:
        files = ", ".join(str(p.relative_to(data)) for p in source.files(data))
        for name in source.tables:
            print(f"{name:<{width}} {tables[name].height:>6} rows   {files}")
    return 0
