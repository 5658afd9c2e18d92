"""An hourly load file for `tokenplan bill`: the 8760 kW values of the reference year.

One value per line, hour 0 = Monday 1 January 00:00 (`optimizer.tariff.reference_year_hours`),
optionally under a header line; a CSV with several columns needs a header and takes its
`load_kw` column. Values are kW (= kWh in the hour), finite and >= 0.

Problems name the file and the row as a spreadsheet shows it (the first line is row 1);
every problem of the file is reported at once (up to `MAX_PROBLEMS_PER_FILE`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.contract.errors import ProblemList
from pipelines.ingest.files import read_text
from pipelines.ingest.tabular import MAX_PROBLEMS_PER_FILE, finite_number

HOURS_PER_YEAR = 8760
LOAD_COLUMN = "load_kw"


def read_hourly_load(path: Path, name: str) -> np.ndarray:
    """(8760,) kW of the file, or an `InputError` naming the file and each bad row."""
    lines = read_text(path, name).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    problems = ProblemList()
    header = [cell.strip() for cell in lines[0].split(",")]
    has_header = finite_number(header[0]) is None and not (len(header) == 1 and header[0] == "")
    column = 0
    if has_header and len(header) > 1:
        if LOAD_COLUMN not in header:
            problems.add(
                name, f"several columns and none named {LOAD_COLUMN} ({', '.join(header)})", row=1
            )
            problems.raise_if_any()
        column = header.index(LOAD_COLUMN)
    first_row = 2 if has_header else 1
    values = []
    for row, line in enumerate(lines[first_row - 1 :], start=first_row):
        cells = [cell.strip() for cell in line.split(",")]
        if not has_header and len(cells) > 1:
            problems.add(
                name,
                f"{len(cells)} values on one line: one kW value per line, or a header naming the "
                f"{LOAD_COLUMN} column",
                row=row,
            )
            continue
        text = cells[column] if column < len(cells) else ""
        value = finite_number(text)
        if value is None:
            problems.add(
                name,
                f"expected a number of kW, got '{text}'" if text else "missing value",
                row=row,
                field=LOAD_COLUMN if has_header else None,
            )
        elif value < 0:
            problems.add(
                name,
                f"{value:g} kW is negative: a load is >= 0 (no export)",
                row=row,
                field=LOAD_COLUMN if has_header else None,
            )
        values.append(value)
    if len(values) > HOURS_PER_YEAR:
        problems.add(
            name,
            f"{len(values)} hourly values, expected {HOURS_PER_YEAR}: this row would be hour "
            f"{HOURS_PER_YEAR + 1}",
            row=first_row + HOURS_PER_YEAR,
        )
    elif len(values) < HOURS_PER_YEAR:
        problems.add(
            name,
            f"only {len(values)} hourly values, expected {HOURS_PER_YEAR}: "
            "the file ends at this row",
            row=first_row + len(values) - 1,
        )
    problems.raise_if_any(limit=MAX_PROBLEMS_PER_FILE)
    return np.array(values, dtype=float)
