"""Plan exports: the plan document as JSON, tables as CSV/Parquet, an XLSX workbook, a report.

Every export names its plan: files are called `<plan_id>.<ext>` (tables:
`<plan_id>_<table>.<ext>`), CSV/Parquet tables carry a `plan_id` column, the workbook's
Summary sheet and document title give the plan id, and the reports have it in their title.

Tables (`plan_tables`), one row per:
- fleet: system × cooling × power design bought (or system rented);
- allocation: system × workload, GPUs and the operating point they run at;
- costs: annual cost component, with its share and its USD per million tokens;
- inputs: input file the plan was made from, with its SHA-256;
- alternatives: system, the best plan with that system alone (`pipelines.planning.comparisons`).

CSV/Parquet headers are the plan document's field names (units in the names); the
workbook shows the same columns with readable headers and units.

Exports are inert: text from the inputs (a SKU, a workload, a source note) never becomes a
formula. The workbook writes every string as text; in CSV tables a text cell that a
spreadsheet would evaluate (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a
leading `'` (`inert_csv_text`, the OWASP advice against CSV injection); numbers are unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.reports.text import COST_LABELS
from pipelines.warehouse.files import write_atomically

FORMATS = ("json", "csv", "parquet", "xlsx", "md", "html")
SUFFIXES = {"json": ".json", "csv": ".csv", "parquet": ".parquet", "xlsx": ".xlsx", "md": ".md", "html": ".html"}
TABLE_FORMATS = ("csv", "parquet")
"""Formats written as one file per table (the others are one file per plan)."""
EXPORTS_FOLDER = "exports"

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula."""

COUNT, DECIMAL, USD, USD_PER_TOKEN, SHARE, BIG = "#,##0", "#,##0.0", "$#,##0", "$0.0000", "0.0%", "0.000E+00"


@dataclass(frozen=True)
class Column:
    name: str
    """Field name (the CSV/Parquet header), with its unit."""
    header: str
    """Workbook header, with its unit."""
    dtype: type[pl.DataType] = pl.Utf8
    number_format: str | None = None
    """Excel number format of the workbook column."""


TABLES: dict[str, tuple[Column, ...]] = {
    "fleet": (
        Column("sku", "system"), Column("accelerator", "accelerator"), Column("rented", "rented", pl.Boolean),
        Column("cooling_id", "cooling"), Column("power_id", "power design"),
        Column("nodes", "nodes", pl.Int64, COUNT), Column("gpus", "GPUs", pl.Int64, COUNT),
        Column("it_power_kw", "IT power (kW)", pl.Float64, DECIMAL),
        Column("grid_power_kw", "grid power (kW)", pl.Float64, DECIMAL),
        Column("capex_usd", "capex (USD)", pl.Float64, USD),
        Column("annual_cost_usd", "annual cost (USD/year)", pl.Float64, USD),
    ),
    "allocation": (
        Column("workload", "workload"), Column("sku", "system"), Column("gpus", "GPUs", pl.Float64, DECIMAL),
        Column("tokens_per_s", "tokens/s while serving", pl.Float64, COUNT),
        Column("tokens_per_year", "tokens per year", pl.Float64, BIG),
        Column("tokens_per_s_per_gpu", "tokens/s per GPU", pl.Float64, DECIMAL),
        Column("interactivity_tokens_per_s_per_user", "interactivity (tokens/s per user)", pl.Float64, DECIMAL),
        Column("ttft_s", "time to first token (s)", pl.Float64, "0.00"),
        Column("concurrency", "concurrency (users per GPU config)", pl.Int64, COUNT),
        Column("framework", "framework"), Column("precision", "precision"),
        Column("interpolated", "interpolated", pl.Boolean), Column("source", "benchmark source"),
    ),
    "costs": (
        Column("component", "component key"), Column("label", "component"),
        Column("annual_cost_usd", "annual cost (USD/year)", pl.Float64, USD),
        Column("share_of_annual_cost", "share of annual cost (%)", pl.Float64, SHARE),
        Column("usd_per_million_tokens", "cost per million tokens (USD)", pl.Float64, USD_PER_TOKEN),
    ),
    "inputs": (
        Column("file", "input file"), Column("bytes", "size (bytes)", pl.Int64, COUNT), Column("sha256", "SHA-256"),
    ),
    "alternatives": (
        Column("sku", "system alone"), Column("rented", "rented", pl.Boolean), Column("status", "status"),
        Column("reason", "why infeasible"), Column("nodes", "nodes", pl.Int64, COUNT),
        Column("gpus", "GPUs", pl.Int64, COUNT),
        Column("cost_per_million_tokens_usd", "cost per million tokens (USD)", pl.Float64, USD_PER_TOKEN),
        Column("tokens_per_s_per_mw", "tokens/s per MW (grid)", pl.Float64, COUNT),
        Column("annual_cost_usd", "annual cost (USD/year)", pl.Float64, USD),
        Column("grid_power_mw", "grid power (MW)", pl.Float64, "0.00"),
        Column("advantage_ratio", "plan's advantage (their cost per token / plan's)", pl.Float64, '0.00"x"'),
    ),
}

