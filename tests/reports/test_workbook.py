"""The XLSX workbook a finance analyst can audit: LibreOffice recalculates its formulas and gets
the plan's numbers; the values cached in the file are the same; Excel tables with totals, real
dates, number formats; a plan made before assumptions were recorded is values only.

LibreOffice must be installed (`apt-get install -y --no-install-recommends libreoffice-calc`;
`.ci/run` installs it): the recalculation tests fail without it, they are not skipped.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import DATASETS, REPO

from optimizer.design import plan_inputs
from optimizer.economics import crf
from optimizer.inputs import PlanInputs, SolverOptions
from optimizer.plan import plan_document
from optimizer.solve import solve
from pipelines.ingest.sources import read_inputs
from pipelines.planning.make_plan import make_plan
from pipelines.reports.exports import export_plan
from pipelines.reports.workbook import SHEETS, VALUES_ONLY_NOTE, write_workbook
from pipelines.warehouse.history import stamp

OLD_PLAN = REPO / "tests" / "reports" / "old_plan.json"
REL = 1e-9

RECALCULATE_ON_LOAD = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
"""A LibreOffice profile setting: recalculate every formula when a file is loaded (the default
for XLSX files is never: LibreOffice would show the cached values)."""


# --------------------------------------------------------------------------- plans


def rentals_inputs(inputs: PlanInputs) -> PlanInputs:
    """A 5 MW site at a WACC of 0 (CRF = 1/n) where cheap rentals win: the H200 rental remote,
    the B200 rental hosted on site (it pays the site's power, cooling and shell), the GB300
    with other opex per GPU-year."""
    systems = []
    for s in inputs.systems:
        if s.sku == "GB300 NVL72":
            s = dataclasses.replace(s, opex_usd_per_gpu_year=120.0)
        if s.sku == "H200 3-yr rental":
            s = dataclasses.replace(s, rental_usd_per_gpu_hour=0.3, opex_usd_per_gpu_year=50.0)
        if s.sku == "B200 3-yr rental":
            s = dataclasses.replace(
                s,
                rental_usd_per_gpu_hour=0.6,
                rental_hosting="on_site",
                node_power_kw=14.3,
                node_idle_power_kw=5.72,
                nodes_per_rack=3,
                cooling_kinds=("air", "liquid"),
                power_kinds=("ac",),
                max_nodes=20,
            )
        systems.append(s)
    finance = dataclasses.replace(inputs.finance, wacc=0.0)
    return dataclasses.replace(inputs, budget_mw=5.0, systems=tuple(systems), finance=finance)


NOW = datetime.datetime(2025, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Plans of a copy of the bundled data, stamped, with assumptions: `flat` (`make_plan`,
    with alternatives and levers), `time-resolved` (representative slices, solved to a loose
    gap to keep the test short) and `rentals` (`rentals_inputs`)."""
    data = tmp_path_factory.mktemp("workbook") / "data"
    shutil.copytree(DATASETS, data)
    inputs = plan_inputs(read_inputs(data))
    loose = SolverOptions(mip_rel_gap=0.02, dinkelbach_tolerance=1e-2, time_limit_s=120)
    rentals = rentals_inputs(inputs)
    made = {
        "flat": make_plan(data),
        "time-resolved": plan_document(
            inputs, solve(inputs, "cost-per-token", loose, "representative"), "cost-per-token"
        ),
        "rentals": plan_document(
            rentals, solve(rentals, "cost-per-token", SolverOptions()), "cost-per-token"
        ),
    }
    rented = [(row["cooling_id"] is None) for row in made["rentals"]["fleet"] if row["rented"]]
    assert True in rented and False in rented  # rented remotely, and hosted on site
    stamped = {name: dict(stamp(plan, NOW)) for name, plan in made.items()}
    assert all("assumptions" in plan for plan in stamped.values())
    return stamped


# --------------------------------------------------------------------------- LibreOffice


def libreoffice() -> str:
    for name in ("libreoffice", "soffice"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "LibreOffice is not installed, and the workbook's formulas are checked by recalculating "
        "them in it: apt-get install -y --no-install-recommends libreoffice-calc (.ci/run "
        "installs it)"
    )


def without_cached_values(path: Path, out: Path) -> Path:
    """A copy of the workbook whose formula cells hold no cached value (`<f>…</f><v>…</v>` →
    `<f>…</f>`): whatever a spreadsheet shows for them, it computed."""
    out.mkdir(parents=True, exist_ok=True)
    copy = out / path.name
    stripped = 0
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as dest:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data, count = re.subn(rb"(<f>[^<]*</f>)<v>[^<]*</v>", rb"\1", data)
                stripped += count
                assert b"</f><v>" not in data, item.filename
            dest.writestr(item, data)
    assert stripped > 0, f"{path.name} has no formula with a cached value"
    return copy


def recalculate(paths: list[Path], folder: Path) -> dict[Path, Path]:
    """Each workbook, its cached values removed, opened and saved again as XLSX by LibreOffice,
    which recalculates every formula on load (`RECALCULATE_ON_LOAD`): path → the saved file."""
    soffice = libreoffice()
    profile = folder / "libreoffice-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALCULATE_ON_LOAD)
    stripped = [without_cached_values(path, folder / "stripped") for path in paths]
    out = folder / "recalculated"
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            *map(str, stripped),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HOME": str(folder)},
        check=False,
    )
    converted = {path: out / path.name for path in paths}
    missing = [p.name for p in converted.values() if not p.is_file()]
    assert not missing, f"LibreOffice wrote no {missing}: {result.stdout}\n{result.stderr}"
    return converted


