"""A corpus of bad and hostile inputs: each is refused with exit 2, names its file and field,
prints no traceback, and leaves the warehouse byte for byte as it was.

Every case edits a copy of the bundled data folder in one way, then runs `tokenplan ingest`
and `tokenplan plan` on it against a warehouse holding a good ingest and a good plan.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
import yaml
from conftest import DATASETS

from pipelines.cli.main import main

PRICE_SHEET = "hardware/price_sheet.csv"
AMD_QUOTE = "hardware/amd_quote.xlsx"
PUBLISHED = "benchmarks/published.csv"
INFERENCEMAX = "benchmarks/inferencemax/agg_dsr1_1k1k.json"
MLPERF = "benchmarks/mlperf/summary_results_v5.1_llm.json"
URDB = "tariffs/entergy_arkansas_LPS_TOU_industrial_5a592c995457a3371c423a7d.json"
TARIFF_CSV = "tariffs/eia_state_industrial.csv"
SCENARIO = "scenario.yaml"
DERIVED = "benchmarks/derived.csv"
DERIVED_HEADER = "accelerator,model,from_accelerator,throughput_ratio,source\n"

Edit = Callable[[Path], None]


# --- edits -------------------------------------------------------------------------------


def cell(file: str, row: int, column: str, value: str) -> Edit:
    """Set one cell of a CSV (row 2 = the first data row, as a spreadsheet counts); a column the
    file does not have is added, empty but for that cell."""

    def edit(data: Path) -> None:
        frame = pl.read_csv(data / file, infer_schema=False)
        current = pl.col(column) if column in frame.columns else pl.lit(None, pl.String)
        frame = frame.with_columns(
            pl.when(pl.int_range(pl.len()) == row - 2)
            .then(pl.lit(value))
            .otherwise(current)
            .alias(column)
        )
        frame.write_csv(data / file)

    return edit


def rented_cell(column: str, value: str) -> Edit:
    """Set `column` on the price sheet's first rented row (no capex)."""

    def edit(data: Path) -> None:
        frame = pl.read_csv(data / PRICE_SHEET, infer_schema=False)
        rented = frame["node_capex_usd"].is_null()
        first = int(rented.arg_true()[0])
        cell(PRICE_SHEET, first + 2, column, value)(data)

    return edit


def each(*edits: Edit) -> Edit:
    """The edits one after the other."""

    def edit(data: Path) -> None:
        for one in edits:
            one(data)

    return edit


def drop_column(file: str, column: str) -> Edit:
    def edit(data: Path) -> None:
        pl.read_csv(data / file, infer_schema=False).drop(column).write_csv(data / file)

    return edit


def duplicate_first_row(file: str) -> Edit:
    def edit(data: Path) -> None:
        frame = pl.read_csv(data / file, infer_schema=False)
        pl.concat([frame, frame.head(1)]).write_csv(data / file)

    return edit


def write(file: str, content: bytes | str) -> Edit:
    def edit(data: Path) -> None:
        path = data / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    return edit


def replace_text(file: str, old: str, new: str) -> Edit:
    def edit(data: Path) -> None:
        text = (data / file).read_text()
        assert old in text, old
        (data / file).write_text(text.replace(old, new, 1))

    return edit


def append_text(file: str, text: str) -> Edit:
    def edit(data: Path) -> None:
        with open(data / file, "a") as handle:
            handle.write(text)

    return edit


def json_edit(file: str, change: Callable[[object], None]) -> Edit:
    """Change the parsed JSON document; NaN and Infinity are written as Python's json spells
    them."""

    def edit(data: Path) -> None:
        document = json.loads((data / file).read_text())
        change(document)
        (data / file).write_text(json.dumps(document))

    return edit


def record(index: int, key: str, value: object) -> Callable[[list], None]:
    def change(document: list) -> None:
        document[index][key] = value

    return change


def urdb_tier(
    key: str, value: object, structure: str = "energyratestructure"
) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        document[structure][1][0][key] = value

    return change


def urdb_field(key: str, value: object) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        document[key] = value

    return change