SUMMARY: tuple[tuple[str, str, str | None], ...] = (
    ("plan_id", "plan id", None),
    ("created_at", "created at (UTC)", None),
    ("name", "site", None),
    ("objective", "objective", None),
    ("status", "status", None),
    ("cost_per_million_tokens_usd", "cost per million tokens (USD)", USD_PER_TOKEN),
    ("tokens_per_s_per_mw", "tokens/s per MW of grid power", COUNT),
    ("tokens_per_year", "tokens per year", BIG),
    ("annual_cost_usd", "annual cost (USD/year)", USD),
    ("capex_usd", "capex, upfront (USD)", USD),
    ("budget_mw", "grid budget (MW)", "0.00"),
    ("grid_power_mw", "grid power provisioned (MW)", "0.00"),
    ("it_power_mw", "IT power (MW)", "0.00"),
    ("pue", "PUE (grid kW / IT kW)", "0.000"),
    ("power_design", "power design", None),
    ("kwh_per_million_tokens", "grid energy per million tokens (kWh)", "0.000"),
)
"""Workbook Summary rows: (plan field, label with unit, number format)."""


def table_rows(plan: dict, table: str) -> list[dict]:
    """The plan's rows of `table` (see the module docstring), as plain dicts."""
    if table == "costs":
        total, tokens = plan["annual_cost_usd"], plan["tokens_per_year"]
        return [{"component": key, "label": COST_LABELS.get(key, key), "annual_cost_usd": usd,
                 "share_of_annual_cost": usd / total if total else None,
                 "usd_per_million_tokens": usd / tokens * 1e6 if tokens else None}
                for key, usd in plan["costs_usd_per_year"].items()]
    return list(plan.get(table) or [])


def plan_table(plan: dict, table: str) -> pl.DataFrame:
    """One table of the plan as a frame with the columns of `TABLES[table]`, in order."""
    columns = TABLES[table]
    rows = [{c.name: row.get(c.name) for c in columns} for row in table_rows(plan, table)]
    return pl.DataFrame(rows, schema={c.name: c.dtype for c in columns})


def plan_tables(plan: dict) -> dict[str, pl.DataFrame]:
    return {table: plan_table(plan, table) for table in TABLES}


def plan_id(plan: dict) -> str:
    return plan.get("plan_id") or "unsaved-plan"


def export_paths(plan: dict, fmt: str, folder: Path) -> list[Path]:
    """Where `fmt` exports of the plan go in `folder`."""
    if fmt in TABLE_FORMATS:
        return [folder / f"{plan_id(plan)}_{table}{SUFFIXES[fmt]}" for table in TABLES]
    return [folder / f"{plan_id(plan)}{SUFFIXES[fmt]}"]