@pytest.fixture(scope="module")
def workbooks(
    plans: dict[str, dict], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, Path]]:
    """Each plan's workbook and its LibreOffice recalculation: name → (written, recalculated)."""
    folder = tmp_path_factory.mktemp("recalculated")
    written = {}
    for name, plan in plans.items():
        written[name] = folder / f"{name}.xlsx"
        write_workbook(plan, written[name])
    recalculated = recalculate(list(written.values()), folder)
    return {name: (path, recalculated[path]) for name, path in written.items()}


def rows(sheet, min_row: int = 2, header_row: int = 1) -> list[dict[str, Any]]:
    """A sheet's table rows from `min_row`, as dicts by the headers of `header_row`, up to the
    first empty row."""
    headers = [c.value for c in sheet[header_row]]
    found = []
    for values in sheet.iter_rows(min_row=min_row, values_only=True):
        if all(v is None for v in values):
            break
        found.append(dict(zip(headers, values, strict=False)))
    return found


def by_label(sheet) -> dict[str, Any]:
    return {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] is not None}


def systems_table(book) -> list[dict[str, Any]]:
    """The Assumptions sheet's Systems table, as dicts by header."""
    sheet = book["Assumptions"]
    first = next(r for r in sheet.iter_rows() if r[0].value == "system")[0].row
    return rows(sheet, min_row=first + 1, header_row=first)


def approx(value: float) -> Any:
    return pytest.approx(value, rel=REL, abs=1e-9)


# --------------------------------------------------------------------------- recalculated