def scenario_field(key: str, value: str) -> Edit:
    """Replace the top-level `key: ...` line of scenario.yaml."""

    def edit(data: Path) -> None:
        lines = (data / SCENARIO).read_text().splitlines()
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
        lines[index] = f"{key}: {value}"
        (data / SCENARIO).write_text("\n".join(lines) + "\n")

    return edit


def workload_field(index: int, key: str, value: object) -> Edit:
    """Set `key` of the `index`-th workload (from 1) of scenario.yaml, whatever it holds."""

    def edit(data: Path) -> None:
        document = yaml.safe_load((data / SCENARIO).read_text())
        document["workloads"][index - 1][key] = value
        (data / SCENARIO).write_text(yaml.safe_dump(document, sort_keys=False))

    return edit


def make_directory(file: str) -> Edit:
    def edit(data: Path) -> None:
        path = data / file
        if path.exists():
            path.unlink()
        path.mkdir(parents=True)

    return edit


def link_outside(file: str) -> Edit:
    def edit(data: Path) -> None:
        outside = data.parent / "outside.csv"
        shutil.copy(data / PUBLISHED, outside)
        (data / file).symlink_to(outside)

    return edit


def broken_link(file: str) -> Edit:
    def edit(data: Path) -> None:
        (data / file).symlink_to(data / "no-such-file.csv")

    return edit


def delete(file: str) -> Edit:
    def edit(data: Path) -> None:
        (data / file).unlink()

    return edit


def xlsx_without_hardware_sheet(data: Path) -> None:
    book = xlsxwriter.Workbook(data / AMD_QUOTE)
    book.add_worksheet("Quote").write_row(0, 0, ["sku", "vendor"])
    book.close()


def xlsx_text_cell(column: str, value: str) -> Edit:
    """Rewrite the quote's `hardware` sheet with one cell of the first row as text."""

    def edit(data: Path) -> None:
        frame = pl.read_excel(data / AMD_QUOTE, sheet_name="hardware", infer_schema_length=0)
        frame = frame.with_columns(
            pl.when(pl.int_range(pl.len()) == 0)
            .then(pl.lit(value))
            .otherwise(pl.col(column))
            .alias(column)
        )
        book = xlsxwriter.Workbook(data / AMD_QUOTE, {"strings_to_numbers": False})
        sheet = book.add_worksheet("hardware")
        sheet.write_row(0, 0, frame.columns)
        for r, row in enumerate(frame.iter_rows(), start=1):
            for c, value_ in enumerate(row):
                if value_ is not None:
                    sheet.write_string(r, c, value_)
        book.close()

    return edit


def sku_in_two_sheets(data: Path) -> None:
    amd = pl.read_excel(data / AMD_QUOTE, sheet_name="hardware", infer_schema_length=0)
    sheet = pl.read_csv(data / PRICE_SHEET, infer_schema=False)
    pl.concat([sheet, amd.head(1).select(sheet.columns).cast(pl.String)]).write_csv(
        data / PRICE_SHEET
    )


def first_disaggregated(key: str) -> Callable[[list], None]:
    """Remove `key` from the first disaggregated InferenceMAX record."""

    def change(document: list) -> None:
        next(r for r in document if r.get("disagg") is True).pop(key)

    return change


def short_schedule(document: dict) -> None:
    document["energyweekdayschedule"][0] = document["energyweekdayschedule"][0][:23]


def period_out_of_range(document: dict) -> None:
    document["energyweekdayschedule"][5][12] = 9


def tiers_out_of_order(document: dict) -> None:
    document["energyratestructure"][0] = [
        {"rate": 0.05, "max": 1000, "unit": "kWh"},
        {"rate": 0.04, "max": 500, "unit": "kWh"},
        {"rate": 0.03, "unit": "kWh"},
    ]


BILLION_LAUGHS = "name: x\nlol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10)
)
DEEP_JSON = "[" * 200_000 + "]" * 200_000
DEEP_YAML = "budget_mw: " + "[" * 200_000 + "]" * 200_000 + "\n"


