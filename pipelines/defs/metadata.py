"""Asset metadata planners see in the Dagster UI: rows, schema, preview, source files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import dagster as dg
import polars as pl

from optimizer.types import InputFile
from pipelines.contract.schema import Table

PREVIEW_ROWS = 10


def markdown_table(frame: pl.DataFrame, max_rows: int = PREVIEW_ROWS) -> str:
    """A frame as a Markdown table (lists joined with `;`, floats to 6 significant digits)."""
    shown = frame.head(max_rows)
    header = "| " + " | ".join(shown.columns) + " |\n|" + "---|" * len(shown.columns) + "\n"
    lines = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in shown.iter_rows()]
    more = f"\n\n({frame.height - max_rows} more rows)" if frame.height > max_rows else ""
    return header + "\n".join(lines) + more


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return ";".join(map(str, value))
    return str(value).replace("|", "\\|").replace("\n", " ")[:80]


def table_metadata(frame: pl.DataFrame, table: Table, files: list[InputFile]) -> dict:
    """Row count, column schema with descriptions, a preview and the source files' hashes."""
    columns = [dg.TableColumn(c.name, str(c.dtype), description=c.doc) for c in table.columns] + [
        dg.TableColumn("source_file", "String", description="input file the row came from")
    ]
    return {
        "dagster/row_count": frame.height,
        "dagster/column_schema": dg.TableSchema(columns=columns),
        "preview": dg.MetadataValue.md(markdown_table(frame)),
        "source_files": dg.MetadataValue.md(markdown_table(pl.DataFrame(files), max_rows=100))
        if files
        else dg.MetadataValue.text("none"),
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
