"""The inputs of multi-year plans: scenario.yaml `horizon`, per-year workload demand, the
hardware columns of availability and price decline, and `fleet.csv`, read into the canonical
tables and into `PlanInputs`; every bad one refused with one problem naming its file, row or
field."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import yaml

from optimizer.design import plan_inputs
from optimizer.inputs import Horizon, InstalledNodes
from pipelines.cli.main import main
from pipelines.contract.errors import InputError
from pipelines.contract.schema import FLEET, HARDWARE, SCENARIO, WORKLOADS
from pipelines.ingest.sources import SOURCES, read_inputs

SCENARIO_FILE = "scenario.yaml"
PRICE_SHEET = "hardware/price_sheet.csv"
FLEET_FILE = "fleet.csv"
FLEET_HEADER = "sku,cooling_id,power_id,nodes,installed_year\n"
H100, GB200, B200, GB300 = "HGX H100 8-GPU", "GB200 NVL72", "HGX B200 8-GPU", "GB300 NVL72"
RENTED = "H200 3-yr rental"
HORIZON = {"start_year": 2026, "years": 3}
HORIZON_COLUMNS = [c.name for c in SCENARIO.columns if c.name.startswith("horizon_")]
MULTI_YEAR_HARDWARE = ["available_from_year", "available_until_year", "capex_decline_pct_per_year"]
"""Hardware columns of multi-year plans (the bundled sheet has them; `data` clears them)."""

Edit = Callable[[Path], None]


# --- edits of a copy of the bundled data ---------------------------------------------------


@pytest.fixture
def data(data: Path) -> Path:
    """The bundled input folder as a one-year site: no horizon, no installed fleet, no purchase
    windows or capex declines; each test adds its own."""
    document = yaml.safe_load((data / SCENARIO_FILE).read_text())
    document.pop("horizon", None)
    (data / SCENARIO_FILE).write_text(yaml.safe_dump(document, sort_keys=False))
    (data / "fleet.csv").unlink(missing_ok=True)
    shutil.rmtree(data / "scenarios")  # its futures are of the bundled horizon
    sheet = data / "hardware" / "price_sheet.csv"
    with sheet.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row.update(dict.fromkeys(set(MULTI_YEAR_HARDWARE) & row.keys(), ""))
    with sheet.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return data


def scenario(change: Callable[[dict], None]) -> Edit:
    """Change the parsed scenario.yaml."""

    def edit(data: Path) -> None:
        document = yaml.safe_load((data / SCENARIO_FILE).read_text())
        change(document)
        (data / SCENARIO_FILE).write_text(yaml.safe_dump(document, sort_keys=False))

    return edit


def horizon(**fields: object) -> Edit:
    """A horizon of 2026-2028 with `fields` added or replaced (None: left out)."""

    def change(document: dict) -> None:
        document["horizon"] = {k: v for k, v in ({**HORIZON, **fields}).items() if v is not None}

    return scenario(change)


def workload(index: int, key: str, value: object) -> Edit:
    def change(document: dict) -> None:
        document["workloads"][index - 1][key] = value

    return scenario(change)


def top_level(key: str, value: object) -> Edit:
    def change(document: dict) -> None:
        document[key] = value

    return scenario(change)


def hardware(sku: str, column: str, value: str) -> Edit:
    """Set one cell of the price sheet's row `sku` (a column it lacks is added, empty)."""

    def edit(data: Path) -> None:
        frame = pl.read_csv(data / PRICE_SHEET, infer_schema=False)
        assert sku in frame["sku"].to_list(), sku
        current = pl.col(column) if column in frame.columns else pl.lit(None, pl.String)
        frame.with_columns(
            pl.when(pl.col("sku") == sku).then(pl.lit(value)).otherwise(current).alias(column)
        ).write_csv(data / PRICE_SHEET)

    return edit


def fleet(*rows: str) -> Edit:
    def edit(data: Path) -> None:
        (data / FLEET_FILE).write_text(FLEET_HEADER + "".join(f"{row}\n" for row in rows))

    return edit


def fleet_text(text: str) -> Edit:
    def edit(data: Path) -> None:
        (data / FLEET_FILE).write_text(text)

    return edit


def each(*edits: Edit) -> Edit:
    def edit(data: Path) -> None:
        for one in edits:
            one(data)

    return edit


