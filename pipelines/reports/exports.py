"""Plan exports: the plan document as JSON, tables as CSV/Parquet, an XLSX workbook, a report.

Every export names its plan: files are called `<plan_id>.<ext>` (tables:
`<plan_id>_<table>.<ext>`), CSV/Parquet tables carry a `plan_id` column, the workbook's
Summary sheet and document title give the plan id, and the reports have it in their title.

Tables (`plan_tables`), one row per:
- fleet: system × cooling × power design bought (or system rented);
- allocation: system × workload, GPUs and the operating point they run at (its serving
  configuration, and whether it is interpolated or derived);
- costs: annual cost component, with its share and its USD per million tokens;
- inputs: input file the plan was made from, with its SHA-256;
- alternatives: system, the best plan with that system alone (`pipelines.planning.comparisons`);
- levers: lever, the plan without it and what the lever is worth (`pipelines.planning.levers`).

A plan made before some fields were recorded (levers, configurations, site figures) exports
them empty: no rows, or empty cells.

CSV/Parquet headers are the plan document's field names (units in the names); the
workbook (`pipelines.reports.workbook`) shows the same columns with readable headers and units,
and with the plan's assumptions its costs as formulas.

Exports are inert: text from the inputs (a SKU, a workload, a source note) never becomes a
formula. The workbook writes every string as text; in CSV tables a text cell that a
spreadsheet would evaluate (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a
leading `'` (`inert_csv_text`, the OWASP advice against CSV injection); numbers are unchanged.

`EXPORTS` is the one list of formats: `tokenplan export --format` offers them and
`pipelines/defs/export/assets.py` makes one Dagster asset of each. A new format is one
`ExportFormat` there and its writer. This module imports polars only when it writes, so the
CLI can list the formats without it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from optimizer.types import PlanDocument, cost_components
from pipelines.reports.text import COST_LABELS
from pipelines.warehouse.files import write_atomically

if TYPE_CHECKING:
    import polars as pl

EXPORTS_FOLDER = "exports"

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula."""

COUNT, DECIMAL, USD, USD_PER_TOKEN, SHARE, BIG = (
    "#,##0",
    "#,##0.0",
    "$#,##0",
    "$0.0000",
    "0.0%",
    "0.000E+00",
)


@dataclass(frozen=True)
class Column:
    name: str
    """Field name (the CSV/Parquet header), with its unit."""
    header: str
    """Workbook header, with its unit."""
    dtype: str = "String"
    """The polars data type, by name (`Int64`): this module imports polars only when it writes."""
    number_format: str | None = None
    """Excel number format of the workbook column."""


