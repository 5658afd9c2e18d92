"""Price sheets: `hardware/*.csv` and `hardware/*.xlsx` (sheet `hardware`) into the hardware
table."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.contract.errors import InputError, Problem, ProblemList
from pipelines.contract.schema import HARDWARE
from pipelines.ingest.folder import input_files, read_each
from pipelines.ingest.names import accelerator_key
from pipelines.ingest.source import Source
from pipelines.ingest.tabular import read_table_file

PATTERNS = ("hardware/*.csv", "hardware/*.xlsx")


def read_price_sheet(path: Path, name: str) -> pl.DataFrame:
    """One price sheet (CSV, or the XLSX sheet `hardware`), accelerators mapped to their keys."""
    frame = read_table_file(path, name, HARDWARE, rules=_row_rules)
    return frame.with_columns(
        pl.col("accelerator").map_elements(accelerator_key, return_dtype=pl.String)
    )


def _row_rules(frame: pl.DataFrame, rows: pl.Series, name: str, problems: ProblemList) -> None:
    """What a typed cell cannot say.

    - every row needs `node_capex_usd` or `rental_usd_per_gpu_hour`;
    - `rental_hosting: on_site` is for rented rows only (a bought row is on the site anyway);
    - a row on the site (bought, or rented and hosted `on_site`) draws site power through
      its cooling and power chain: it needs `node_power_kw`, a cooling kind and a power
      kind;
    - idle power is at most full-load power;
    - multi-year plans: a system is available from a year no later than the year it is
      available until, and only a bought row's price declines.
    """
    for line, row in zip(rows, frame.iter_rows(named=True), strict=True):
        owned = row["node_capex_usd"] is not None
        hosted = row["rental_hosting"] == "on_site"
        if not owned and row["rental_usd_per_gpu_hour"] is None:
            problems.add(
                name,
                "a system needs node_capex_usd (bought) or rental_usd_per_gpu_hour (rented)",
                row=line,
                field="node_capex_usd",
            )
        if owned and hosted:
            problems.add(
                name,
                "on_site is for rented rows (rental price, no capex); a bought system is on the "
                "site anyway: leave it empty",
                row=line,
                field="rental_hosting",
            )
        if owned or hosted:  # a remote rental uses no site power, cooling or power chain
            _check_on_site(row, line, name, problems)
        power, idle = row["node_power_kw"], row["node_idle_power_kw"]
        if power is not None and idle is not None and idle > power:
            problems.add(
                name,
                f"idle power {idle:g} kW is above full-load power {power:g} kW",
                row=line,
                field="node_idle_power_kw",
            )
        first, last = row["available_from_year"], row["available_until_year"]
        if first is not None and last is not None and first > last:
            problems.add(
                name,
                f"available from {first}, after available_until_year {last}",
                row=line,
                field="available_from_year",
            )
        if not owned and row["capex_decline_pct_per_year"] is not None:
            problems.add(
                name,
                "a rented row (no node_capex_usd) has no price to decline: leave it empty",
                row=line,
                field="capex_decline_pct_per_year",
            )


def _check_on_site(row: dict, line: int, name: str, problems: ProblemList) -> None:
    """A system on the site has a full-load power, a cooling kind and a power kind."""
    what = "a bought system" if row["node_capex_usd"] is not None else "a system hosted on site"
    if row["node_power_kw"] is None:
        problems.add(
            name, f"missing value ({what} draws site power)", row=line, field="node_power_kw"
        )
    if not row["cooling_kinds"]:
        problems.add(
            name, f"{what} needs at least one cooling kind", row=line, field="cooling_kinds"
        )
    if not row["power_kinds"]:
        problems.add(name, f"{what} needs at least one power kind", row=line, field="power_kinds")


def read_hardware(data_dir: Path) -> pl.DataFrame:
    """Every price sheet in `hardware/`; SKUs unique across sheets."""
    frames = read_each(data_dir, input_files(data_dir, PATTERNS), read_price_sheet)
    hardware = pl.concat(frames)
    duplicated = hardware.filter(pl.col("sku").is_duplicated()).sort("sku", "source_file")
    if duplicated.height:
        problems = [
            Problem(
                group["source_file"][-1],
                f"sku '{sku}' is also in {', '.join(group['source_file'][:-1])}",
                field="sku",
            )
            for (sku,), group in duplicated.group_by("sku", maintain_order=True)
        ]
        raise InputError(problems)
    return hardware.sort("sku")


SOURCE = Source(
    name="hardware",
    patterns=PATTERNS,
    tables=("hardware",),
    read=lambda data_dir, _: {"hardware": read_hardware(data_dir)},
    description="Price sheets (CSV, XLSX sheet `hardware`): purchasable and rentable systems.",
)