@pytest.mark.parametrize("name", ["flat", "time-resolved", "rentals"])
def test_libreoffice_recalculates_the_plans_numbers(
    plans: dict[str, dict], workbooks: dict[str, tuple[Path, Path]], name: str
):
    """Recalculated from the Assumptions and the fleet rows, the workbook gives the plan's costs
    by component, annual cost, cost per million tokens, tokens, upfront capex by part, and each
    fleet row's GPUs, power, capex and annual cost."""
    plan, (_, recalculated) = plans[name], workbooks[name]
    book = openpyxl.load_workbook(recalculated, data_only=True)
    errors = [
        f"{sheet.title}!{cell.coordinate}={cell.value}"
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and (cell.value.startswith(("#", "Err:")))
    ]
    assert errors == []

    costs = {r["component key"]: r for r in rows(book["Costs"]) if r["component key"] != "total"}
    assert {k: r["annual cost (USD/year)"] for k, r in costs.items()} == {
        k: approx(v) for k, v in plan["costs_usd_per_year"].items()
    }
    for key, row in costs.items():
        usd = plan["costs_usd_per_year"][key]
        assert row["share of annual cost (%)"] == approx(usd / plan["annual_cost_usd"])
        assert row["cost per million tokens (USD)"] == approx(usd / plan["tokens_per_year"] * 1e6)

    summary = by_label(book["Summary"])
    assert summary["cost per million tokens (USD)"] == approx(plan["cost_per_million_tokens_usd"])
    assert summary["annual cost (USD/year)"] == approx(plan["annual_cost_usd"])
    assert summary["tokens per year"] == approx(plan["tokens_per_year"])
    assert summary["capex, upfront (USD)"] == approx(plan["capex_usd"])
    assert summary["grid power provisioned (MW)"] == approx(plan["grid_power_mw"])
    assert summary["IT power (MW)"] == approx(plan["it_power_mw"])
    assert summary["PUE (grid kW / IT kW)"] == approx(plan["pue"])
    assert summary["margin (USD/year)"] == approx(plan["margin_usd_per_year"])

    capex = {r["part key"]: r for r in rows(book["Capex"])}
    assert {k: capex[k]["capex, upfront (USD)"] for k in plan["capex_usd_by_component"]} == {
        k: approx(v) for k, v in plan["capex_usd_by_component"].items()
    }
    assert capex["total"]["capex, upfront (USD)"] == approx(plan["capex_usd"])
    assert capex["it"]["annual capital charge (USD/year)"] == approx(
        plan["costs_usd_per_year"]["it_capex"]
    )

    fleet = [r for r in rows(book["Fleet"]) if r["system"] != "total"]
    assert len(fleet) == len(plan["fleet"])
    for got, want in zip(fleet, plan["fleet"], strict=True):
        assert (got["system"], got["nodes"]) == (want["sku"], want["nodes"])
        assert got["GPUs"] == want["gpus"]
        assert got["IT power (kW)"] == approx(want["it_power_kw"])
        assert got["grid power (kW)"] == approx(want["grid_power_kw"])
        assert got["annual cost (USD/year)"] == approx(want["annual_cost_usd"])
        assert got["capex (USD)"] == approx(want["capex_usd"])

    assumptions = plan["assumptions"]
    named = by_label(book["Assumptions"])
    wacc = assumptions["wacc"]
    assert named["CRF at the facility lifetime (1/year)"] == approx(
        crf(wacc, assumptions["facility_lifetime_years"])
    )
    if "it_lifetime_years" in assumptions:
        assert named["CRF at the IT lifetime, scenario default (1/year)"] == approx(
            crf(wacc, assumptions["it_lifetime_years"])
        )
    crfs = {r["system"]: r["CRF at its lifetime (1/year)"] for r in systems_table(book)}
    assert crfs == {
        s["sku"]: approx(crf(wacc, s["lifetime_years"])) for s in assumptions["systems"]
    }


def test_time_resolved_energy_and_demand_are_by_month(
    plans: dict[str, dict], workbooks: dict[str, tuple[Path, Path]]
):
    """A time-resolved plan's Fleet rows have no energy or demand charges; the Monthly sheet has
    the plan's months and totals, and Costs adds them."""
    plan, (_, recalculated) = plans["time-resolved"], workbooks["time-resolved"]
    book = openpyxl.load_workbook(recalculated, data_only=True)
    fleet = [r for r in rows(book["Fleet"]) if r["system"] != "total"]
    energy = next(h for h in fleet[0] if h.startswith("energy (USD/year"))
    demand = next(h for h in fleet[0] if h.startswith("demand charges (USD/year"))
    assert {(r[energy], r[demand]) for r in fleet} == {(0, 0)}
    months = rows(book["Monthly"])
    total = months.pop()
    assert total["month"] == "total"
    assert [m["month"] for m in months] == [m["month"] for m in plan["monthly"]]
    assert total["energy charges (USD)"] == approx(sum(m["energy_usd"] for m in plan["monthly"]))
    assert total["demand charges (USD)"] == approx(sum(m["demand_usd"] for m in plan["monthly"]))
    assert total["grid energy (kWh)"] == approx(sum(m["energy_kwh"] for m in plan["monthly"]))
    assert total["peak grid power (kW)"] == approx(max(m["peak_grid_kw"] for m in plan["monthly"]))
    formulas = openpyxl.load_workbook(workbooks["time-resolved"][0])
    assert "Monthly!" in formulas["Costs"]["C7"].value  # energy
    assert "Monthly!" in formulas["Costs"]["C8"].value  # demand charges
    assert "Monthly" not in openpyxl.load_workbook(workbooks["flat"][0]).sheetnames


