"""Tabular inputs (CSV, XLSX, lists of records) into canonical tables.

Every cell is read as text first, then parsed to the column's type, so that a bad
cell becomes a problem naming its row and column rather than a failed cast of the
whole column. All problems of a file are reported together.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import fastexcel
import polars as pl

from pipelines.contract.errors import InputError, Problem, ProblemList
from pipelines.contract.schema import BOOL, LIST_OF_FLOATS, LIST_OF_STRINGS, Column, Table
from pipelines.ingest.files import check_size, read_text

MAX_PROBLEMS_PER_FILE = 50
MAX_WHOLE_NUMBER = 2**53
"""Largest whole number a cell may hold: every integer up to it is exact as a float, and
no column's range comes near it, so a larger one is a wrong cell, reported as such."""
MAX_SHOWN_CHARACTERS = 60
HEADER_ROWS = 1
"""CSV and XLSX rows are numbered as a spreadsheet shows them: the header is row 1."""

TRUE_TEXTS = ("true", "yes", "1")
FALSE_TEXTS = ("false", "no", "0")
"""How a true/false cell may be written, compared in lower case (JSON and YAML booleans are read
as `True` / `False`)."""

RowRules = Callable[[pl.DataFrame, pl.Series, str, ProblemList], None]
"""Checks across the cells of a row (`frame`, its row numbers, file name, problems to add to).
They run on the parsed frame, where a cell that failed to parse is empty."""


def read_table_file(
    path: Path, name: str, table: Table, rules: RowRules | None = None
) -> pl.DataFrame:
    """A CSV file, or the sheet named after the table in an XLSX workbook, as `table`."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = _csv_as_text(path, name)
    elif suffix == ".xlsx":
        raw = _xlsx_sheet_as_text(path, name, sheet=table.name)
    else:
        raise InputError(
            [Problem(name, f"unsupported file type '{suffix}' (expected .csv or .xlsx)")]
        )
    return coerce(raw, table, name, first_row=HEADER_ROWS + 1, rules=rules)


def read_records(
    records: list[dict],
    table: Table,
    name: str,
    first_row: int = 1,
    rules: RowRules | None = None,
) -> pl.DataFrame:
    """Records (from YAML or JSON) as `table`; rows are numbered from `first_row`."""
    columns = sorted({key for record in records for key in record})
    raw = pl.DataFrame(
        {c: [None if r.get(c) is None else str(r[c]) for r in records] for c in columns},
        schema={c: pl.String for c in columns},
    )
    return coerce(raw, table, name, first_row=first_row, rules=rules)


def parse_boolean(value: object) -> bool | None:
    """A true/false value: a bool, or text in `TRUE_TEXTS` / `FALSE_TEXTS` in any case
    (trimmed); None for anything else."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    return True if text in TRUE_TEXTS else False if text in FALSE_TEXTS else None