def price_sheet_row(data: Path, sku: str) -> int:
    """The row of `sku` on the price sheet as a spreadsheet numbers it (header = row 1)."""
    return pl.read_csv(data / PRICE_SHEET, infer_schema=False)["sku"].to_list().index(sku) + 2


# --- a valid multi-year input folder ------------------------------------------------------

VALID = each(
    horizon(
        budget_mw=[20, 30, 40],
        demand_tokens_per_s=[1.0e6, 2.0e6, 3.0e6],
        energy_price_escalation_pct_per_year=2.5,
    ),
    workload(1, "demand_tokens_per_s", [1.0e5, 2.0e5, 4.0e5]),
    hardware(H100, "available_until_year", "2027"),
    hardware(GB300, "available_from_year", "2027"),
    hardware(B200, "capex_decline_pct_per_year", "15"),
    fleet(
        f"{H100},air,ac415,40,2024",
        f"{GB200},dlc,ac415,4,2025",
        f"{H100},air,ac415,10,2021",  # 2021 + 5 years <= 2026: past its lifetime at the start
    ),
)


def test_a_multi_year_folder_reads_into_the_canonical_tables(data: Path) -> None:
    VALID(data)
    tables = read_inputs(data)
    assert tables["scenario"].select(HORIZON_COLUMNS).row(0) == (
        2026,
        3,
        [20.0, 30.0, 40.0],
        [1.0e6, 2.0e6, 3.0e6],
        2.5,
    )
    chat = tables["workloads"].row(0, named=True)
    assert chat["demand_by_year"] == [1.0e5, 2.0e5, 4.0e5]
    assert chat["demand_tokens_per_s"] == 1.0e5  # the first year's: one-year code reads it
    assert tables["workloads"]["demand_by_year"].null_count() == tables["workloads"].height - 1
    by_sku = {row["sku"]: row for row in tables["hardware"].iter_rows(named=True)}
    assert by_sku[H100]["available_until_year"] == 2027
    assert by_sku[GB300]["available_from_year"] == 2027
    assert by_sku[B200]["capex_decline_pct_per_year"] == 15.0
    assert by_sku[GB200]["capex_decline_pct_per_year"] is None
    assert tables["fleet"].schema == pl.Schema(FLEET.schema)
    assert tables["fleet"].drop("source_file").rows() == [
        (H100, "air", "ac415", 40, 2024),
        (GB200, "dlc", "ac415", 4, 2025),
        (H100, "air", "ac415", 10, 2021),
    ]
    assert set(tables["fleet"]["source_file"]) == {FLEET_FILE}


def test_a_multi_year_folder_reads_into_plan_inputs(data: Path) -> None:
    VALID(data)
    inputs = plan_inputs(read_inputs(data))
    assert inputs.horizon == Horizon(
        start_year=2026,
        years=3,
        budget_mw=(20.0, 30.0, 40.0),
        demand_tokens_per_s=(1.0e6, 2.0e6, 3.0e6),
        energy_escalation_pct_per_year=2.5,
    )
    assert inputs.fleet == (
        InstalledNodes(H100, "air", "ac415", 40, 2024),
        InstalledNodes(GB200, "dlc", "ac415", 4, 2025),
    )
    assert (
        f"fleet: 10 nodes of {H100} installed in 2021: past its 5-year lifetime by the start year "
        "2026; left out"
    ) in inputs.notes
    systems = {s.sku: s for s in inputs.systems}
    assert (systems[H100].available_from_year, systems[H100].available_until_year) == (None, 2027)
    assert (systems[GB300].available_from_year, systems[GB300].available_until_year) == (2027, None)
    assert systems[B200].capex_decline_pct_per_year == 15.0
    assert systems[GB200].capex_decline_pct_per_year == 0.0
    chat, *others = inputs.workloads
    assert chat.demand_by_year == (1.0e5, 2.0e5, 4.0e5) and chat.demand_tokens_per_s == 1.0e5
    assert all(w.demand_by_year is None for w in others)