@pytest.mark.parametrize("name", ["flat", "time-resolved", "rentals"])
def test_cached_values_are_what_the_formulas_compute(
    workbooks: dict[str, tuple[Path, Path]], name: str
):
    """Every formula is written with its value: a viewer that does not recalculate shows what
    LibreOffice computes."""
    written, recalculated = workbooks[name]
    formulas = openpyxl.load_workbook(written)
    cached = openpyxl.load_workbook(written, data_only=True)
    computed = openpyxl.load_workbook(recalculated, data_only=True)
    count = 0
    for sheet in formulas.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                count += 1
                want = computed[sheet.title][cell.coordinate].value
                got = cached[sheet.title][cell.coordinate].value
                assert isinstance(got, int | float) and not math.isnan(got), cell.coordinate
                assert got == approx(want), (sheet.title, cell.coordinate, cell.value)
    assert count > 100


# --------------------------------------------------------------------------- layout


def test_the_workbook_is_tables_with_totals_named_assumptions_and_formats(
    plans: dict[str, dict], workbooks: dict[str, tuple[Path, Path]]
):
    plan, (written, _) = plans["flat"], workbooks["flat"]
    book = openpyxl.load_workbook(written)
    assert book.sheetnames == ["Summary", *SHEETS, "Capex", "Assumptions"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.bold for cell in sheet[1] if cell.value is not None), sheet.title

    tables = {t.name: t for sheet in book.worksheets for t in sheet.tables.values()}
    assert set(tables) == {
        *SHEETS,
        "Capex",
        "SiteCosts",
        "Systems",
        "Coolings",
        "PowerDesigns",
    }
    with_totals = {name for name, table in tables.items() if table.totalsRowCount}
    assert with_totals == {"Fleet", "Allocation", "Costs", "Inputs", "Capex"}

    for name in (
        "WACC",
        "CRF_FACILITY",
        "UTILIZATION",
        "AVAILABILITY",
        "HOURS_PER_YEAR",
        "ENERGY_USD_PER_KWH",
        "DEMAND_USD_PER_KW_MONTH",
        "FIXED_CHARGES_USD_PER_YEAR",
        "SHELL_CAPEX_USD_PER_KW_IT",
        "GRID_CONNECTION_CAPEX_USD_PER_KW",
        "FIXED_OPEX_USD_PER_YEAR",
        "CARBON_KG_PER_KWH",
        "BUDGET_MW",
        "TARIFF_ID",
        "TOKENS_PER_YEAR",
        "ANNUAL_COST_USD",
    ):
        assert name in book.defined_names, name
    assumptions = by_label(openpyxl.load_workbook(written, data_only=True)["Assumptions"])
    assert assumptions["WACC (per year)"] == plan["assumptions"]["wacc"]
    assert assumptions["tariff"] == plan["assumptions"]["tariff"]["tariff_id"]
    assert assumptions["energy price, flat year (USD/kWh)"] == approx(
        plan["assumptions"]["tariff"]["energy_usd_per_kwh"]
    )

    summary = {row[0].value: row[1] for row in book["Summary"].iter_rows(min_row=2)}
    created = summary["created at (UTC)"]
    assert created.is_date and created.value == datetime.datetime(2025, 3, 4, 5, 6, 7)
    assert created.number_format == "yyyy-mm-dd hh:mm:ss"
    assert summary["cost per million tokens (USD)"].data_type == "f"
    assert summary["cost per million tokens (USD)"].number_format == "$0.0000"

    costs = book["Costs"]
    headers = [c.value for c in costs[1]]
    per_million = headers.index("cost per million tokens (USD)")
    assert costs.cell(row=2, column=per_million + 1).number_format == "$0.0000"
    assert (
        "$" in costs.cell(row=2, column=headers.index("annual cost (USD/year)") + 1).number_format
    )
    assert (
        "%" in costs.cell(row=2, column=headers.index("share of annual cost (%)") + 1).number_format
    )

    fleet = book["Fleet"]
    headers = [c.value for c in fleet[1]]
    assert fleet.cell(row=2, column=headers.index("IT power (kW)") + 1).number_format == "#,##0.0"
    assert (
        fleet.cell(row=2, column=headers.index("rental (USD/year)") + 1).number_format == "$#,##0"
    )
    allocation = book["Allocation"]
    gpus = [c.value for c in allocation[1]].index("GPUs") + 1
    assert allocation.cell(row=2, column=gpus).number_format == "#,##0.0"


