"""The ingest half end to end: bundled data → validated Parquet through Dagster, and bad inputs
refused.

Every bad input must (1) exit 2, (2) name the file and the field in its message, and
(3) leave the warehouse byte for byte as it was.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import DATASETS

from pipelines.cli.main import main
from pipelines.contract.schema import TABLES
from pipelines.ingest.sources import SOURCES
from pipelines.warehouse.snapshots import current_tables

URDB_ENTERGY = "tariffs/entergy_arkansas_LPS_TOU_industrial_5a592c995457a3371c423a7d.json"
PRICE_SHEET = "hardware/price_sheet.csv"


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("warehouse")
    assert main(["ingest", "--data", str(DATASETS), "--warehouse", str(warehouse)]) == 0
    return warehouse


def test_every_canonical_table_is_written_with_its_schema(good_warehouse: Path):
    snapshot_id, tables = current_tables(good_warehouse)
    assert snapshot_id is not None and set(tables) == set(TABLES)
    optional = {t for s in SOURCES if s.optional and not s.files(DATASETS) for t in s.tables}
    for name, table in TABLES.items():
        frame = tables[name]
        assert dict(frame.schema) == table.schema, name
        assert (frame.height == 0) if name in optional else (frame.height > 0), name


def test_bundled_tables_hold_the_source_rows(good_warehouse: Path):
    tables = current_tables(good_warehouse)[1]
    hardware = tables["hardware"]
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

    tariffs = tables["tariffs"]
    assert {
        "5a592c995457a3371c423a7d",
        "53ac8daa5257a3406ac32a35",
        "5cef0a415457a33576f60fe2",
    } <= set(tariffs["tariff_id"])
    scenario = tables["scenario"]
    assert scenario["tariff"][0] in set(tariffs["tariff_id"])
    workloads = tables["workloads"]
    assert workloads["share"].sum() == pytest.approx(1.0)


def test_validate_prints_one_line_per_table(capsys):
    assert main(["validate", "--data", str(DATASETS)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [t for s in SOURCES for t in s.tables]


def test_every_reader_source_is_read_after_its_upstream():
    """Each `Source` a reader module declares is in `SOURCES` once, after the sources of its
    upstream tables, and its patterns find the bundled files its tables were read from."""
    import importlib
    import pkgutil

    import pipelines.ingest.readers
    from pipelines.ingest.source import Source

    modules = [
        importlib.import_module(f"pipelines.ingest.readers.{info.name}")
        for info in pkgutil.iter_modules(pipelines.ingest.readers.__path__)
    ]
    declared = [
        value for module in modules for value in vars(module).values() if isinstance(value, Source)
    ]
    assert sorted(s.name for s in declared) == sorted(s.name for s in SOURCES)
    assert all(any(s is d for d in declared) for s in SOURCES)
    read: set[str] = set()
    for source in SOURCES:
        assert set(source.upstream) <= read, source.name
        assert source.files(DATASETS) or source.optional, source.name
        read |= set(source.tables)
    assert read == set(TABLES)


def test_an_optional_source_without_files_gives_empty_tables(tmp_path: Path):
    """`benchmarks/derived.csv`, `fleet.csv` and `scenarios/` may be absent; ingest then writes
    empty, typed tables."""
    optional = [s for s in SOURCES if s.optional]
    assert [s.name for s in optional] == ["benchmark_derivations", "fleet", "scenarios"]
    for source in optional:
        assert source.files(tmp_path) == []
        tables = source.read(tmp_path, {})
        assert set(tables) == set(source.tables)
        for name, frame in tables.items():
            assert frame.height == 0 and dict(frame.schema) == TABLES[name].schema