TABLES: dict[str, tuple[Column, ...]] = {
    "fleet": (
        Column("sku", "system"),
        Column("accelerator", "accelerator"),
        Column("rented", "rented", "Boolean"),
        Column("cooling_id", "cooling"),
        Column("power_id", "power design"),
        Column("nodes", "nodes", "Int64", COUNT),
        Column("gpus", "GPUs", "Int64", COUNT),
        Column("it_power_kw", "IT power (kW)", "Float64", DECIMAL),
        Column("grid_power_kw", "grid power (kW)", "Float64", DECIMAL),
        Column("capex_usd", "capex (USD)", "Float64", USD),
        Column("annual_cost_usd", "annual cost (USD/year)", "Float64", USD),
    ),
    "allocation": (
        Column("workload", "workload"),
        Column("sku", "system"),
        Column("gpus", "GPUs", "Float64", DECIMAL),
        Column("tokens_per_s", "tokens/s while serving", "Float64", COUNT),
        Column("tokens_per_year", "tokens per year", "Float64", BIG),
        Column("tokens_per_s_per_gpu", "tokens/s per GPU", "Float64", DECIMAL),
        Column(
            "interactivity_tokens_per_s_per_user",
            "interactivity (tokens/s per user)",
            "Float64",
            DECIMAL,
        ),
        Column("ttft_s", "time to first token (s)", "Float64", "0.00"),
        Column("concurrency", "concurrency (users per GPU config)", "Int64", COUNT),
        Column("configuration", "serving configuration"),
        Column("framework", "framework"),
        Column("precision", "precision"),
        Column("spec_decoding", "speculative decoding"),
        Column("disaggregated", "disaggregated prefill/decode", "Boolean"),
        Column("prefill_gpus", "prefill GPUs (per instance)", "Int64", COUNT),
        Column("decode_gpus", "decode GPUs (per instance)", "Int64", COUNT),
        Column("kv_offload", "KV-cache offload", "Boolean"),
        Column("parallelism", "parallelism"),
        Column("interpolated", "interpolated", "Boolean"),
        Column("derived", "derived from another accelerator", "Boolean"),
        Column("source", "benchmark source"),
    ),
    "costs": (
        Column("component", "component key"),
        Column("label", "component"),
        Column("annual_cost_usd", "annual cost (USD/year)", "Float64", USD),
        Column("share_of_annual_cost", "share of annual cost (%)", "Float64", SHARE),
        Column("usd_per_million_tokens", "cost per million tokens (USD)", "Float64", USD_PER_TOKEN),
    ),
    "inputs": (
        Column("file", "input file"),
        Column("bytes", "size (bytes)", "Int64", COUNT),
        Column("sha256", "SHA-256"),
    ),
    "alternatives": (
        Column("sku", "system alone"),
        Column("rented", "rented", "Boolean"),
        Column("status", "status"),
        Column("reason", "why infeasible"),
        Column("nodes", "nodes", "Int64", COUNT),
        Column("gpus", "GPUs", "Int64", COUNT),
        Column(
            "cost_per_million_tokens_usd", "cost per million tokens (USD)", "Float64", USD_PER_TOKEN
        ),
        Column("tokens_per_s_per_mw", "tokens/s per MW (grid)", "Float64", COUNT),
        Column("annual_cost_usd", "annual cost (USD/year)", "Float64", USD),
        Column("grid_power_mw", "grid power (MW)", "Float64", "0.00"),
        Column(
            "advantage_ratio",
            "plan's advantage (their cost per token / plan's)",
            "Float64",
            '0.00"x"',
        ),
    ),
    "levers": (
        Column("lever", "lever key"),
        Column("name", "lever"),
        Column("without", "without it"),
        Column("in_data", "in the data", "Boolean"),
        Column("used_by_plan", "used by the plan", "Boolean"),
        Column("status", "status"),
        Column("reason", "why no plan"),
        Column(
            "cost_per_million_tokens_usd",
            "cost per million tokens without it (USD)",
            "Float64",
            USD_PER_TOKEN,
        ),
        Column("tokens_per_s_per_mw", "tokens/s per MW without it (grid)", "Float64", COUNT),
        Column("annual_cost_usd", "annual cost without it (USD/year)", "Float64", USD),
        Column("margin_usd_per_year", "margin without it (USD/year)", "Float64", USD),
        Column(
            "cost_ratio",
            "cost ratio (cost per token without it / plan's)",
            "Float64",
            '0.00"x"',
        ),
        Column(
            "tokens_per_mw_ratio",
            "tokens/MW ratio (plan's tokens/s per MW / without it)",
            "Float64",
            '0.00"x"',
        ),
    ),
}


def table_rows(plan: PlanDocument, table: str) -> list[Mapping[str, object]]:
    """The plan's rows of `table` (see the module docstring), as plain dicts."""
    if table == "costs":
        total, tokens = plan["annual_cost_usd"], plan["tokens_per_year"]
        return [
            {
                "component": key,
                "label": COST_LABELS.get(key, key),
                "annual_cost_usd": usd,
                "share_of_annual_cost": usd / total if total else None,
                "usd_per_million_tokens": usd / tokens * 1e6 if tokens else None,
            }
            for key, usd in cost_components(plan).items()
        ]
    document: Mapping[str, object] = plan
    # Every other table is a list of rows of the plan, at a key a type checker cannot follow.
    return list(cast("list[Mapping[str, object]] | None", document.get(table)) or [])


