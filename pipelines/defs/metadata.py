"""Asset metadata planners see in the Dagster UI: rows, schema, preview, source files, and
numbers rounded to what a planner reads (whole dollars, 4 significant digits of a cost per
million tokens) rather than a float's 17 digits.

Tables are `TableMetadataValue`s (records with a `TableSchema`), which the UI shows as sortable
tables with typed columns; each column says how its numbers are rounded (`Kind`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import polars as pl

from optimizer.types import InputFile
from pipelines.contract.schema import Table

PREVIEW_ROWS = 10
TEXT_CHARS = 200
"""Longest text in a table cell (a benchmark's source notes run to kilobytes)."""
PREVIEW_DIGITS = 6
"""Significant digits of the floats of a table preview (input values, shown as read)."""


def significant(value: float | None, digits: int = 4) -> float | None:
    """`value` rounded to `digits` significant digits (0.08607208607 → 0.08607); None, NaN
    and infinities as they are."""
    if value is None or not math.isfinite(value) or value == 0:
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def decimals(places: int) -> Callable[[float | None], float | None]:
    """A rounding to `places` decimal places (None stays None)."""

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, places)

    return rounded


def whole(value: float | None) -> int | None:
    """`value` to the nearest whole number (whole dollars, kW, tokens/s); None stays None."""
    return None if value is None or not math.isfinite(value) else int(round(value))


@dataclass(frozen=True)
class Kind:
    """What a column holds: its type in the table's schema and how its values are rounded."""

    type: str
    round: Callable[[Any], Any]
    unit: str = ""


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = "; ".join(map(str, value))
    text = str(value).replace("\n", " ")
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


TEXT = Kind("string", _text)
FLAG = Kind("bool", _flag)
COUNT = Kind("int", whole)
USD = Kind("int", whole, "USD, whole dollars")
USD_PER_M_TOKENS = Kind("float", significant, "USD per million tokens, 4 significant digits")
RATIO = Kind("float", significant, "4 significant digits")
PER_M_TOKENS = Kind("float", significant, "per million tokens, 4 significant digits")
MW = Kind("float", decimals(3), "MW, to the kW")
KW = Kind("int", whole, "kW, whole")
KWH = Kind("int", whole, "kWh, whole")
TOKENS_PER_S = Kind("int", whole, "tokens/s, whole")
RATE = Kind("float", decimals(1), "to 0.1")
GPUS = Kind("float", decimals(1), "GPUs, to 0.1")
SECONDS = Kind("float", lambda v: significant(v, 3), "s, 3 significant digits")
PERCENT = Kind("float", decimals(1), "%, to 0.1")
FRACTION = Kind("float", decimals(4), "fraction, to 0.0001")


@dataclass(frozen=True)
class Column:
    """One column of a metadata table: its name, what it holds, and the row field it shows."""

    name: str
    kind: Kind
    description: str = ""
    field: str | None = None
    """The key of a row (default: `name`)."""

    def value(self, row: Mapping[str, Any]) -> Any:
        return self.kind.round(row.get(self.field or self.name))

    def schema(self) -> dg.TableColumn:
        unit = f" [{self.kind.unit}]" if self.kind.unit else ""
        return dg.TableColumn(
            self.name, self.kind.type, description=(self.description + unit).strip() or None
        )


def records_table(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[Column]
) -> dg.TableMetadataValue:
    """`rows` as a table of `columns`, each value rounded as its column's kind says."""
    return dg.MetadataValue.table(
        records=[dg.TableRecord({c.name: c.value(row) for c in columns}) for row in rows],
        schema=dg.TableSchema(columns=[c.schema() for c in columns]),
    )


def number(value: float | None, rounding: Callable[[float], Any] = significant) -> dg.MetadataValue:
    """A scalar for the UI (and its plots over materializations): the value rounded, as a float;
    a missing value as null."""
    if value is None or not math.isfinite(value):
        return dg.MetadataValue.null()
    return dg.MetadataValue.float(float(rounding(value)))


PREVIEW_FLOAT = Kind("float", lambda v: significant(v, PREVIEW_DIGITS))


def _kind_of(dtype: pl.DataType) -> Kind:
    """The column kind of a polars type: booleans, integers as they are, floats to 6 significant
    digits, anything else (text, lists, dates) as text."""
    if dtype == pl.Boolean:
        return FLAG
    if dtype.is_integer():
        return Kind("int", lambda v: v)
    if dtype.is_float():
        return PREVIEW_FLOAT
    return TEXT


def frame_table(
    frame: pl.DataFrame,
    max_rows: int = PREVIEW_ROWS,
    descriptions: Mapping[str, str] | None = None,
) -> dg.TableMetadataValue:
    """The first `max_rows` rows of a frame as a table (floats to 6 significant digits, lists
    joined with `; `, long text cut), its columns typed as the frame's."""
    descriptions = descriptions or {}
    columns = [
        Column(name, _kind_of(dtype), descriptions.get(name, ""))
        for name, dtype in frame.schema.items()
    ]
    return records_table(frame.head(max_rows).iter_rows(named=True), columns)


def more_rows(frame: pl.DataFrame, max_rows: int = PREVIEW_ROWS) -> str:
    """What a preview of `max_rows` rows leaves out, in words."""
    left = frame.height - max_rows
    return f"{min(frame.height, max_rows)} of {frame.height:,} rows" + (
        f" ({left:,} more in the table)" if left > 0 else ""
    )


SOURCE_FILES = (
    Column("file", TEXT, "input file, relative to the input folder"),
    Column("bytes", COUNT, "size in bytes"),
    Column("sha256", TEXT, "SHA-256 of its content"),
)


def table_metadata(frame: pl.DataFrame, table: Table, files: list[InputFile]) -> dict:
    """Row count, column schema with descriptions, a preview and the source files' hashes."""
    columns = [dg.TableColumn(c.name, str(c.dtype), description=c.doc) for c in table.columns] + [
        dg.TableColumn("source_file", "String", description="input file the row came from")
    ]
    docs = {c.name: c.doc for c in table.columns}
    return {
        "dagster/row_count": frame.height,
        "dagster/column_schema": dg.TableSchema(columns=columns),
        "preview": frame_table(frame, PREVIEW_ROWS, docs),
        "preview_rows": more_rows(frame),
        "source_files": records_table(files, SOURCE_FILES),
        "source_hashes": dg.MetadataValue.json({f["file"]: f["sha256"] for f in files}),
    }


def ingested_hashes(instance: dg.DagsterInstance, tables: Iterable[str]) -> dict[str, str]:
    """Input file → SHA-256 that the latest materialization of each of `tables` was read from.

    Read from the `source_hashes` metadata `table_metadata` writes; a table never
    materialized (or materialized without it) contributes nothing.
    """
    files: dict[str, str] = {}
    for table in tables:
        event = instance.get_latest_materialization_event(dg.AssetKey(table))
        hashes = (
            event.asset_materialization.metadata.get("source_hashes")
            if event and event.asset_materialization
            else None
        )
        if isinstance(hashes, dg.JsonMetadataValue) and isinstance(hashes.value, Mapping):
            files |= hashes.value
    return files


def not_materialized(context: dg.AssetExecutionContext, reason: str, **metadata: str) -> None:
    """Say why an asset with `output_required=False` makes no output this run: a log line and an
    observation with `reason` (and `metadata`); its last materialization, if any, stays."""
    context.log.info(f"{reason}; the last one, if any, stays as it was")
    context.log_event(
        dg.AssetObservation(asset_key=context.asset_key, metadata={**metadata, "reason": reason})
    )
