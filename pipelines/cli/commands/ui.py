"""start the Dagster UI and daemon on this project (asset graph, runs, schedules, sensors);
Ctrl-C stops both"""

import argparse
import os
import sys
from pathlib import Path

from pipelines.cli import options
from pipelines.contract.errors import gather

DG_MAIN = "import sys; from dagster_dg_cli.cli import main; sys.argv[0] = 'dg'; sys.exit(main())"
"""`dg` run by this interpreter, where its script is not beside it."""


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


def dg_command() -> list[str]:
    """How to run `dg` (dagster-dg-cli) of this environment: its script beside this interpreter,
    else the interpreter running its entry point."""
    script = Path(sys.executable).parent / "dg"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-c", DG_MAIN]


def run(args: argparse.Namespace) -> int:
    from pipelines.warehouse.paths import PROJECT_ROOT, ensure_dagster_home

    # The UI's runs write to the warehouse: checked here, not in a failed run.
    data, warehouse = gather(
        lambda: options.data_dir(args), lambda: options.warehouse_dir(args, write=True)
    )
    # The code location reads the folders from the environment when it loads (its resources
    # name the variables, so the UI shows where they come from).
    os.environ["TOKENPLAN_DATA"] = str(data)
    os.environ["TOKENPLAN_WAREHOUSE"] = str(warehouse)
    home = ensure_dagster_home()  # with a dagster.yaml: no telemetry notice, no welcome dialog
    print(
        f"Dagster UI on http://{args.host}:{args.port} (instance {home}); Ctrl-C stops it",
        file=sys.stderr,
    )
    command = [
        *dg_command(),
        "dev",
        "--workspace",
        str(PROJECT_ROOT / "workspace.yaml"),
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    # Run from the project root (where workspace.yaml and pyproject.toml are), and replace this
    # process, so that Ctrl-C and SIGTERM reach `dg dev`, which stops its children.
    os.chdir(PROJECT_ROOT)
    os.execv(command[0], command)