def export_plan(plan: dict, fmt: str, out: Path, frontier: dict | None = None) -> list[Path]:
    """Write the plan as `fmt` and return the files written.

    `out`: a folder (files named by `export_paths`), or for the one-file formats a file
    whose suffix is the format's. `frontier`: a budget sweep (`pipelines.planning.sweep`) of the
    same inputs, charted in the reports. Each file is replaced atomically.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    if fmt not in TABLE_FORMATS and out.suffix == SUFFIXES[fmt]:
        paths = [out]
    else:
        paths = export_paths(plan, fmt, out)
    if fmt in TABLE_FORMATS:
        for path, frame in zip(paths, plan_tables(plan).values()):
            frame = frame.select(pl.lit(plan_id(plan)).alias("plan_id"), pl.all())
            write_atomically(path, _table_writer(frame, fmt))
        return paths
    if fmt == "xlsx":
        write_atomically(paths[0], lambda tmp: write_workbook(plan, Path(tmp)))
    else:
        text = document_text(plan, fmt, frontier)
        write_atomically(paths[0], lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return paths


def document_text(plan: dict, fmt: str, frontier: dict | None = None) -> str:
    """The plan as one text document: `json` (the plan document), `md` or `html` (the report)."""
    if fmt == "json":
        return json.dumps(plan, indent=2)
    from pipelines.reports.report import html_report, markdown_report

    return (markdown_report if fmt == "md" else html_report)(plan, frontier)


def inert_csv_text(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` for a CSV file: in every text column, a value starting with one of
    `FORMULA_PREFIXES` gets a leading `'` so a spreadsheet shows it as text instead of
    evaluating it. Other columns (numbers, booleans) are unchanged."""

    def inert(name: str) -> pl.Expr:
        column = pl.col(name)
        evaluated = pl.any_horizontal(column.str.starts_with(prefix) for prefix in FORMULA_PREFIXES)
        return pl.when(evaluated).then(pl.lit("'") + column).otherwise(column).alias(name)

    return frame.with_columns(inert(name) for name, dtype in frame.schema.items() if dtype == pl.Utf8)


def _table_writer(frame: pl.DataFrame, fmt: str) -> Callable[[str], object]:
    if fmt == "csv":
        return lambda tmp: inert_csv_text(frame).write_csv(tmp)
    return lambda tmp: frame.write_parquet(tmp)


# --------------------------------------------------------------------------- workbook


SHEETS = {"Fleet": "fleet", "Allocation": "allocation", "Costs": "costs", "Inputs": "inputs",
          "Alternatives": "alternatives"}
"""Workbook sheet → table, after the Summary sheet."""


def write_workbook(plan: dict, path: Path) -> None:
    """Sheets Summary, Fleet, Allocation, Costs, Inputs, Alternatives: a bold header row with
    units, frozen, with filters; numbers formatted (USD, counts, shares); the plan id in the
    Summary sheet and the document title. Every string is written as text: never a formula
    (`=...`), a link or a number, whatever it starts with."""
    import xlsxwriter

    options = {"nan_inf_to_errors": True, "strings_to_formulas": False, "strings_to_urls": False,
               "strings_to_numbers": False}
    with xlsxwriter.Workbook(str(path), options) as book:
        book.set_properties({"title": f"tokenplan build plan {plan_id(plan)}", "subject": plan.get("name", ""),
                             "comments": f"plan_id={plan_id(plan)}", "author": "tokenplan"})
        header = book.add_format({"bold": True, "bg_color": "#1f2937", "font_color": "#ffffff", "border": 1,
                                  "text_wrap": True, "valign": "vcenter"})
        formats: dict[str | None, object] = {None: book.add_format({"valign": "top"})}

        def number_format(spec: str | None):
            if spec not in formats:
                formats[spec] = book.add_format({"num_format": spec})
            return formats[spec]

        summary = book.add_worksheet("Summary")
        summary.write_row(0, 0, ["item", "value"], header)
        for row, (field, label, spec) in enumerate(SUMMARY, start=1):
            summary.write(row, 0, label)
            summary.write(row, 1, plan.get(field), number_format(spec))
        summary.set_column(0, 0, 38)
        summary.set_column(1, 1, max(34, len(plan_id(plan)) + 4))
        summary.freeze_panes(1, 0)
        for sheet_name, table in SHEETS.items():
            frame = plan_table(plan, table)
            sheet = book.add_worksheet(sheet_name)
            columns = TABLES[table]
            sheet.write_row(0, 0, [c.header for c in columns], header)
            sheet.set_row(0, 32)
            for i, column in enumerate(columns):
                values = frame.get_column(column.name).to_list()
                cell = number_format(column.number_format)
                for row, value in enumerate(values, start=1):
                    sheet.write(row, i, value, cell)
                longest = max([len(column.header) * 0.7, *(min(len(str(v)), 60) for v in values if v is not None)])
                sheet.set_column(i, i, max(10, min(longest + 3, 64)))
            sheet.freeze_panes(1, 0)
            sheet.autofilter(0, 0, max(frame.height, 1), len(columns) - 1)
