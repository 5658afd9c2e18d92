"""The ingest half end to end: bundled data → validated Parquet through Dagster, and bad inputs refused.

Every bad input must (1) exit 2, (2) name the file and the field in its message, and
(3) leave the warehouse byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from pipelines.cli import main
from pipelines.ingest import SOURCES
from pipelines.schema import TABLES

from conftest import DATASETS

URDB_ENTERGY = "tariffs/entergy_arkansas_LPS_TOU_industrial_5a592c995457a3371c423a7d.json"
PRICE_SHEET = "hardware/price_sheet.csv"


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("warehouse")
    assert main(["ingest", "--data", str(DATASETS), "--warehouse", str(warehouse)]) == 0
    return warehouse


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_every_canonical_table_is_written_with_its_schema(good_warehouse: Path):
    for name, table in TABLES.items():
        frame = pl.read_parquet(good_warehouse / f"{name}.parquet")
        assert dict(frame.schema) == table.schema, name
        assert frame.height > 0, name


def test_bundled_tables_hold_the_source_rows(good_warehouse: Path):
    hardware = pl.read_parquet(good_warehouse / "hardware.parquet")
    assert {"price_sheet.csv", "amd_quote.xlsx"} == {Path(f).name for f in hardware["source_file"]}
    assert hardware.filter(pl.col("node_capex_usd").is_null()).height >= 1  # rented rows
    vendors = set(hardware["vendor"])
    assert {"NVIDIA", "AMD"} <= vendors
    source = pl.read_csv(DATASETS / PRICE_SHEET, infer_schema=False)
    first = source.row(0, named=True)
    row = hardware.filter(pl.col("sku") == first["sku"]).row(0, named=True)
    assert row["node_capex_usd"] == pytest.approx(float(first["node_capex_usd"]))
    assert row["node_power_kw"] == pytest.approx(float(first["node_power_kw"]))
    assert row["cooling_kinds"] == first["cooling_kinds"].split(";")

    tariffs = pl.read_parquet(good_warehouse / "tariffs.parquet")
    assert {"5a592c995457a3371c423a7d", "53ac8daa5257a3406ac32a35", "5cef0a415457a33576f60fe2"} <= set(
        tariffs["tariff_id"])
    scenario = pl.read_parquet(good_warehouse / "scenario.parquet")
    assert scenario["tariff"][0] in set(tariffs["tariff_id"])
    workloads = pl.read_parquet(good_warehouse / "workloads.parquet")
    assert workloads["share"].sum() == pytest.approx(1.0)


def test_validate_prints_one_line_per_table(capsys):
    assert main(["validate", "--data", str(DATASETS)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [t for s in SOURCES for t in s.tables]


def _edit_csv(file: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    """Set one cell (row 2 = first data row, as a spreadsheet counts)."""

    def edit(data: Path) -> None:
        frame = pl.read_csv(data / file, infer_schema=False)
        frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == row - 2).then(pl.lit(value))
                                   .otherwise(pl.col(column)).alias(column))
        frame.write_csv(data / file)

    return edit


def _drop_column(file: str, column: str) -> Callable[[Path], None]:
    def edit(data: Path) -> None:
        pl.read_csv(data / file, infer_schema=False).drop(column).write_csv(data / file)

    return edit


def _edit_json(file: str, change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(data: Path) -> None:
        document = json.loads((data / file).read_text())
        change(document)
        (data / file).write_text(json.dumps(document))

    return edit


def _write(file: str, content: bytes) -> Callable[[Path], None]:
    def edit(data: Path) -> None:
        (data / file).write_bytes(content)

    return edit


def _replace_text(file: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(data: Path) -> None:
        text = (data / file).read_text()
        assert old in text
        (data / file).write_text(text.replace(old, new, 1))

    return edit


def _duplicate_first_row(file: str) -> Callable[[Path], None]:
    def edit(data: Path) -> None:
        frame = pl.read_csv(data / file, infer_schema=False)
        pl.concat([frame, frame.head(1)]).write_csv(data / file)

    return edit


def _xlsx_without_hardware_sheet(data: Path) -> None:
    book = xlsxwriter.Workbook(data / "hardware/amd_quote.xlsx")
    book.add_worksheet("Quote").write_row(0, 0, ["sku", "vendor"])
    book.close()


def _sku_in_two_sheets(data: Path) -> None:
    amd = pl.read_excel(data / "hardware/amd_quote.xlsx", sheet_name="hardware", infer_schema_length=0)
    sheet = pl.read_csv(data / PRICE_SHEET, infer_schema=False)
    pl.concat([sheet, amd.head(1).select(sheet.columns).cast(pl.String)]).write_csv(data / PRICE_SHEET)


def _short_schedule(document: dict) -> None:
    document["energyweekdayschedule"][0] = document["energyweekdayschedule"][0][:23]


def _period_out_of_range(document: dict) -> None:
    document["energyweekdayschedule"][5][12] = 9


def _tiers_out_of_order(document: dict) -> None:
    document["energyratestructure"][0] = [{"rate": 0.05, "max": 1000, "unit": "kWh"},
                                          {"rate": 0.04, "max": 500, "unit": "kWh"},
                                          {"rate": 0.03, "unit": "kWh"}]


BAD_INPUTS = {
    "missing column": (_drop_column(PRICE_SHEET, "node_power_kw"), PRICE_SHEET, "node_power_kw"),
    "wrong type": (_edit_csv(PRICE_SHEET, 3, "gpus_per_node", "eight"), PRICE_SHEET, "gpus_per_node"),
    "negative price": (_edit_csv(PRICE_SHEET, 2, "node_capex_usd", "-400000"), PRICE_SHEET, "node_capex_usd"),
    "duplicate sku": (_duplicate_first_row(PRICE_SHEET), PRICE_SHEET, "sku"),
    "sku in two sheets": (_sku_in_two_sheets, PRICE_SHEET, "sku"),
    "unknown accelerator": (_edit_csv(PRICE_SHEET, 2, "accelerator", "H900"), PRICE_SHEET, "accelerator"),
    "unknown cooling kind": (_edit_csv(PRICE_SHEET, 2, "cooling_kinds", "air;water"), PRICE_SHEET,
                             "cooling_kinds"),
    "empty file": (_write("cooling.csv", b""), "cooling.csv", None),
    "not utf-8": (_write("power.csv", "power_id,name\nac,caf\xe9\n".encode("latin-1")), "power.csv", None),
    "efficiency above 1": (_edit_csv("power.csv", 2, "efficiency", "1.2"), "power.csv", "efficiency"),
    "xlsx without the sheet": (_xlsx_without_hardware_sheet, "hardware/amd_quote.xlsx", None),
    "12x23 schedule": (_edit_json(URDB_ENTERGY, _short_schedule), URDB_ENTERGY, "energyweekdayschedule"),
    "period out of range": (_edit_json(URDB_ENTERGY, _period_out_of_range), URDB_ENTERGY,
                            "energyweekdayschedule"),
    "tiers out of order": (_edit_json(URDB_ENTERGY, _tiers_out_of_order), URDB_ENTERGY, "energyratestructure"),
    "benchmark file not a list": (_write("benchmarks/inferencemax/agg_dsr1_1k1k.json", b'{"hw": "h200"}'),
                                  "benchmarks/inferencemax/agg_dsr1_1k1k.json", None),
    "shares do not sum to 1": (_replace_text("scenario.yaml", "share: 0.5", "share: 0.6"), "scenario.yaml",
                               "share"),
    "unknown tariff": (_replace_text("scenario.yaml", "tariff: eia-2023-virginia", "tariff: no-such-tariff"),
                       "scenario.yaml", "tariff"),
    "scenario field misspelt": (_replace_text("scenario.yaml", "budget_mw:", "budget_mws:"), "scenario.yaml",
                                "budget_mw"),
    "unsafe yaml": (_replace_text("scenario.yaml", "name: default-20mw",
                                  "name: !!python/object/apply:os.system ['true']"), "scenario.yaml", None),
    "unknown workload model": (_replace_text("scenario.yaml", "model: llama2-70b", "model: llama-9000"),
                               "scenario.yaml", "workloads[3].model"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_refused_and_loses_nothing(case, data: Path, good_warehouse: Path, tmp_path: Path, capsys):
    edit, file, field = BAD_INPUTS[case]
    edit(data)
    warehouse = tmp_path / "warehouse"
    shutil.copytree(good_warehouse, warehouse)
    before = snapshot(warehouse)

    assert main(["ingest", "--data", str(data), "--warehouse", str(warehouse)]) == 2
    errors = capsys.readouterr().err
    assert file in errors
    if field is not None:
        assert field in errors
    assert snapshot(warehouse) == before

    assert main(["validate", "--data", str(data)]) == 2


def test_several_problems_in_one_file_are_reported_together(data: Path, capsys):
    _edit_csv(PRICE_SHEET, 2, "node_capex_usd", "-1")(data)
    _edit_csv(PRICE_SHEET, 3, "gpus_per_node", "x")(data)
    _edit_csv(PRICE_SHEET, 4, "accelerator", "Z100")(data)
    assert main(["validate", "--data", str(data)]) == 2
    errors = capsys.readouterr().err
    assert f"{PRICE_SHEET}:2: node_capex_usd" in errors
    assert f"{PRICE_SHEET}:3: gpus_per_node" in errors
    assert f"{PRICE_SHEET}:4: accelerator" in errors


def test_oversized_file_is_refused(data: Path, capsys, monkeypatch):
    import pipelines.readers.files as files

    monkeypatch.setattr(files, "MAX_INPUT_BYTES", 1024)
    assert main(["validate", "--data", str(data)]) == 2
    assert "over the" in capsys.readouterr().err


def test_a_failed_dagster_step_keeps_the_last_good_parquet(data: Path, good_warehouse: Path, tmp_path: Path):
    """Straight through Dagster (no CLI pre-check): the failing asset's Parquet is not replaced."""
    from pipelines.errors import InputError
    from pipelines.run import run_job

    warehouse = tmp_path / "warehouse"
    shutil.copytree(good_warehouse, warehouse)
    before = snapshot(warehouse)
    _edit_csv(PRICE_SHEET, 2, "node_power_kw", "-5")(data)
    with pytest.raises(InputError, match="node_power_kw"):
        run_job("ingest_only", data, warehouse)
    assert snapshot(warehouse)["hardware.parquet"] == before["hardware.parquet"]
