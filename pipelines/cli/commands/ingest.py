"""read and validate the inputs into the warehouse's Parquet tables (Dagster job `ingest_only`)"""

import argparse
import time

from pipelines.cli import options
from pipelines.contract.errors import gather


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_data(parser)
    options.add_warehouse(parser)


def run(args: argparse.Namespace) -> int:
    from pipelines.cli.progress import Progress
    from pipelines.cli.run_job import run_job
    from pipelines.ingest.sources import read_inputs

    data, warehouse = gather(
        lambda: options.data_dir(args), lambda: options.warehouse_dir(args, write=True)
    )
    started = time.perf_counter()
    read_inputs(data)  # every problem reported before anything is written
    job = "ingest_only"
    with Progress() as progress, progress.spinner(f"Dagster job {job}") as spinner:
        result = run_job(
            job, data, warehouse, on_step=lambda step: spinner.say(f"Dagster job {job}: {step}")
        )
    for key, path in result.written.items():
        print(f"{key:<20} {path}")
    print(f"snapshot {result.snapshot_id} is current")
    print(f"ingested in {time.perf_counter() - started:.1f} s (Dagster run {result.run_id})")
    return 0