def test_an_old_plan_is_values_only_with_a_note(tmp_path: Path):
    """A plan made before assumptions were recorded: no Capex or Assumptions sheet, no cost
    formula (only the tables' total rows), its costs as it holds them, and the note."""
    plan = json.loads(OLD_PLAN.read_text())
    [path] = export_plan(plan, "xlsx", tmp_path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", *SHEETS]
    formulas = [
        cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert formulas and all(f.startswith("=SUBTOTAL(") for f in formulas)
    values = openpyxl.load_workbook(path, data_only=True)
    summary = by_label(values["Summary"])
    assert summary["note"] == VALUES_ONLY_NOTE
    assert summary["cost per million tokens (USD)"] == plan["cost_per_million_tokens_usd"]
    costs = {r["component key"]: r["annual cost (USD/year)"] for r in rows(values["Costs"])}
    assert costs.pop("total") == approx(plan["annual_cost_usd"])
    assert costs == plan["costs_usd_per_year"]


def test_assumptions_that_miss_a_system_of_the_fleet_give_values_only(
    plans: dict[str, dict], tmp_path: Path
):
    plan = dict(plans["flat"])
    plan["assumptions"] = dict(plan["assumptions"], systems=plan["assumptions"]["systems"][1:])
    write_workbook(plan, tmp_path / "plan.xlsx")
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx", data_only=True)
    assert "Assumptions" not in book.sheetnames
    assert by_label(book["Summary"])["note"] == VALUES_ONLY_NOTE


def test_text_of_the_assumptions_stays_text(plans: dict[str, dict], tmp_path: Path):
    """A SKU, cooling id, power id or tariff id that looks like a formula is written as text in
    the Assumptions and Fleet sheets, and the formulas still give the plan's costs."""
    plan = json.loads(json.dumps(plans["rentals"]))
    hostile = {}
    for i, row in enumerate(plan["fleet"]):
        hostile.setdefault(row["sku"], f'=HYPERLINK("http://x","{i}")')
        row["sku"] = hostile[row["sku"]]
    for system in plan["assumptions"]["systems"]:
        system["sku"] = hostile[system["sku"]]
    for cooling in plan["assumptions"]["coolings"]:
        old = cooling["cooling_id"]
        cooling["cooling_id"] = "+" + old
        for row in plan["fleet"]:
            if row["cooling_id"] == old:
                row["cooling_id"] = "+" + old
    plan["assumptions"]["tariff"]["tariff_id"] = "@SUM(1+1)"
    write_workbook(plan, tmp_path / "plan.xlsx")
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    assert "Assumptions" in book.sheetnames
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert "HYPERLINK" not in cell.value and "@" not in cell.value
    skus = [c.value for c in book["Fleet"]["A"][1 : 1 + len(plan["fleet"])]]
    assert skus == [row["sku"] for row in plan["fleet"]]
    assert by_label(book["Assumptions"])["tariff"] == "@SUM(1+1)"
    cached = by_label(openpyxl.load_workbook(tmp_path / "plan.xlsx", data_only=True)["Summary"])
    assert cached["annual cost (USD/year)"] == approx(plan["annual_cost_usd"])


def test_the_export_writes_this_workbook(plans: dict[str, dict], tmp_path: Path):
    """`tokenplan export --format xlsx` (`export_plan`) writes the workbook of this module."""
    plan = plans["rentals"]
    [path] = export_plan(plan, "xlsx", tmp_path)
    assert path.name == f"{plan['plan_id']}.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[-2:] == ["Capex", "Assumptions"]