def test_one_budget_for_every_year_and_none_at_all(data: Path) -> None:
    """A number is that budget every year; without one every year has the scenario's budget_mw,
    or the one a run asks for."""
    horizon(budget_mw=25, demand_tokens_per_s=5.0e5)(data)
    tables = read_inputs(data)
    assert tables["scenario"]["horizon_budget_mw"].to_list() == [[25.0, 25.0, 25.0]]
    inputs = plan_inputs(tables, budget_mw=50)
    assert inputs.horizon is not None
    assert inputs.horizon.budget_mw == (25.0, 25.0, 25.0)  # stated per year: kept
    assert inputs.horizon.demand_tokens_per_s == (5.0e5,) * 3
    assert inputs.horizon.energy_escalation_pct_per_year == 0.0

    horizon()(data)
    tables = read_inputs(data)
    assert tables["scenario"]["horizon_budget_mw"].to_list() == [None]
    budget = tables["scenario"]["budget_mw"][0]
    default = plan_inputs(tables).horizon
    assert default is not None and default.budget_mw == (budget,) * 3
    assert default.demand_tokens_per_s is None
    overridden = plan_inputs(tables, budget_mw=50).horizon
    assert overridden is not None and overridden.budget_mw == (50.0,) * 3


def test_without_a_horizon_the_plan_is_one_year_as_before(data: Path) -> None:
    tables = read_inputs(data)
    assert tables["scenario"].select(HORIZON_COLUMNS).row(0) == (None,) * len(HORIZON_COLUMNS)
    assert tables["workloads"]["demand_by_year"].null_count() == tables["workloads"].height
    assert tables["hardware"].select(MULTI_YEAR_HARDWARE).null_count().row(0) == (
        tables["hardware"].height,
    ) * len(MULTI_YEAR_HARDWARE)
    assert tables["fleet"].height == 0 and tables["fleet"].schema == pl.Schema(FLEET.schema)
    inputs = plan_inputs(tables)
    assert inputs.horizon is None and inputs.fleet == ()
    assert all(
        (s.available_from_year, s.available_until_year, s.capex_decline_pct_per_year)
        == (None, None, 0.0)
        for s in inputs.systems
    )
    assert all(w.demand_by_year is None for w in inputs.workloads)
    assert not [n for n in inputs.notes if n.startswith("fleet")]


def test_the_fleet_is_an_optional_source_read_after_what_it_names() -> None:
    [source] = [s for s in SOURCES if "fleet" in s.tables]
    assert source.optional and source.patterns == (FLEET_FILE,)
    names = [s.name for s in SOURCES]
    for upstream in ("hardware", "cooling", "power", "scenario"):
        assert upstream in source.upstream
        assert names.index(upstream) < names.index(source.name)