# --- the corpus: case -> (edit, file named, field named or None) ---------------------------

CASES: dict[str, tuple[Edit, str, str | None]] = {
    # price sheets
    "missing column": (drop_column(PRICE_SHEET, "node_power_kw"), PRICE_SHEET, "node_power_kw"),
    "text for a number": (
        cell(PRICE_SHEET, 3, "gpus_per_node", "eight"),
        PRICE_SHEET,
        "gpus_per_node",
    ),
    "negative price": (
        cell(PRICE_SHEET, 2, "node_capex_usd", "-400000"),
        PRICE_SHEET,
        "node_capex_usd",
    ),
    "inf capex": (cell(PRICE_SHEET, 2, "node_capex_usd", "inf"), PRICE_SHEET, "node_capex_usd"),
    "nan capex": (cell(PRICE_SHEET, 2, "node_capex_usd", "nan"), PRICE_SHEET, "node_capex_usd"),
    "capex 1e12": (cell(PRICE_SHEET, 2, "node_capex_usd", "1e12"), PRICE_SHEET, "node_capex_usd"),
    "inf power": (cell(PRICE_SHEET, 2, "node_power_kw", "inf"), PRICE_SHEET, "node_power_kw"),
    "power 1e308": (cell(PRICE_SHEET, 2, "node_power_kw", "1e308"), PRICE_SHEET, "node_power_kw"),
    "power -Infinity": (
        cell(PRICE_SHEET, 2, "node_power_kw", "-Infinity"),
        PRICE_SHEET,
        "node_power_kw",
    ),
    "inf rental": (
        rented_cell("rental_usd_per_gpu_hour", "inf"),
        PRICE_SHEET,
        "rental_usd_per_gpu_hour",
    ),
    "rental 1e6": (
        rented_cell("rental_usd_per_gpu_hour", "1e6"),
        PRICE_SHEET,
        "rental_usd_per_gpu_hour",
    ),
    "gpus 1e30": (cell(PRICE_SHEET, 2, "gpus_per_node", "1e30"), PRICE_SHEET, "gpus_per_node"),
    "fractional gpus": (cell(PRICE_SHEET, 2, "gpus_per_node", "2.5"), PRICE_SHEET, "gpus_per_node"),
    "zero gpus": (cell(PRICE_SHEET, 2, "gpus_per_node", "0"), PRICE_SHEET, "gpus_per_node"),
    "nodes per rack 0": (
        cell(PRICE_SHEET, 2, "nodes_per_rack", "0"),
        PRICE_SHEET,
        "nodes_per_rack",
    ),
    "lifetime 500 years": (
        cell(PRICE_SHEET, 2, "lifetime_years", "500"),
        PRICE_SHEET,
        "lifetime_years",
    ),
    "maintenance 150%": (
        cell(PRICE_SHEET, 2, "maintenance_pct_per_year", "150"),
        PRICE_SHEET,
        "maintenance_pct_per_year",
    ),
    "negative supply cap": (cell(PRICE_SHEET, 2, "max_nodes", "-1"), PRICE_SHEET, "max_nodes"),
    "unknown cooling kind": (
        cell(PRICE_SHEET, 2, "cooling_kinds", "air;water"),
        PRICE_SHEET,
        "cooling_kinds",
    ),
    "idle above full load": (
        cell(PRICE_SHEET, 2, "node_idle_power_kw", "99"),
        PRICE_SHEET,
        "node_idle_power_kw",
    ),
    "empty accelerator": (cell(PRICE_SHEET, 2, "accelerator", ""), PRICE_SHEET, "accelerator"),
    "neither capex nor rental": (
        cell(PRICE_SHEET, 2, "node_capex_usd", ""),
        PRICE_SHEET,
        "node_capex_usd",
    ),
    "duplicate sku": (duplicate_first_row(PRICE_SHEET), PRICE_SHEET, "sku"),
    "sku in two sheets": (sku_in_two_sheets, PRICE_SHEET, "sku"),
    "price sheet not utf-8": (
        write(PRICE_SHEET, "sku,vendor\nH100,caf\xe9\n".encode("latin-1")),
        PRICE_SHEET,
        None,
    ),
    "empty price sheet": (write(PRICE_SHEET, b""), PRICE_SHEET, None),
    "header only": (
        write(PRICE_SHEET, (DATASETS / PRICE_SHEET).read_text().splitlines()[0] + "\n"),
        PRICE_SHEET,
        None,
    ),
    "ragged line": (
        append_text(PRICE_SHEET, "X,Y,Z,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n"),
        PRICE_SHEET,
        None,
    ),
    "xlsx without the sheet": (xlsx_without_hardware_sheet, AMD_QUOTE, None),
    "owned row hosted on site": (
        cell(PRICE_SHEET, 2, "rental_hosting", "on_site"),
        PRICE_SHEET,
        "rental_hosting",
    ),
    "hosted rental without power": (
        each(rented_cell("rental_hosting", "on_site"), rented_cell("node_power_kw", "")),
        PRICE_SHEET,
        "node_power_kw",
    ),
    "unknown power kind of a system": (
        cell(PRICE_SHEET, 2, "power_kinds", "ac;hvdc"),
        PRICE_SHEET,
        "power_kinds",
    ),
    "xlsx that is no workbook": (write(AMD_QUOTE, b"PK\x03\x04 not a zip at all"), AMD_QUOTE, None),
    "xlsx inf power": (xlsx_text_cell("node_power_kw", "inf"), AMD_QUOTE, "node_power_kw"),
    "price sheet is a directory": (
        make_directory("hardware/extra.csv"),
        "hardware/extra.csv",
        None,
    ),
    # benchmarks
    "throughput 1e308": (
        cell(PUBLISHED, 2, "tokens_per_s_per_gpu", "1e308"),
        PUBLISHED,
        "tokens_per_s_per_gpu",
    ),
    "negative throughput": (
        cell(PUBLISHED, 2, "tokens_per_s_per_gpu", "-5"),
        PUBLISHED,
        "tokens_per_s_per_gpu",
    ),
    "inf throughput": (
        cell(PUBLISHED, 2, "tokens_per_s_per_gpu", "inf"),
        PUBLISHED,
        "tokens_per_s_per_gpu",
    ),
    "benchmark csv missing model": (drop_column(PUBLISHED, "model"), PUBLISHED, "model"),
    "disaggregated maybe": (
        cell(PUBLISHED, 2, "disaggregated", "maybe"),
        PUBLISHED,
        "disaggregated",
    ),
    "one pool of a disaggregated row": (
        cell(PUBLISHED, 2, "prefill_gpus", "4"),
        PUBLISHED,
        "decode_gpus",
    ),
    "inferencemax disaggregated without decode pool": (
        json_edit(INFERENCEMAX, first_disaggregated("num_decode_gpu")),
        INFERENCEMAX,
        "num_decode_gpu",
    ),
    "derived from itself": (
        write(DERIVED, DERIVED_HEADER + "H200,deepseek-r1,h200,1.2,x\n"),
        DERIVED,
        "from_accelerator",
    ),
    "derived twice": (
        write(DERIVED, DERIVED_HEADER + "B300,deepseek-r1,B200,1.5,x\nb300,deepseek-r1,H200,2,y\n"),
        DERIVED,
        "accelerator",
    ),
    "derived ratio 0": (
        write(DERIVED, DERIVED_HEADER + "B300,deepseek-r1,B200,0,x\n"),
        DERIVED,
        "throughput_ratio",
    ),
    "inferencemax not a list": (write(INFERENCEMAX, b'{"hw": "h200"}'), INFERENCEMAX, None),
    "inferencemax NaN throughput": (
        json_edit(INFERENCEMAX, record(0, "tput_per_gpu", float("nan"))),
        INFERENCEMAX,
        "tput_per_gpu",
    ),
    "inferencemax Infinity throughput": (
        json_edit(INFERENCEMAX, record(0, "tput_per_gpu", float("inf"))),
        INFERENCEMAX,
        "tput_per_gpu",
    ),
    "inferencemax throughput 1e308": (
        json_edit(INFERENCEMAX, record(0, "tput_per_gpu", 1e308)),
        INFERENCEMAX,
        "tput_per_gpu",
    ),
    "inferencemax negative ttft": (
        json_edit(INFERENCEMAX, record(3, "median_ttft", -1)),
        INFERENCEMAX,
        "median_ttft",
    ),
    "inferencemax hw a number": (json_edit(INFERENCEMAX, record(0, "hw", 200)), INFERENCEMAX, "hw"),
    "inferencemax hw missing": (
        json_edit(INFERENCEMAX, lambda d: d[0].pop("hw")),
        INFERENCEMAX,
        "hw",
    ),
    "inferencemax truncated": (
        write(INFERENCEMAX, b'[{"hw": "h200", "conc": 4'),
        INFERENCEMAX,
        None,
    ),
    "inferencemax 200,000 deep": (write(INFERENCEMAX, DEEP_JSON), INFERENCEMAX, None),
    "mlperf zero GPUs": (json_edit(MLPERF, record(0, "a#", 0)), MLPERF, "a#"),
    "mlperf text result": (
        json_edit(MLPERF, record(0, "Performance_Result", "fast")),
        MLPERF,
        "Performance_Result",
    ),
    "mlperf Infinity result": (
        json_edit(MLPERF, record(0, "Performance_Result", float("inf"))),
        MLPERF,
        "Performance_Result",
    ),
    "benchmark file is a directory": (make_directory("benchmarks/x.csv"), "benchmarks/x.csv", None),
    "link out of the data folder": (
        link_outside("benchmarks/outside.csv"),
        "benchmarks/outside.csv",
        None,
    ),
    "broken link": (broken_link("benchmarks/gone.csv"), "benchmarks/gone.csv", None),
    # facility
    "empty cooling file": (write("cooling.csv", b""), "cooling.csv", None),
    "cooling file missing": (delete("cooling.csv"), "cooling.csv", None),
    "cooling file is a directory": (make_directory("cooling.csv"), "cooling.csv", None),
    "cooling overhead inf": (
        cell("cooling.csv", 2, "overhead_kw_per_kw_it", "inf"),
        "cooling.csv",
        "overhead_kw_per_kw_it",
    ),
    "cooling kind water": (cell("cooling.csv", 2, "kind", "water"), "cooling.csv", "kind"),
    "power not utf-8": (
        write("power.csv", "power_id,name\nac,caf\xe9\n".encode("latin-1")),
        "power.csv",
        None,
    ),
    "efficiency above 1": (cell("power.csv", 2, "efficiency", "1.2"), "power.csv", "efficiency"),
    "power kind missing": (drop_column("power.csv", "kind"), "power.csv", "kind"),
    "power kind hvdc": (cell("power.csv", 2, "kind", "hvdc"), "power.csv", "kind"),
    "efficiency 0": (cell("power.csv", 2, "efficiency", "0"), "power.csv", "efficiency"),
    "power capex nan": (
        cell("power.csv", 2, "capex_usd_per_kw_it", "NaN"),
        "power.csv",
        "capex_usd_per_kw_it",
    ),
    # tariffs
    "12x23 schedule": (json_edit(URDB, short_schedule), URDB, "energyweekdayschedule"),
    "period out of range": (json_edit(URDB, period_out_of_range), URDB, "energyweekdayschedule"),
    "tiers out of order": (json_edit(URDB, tiers_out_of_order), URDB, "energyratestructure"),
    "urdb rate NaN": (
        json_edit(URDB, urdb_tier("rate", float("nan"))),
        URDB,
        "energyratestructure[1][0].rate",
    ),
    "urdb rate Infinity": (
        json_edit(URDB, urdb_tier("rate", float("inf"))),
        URDB,
        "energyratestructure[1][0].rate",
    ),
    "urdb rate -1000": (
        json_edit(URDB, urdb_tier("rate", -1000)),
        URDB,
        "energyratestructure[1][0].rate",
    ),
    "urdb rate text": (
        json_edit(URDB, urdb_tier("rate", "0.1x")),
        URDB,
        "energyratestructure[1][0].rate",
    ),
    "urdb demand rate 1e9": (
        json_edit(URDB, urdb_tier("rate", 1e9, "demandratestructure")),
        URDB,
        "demandratestructure[1][0].rate",
    ),
    "urdb negative fixed charge": (
        json_edit(URDB, urdb_field("fixedchargefirstmeter", -5)),
        URDB,
        "fixedchargefirstmeter",
    ),
    "urdb unknown fixed charge unit": (
        json_edit(URDB, urdb_field("fixedchargeunits", "$/fortnight")),
        URDB,
        "fixedchargeunits",
    ),
    "urdb demand window nan": (
        json_edit(URDB, urdb_field("demandwindow", float("nan"))),
        URDB,
        "demandwindow",
    ),
    "tariff csv inf energy": (
        cell(TARIFF_CSV, 2, "energy_usd_per_kwh", "inf"),
        TARIFF_CSV,
        "energy_usd_per_kwh",
    ),
    "tariff csv negative energy": (
        cell(TARIFF_CSV, 2, "energy_usd_per_kwh", "-0.1"),
        TARIFF_CSV,
        "energy_usd_per_kwh",
    ),
    "tariff id twice": (duplicate_first_row(TARIFF_CSV), TARIFF_CSV, "tariff_id"),
    # scenario
    "budget 1e12": (scenario_field("budget_mw", "1e12"), SCENARIO, "budget_mw"),
    "negative budget": (scenario_field("budget_mw", "-5"), SCENARIO, "budget_mw"),
    "budget .inf": (scenario_field("budget_mw", ".inf"), SCENARIO, "budget_mw"),
    "budget .nan": (scenario_field("budget_mw", ".nan"), SCENARIO, "budget_mw"),
    "budget a list": (scenario_field("budget_mw", "[1, 2]"), SCENARIO, "budget_mw"),
    "hours per year 1e-9": (
        append_text(SCENARIO, "hours_per_year: 1e-9\n"),
        SCENARIO,
        "hours_per_year",
    ),
    "wacc as a percent": (scenario_field("wacc", "8"), SCENARIO, "wacc"),
    "utilization 0": (scenario_field("utilization", "0"), SCENARIO, "utilization"),
    "unknown field": (append_text(SCENARIO, "budget_gw: 2\n"), SCENARIO, "budget_gw"),
    "budget misspelt": (replace_text(SCENARIO, "budget_mw:", "budget_mws:"), SCENARIO, "budget_mw"),
    "unsafe yaml": (
        scenario_field("name", "!!python/object/apply:os.system ['true']"),
        SCENARIO,
        None,
    ),
    "misspelt workload field": (
        replace_text(SCENARIO, "share: 0.2", "share: 0.2\n    max_ttft: 2"),
        SCENARIO,
        "workloads[3].max_ttft",
    ),
    "tariff not found": (scenario_field("tariff", "no-such-tariff"), SCENARIO, "tariff"),
    "availability 0": (append_text(SCENARIO, "availability: 0\n"), SCENARIO, "availability"),
    "grid connection in $/MW": (
        append_text(SCENARIO, "grid_connection_capex_usd_per_kw: 400000\n"),
        SCENARIO,
        "grid_connection_capex_usd_per_kw",
    ),
    "unknown requirement": (
        workload_field(3, "require", {"quantization": ["fp8"]}),
        SCENARIO,
        "workloads[3].require.quantization",
    ),
    "requirement not true or false": (
        workload_field(3, "require", {"disaggregated": "maybe"}),
        SCENARIO,
        "workloads[3].require.disaggregated",
    ),
    "price per token, not per million": (
        workload_field(3, "price_usd_per_million_tokens", 2_000_000),
        SCENARIO,
        "workloads[3].price_usd_per_million_tokens",
    ),
    "market cap 0": (
        workload_field(1, "max_tokens_per_s", 0),
        SCENARIO,
        "workloads[1].max_tokens_per_s",
    ),
    "shares sum to 0.9": (
        replace_text(SCENARIO, "share: 0.2", "share: 0.1"),
        SCENARIO,
        "workloads.share",
    ),
    "share .nan": (
        replace_text(SCENARIO, "share: 0.2", "share: .nan"),
        SCENARIO,
        "workloads[3].share",
    ),
    "workload without a model": (
        replace_text(SCENARIO, "model: llama2-70b", "model: ''"),
        SCENARIO,
        "workloads[3].model",
    ),
    "profile of 23 hours": (
        replace_text(
            SCENARIO,
            "share: 0.2",
            "share: 0.2\n    load_profile: [" + ", ".join(["0.5"] * 23) + "]",
        ),
        SCENARIO,
        "workloads[3].load_profile",
    ),
    "profile with .inf": (
        replace_text(
            SCENARIO, "share: 0.2", "share: 0.2\n    load_profile: [.inf" + ", 0.5" * 23 + "]"
        ),
        SCENARIO,
        "workloads[3].load_profile",
    ),
    "ttft 1e9 s": (
        replace_text(SCENARIO, "max_ttft_s: 2.0", "max_ttft_s: 1e9"),
        SCENARIO,
        "workloads[1].max_ttft_s",
    ),
    "no workloads": (
        replace_text(SCENARIO, "workloads:", "workloads: []\nignored:"),
        SCENARIO,
        "workloads",
    ),
    "scenario a list": (write(SCENARIO, "- budget_mw: 20\n"), SCENARIO, None),
    "scenario not yaml": (write(SCENARIO, "budget_mw: [20\n"), SCENARIO, None),
    "billion laughs": (write(SCENARIO, BILLION_LAUGHS), SCENARIO, None),
    "scenario 200,000 deep": (write(SCENARIO, DEEP_YAML), SCENARIO, None),
    "scenario is a directory": (make_directory(SCENARIO), SCENARIO, None),
}