def _csv_as_text(path: Path, name: str) -> pl.DataFrame:
    text = read_text(path, name)
    try:
        return pl.read_csv(text.encode(), infer_schema=False, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError as error:
        raise InputError(
            [Problem(name, f"not a readable CSV file: {str(error).splitlines()[0]}")]
        ) from None


def _xlsx_sheet_as_text(path: Path, name: str, sheet: str) -> pl.DataFrame:
    check_size(path, name)
    try:
        sheets = fastexcel.read_excel(str(path)).sheet_names
    except Exception as error:  # fastexcel raises its own exception types for corrupt workbooks
        raise InputError([Problem(name, f"not a readable XLSX workbook: {error}")]) from None
    if sheet not in sheets:
        raise InputError(
            [Problem(name, f"no sheet named '{sheet}' (sheets: {', '.join(sheets) or 'none'})")]
        )
    frame = pl.read_excel(path, sheet_name=sheet, infer_schema_length=0)
    return frame.select(pl.all().cast(pl.String))


def coerce(
    raw: pl.DataFrame, table: Table, name: str, first_row: int, rules: RowRules | None = None
) -> pl.DataFrame:
    """Parse, default and check every column of `raw` (all text) as `table`.

    Checks: required columns present, each cell of the column's type, non-empty where
    the column is not nullable, within range (each number of a list too), among the allowed
    choices; key unique.
    Columns the table does not know are ignored (sheets often carry notes columns).
    """
    problems = ProblemList()
    if raw.height == 0:
        raise InputError([Problem(name, "no data rows")])
    raw = raw.rename({c: c.strip() for c in raw.columns})
    missing = [c.name for c in table.columns if c.required and c.name not in raw.columns]
    for field in missing:
        problems.add(name, "required column is missing", field=field)
    problems.raise_if_any()

    rows = pl.Series("row", range(first_row, first_row + raw.height))
    parsed: dict[str, pl.Series] = {}
    for column in table.columns:
        text = (
            raw[column.name].str.strip_chars()
            if column.name in raw.columns
            else pl.repeat(None, raw.height, dtype=pl.String, eager=True)
        )
        blank_as_null = pl.when(text == "").then(None).otherwise(text).alias(column.name)
        text = pl.select(blank_as_null).to_series()
        parsed[column.name] = _parse(text, column, rows, name, problems)
    for column in table.columns:
        parsed[column.name] = _default(parsed, column)
        _check(parsed[column.name], column, rows, name, problems)

    frame = pl.DataFrame(parsed).with_columns(source_file=pl.lit(name))
    _check_key(frame, table, rows, name, problems)
    if rules is not None:
        parsed_problems = {(p.row, p.field) for p in problems}
        found = ProblemList()
        rules(frame, rows, name, found)
        problems.extend(
            p for p in found if (p.row, p.field) not in parsed_problems
        )  # not again for one cell
    order = [c.name for c in table.columns]
    problems.sort(
        key=lambda p: (p.row or 0, order.index(p.field) if p.field in order else len(order))
    )
    problems.raise_if_any(limit=MAX_PROBLEMS_PER_FILE)
    # polars types the mapping's keys as `str | selector | dtype`, so a `dict[str, ...]` is refused
    return frame.select(list(table.schema)).cast(table.schema)  # type: ignore[arg-type]


def _parse(
    text: pl.Series, column: Column, rows: pl.Series, name: str, problems: ProblemList
) -> pl.Series:
    if column.lowercase:
        text = text.str.to_lowercase()
    if column.dtype == BOOL:
        return _parse_booleans(text, column, rows, name, problems)
    if column.dtype in (LIST_OF_STRINGS, LIST_OF_FLOATS):
        items = text.str.split(";").list.eval(
            pl.element().str.strip_chars().filter(pl.element() != "")
        )
        return (
            items
            if column.dtype == LIST_OF_STRINGS
            else _parse_number_lists(items, column, rows, name, problems)
        )
    if column.dtype == pl.String:
        return text
    number = text.cast(pl.Float64, strict=False)
    bad = text.is_not_null() & (number.is_null() | ~number.is_finite())
    if column.dtype == pl.Int64:
        bad = bad | (
            number.is_not_null() & ((number.round(0) != number) | (number.abs() > MAX_WHOLE_NUMBER))
        )
    for row, value in zip(rows.filter(bad), text.filter(bad), strict=True):
        kind = "a whole number" if column.dtype == pl.Int64 else "a finite number"
        problems.add(name, f"expected {kind}, got '{shown(value)}'", row=row, field=column.name)
    number = pl.select(pl.when(bad).then(None).otherwise(number)).to_series()
    return number.cast(column.dtype)


def _parse_booleans(
    text: pl.Series, column: Column, rows: pl.Series, name: str, problems: ProblemList
) -> pl.Series:
    """True/false cells (`parse_boolean`); any other text becomes a problem and empty."""
    values = []
    for row, cell in zip(rows, text, strict=True):
        value = None if cell is None else parse_boolean(cell)
        if cell is not None and value is None:
            problems.add(
                name, f"expected true or false, got '{shown(cell)}'", row=row, field=column.name
            )
        values.append(value)
    return pl.Series(column.name, values, dtype=pl.Boolean)


def _parse_number_lists(
    items: pl.Series, column: Column, rows: pl.Series, name: str, problems: ProblemList
) -> pl.Series:
    """Lists of numbers; a cell with an item that is not a finite number becomes a problem and
    empty."""
    lists = []
    for row, cell in zip(rows, items, strict=True):
        numbers = None if cell is None else [finite_number(item) for item in cell]
        if numbers is not None and None in numbers:
            bad = cell[numbers.index(None)]
            problems.add(
                name, f"expected finite numbers, got '{shown(bad)}'", row=row, field=column.name
            )
            numbers = None
        lists.append(numbers)
    return pl.Series(column.name, lists, dtype=column.dtype)


def shown(value: object) -> str:
    """A value as problems quote it: cut to `MAX_SHOWN_CHARACTERS`, so a runaway cell stays one
    line."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_SHOWN_CHARACTERS else text[:MAX_SHOWN_CHARACTERS] + "..."


def finite_number(text: str) -> float | None:
    """`text` as a finite number; None if it is not one."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _default(parsed: dict[str, pl.Series], column: Column) -> pl.Series:
    values = parsed[column.name]
    if column.default is None:
        return values
    if isinstance(column.default, str) and column.default.startswith("="):
        fill = parsed[column.default[1:]]
    else:
        fill = pl.Series([column.default] * len(values), dtype=column.dtype)
    return pl.select(pl.coalesce(values, fill).alias(column.name)).to_series()


def _check(
    values: pl.Series, column: Column, rows: pl.Series, name: str, problems: ProblemList
) -> None:
    if not column.nullable:
        already = {p.row for p in problems if p.field == column.name}
        for row in rows.filter(values.is_null()):
            if row not in already:
                problems.add(name, "missing value", row=row, field=column.name)
    if (column.min is not None or column.max is not None) and column.dtype == LIST_OF_FLOATS:
        for row, items in zip(rows, values, strict=True):
            outside = [v for v in items if not column.within_range(v)] if items is not None else []
            if outside:  # the first value out of range stands for the cell
                problems.add(
                    name,
                    f"{outside[0]:g} is out of range (must be {column.range_text()})",
                    row=row,
                    field=column.name,
                )
    elif column.min is not None or column.max is not None:
        ok = values.is_null() | column.within_range(values)
        for row, value in zip(rows.filter(~ok), values.filter(~ok), strict=True):
            problems.add(
                name,
                f"{value:g} is out of range (must be {column.range_text()})",
                row=row,
                field=column.name,
            )
    if column.choices is not None:
        for row, value in zip(rows, values, strict=True):
            items = value if column.dtype == LIST_OF_STRINGS else [value]
            for item in items if items is not None else []:
                if item is not None and item not in column.choices:
                    problems.add(
                        name,
                        f"'{shown(item)}' is not one of {', '.join(column.choices)}",
                        row=row,
                        field=column.name,
                    )


def _check_key(
    frame: pl.DataFrame, table: Table, rows: pl.Series, name: str, problems: ProblemList
) -> None:
    if not table.key:
        return
    first_seen: dict[tuple, int] = {}
    for row, key in zip(rows, frame.select(table.key).iter_rows(), strict=True):
        if None in key:
            continue
        if key in first_seen:
            text = ", ".join(str(k) for k in key)
            problems.add(
                name,
                f"duplicate {'/'.join(table.key)} '{text}' (first on row {first_seen[key]})",
                row=row,
                field=table.key[0],
            )
        else:
            first_seen[key] = row


def table_problems(frame: pl.DataFrame, table: Table) -> ProblemList:
    """What in a canonical frame breaks the contract (rows numbered from 1); empty if nothing."""
    problems = ProblemList()
    expected = table.schema
    if dict(frame.schema) != expected:
        for name, dtype in expected.items():
            if frame.schema.get(name) != dtype:
                problems.add(
                    table.name,
                    f"expected type {dtype}, found {frame.schema.get(name, 'no column')}",
                    field=name,
                )
        return problems
    rows = pl.Series("row", range(1, frame.height + 1))
    for column in table.columns:
        _check(frame[column.name], column, rows, table.name, problems)
    _check_key(frame, table, rows, table.name, problems)
    return problems