def plan_table(plan: PlanDocument, table: str) -> pl.DataFrame:
    """One table of the plan as a frame with the columns of `TABLES[table]`, in order."""
    import polars as pl

    columns = TABLES[table]
    rows = [{c.name: row.get(c.name) for c in columns} for row in table_rows(plan, table)]
    return pl.DataFrame(rows, schema={c.name: getattr(pl, c.dtype) for c in columns})


def plan_tables(plan: PlanDocument) -> dict[str, pl.DataFrame]:
    return {table: plan_table(plan, table) for table in TABLES}


def plan_id(plan: PlanDocument) -> str:
    return plan.get("plan_id") or "unsaved-plan"


def export_paths(plan: PlanDocument, fmt: str, folder: Path) -> list[Path]:
    """Where `fmt` exports of the plan go in `folder`."""
    suffix = EXPORTS[fmt].suffix
    if EXPORTS[fmt].per_table:
        return [folder / f"{plan_id(plan)}_{table}{suffix}" for table in TABLES]
    return [folder / f"{plan_id(plan)}{suffix}"]


def export_plan(
    plan: PlanDocument, fmt: str, out: Path, frontier: dict | None = None
) -> list[Path]:
    """Write the plan as `fmt` and return the files written.

    `out`: a folder (files named by `export_paths`), or for the one-file formats a file
    whose suffix is the format's. `frontier`: a budget sweep (`pipelines.planning.sweep`) of the
    same inputs, charted in the reports. Each file is replaced atomically.
    """
    if fmt not in EXPORTS:
        raise ValueError(f"format must be one of {tuple(EXPORTS)}, got {fmt!r}")
    export = EXPORTS[fmt]
    paths = [out] if export.is_file_target(out) else export_paths(plan, fmt, out)
    write_table, write_plan = export.write_table, export.write_plan
    if write_table is not None:
        import polars as pl

        for path, frame in zip(paths, plan_tables(plan).values(), strict=True):
            frame = frame.select(pl.lit(plan_id(plan)).alias("plan_id"), pl.all())

            def write(tmp: str, frame: pl.DataFrame = frame) -> None:
                write_table(frame, Path(tmp))

            write_atomically(path, write)
    else:
        assert write_plan is not None  # an ExportFormat sets exactly one writer
        write_atomically(paths[0], lambda tmp: write_plan(plan, Path(tmp), frontier))
    return paths


