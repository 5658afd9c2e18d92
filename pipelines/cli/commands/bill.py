"""bill a year of hourly load under a tariff (URDB or flat CSV): the annual bill and its
monthly split"""

import argparse
import json
from pathlib import Path

from pipelines.cli import options
from pipelines.contract.errors import InputError, Problem, gather

TARIFF_SUFFIXES = (".json", ".csv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tariff",
        required=True,
        metavar="FILE_OR_ID",
        help="a URDB JSON or tariff CSV file, or a tariff id (URDB label or CSV tariff_id) of the "
        "data folder's tariffs/",
    )
    parser.add_argument(
        "--load",
        required=True,
        metavar="CSV_OR_KW",
        help="a CSV of the 8760 hourly kW of the reference year (hour 0 = Monday 1 January 00:00; "
        "one value per line, or a header and a load_kw column), or a constant kW",
    )
    options.add_data(parser)
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"annual_usd", "energy_usd", "demand_usd", "fixed_usd", "minimum_usd", '
        '"months"}',
    )


def run(args: argparse.Namespace) -> int:
    from optimizer.tariff import bill

    tariff, (load_kw, source) = gather(lambda: _tariff(args), lambda: _load(args.load))
    result = bill(tariff, load_kw)
    if args.json:
        print(
            json.dumps(
                {
                    "tariff_id": tariff.tariff_id,
                    "annual_usd": result.annual_usd,
                    "energy_usd": result.energy_usd,
                    "demand_usd": result.demand_usd,
                    "fixed_usd": result.fixed_usd,
                    "minimum_usd": result.minimum_usd,
                    "months": result.months,
                },
                indent=2,
            )
        )
    else:
        print(_bill_text(tariff.tariff_id, source, load_kw, result), end="")
    return 0


def _tariff(args: argparse.Namespace):
    """The tariff of a file (which must hold exactly one), or by id from the data folder's
    tariffs."""
    from optimizer.tariff import Tariff
    from pipelines.ingest.readers.tariffs import read_tariff_csv, read_tariffs, read_urdb

    path = Path(args.tariff)
    if path.is_file():
        name = str(path)
        if path.suffix.lower() not in TARIFF_SUFFIXES:
            raise InputError(
                [
                    Problem(
                        name,
                        f"unsupported tariff file type '{path.suffix}' (expected .json URDB "
                        "or .csv flat tariffs)",
                    )
                ]
            )
        tables = (read_urdb if path.suffix.lower() == ".json" else read_tariff_csv)(path, name)
        ids = tables.tariffs["tariff_id"].to_list()
        if len(ids) != 1:
            raise InputError(
                [
                    Problem(
                        name,
                        f"holds {len(ids)} tariffs ({', '.join(ids)}): pass one of these ids "
                        "as --tariff, with --data the folder whose tariffs/ holds the file",
                    )
                ]
            )
        return Tariff.from_tables(tables, ids[0])
    data = options.data_dir(args)
    tables = read_tariffs(data)
    ids = tables.tariffs["tariff_id"].to_list()
    if args.tariff not in ids:
        raise InputError(
            [
                Problem(
                    "--tariff",
                    f"'{args.tariff}' is neither a file nor a tariff id of "
                    f"{data / 'tariffs'} (ids: {', '.join(ids)})",
                )
            ]
        )
    return Tariff.from_tables(tables, args.tariff)


def _load(value: str):
    """The 8760 hourly kW of `--load` (a constant kW or a CSV file) and how to name it."""
    import numpy as np

    from optimizer.tariff import HOURS_PER_YEAR
    from pipelines.ingest.readers.hourly_load import read_hourly_load

    try:
        constant = float(value)
    except ValueError:
        path = Path(value)
        if not path.is_file():
            raise InputError([Problem(value, "load file not found (nor a constant kW)")]) from None
        return read_hourly_load(path, str(path)), str(path)
    if constant not in options.LOAD_KW:
        kw = options.LOAD_KW.describe("a finite kW", unit=False)
        raise InputError(
            [
                Problem(
                    options.COMMAND_LINE,
                    f"a constant load must be {kw}, got {value!r}",
                    field="--load",
                )
            ]
        )
    return np.full(HOURS_PER_YEAR, constant), f"constant {constant:,.6g} kW"


def _bill_text(tariff_id: str, source: str, load_kw, result) -> str:
    """The bill as text: totals, then one line per month."""
    lines = [
        f"Bill of tariff {tariff_id}, load {source}: {load_kw.sum() / 1000:,.1f} MWh, "
        f"peak {load_kw.max():,.1f} kW",
        "",
        f"{'annual bill':<14}{_usd(result.annual_usd):>16}",
        f"{'  energy':<14}{_usd(result.energy_usd):>16}",
        f"{'  demand':<14}{_usd(result.demand_usd):>16}",
        f"{'  fixed':<14}{_usd(result.fixed_usd):>16}",
        f"{'  minimum':<14}{_usd(result.minimum_usd):>16}",
        "",
        f"{'month':>5}{'kWh':>16}{'peak kW':>12}{'energy':>16}{'demand':>14}{'fixed':>12}"
        f"{'minimum':>10}{'total':>16}",
    ]
    for m in result.months:
        lines.append(
            f"{m['month']:>5}{m['energy_kwh']:>16,.0f}{m['peak_kw']:>12,.1f}{_usd(m['energy_usd']):>16}"
            f"{_usd(m['demand_usd']):>14}{_usd(m['fixed_usd']):>12}{_usd(m['minimum_usd']):>10}"
            f"{_usd(m['total_usd']):>16}"
        )
    return "\n".join(lines) + "\n"


def _usd(value: float) -> str:
    return f"${value:,.2f}"