def test_validate_lists_the_fleet_and_refuses_a_bad_one(data: Path, capsys) -> None:
    VALID(data)
    assert main(["validate", "--data", str(data)]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("fleet")]
    assert line.split()[1:] == ["3", "rows", FLEET_FILE]
    fleet(f"{H100},air,ac415,0,2024")(data)
    assert main(["validate", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert "fleet.csv:2: nodes: 0 is out of range" in err and "Traceback" not in err


# --- bad inputs: each one problem, naming its file, row or field --------------------------

H = horizon()
"""A valid horizon the fleet cases need (2026-2028)."""

BAD: dict[str, tuple[Edit, str, int | str | None, str | None, str]] = {
    # case: (edit, file, row (a sku: its price-sheet row), field, what the message says)
    "horizon budget of the wrong length": (
        horizon(years=5, budget_mw=[20, 30, 40]),
        SCENARIO_FILE,
        None,
        "horizon.budget_mw",
        "has 3 values, horizon.years is 5",
    ),
    "horizon demand of the wrong length": (
        horizon(demand_tokens_per_s=[1, 2]),
        SCENARIO_FILE,
        None,
        "horizon.demand_tokens_per_s",
        "has 2 values, horizon.years is 3",
    ),
    "horizon budget empty list": (
        horizon(budget_mw=[]),
        SCENARIO_FILE,
        None,
        "horizon.budget_mw",
        "has 0 values, horizon.years is 3",
    ),
    "horizon budget out of range": (
        horizon(budget_mw=[20, 20_000, 30]),
        SCENARIO_FILE,
        None,
        "horizon.budget_mw",
        "20000 is out of range (must be > 0 and <= 10,000",
    ),
    "horizon budget not a number": (
        horizon(budget_mw=[20, "lots", 30]),
        SCENARIO_FILE,
        None,
        "horizon.budget_mw",
        "expected finite numbers, got 'lots'",
    ),
    "horizon budget a mapping": (
        horizon(budget_mw={"2026": 20}),
        SCENARIO_FILE,
        None,
        "horizon.budget_mw",
        "expected a number or a list of numbers, got ",
    ),
    "horizon negative demand": (
        horizon(demand_tokens_per_s=[1, -2, 3]),
        SCENARIO_FILE,
        None,
        "horizon.demand_tokens_per_s",
        "-2 is out of range (must be >= 0",
    ),
    "start year out of range": (
        horizon(start_year=1999),
        SCENARIO_FILE,
        None,
        "horizon.start_year",
        "1999 is out of range (must be >= 2,000 and <= 2,100",
    ),
    "start year not a whole number": (
        horizon(start_year=2026.5),
        SCENARIO_FILE,
        None,
        "horizon.start_year",
        "expected a whole number, got '2026.5'",
    ),
    "zero years": (
        horizon(years=0),
        SCENARIO_FILE,
        None,
        "horizon.years",
        "0 is out of range (must be >= 1 and <= 30",
    ),
    "years missing": (
        horizon(years=None),
        SCENARIO_FILE,
        None,
        "horizon.years",
        "missing value (a horizon needs start_year and years)",
    ),
    "escalation out of range": (
        horizon(energy_price_escalation_pct_per_year=150),
        SCENARIO_FILE,
        None,
        "horizon.energy_price_escalation_pct_per_year",
        "150 is out of range (must be >= -50 and <= 100",
    ),
    "unknown horizon field": (
        horizon(budget=20),
        SCENARIO_FILE,
        None,
        "horizon.budget",
        "unknown field (known: start_year, years, budget_mw",
    ),
    "horizon not a mapping": (
        top_level("horizon", 2026),
        SCENARIO_FILE,
        None,
        "horizon",
        "expected a mapping of start_year, years",
    ),
    "horizon column at the top level": (
        top_level("horizon_start_year", 2026),
        SCENARIO_FILE,
        None,
        "horizon_start_year",
        "unknown field",
    ),
    "workload demand of the wrong length": (
        each(H, workload(1, "demand_tokens_per_s", [1.0e5, 2.0e5])),
        SCENARIO_FILE,
        None,
        "workloads[1].demand_tokens_per_s",
        "has 2 values, horizon.years is 3",
    ),
    "workload demand per year without a horizon": (
        workload(2, "demand_tokens_per_s", [1.0e5, 2.0e5, 3.0e5]),
        SCENARIO_FILE,
        None,
        "workloads[2].demand_tokens_per_s",
        "a list of demands per year needs a horizon in scenario.yaml",
    ),
    "workload demand per year out of range": (
        each(H, workload(1, "demand_tokens_per_s", [1.0e5, 2.0e11, 3.0e5])),
        SCENARIO_FILE,
        None,
        "workloads[1].demand_tokens_per_s",
        "2e+11 is out of range (must be >= 0 and <= 1e+10",
    ),
    "demand_by_year written as a workload field": (
        workload(1, "demand_by_year", [1.0e5]),
        SCENARIO_FILE,
        None,
        "workloads[1].demand_by_year",
        "unknown field",
    ),
    "available from after until": (
        each(
            hardware(H100, "available_from_year", "2028"),
            hardware(H100, "available_until_year", "2027"),
        ),
        PRICE_SHEET,
        H100,
        "available_from_year",
        "available from 2028, after available_until_year 2027",
    ),
    "available from a year out of range": (
        hardware(H100, "available_from_year", "1990"),
        PRICE_SHEET,
        H100,
        "available_from_year",
        "1990 is out of range (must be >= 2,000 and <= 2,100",
    ),
    "price decline on a rented row": (
        hardware(RENTED, "capex_decline_pct_per_year", "10"),
        PRICE_SHEET,
        RENTED,
        "capex_decline_pct_per_year",
        "a rented row (no node_capex_usd) has no price to decline",
    ),
    "price decline of 95% a year": (
        hardware(B200, "capex_decline_pct_per_year", "95"),
        PRICE_SHEET,
        B200,
        "capex_decline_pct_per_year",
        "95 is out of range (must be >= 0 and <= 90",
    ),
    "fleet without a horizon": (
        fleet(f"{H100},air,ac415,40,2024"),
        FLEET_FILE,
        None,
        None,
        "an installed fleet needs a horizon in scenario.yaml",
    ),
    "fleet sku unknown": (
        each(H, fleet("HGX H900 8-GPU,air,ac415,40,2024")),
        FLEET_FILE,
        2,
        "sku",
        "sku 'HGX H900 8-GPU' is not in hardware/ (bought systems: ",
    ),
    "fleet sku rented": (
        each(H, fleet(f"{RENTED},air,ac415,40,2024")),
        FLEET_FILE,
        2,
        "sku",
        f"sku '{RENTED}' is rented (no node_capex_usd in {PRICE_SHEET})",
    ),
    "fleet cooling the system does not support": (
        each(H, fleet(f"{H100},air,ac415,40,2024", f"{GB200},air,ac415,4,2025")),
        FLEET_FILE,
        3,
        "cooling_id",
        f"cooling 'air' is air, which '{GB200}' does not support (its cooling_kinds: liquid)",
    ),
    "fleet cooling unknown": (
        each(H, fleet(f"{H100},chilled-water,ac415,40,2024")),
        FLEET_FILE,
        2,
        "cooling_id",
        "cooling_id 'chilled-water' is not in cooling.csv (known: air, dlc, immersion)",
    ),
    "fleet cooling empty": (
        each(H, fleet(f"{H100},,ac415,40,2024")),
        FLEET_FILE,
        2,
        "cooling_id",
        "missing value",
    ),
    "fleet power the system does not take": (
        each(H, fleet(f"{H100},air,dc800,40,2024")),
        FLEET_FILE,
        2,
        "power_id",
        f"power design 'dc800' is dc, which '{H100}' does not take (its power_kinds: ac)",
    ),
    "fleet power unknown": (
        each(H, fleet(f"{H100},air,hvdc,40,2024")),
        FLEET_FILE,
        2,
        "power_id",
        "power_id 'hvdc' is not in power.csv (known: ac415, dc800)",
    ),
    "fleet of no nodes": (
        each(H, fleet(f"{H100},air,ac415,0,2024")),
        FLEET_FILE,
        2,
        "nodes",
        "0 is out of range (must be >= 1 and <= 1,000,000",
    ),
    "fleet of half a node": (
        each(H, fleet(f"{H100},air,ac415,2.5,2024")),
        FLEET_FILE,
        2,
        "nodes",
        "expected a whole number, got '2.5'",
    ),
    "fleet installed after the start": (
        each(H, fleet(f"{H100},air,ac415,40,2027")),
        FLEET_FILE,
        2,
        "installed_year",
        "installed in 2027, after the horizon's start_year 2026",
    ),
    "fleet installed year empty": (
        each(H, fleet(f"{H100},air,ac415,40,")),
        FLEET_FILE,
        2,
        "installed_year",
        "missing value",
    ),
    "fleet row twice": (
        each(H, fleet(f"{H100},air,ac415,40,2024", f"{H100},air,ac415,8,2024")),
        FLEET_FILE,
        3,
        "sku",
        f"duplicate sku/cooling_id/power_id/installed_year '{H100}, air, ac415, 2024' (first on "
        "row 2)",
    ),
    "fleet missing a column": (
        each(H, fleet_text(f"sku,cooling_id,nodes,installed_year\n{H100},air,40,2024\n")),
        FLEET_FILE,
        None,
        "power_id",
        "required column is missing",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=BAD)
def test_a_bad_multi_year_input_is_one_clear_problem(data: Path, case: str) -> None:
    edit, file, row, field, message = BAD[case]
    edit(data)
    with pytest.raises(InputError) as error:
        read_inputs(data)
    [problem] = error.value.problems
    line = price_sheet_row(data, row) if isinstance(row, str) else row
    assert (problem.file, problem.row, problem.field) == (file, line, field)
    assert message in problem.message, problem.message


def test_every_new_column_is_in_the_contract() -> None:
    """The columns multi-year plans read are canonical: typed, bounded and documented."""
    assert {"horizon_start_year", "horizon_years", "horizon_budget_mw"} <= set(HORIZON_COLUMNS)
    assert "demand_by_year" in WORKLOADS.schema
    assert set(MULTI_YEAR_HARDWARE) <= set(HARDWARE.schema)
    for table, name in [(SCENARIO, c) for c in HORIZON_COLUMNS] + [
        (WORKLOADS, "demand_by_year"),
        *((HARDWARE, c) for c in MULTI_YEAR_HARDWARE),
    ]:
        column = table.column(name)
        assert not column.required and column.nullable, name
        if column.dtype != pl.String():
            assert column.min is not None and column.max is not None and column.why, name
