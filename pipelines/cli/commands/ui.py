"""start the Dagster UI and daemon on this project (asset graph, runs, schedules, sensors);
Ctrl-C stops both"""

import argparse
import os
import sys

from pipelines.cli import options
from pipelines.contract.errors import gather


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_data(parser)
    options.add_warehouse(parser)
    parser.add_argument(
        "--port",
        type=options.bounded_int("--port", options.PORT),
        default=3000,
        help="webserver port, 1 to 65535 (default 3000)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="webserver address (default 127.0.0.1; 0.0.0.0 opens it to the network)",
    )


def run(args: argparse.Namespace) -> int:
    from pipelines.warehouse.paths import PROJECT_ROOT, ensure_dagster_home

    # The UI's runs write to the warehouse: checked here, not in a failed run.
    data, warehouse = gather(
        lambda: options.data_dir(args), lambda: options.warehouse_dir(args, write=True)
    )
    # The code location reads the folders from the environment when it loads.
    os.environ["TOKENPLAN_DATA"] = str(data)
    os.environ["TOKENPLAN_WAREHOUSE"] = str(warehouse)
    home = ensure_dagster_home()
    print(
        f"Dagster UI on http://{args.host}:{args.port} (instance {home}); Ctrl-C stops it",
        file=sys.stderr,
    )
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-w",
        str(PROJECT_ROOT / "workspace.yaml"),
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    # Replace this process, so that Ctrl-C and SIGTERM reach `dagster dev`, which stops its
    # children.
    os.execv(sys.executable, command)