def tree_hashes(folder: Path) -> dict[str, str]:
    """Every file under `folder`, by relative path, with its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding a good ingest and a good plan of the bundled data."""
    warehouse = tmp_path_factory.mktemp("warehouse")
    assert main(["ingest", "--data", str(DATASETS), "--warehouse", str(warehouse)]) == 0
    assert main(["plan", "--data", str(DATASETS), "--warehouse", str(warehouse), "--json"]) == 0
    return warehouse


def test_the_corpus_is_large_and_varied():
    assert len(CASES) >= 60
    files = {file.split("/")[0] for _, file, _ in CASES.values()}
    assert {
        "hardware",
        "benchmarks",
        "tariffs",
        "cooling.csv",
        "power.csv",
        "scenario.yaml",
    } <= files


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_and_loses_nothing(
    case: str, data: Path, good_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit, file, field = CASES[case]
    edit(data)
    warehouse = tmp_path / "warehouse"
    shutil.copytree(good_warehouse, warehouse, symlinks=True)
    before = tree_hashes(warehouse)
    capsys.readouterr()

    for command in ("ingest", "plan"):
        assert main([command, "--data", str(data), "--warehouse", str(warehouse)]) == 2, command
        errors = capsys.readouterr().err
        assert "Traceback" not in errors
        lines = [line.strip() for line in errors.splitlines()]
        assert any(line.startswith(file) for line in lines), errors
        if field is not None:
            assert any(line.startswith(file) and field in line for line in lines), errors
    assert tree_hashes(warehouse) == before


def test_every_problem_in_every_file_in_one_pass(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edits = [
        cell(PRICE_SHEET, 2, "node_capex_usd", "inf"),
        cell(PRICE_SHEET, 4, "gpus_per_node", "x"),
        cell(PUBLISHED, 3, "tokens_per_s_per_gpu", "-1"),
        cell("power.csv", 2, "efficiency", "2"),
        json_edit(URDB, urdb_tier("rate", float("nan"))),
        scenario_field("budget_mw", "-5"),
        scenario_field("tariff", "nowhere"),
    ]
    for edit in edits:
        edit(data)
    assert main(["validate", "--data", str(data)]) == 2
    errors = capsys.readouterr().err
    for expected in (
        f"{PRICE_SHEET}:2: node_capex_usd",
        f"{PRICE_SHEET}:4: gpus_per_node",
        f"{PUBLISHED}:3: tokens_per_s_per_gpu",
        "power.csv:2: efficiency",
        f"{URDB}: energyratestructure[1][0].rate",
        f"{SCENARIO}: budget_mw",
    ):
        assert expected in errors
    assert "bad input (6 problems)" in errors  # the tariff check waits for good tariffs


def test_a_link_out_of_the_folder_is_read_when_the_user_says_so(
    data: Path, monkeypatch, capsys
) -> None:
    link_outside("benchmarks/outside.csv")(data)
    monkeypatch.setenv("TOKENPLAN_FOLLOW_LINKS", "1")
    assert main(["validate", "--data", str(data)]) == 0
    assert "benchmarks/outside.csv" in capsys.readouterr().out


def test_a_link_inside_the_folder_is_read(data: Path, capsys) -> None:
    os.rename(data / PUBLISHED, data / "published-2026.csv")
    (data / PUBLISHED).symlink_to(data / "published-2026.csv")
    assert main(["validate", "--data", str(data)]) == 0


def test_the_folder_watcher_sees_a_refused_path_as_a_change(data: Path) -> None:
    from pipelines.defs.automation.watch import folder_hashes

    before = folder_hashes(data)
    make_directory("benchmarks/x.csv")(data)
    after = folder_hashes(data)
    assert after["benchmarks/x.csv"].startswith("refused: not a regular file")
    assert {name: digest for name, digest in after.items() if name != "benchmarks/x.csv"} == before


@pytest.mark.parametrize("value", ["abc", "0.5", "0", "1e9"])
def test_a_bad_size_limit_is_bad_input(value: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TOKENPLAN_MAX_INPUT_MB", value)
    assert main(["validate", "--data", str(DATASETS)]) == 2
    errors = capsys.readouterr().err
    assert errors.count("environment: TOKENPLAN_MAX_INPUT_MB: expected a whole number of MiB") == 1
    assert "Traceback" not in errors


def test_several_problems_in_one_file_are_reported_together(data: Path, capsys) -> None:
    cell(PRICE_SHEET, 2, "node_capex_usd", "-1")(data)
    cell(PRICE_SHEET, 3, "gpus_per_node", "x")(data)
    cell(PRICE_SHEET, 4, "node_power_kw", "inf")(data)
    assert main(["validate", "--data", str(data)]) == 2
    errors = capsys.readouterr().err
    assert f"{PRICE_SHEET}:2: node_capex_usd" in errors
    assert f"{PRICE_SHEET}:3: gpus_per_node" in errors
    assert f"{PRICE_SHEET}:4: node_power_kw" in errors


def test_oversized_file_is_refused(data: Path, capsys, monkeypatch) -> None:
    import pipelines.ingest.files as files

    monkeypatch.setattr(files, "MAX_INPUT_BYTES", 1024)
    assert main(["validate", "--data", str(data)]) == 2
    assert "over the" in capsys.readouterr().err


def test_a_failed_dagster_step_keeps_the_last_snapshot(
    data: Path, good_warehouse: Path, tmp_path: Path
) -> None:
    """Straight through Dagster (no CLI pre-check): no snapshot is made, and what the steps that
    succeeded staged is removed with the run, so the warehouse is as it was."""
    from pipelines.cli.run_job import run_job
    from pipelines.contract.errors import InputError

    warehouse = tmp_path / "warehouse"
    shutil.copytree(good_warehouse, warehouse)
    before = tree_hashes(warehouse)
    cell(PRICE_SHEET, 2, "node_power_kw", "-5")(data)
    with pytest.raises(InputError, match="node_power_kw"):
        run_job("ingest_only", data, warehouse)
    assert tree_hashes(warehouse) == before