def inert_csv_text(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` for a CSV file: in every text column, a value starting with one of
    `FORMULA_PREFIXES` gets a leading `'` so a spreadsheet shows it as text instead of
    evaluating it. Other columns (numbers, booleans) are unchanged."""
    import polars as pl

    def inert(name: str) -> pl.Expr:
        column = pl.col(name)
        evaluated = pl.any_horizontal(column.str.starts_with(prefix) for prefix in FORMULA_PREFIXES)
        return pl.when(evaluated).then(pl.lit("'") + column).otherwise(column).alias(name)

    return frame.with_columns(
        inert(name) for name, dtype in frame.schema.items() if dtype == pl.Utf8
    )


# --------------------------------------------------------------------------- formats


PlanWriter = Callable[[PlanDocument, Path, "dict | None"], None]
"""Writes the plan to one file: `(plan, path, frontier)`; the reports chart the frontier."""
TableWriter = Callable[["pl.DataFrame", Path], None]
"""Writes one table of the plan (`TABLES`, with a leading `plan_id` column) to one file."""


@dataclass(frozen=True)
class ExportFormat:
    """One export format: its files, its writer and the Dagster asset that writes it for every plan.

    Exactly one of `write_plan` (one file per plan, `<plan_id><suffix>`) and `write_table`
    (one file per table of `TABLES`, `<plan_id>_<table><suffix>`) is set.
    """

    name: str
    """The `tokenplan export --format` value."""
    suffix: str
    help: str
    """What the files hold, for `tokenplan export --help`."""
    asset: str
    """The name of its asset in `pipelines/defs/export/assets.py`."""
    kinds: frozenset[str]
    description: str
    """The asset's description."""
    write_plan: PlanWriter | None = None
    write_table: TableWriter | None = None
    charts_frontier: bool = False
    """Its asset reads `pareto_frontier` too, for the writer's `frontier`."""

    def __post_init__(self) -> None:
        if (self.write_plan is None) == (self.write_table is None):
            raise ValueError(f"export format {self.name}: set one of write_plan and write_table")

    @property
    def per_table(self) -> bool:
        return self.write_table is not None

    def is_file_target(self, out: Path) -> bool:
        """Whether `out` is the one file to write (a one-file format, `out` with its suffix)."""
        return not self.per_table and out.suffix == self.suffix


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _write_json(plan: PlanDocument, path: Path, frontier: dict | None) -> None:
    _write_text(path, json.dumps(plan, indent=2))


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    inert_csv_text(frame).write_csv(path)


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    frame.write_parquet(path)


def _write_xlsx(plan: PlanDocument, path: Path, frontier: dict | None) -> None:
    from pipelines.reports.workbook import write_workbook

    write_workbook(plan, path)


def _write_markdown(plan: PlanDocument, path: Path, frontier: dict | None) -> None:
    from pipelines.reports.report import markdown_report

    _write_text(path, markdown_report(plan, frontier))


def _write_html(plan: PlanDocument, path: Path, frontier: dict | None) -> None:
    from pipelines.reports.report import html_report

    _write_text(path, html_report(plan, frontier))


EXPORTS: dict[str, ExportFormat] = {
    export.name: export
    for export in (
        ExportFormat(
            "json",
            ".json",
            "the plan document",
            "plan_json",
            frozenset({"json"}),
            "The plan document (JSON), as `build_plan` made it, named by its plan id.",
            write_plan=_write_json,
        ),
        ExportFormat(
            "csv",
            ".csv",
            "fleet, allocation, costs, inputs, alternatives and levers tables",
            "plan_csv",
            frozenset({"csv"}),
            "The plan's tables as CSV: fleet, allocation, costs (by component), inputs (files and "
            "content hashes), the single-system alternatives and what each lever is worth; a "
            "`plan_id` column in each.",
            write_table=_write_csv,
        ),
        ExportFormat(
            "parquet",
            ".parquet",
            "the same tables as Parquet",
            "plan_parquet",
            frozenset({"parquet"}),
            "The plan's tables as Parquet (the same tables and columns as the CSV).",
            write_table=_write_parquet,
        ),
        ExportFormat(
            "xlsx",
            ".xlsx",
            "a workbook",
            "plan_workbook",
            frozenset({"excel"}),
            "The plan as an XLSX workbook a finance analyst can audit: sheets Summary, Fleet, "
            "Allocation, Costs, Inputs, Alternatives, Levers, Capex, Monthly (time-resolved "
            "plans) and Assumptions, as Excel tables with totals and units in the headers; the "
            "costs, cost per million tokens and upfront capex are formulas of the Assumptions "
            "and the fleet (values only for a plan made before assumptions were recorded).",
            write_plan=_write_xlsx,
        ),
        ExportFormat(
            "md",
            ".md",
            "the report (Markdown)",
            "plan_report_md",
            frozenset({"markdown"}),
            "The plan report in Markdown: summary, costs, fleet, the best single-system plans, "
            "what each lever is worth, allocation, frontier, inputs.",
            write_plan=_write_markdown,
            charts_frontier=True,
        ),
        ExportFormat(
            "html",
            ".html",
            "the report (one HTML page)",
            "plan_report_html",
            frozenset({"html"}),
            "The plan report as one self-contained HTML page (inline CSS and SVG charts; opens "
            "without network): summary cards, annual cost by component, fleet by system and "
            "cooling, cost per token and tokens/s per MW against the best single-system plans, "
            "what each lever is worth, and cost per token across budgets.",
            write_plan=_write_html,
            charts_frontier=True,
        ),
    )
}
"""Every export format, by `--format` name, in the order `--format all` writes them."""
