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
        from pipelines.cli.console import emit

        emit(bill_parts(tariff.tariff_id, source, load_kw, result))
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


MONTH_HEADERS = ["month", "kWh", "peak kW", "energy", "demand", "fixed", "minimum", "total"]


def bill_parts(tariff_id: str, source: str, load_kw, result) -> list:
    """The bill: its load, the totals, then one row per month (USD to the cent, as on a bill)."""
    from pipelines.reports.text import NUMBER, TEXT, Paragraph, Table, number_text, usd_cents_text

    totals = [
        ["annual bill", usd_cents_text(result.annual_usd)],
        ["  energy", usd_cents_text(result.energy_usd)],
        ["  demand", usd_cents_text(result.demand_usd)],
        ["  fixed", usd_cents_text(result.fixed_usd)],
        ["  minimum", usd_cents_text(result.minimum_usd)],
    ]
    months = [
        [
            str(m["month"]),
            number_text(m["energy_kwh"]),
            number_text(m["peak_kw"], 1),
            *(
                usd_cents_text(m[key])
                for key in ("energy_usd", "demand_usd", "fixed_usd", "minimum_usd", "total_usd")
            ),
        ]
        for m in result.months
    ]
    return [
        Paragraph(
            f"Bill of tariff {tariff_id}, load {source}: {load_kw.sum() / 1000:,.1f} MWh, "
            f"peak {load_kw.max():,.1f} kW"
        ),
        Table(None, totals, (TEXT, NUMBER)),
        Table(MONTH_HEADERS, months, (NUMBER,) * len(MONTH_HEADERS)),
    ]
