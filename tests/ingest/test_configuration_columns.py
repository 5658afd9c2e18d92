"""The site and market columns: hardware power kinds and rental hosting (CSV and XLSX), the power
design's kind, the scenario's grid connection and availability, and a workload's price, market
cap and `require:` (YAML)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from pipelines.contract.errors import InputError
from pipelines.contract.schema import HARDWARE, POWER, WORKLOADS
from pipelines.ingest.readers.facility import read_power
from pipelines.ingest.readers.hardware import read_price_sheet
from pipelines.ingest.readers.scenario import read_scenario

HARDWARE_HEADER = (
    "sku,vendor,accelerator,gpus_per_node,node_capex_usd,node_power_kw,cooling_kinds,"
    "rental_usd_per_gpu_hour,source"
)
POWER_HEADER = (
    "power_id,name,kind,efficiency,capex_usd_per_kw_it,maintenance_usd_per_kw_year,max_rack_kw\n"
)
SITE = """budget_mw: 20
tariff: flat
wacc: 0.08
it_lifetime_years: 5
facility_lifetime_years: 15
utilization: 0.7
shell_capex_usd_per_kw_it: 5500
"""


def problems_of(error: pytest.ExceptionInfo[InputError]) -> list[tuple]:
    return [(p.file, p.row, p.field, p.message) for p in error.value.problems]


def price_sheet(tmp_path: Path, *rows: str, extra: str = "") -> Path:
    path = tmp_path / "sheet.csv"
    path.write_text("\n".join([HARDWARE_HEADER + extra, *rows]) + "\n")
    return path


def scenario(tmp_path: Path, text: str) -> Path:
    (tmp_path / "scenario.yaml").write_text(text)
    return tmp_path


# --- hardware ----------------------------------------------------------------------------


def test_power_kinds_and_rental_hosting_from_csv(tmp_path: Path) -> None:
    path = price_sheet(
        tmp_path,
        "NVL72,NVIDIA,GB200,72,3500000,132,liquid,,a,ac,",
        "HGX,NVIDIA,H200,8,440000,10.2,air,,b,,",
        "Cloud H100,Cloud,H100,8,,,,2.5,c,,",
        "Colo B200,Colo,B200,8,,14.3,air;liquid,4.5,d,dc;ac,on_site",
        extra=",power_kinds,rental_hosting",
    )
    frame = read_price_sheet(path, "hardware/sheet.csv")
    assert frame.select("sku", "power_kinds", "rental_hosting").rows() == [
        ("NVL72", ["ac"], "remote"),
        ("HGX", ["ac", "dc"], "remote"),
        ("Cloud H100", ["ac", "dc"], "remote"),
        ("Colo B200", ["dc", "ac"], "on_site"),
    ]


def test_without_the_columns_the_defaults_apply(tmp_path: Path) -> None:
    path = price_sheet(tmp_path, "HGX,NVIDIA,H200,8,440000,10.2,air,,b")
    row = read_price_sheet(path, "hardware/sheet.csv").row(0, named=True)
    assert (row["power_kinds"], row["rental_hosting"]) == (["ac", "dc"], "remote")
    assert HARDWARE.column("power_kinds").default == ["ac", "dc"]


def test_hosting_and_power_kind_problems_name_row_and_field(tmp_path: Path) -> None:
    path = price_sheet(
        tmp_path,
        "HGX,NVIDIA,H200,8,440000,10.2,air,,owned on site,,on_site",
        "Colo B200,Colo,B200,8,,,air,4.5,no power,,on_site",
        "Colo H100,Colo,H100,8,,10.2,,2.5,no cooling,,on_site",
        "HGX2,NVIDIA,H200,8,440000,10.2,air,,bad kind,ac;hvdc,",
        "Cloud,Cloud,H100,8,,,,2.5,bad hosting,,cloud",
        "HGX3,NVIDIA,H200,8,440000,10.2,air,,no kind,;,",
        extra=",power_kinds,rental_hosting",
    )
    with pytest.raises(InputError) as error:
        read_price_sheet(path, "hardware/sheet.csv")
    found = problems_of(error)
    assert [p[1:3] for p in found] == [
        (2, "rental_hosting"),
        (3, "node_power_kw"),
        (4, "cooling_kinds"),
        (5, "power_kinds"),
        (6, "rental_hosting"),
        (7, "power_kinds"),
    ]
    messages = [p[3] for p in found]
    assert messages[0].startswith("on_site is for rented rows")
    assert messages[1] == "missing value (a system hosted on site draws site power)"
    assert messages[2] == "a system hosted on site needs at least one cooling kind"
    assert messages[3] == "'hvdc' is not one of ac, dc"
    assert messages[4] == "'cloud' is not one of remote, on_site"
    assert messages[5] == "a bought system needs at least one power kind"


def test_power_kinds_and_rental_hosting_from_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "quote.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("hardware")
    sheet.write_row(0, 0, [*HARDWARE_HEADER.split(","), "power_kinds", "rental_hosting"])
    sheet.write_row(1, 0, ["MI355X", "AMD", "MI355X", 8, 300000, 14, "liquid", None, "q", "dc"])
    sheet.write_row(
        2, 0, ["MI300X hosted", "Colo", "MI300X", 8, None, 10, "air", 2.0, "q", "", "on_site"]
    )
    book.close()
    frame = read_price_sheet(path, "hardware/quote.xlsx")
    assert frame.select("power_kinds", "rental_hosting").rows() == [
        (["dc"], "remote"),
        (["ac", "dc"], "on_site"),
    ]


# --- power designs -----------------------------------------------------------------------


def test_power_kind_is_read(tmp_path: Path) -> None:
    (tmp_path / "power.csv").write_text(
        POWER_HEADER + "ac415,415 VAC,ac,0.91,3721,75,150\ndc800,800 VDC,dc,0.955,3386,22.5,1000\n"
    )
    frame = read_power(tmp_path)
    assert frame.schema == pl.Schema(POWER.schema)
    assert frame.select("power_id", "kind").rows() == [("ac415", "ac"), ("dc800", "dc")]


def test_power_kind_is_required_and_ac_or_dc(tmp_path: Path) -> None:
    (tmp_path / "power.csv").write_text(
        "power_id,name,efficiency,capex_usd_per_kw_it,maintenance_usd_per_kw_year,max_rack_kw\n"
        "ac415,415 VAC,0.91,3721,75,150\n"
    )
    with pytest.raises(InputError) as error:
        read_power(tmp_path)
    assert problems_of(error) == [("power.csv", None, "kind", "required column is missing")]
    (tmp_path / "power.csv").write_text(
        POWER_HEADER + "ac415,415 VAC,AC,0.91,3721,75,150\nx,x,,0.9,1,1,1\n"
    )
    with pytest.raises(InputError) as error:
        read_power(tmp_path)
    assert problems_of(error) == [
        ("power.csv", 2, "kind", "'AC' is not one of ac, dc"),
        ("power.csv", 3, "kind", "missing value"),
    ]


# --- scenario ----------------------------------------------------------------------------


def test_grid_connection_and_availability(tmp_path: Path) -> None:
    workloads = "workloads:\n  - {name: chat, model: deepseek-r1, share: 1}\n"
    defaults = read_scenario(scenario(tmp_path, SITE + workloads)).scenario.row(0, named=True)
    assert (defaults["grid_connection_capex_usd_per_kw"], defaults["availability"]) == (0.0, 1.0)
    given = SITE + "grid_connection_capex_usd_per_kw: 350\navailability: 0.97\n" + workloads
    row = read_scenario(scenario(tmp_path, given)).scenario.row(0, named=True)
    assert (row["grid_connection_capex_usd_per_kw"], row["availability"]) == (350.0, 0.97)


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("availability: 0", "availability", "0 is out of range (must be > 0 and <= 1"),
        ("availability: 97", "availability", "97 is out of range (must be > 0 and <= 1"),
        (
            "grid_connection_capex_usd_per_kw: 350000",
            "grid_connection_capex_usd_per_kw",
            "350000 is out of range (must be >= 0 and <= 20,000",
        ),
    ],
)
def test_grid_connection_and_availability_ranges(
    tmp_path: Path, line: str, field: str, message: str
) -> None:
    text = SITE + line + "\nworkloads:\n  - {name: chat, model: deepseek-r1, share: 1}\n"
    with pytest.raises(InputError) as error:
        read_scenario(scenario(tmp_path, text))
    [(file, _, named, said)] = problems_of(error)
    assert (file, named) == ("scenario.yaml", field)
    assert said.startswith(message)


# --- workloads ---------------------------------------------------------------------------


def test_price_and_market_cap_make_a_max_profit_workload(tmp_path: Path) -> None:
    text = SITE + (
        "workloads:\n"
        "  - {name: chat, model: deepseek-r1, price_usd_per_million_tokens: 2.5,\n"
        "     max_tokens_per_s: 150000}\n"
        "  - {name: batch, model: deepseek-r1, price_usd_per_million_tokens: 0.8}\n"
    )
    workloads = read_scenario(scenario(tmp_path, text)).workloads
    assert workloads.select("price_usd_per_million_tokens", "max_tokens_per_s").rows() == [
        (2.5, 150000.0),
        (0.8, None),
    ]


def test_a_workload_needs_a_share_a_demand_or_a_price(tmp_path: Path) -> None:
    text = SITE + "workloads:\n  - {name: chat, model: deepseek-r1, max_tokens_per_s: 10}\n"
    with pytest.raises(InputError) as error:
        read_scenario(scenario(tmp_path, text))
    [(_, _, field, message)] = problems_of(error)
    assert field == "workloads[1].share"
    assert "price_usd_per_million_tokens (max-profit)" in message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("max_tokens_per_s: 0", "0 is out of range (must be > 0 and <= 1e+10"),
        ("price_usd_per_million_tokens: -1", "-1 is out of range (must be >= 0 and <= 10,000"),
        ("price_usd_per_million_tokens: 25000", "25000 is out of range"),
    ],
)
def test_price_and_market_cap_ranges(tmp_path: Path, value: str, message: str) -> None:
    text = SITE + f"workloads:\n  - {{name: chat, model: deepseek-r1, share: 1, {value}}}\n"
    with pytest.raises(InputError) as error:
        read_scenario(scenario(tmp_path, text))
    [(_, _, field, said)] = problems_of(error)
    assert field == f"workloads[1].{value.split(':')[0]}"
    assert said.startswith(message)


def test_require_becomes_lists_of_lower_case_text(tmp_path: Path) -> None:
    text = SITE + (
        "workloads:\n"
        "  - name: chat\n"
        "    model: deepseek-r1\n"
        "    share: 0.5\n"
        "    require: {precision: [FP8], spec_decoding: [none],\n"
        "              framework: [SGLang, dynamo-sglang],\n"
        "              disaggregated: [false], kv_offload: [false]}\n"
        "  - name: batch\n"
        "    model: deepseek-r1\n"
        "    share: 0.5\n"
        "    require: {precision: fp4, disaggregated: yes, kv_offload: [true, 'False']}\n"
    )
    workloads = read_scenario(scenario(tmp_path, text)).workloads
    columns = [c.name for c in WORKLOADS.columns if c.name.startswith("require_")]
    assert columns == [
        "require_framework",
        "require_precision",
        "require_spec_decoding",
        "require_disaggregated",
        "require_kv_offload",
    ]
    assert workloads.select(columns).rows() == [
        (["sglang", "dynamo-sglang"], ["fp8"], ["none"], ["false"], ["false"]),
        (None, ["fp4"], None, ["true"], ["true", "false"]),
    ]
    assert workloads.schema["require_precision"] == pl.List(pl.String)


def test_without_require_every_configuration_is_allowed(tmp_path: Path) -> None:
    text = SITE + "workloads:\n  - {name: chat, model: deepseek-r1, share: 1}\n"
    row = read_scenario(scenario(tmp_path, text)).workloads.row(0, named=True)
    assert all(row[c] is None for c in row if c.startswith("require_")), row


@pytest.mark.parametrize(
    ("require", "field", "message"),
    [
        ("{quantization: [fp8]}", "require.quantization", "unknown requirement (known: framework"),
        ("{precision: {fp8: 1}}", "require.precision", "expected a value or a list of values"),
        ("{precision: [[fp8]]}", "require.precision", "expected a value or a list of values"),
        ("{precision: []}", "require.precision", "expected allowed values"),
        ("{precision: null}", "require.precision", "expected allowed values"),
        ("{precision: ''}", "require.precision", "expected a value or a list of values"),
        ("{framework: 'a;b'}", "require.framework", "a value holds no ';'"),
        (
            "{disaggregated: [maybe]}",
            "require.disaggregated",
            "expected true or false, got 'maybe'",
        ),
        ("{kv_offload: fp8}", "require.kv_offload", "expected true or false, got 'fp8'"),
        ("[fp8]", "require", "expected a mapping of framework, precision"),
    ],
)
def test_require_problems_name_the_key(
    tmp_path: Path, require: str, field: str, message: str
) -> None:
    text = SITE + (
        "workloads:\n"
        "  - {name: chat, model: deepseek-r1, share: 0.5}\n"
        f"  - {{name: batch, model: deepseek-r1, share: 0.5, require: {require}}}\n"
    )
    with pytest.raises(InputError) as error:
        read_scenario(scenario(tmp_path, text))
    [(file, row, named, said)] = problems_of(error)
    assert (file, row, named) == ("scenario.yaml", None, f"workloads[2].{field}")
    assert said.startswith(message), said


def test_require_columns_are_not_yaml_fields(tmp_path: Path) -> None:
    text = (
        SITE
        + "workloads:\n  - {name: chat, model: deepseek-r1, share: 1, require_precision: fp8}\n"
    )
    with pytest.raises(InputError) as error:
        read_scenario(scenario(tmp_path, text))
    [(_, _, field, message)] = problems_of(error)
    assert field == "workloads[1].require_precision"
    assert message.startswith("unknown field") and "require," in message
