"""The plan as an XLSX workbook a finance analyst can audit.

Sheets (in the workbook: Summary, Fleet, Allocation, Costs, Inputs, Alternatives, Levers,
Capex, Monthly, Assumptions):

- Summary: the plan's figures: plan id, `created at` as a date, cost per million tokens =
  annual cost / tokens per year × 10⁶, tokens per year = Σ Allocation, annual cost = Σ Costs,
  upfront capex = Σ Capex, grid and IT power = Σ Fleet, PUE, margin = revenue − annual cost.
- Fleet: the plan's fleet rows, then how each row costs what it costs: PUE, upfront capex by
  part, grid energy and the annual cost by component, each a formula of the row's nodes and
  the Assumptions sheet (`fleet_row` gives them).
- Allocation, Inputs, Alternatives, Levers: the plan's tables (`exports.TABLES`), as values.
- Costs: annual cost by component = Σ of its Fleet column, plus the site costs (grid connection
  annuity, tariff fixed charges, site fixed opex: a second table below), and for time-resolved
  plans the Monthly sheet's energy and demand charges; each component's share and its USD per
  million tokens.
- Capex: upfront capex by part (IT, cooling, power chain, shell, grid connection), its share and
  the annual capital charge it makes in Costs.
- Monthly (time-resolved plans): the plan's months: grid energy, energy charges, peak grid
  power, demand charges, and the mean price by formula.
- Assumptions: every input the formulas use, units in the labels; the scalars are defined names
  (`WACC`, `CRF_FACILITY`, `ENERGY_USD_PER_KWH`, …), the systems, coolings and power designs of
  the fleet are tables, the CRFs are formulas of WACC and the lifetimes.

The formulas are `optimizer.economics.node_cost` and `site_costs` cell by cell, so when Excel
or LibreOffice recalculates, the workbook gives the plan's `costs_usd_per_year`,
`annual_cost_usd`, `cost_per_million_tokens_usd` and `capex_usd` (`capex_usd_by_component`).
Every formula is written with its value (the cached result, computed here by `Expr` with the
same operations in the same order), so a viewer that does not recalculate shows the same
numbers. Time-resolved plans price energy and demand by month (`optimizer.plan`): their Fleet
rows' energy and demand charges are 0 and Costs adds the Monthly totals.

The formulas need the plan's `assumptions` (the inputs it was made from). A plan without them,
or whose assumptions lack a system, cooling or power design of its fleet, is written as values
only, as the plan holds them, with `VALUES_ONLY_NOTE` on the Summary sheet.

Every table is an Excel table (filters, banded rows) with a total row where a total means
something; total rows use SUBTOTAL over their column (they follow the filters), the figures
other sheets use are plain SUMs. Inert: every string of the plan is written as text, never a
formula, a link or a number; formulas are made here of cell references, defined names and
numbers only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from optimizer.economics import crf
from optimizer.types import PlanDocument
from pipelines.reports.exports import (
    BIG,
    COUNT,
    SHARE,
    TABLES,
    USD,
    USD_PER_TOKEN,
    plan_id,
    table_rows,
)

KW, KWH, RATIO, CRF_FORMAT = "#,##0.0", "#,##0", "0.000", "0.000000"
USD_CENTS, USD_PER_KWH = "$#,##0.00", "$0.0000"
DATE = "yyyy-mm-dd hh:mm:ss"

SHEETS = {
    "Fleet": "fleet",
    "Allocation": "allocation",
    "Costs": "costs",
    "Inputs": "inputs",
    "Alternatives": "alternatives",
    "Levers": "levers",
}
"""Workbook sheet → table of `exports.TABLES`, after Summary; then Capex, Monthly (time-resolved
plans) and Assumptions, which only a plan with assumptions has (Monthly: any time-resolved)."""

TOTALLED = {
    "fleet": ("nodes", "gpus", "it_power_kw", "grid_power_kw", "capex_usd", "annual_cost_usd"),
    "allocation": ("gpus", "tokens_per_s", "tokens_per_year"),
    "costs": ("annual_cost_usd", "share_of_annual_cost", "usd_per_million_tokens"),
    "inputs": ("bytes",),
}
"""The columns a table's total row sums; the other tables have no total row."""

SUMMARY: tuple[tuple[str, str, str | None], ...] = (
    ("plan_id", "plan id", None),
    ("created_at", "created at (UTC)", DATE),
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
    ("pue", "PUE (grid kW / IT kW)", RATIO),
    ("power_design", "power design", None),
    ("tariff", "tariff", None),
    ("kwh_per_million_tokens", "grid energy per million tokens (kWh)", RATIO),
    ("carbon_kg_per_million_tokens", "carbon per million tokens (kg CO2e)", "0.0000"),
    ("water_l_per_million_tokens", "water per million tokens (L)", "0.0000"),
    ("availability", "availability (share of on-site GPUs serving)", SHARE),
    ("revenue_usd_per_year", "revenue (USD/year)", USD),
    ("margin_usd_per_year", "margin (USD/year)", USD),
)
"""Workbook Summary rows: (plan field, label with unit, number format)."""

VALUES_ONLY_NOTE = "this plan was made before assumptions were recorded: values only"


# --------------------------------------------------------------------------- formulas


@dataclass(frozen=True)
class Expr:
    """A formula and its value, built together: `a * b` is the formula `a*b` and the product
    of the values, so the cached value is what the formula computes.

    `precedence`: 1 for + and −, 2 for × and ÷, 3 for a reference, a number or a function call.
    An operand is bracketed where the operator would otherwise bind it differently, and a right
    operand of the same precedence too, so a spreadsheet evaluates in the order Python did
    (`a*(b*c)` stays so)."""

    text: str
    value: float
    precedence: int = 3

    def _operand(self, precedence: int, right: bool) -> str:
        bracket = self.precedence < precedence or (right and self.precedence == precedence)
        return f"({self.text})" if bracket else self.text

    def _binary(self, other: Expr | float, op: str, precedence: int, value: float) -> Expr:
        text = self._operand(precedence, False) + op + lift(other)._operand(precedence, True)
        return Expr(text, value, precedence)

    def __add__(self, other: Expr | float) -> Expr:
        return self._binary(other, "+", 1, self.value + lift(other).value)

    def __sub__(self, other: Expr | float) -> Expr:
        return self._binary(other, "-", 1, self.value - lift(other).value)

    def __mul__(self, other: Expr | float) -> Expr:
        return self._binary(other, "*", 2, self.value * lift(other).value)

    def __truediv__(self, other: Expr | float) -> Expr:
        return self._binary(other, "/", 2, self.value / lift(other).value)

    @property
    def formula(self) -> str:
        return "=" + self.text


def lift(value: Expr | float) -> Expr:
    """A number as an `Expr`, written without exponent (1000000, not 1e6)."""
    if isinstance(value, Expr):
        return value
    number = float(value)
    return Expr(str(int(number)) if number.is_integer() else repr(number), number)


def ref(sheet: str | None, row: int, col: int, value: float) -> Expr:
    """The cell (row, col) holding `value`: relative (`B3`) on its own sheet (`sheet` None), else
    absolute and qualified (`Fleet!$B$3`)."""
    if sheet is None:
        return Expr(xl_rowcol_to_cell(row, col), value)
    return Expr(f"{sheet}!{xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)}", value)


def column_sum(
    sheet: str | None,
    col: int,
    first: int,
    last: int,
    values: Sequence[float],
    subtotal: bool = False,
) -> Expr:
    """SUM of a column's rows `first`..`last` (SUBTOTAL(109, …) with `subtotal`: the visible
    rows), whose cells hold `values`; summed in order, as a spreadsheet does."""
    start, end = ref(sheet, first, col, 0.0).text, xl_rowcol_to_cell(last, col, True, True)
    if sheet is None:
        end = xl_rowcol_to_cell(last, col)
    value = 0.0
    for v in values:
        value += v
    text = f"SUBTOTAL(109,{start}:{end})" if subtotal else f"SUM({start}:{end})"
    return Expr(text, value)


def crf_formula(rate: Expr, years: Expr) -> Expr:
    """CRF(r, n) = r (1 + r)^n / ((1 + r)^n − 1), and 1/n when r = 0 (`optimizer.economics.crf`)."""
    r, n = rate.text, years.text
    text = f"IF({r}=0,1/{n},{r}*(1+{r})^{n}/((1+{r})^{n}-1))"
    return Expr(text, crf(rate.value, years.value))


# --------------------------------------------------------------------------- cells and tables


@dataclass(frozen=True)
class Col:
    """A column of a workbook table: its key, header (with unit) and number format."""

    key: str
    header: str
    number_format: str | None = None


Cell = object
"""What a table cell holds: a value of the plan (text, number, boolean, None, datetime) or an
`Expr` (a formula with its value)."""


class Writer:
    """One workbook: its formats, and how a value, a formula and a table are written."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.header = book.add_format(
            {
                "bold": True,
                "bg_color": "#1f2937",
                "font_color": "#ffffff",
                "border": 1,
                "text_wrap": True,
                "valign": "vcenter",
            }
        )
        self.bold = book.add_format({"bold": True})
        self.formats: dict[str | None, Any] = {None: book.add_format({"valign": "top"})}

    def number_format(self, spec: str | None) -> Any:
        if spec not in self.formats:
            self.formats[spec] = self.book.add_format({"num_format": spec})
        return self.formats[spec]

    def write(self, sheet: Any, row: int, col: int, value: Cell, spec: str | None) -> None:
        """A formula with its cached value; text as text (never a formula, link or number);
        numbers and booleans as themselves; None as an empty cell; a datetime as a date."""
        fmt = self.number_format(spec)
        if isinstance(value, Expr):
            sheet.write_formula(row, col, value.formula, fmt, value.value)
        elif isinstance(value, str):
            sheet.write_string(row, col, value, fmt)
        elif isinstance(value, datetime):
            sheet.write_datetime(row, col, value, fmt)
        else:
            sheet.write(row, col, value, fmt)

    def table(
        self,
        sheet: Any,
        name: str,
        first_row: int,
        columns: Sequence[Col],
        rows: Sequence[Mapping[str, Cell]],
        totals: Mapping[str, Expr] | None = None,
    ) -> int:
        """Excel table `name` with its header at `first_row`: `columns`, one row per `rows`
        (one empty row when there are none), and when `totals` is given and there are rows a
        total row ("total", then `totals[key]` under column `key`). Returns the row after it."""
        with_total = bool(totals) and bool(rows)
        spec: list[dict[str, Any]] = []
        for i, column in enumerate(columns):
            options: dict[str, Any] = {"header": column.header, "header_format": self.header}
            if with_total and totals is not None and column.key in totals:
                options["total_function"] = totals[column.key].formula
                options["total_value"] = totals[column.key].value
                options["format"] = self.number_format(column.number_format)
            elif with_total and i == 0:
                options["total_string"] = "total"
            spec.append(options)
        last_row = first_row + max(len(rows), 1) + (1 if with_total else 0)
        sheet.add_table(
            first_row,
            0,
            last_row,
            len(columns) - 1,
            {
                "name": name,
                "columns": spec,
                "total_row": with_total,
                "style": "Table Style Light 9",
            },
        )
        sheet.set_row(first_row, 32)
        for r, row in enumerate(rows, start=first_row + 1):
            for c, column in enumerate(columns):
                self.write(sheet, r, c, row.get(column.key), column.number_format)
        return last_row + 1


def set_widths(sheet: Any, columns: Sequence[Col], rows: Sequence[Mapping[str, Cell]]) -> None:
    """Column widths from the headers and the values (formulas count as 14 characters)."""
    for i, column in enumerate(columns):
        lengths = [
            14 if isinstance(v, Expr) else min(len(str(v)), 60)
            for v in (row.get(column.key) for row in rows)
            if v is not None
        ]
        longest = max([len(column.header) * 0.7, *lengths])
        sheet.set_column(i, i, max(10, min(longest + 3, 64)))


def plan_columns(table: str) -> list[Col]:
    return [Col(c.name, c.header, c.number_format) for c in TABLES[table]]


def table_totals(
    table: str, columns: Sequence[Col], rows: Sequence[Mapping[str, Cell]]
) -> dict[str, Expr]:
    """SUBTOTAL of each `TOTALLED[table]` column over `rows` (a table from the sheet's top)."""
    totals = {}
    for key in TOTALLED.get(table, ()):
        col = [c.key for c in columns].index(key)
        values = [_value(row.get(key)) for row in rows]
        totals[key] = column_sum(None, col, 1, len(rows), values, subtotal=True)
    return totals


def _value(cell: Cell) -> float:
    """The number a cell gives a SUM: a formula's value, a number, else 0."""
    if isinstance(cell, Expr):
        return cell.value
    if isinstance(cell, bool) or not isinstance(cell, int | float):
        return 0.0
    return float(cell)


# --------------------------------------------------------------------------- assumptions


SCALARS: tuple[tuple[str, str, str, str | None], ...] = (
    ("WACC", "wacc", "WACC (per year)", "0.00%"),
    ("IT_LIFETIME_YEARS", "it_lifetime_years", "IT lifetime, scenario default (years)", "0.0"),
    ("FACILITY_LIFETIME_YEARS", "facility_lifetime_years", "facility lifetime (years)", "0.0"),
    ("UTILIZATION", "utilization", "utilization (share of hours serving)", SHARE),
    ("AVAILABILITY", "availability", "availability (share of on-site GPUs serving)", SHARE),
    ("HOURS_PER_YEAR", "hours_per_year", "hours per year (h)", COUNT),
    ("BUDGET_MW", "budget_mw", "grid budget (MW)", "0.00"),
    ("SHELL_CAPEX_USD_PER_KW_IT", "shell_capex_usd_per_kw_it", "shell capex (USD/kW IT)", USD),
    (
        "GRID_CONNECTION_CAPEX_USD_PER_KW",
        "grid_connection_capex_usd_per_kw",
        "grid connection capex (USD/kW of budget)",
        USD,
    ),
    ("FIXED_OPEX_USD_PER_YEAR", "fixed_opex_usd_per_year", "site fixed opex (USD/year)", USD),
    ("CARBON_KG_PER_KWH", "carbon_kg_per_kwh", "grid carbon intensity (kg CO2e/kWh)", RATIO),
)
"""Assumptions rows: (defined name, key of `plan["assumptions"]`, label with unit, format)."""

TARIFF: tuple[tuple[str, str, str, str | None], ...] = (
    ("TARIFF_ID", "tariff_id", "tariff", None),
    ("ENERGY_USD_PER_KWH", "energy_usd_per_kwh", "energy price, flat year (USD/kWh)", USD_PER_KWH),
    (
        "DEMAND_USD_PER_KW_MONTH",
        "demand_usd_per_kw_month",
        "demand charge, flat year (USD/kW-month)",
        USD_CENTS,
    ),
    ("FIXED_CHARGES_USD_PER_YEAR", "fixed_usd_per_year", "tariff fixed charges (USD/year)", USD),
)
"""Assumptions rows of `plan["assumptions"]["tariff"]`, as `SCALARS`."""

SYSTEM_COLUMNS = (
    Col("sku", "system"),
    Col("accelerator", "accelerator"),
    Col("rental_hosting", "rental hosting (rented systems)"),
    Col("gpus_per_node", "GPUs per node", COUNT),
    Col("node_capex_usd", "node capex (USD; empty: rented)", USD),
    Col("node_power_kw", "node power, serving (kW IT)", KW),
    Col("node_idle_power_kw", "node power, idle (kW IT)", KW),
    Col("lifetime_years", "lifetime (years)", "0.0"),
    Col("crf", "CRF at its lifetime (1/year)", CRF_FORMAT),
    Col("maintenance_pct_per_year", "maintenance (% of node capex per year)", "0.00"),
    Col("opex_usd_per_gpu_year", "other opex (USD per GPU-year)", USD),
    Col("rental_usd_per_gpu_hour", "rental (USD per GPU-hour)", USD_PER_KWH),
)
COOLING_COLUMNS = (
    Col("cooling_id", "cooling"),
    Col("kind", "kind"),
    Col("overhead_kw_per_kw_it", "overhead (kW per kW IT)", RATIO),
    Col("capex_usd_per_kw_it", "capex (USD/kW IT)", USD),
    Col("opex_pct_per_year", "opex (% of cooling capex per year)", "0.00"),
    Col("water_l_per_kwh", "water (L per kWh IT)", "0.00"),
)
POWER_COLUMNS = (
    Col("power_id", "power design"),
    Col("name", "name"),
    Col("kind", "kind"),
    Col("efficiency", "efficiency (kW IT per kW grid)", RATIO),
    Col("capex_usd_per_kw_it", "capex (USD/kW IT)", USD),
    Col("maintenance_usd_per_kw_year", "maintenance (USD per kW IT-year)", USD_CENTS),
)


@dataclass(frozen=True)
class Assumed:
    """The Assumptions sheet as references to use in formulas: a scalar by its defined name;
    a field of a system (by sku), cooling (by id) or power design (by id) by its cell."""

    scalars: dict[str, Expr]
    systems: dict[str, dict[str, Expr]]
    coolings: dict[str, dict[str, Expr]]
    powers: dict[str, dict[str, Expr]]


def plan_assumptions(plan: PlanDocument) -> Mapping[str, Any] | None:
    """The plan's `assumptions` when they hold every system, cooling and power design of its
    fleet; None (the workbook is values only) when the plan has none or they fall short."""
    assumptions = cast(Mapping[str, Any], plan).get("assumptions")
    if not isinstance(assumptions, Mapping):
        return None
    systems = {s.get("sku") for s in assumptions.get("systems") or ()}
    coolings = {c.get("cooling_id") for c in assumptions.get("coolings") or ()}
    powers = {p.get("power_id") for p in assumptions.get("power_designs") or ()}
    for row in plan["fleet"]:
        if row["sku"] not in systems:
            return None
        if _on_site(row) and (row["cooling_id"] not in coolings or row["power_id"] not in powers):
            return None
    return assumptions


def _on_site(row: Mapping[str, Any]) -> bool:
    return row.get("cooling_id") is not None and row.get("power_id") is not None


def write_assumptions(writer: Writer, sheet: Any, assumptions: Mapping[str, Any]) -> Assumed:
    """The Assumptions sheet: the scalars (defined names) and CRFs by formula, then the fleet's
    systems, coolings and power designs as tables."""
    name = sheet.get_name()
    sheet.write_row(0, 0, ["assumption", "value", "defined name"], writer.header)
    sheet.freeze_panes(1, 0)
    scalars: dict[str, Expr] = {}
    row = 1

    def scalar(defined: str, label: str, value: Cell, spec: str | None) -> None:
        nonlocal row
        writer.write(sheet, row, 0, label, None)
        writer.write(sheet, row, 1, value, spec)
        sheet.write_string(row, 2, defined)
        writer.book.define_name(defined, "=" + ref(name, row, 1, 0.0).text)
        scalars[defined] = Expr(defined, _value(value))
        row += 1

    for defined, key, label, spec in SCALARS:
        if key in assumptions:  # the scenario's IT lifetime is optional: systems have their own
            scalar(defined, label, assumptions[key], spec)
    tariff = assumptions.get("tariff") or {}
    for defined, key, label, spec in TARIFF:
        scalar(defined, label, tariff.get(key), spec)
    wacc = scalars["WACC"]
    if "IT_LIFETIME_YEARS" in scalars:
        it_crf = crf_formula(wacc, scalars["IT_LIFETIME_YEARS"])
        scalar("CRF_IT", "CRF at the IT lifetime, scenario default (1/year)", it_crf, CRF_FORMAT)
    facility_crf = crf_formula(wacc, scalars["FACILITY_LIFETIME_YEARS"])
    scalar("CRF_FACILITY", "CRF at the facility lifetime (1/year)", facility_crf, CRF_FORMAT)
    sheet.write_string(row, 0, "CRF(r, n) = r (1 + r)^n / ((1 + r)^n − 1); 1/n when r = 0")
    row += 2

    def section(title: str, table: str, columns: Sequence[Col], key: str) -> dict:
        """One table of entries of `assumptions[key]`, after a title; the systems' CRF is a
        formula. Returns the cells of each entry's fields, by its first column."""
        nonlocal row
        sheet.write_string(row, 0, title, writer.bold)
        header = row + 1
        keys = [c.key for c in columns]
        rows: list[dict[str, Cell]] = []
        refs: dict[str, dict[str, Expr]] = {}
        for r, entry in enumerate(assumptions.get(key) or (), start=header + 1):
            cells: dict[str, Cell] = {k: entry.get(k) for k in keys}
            if "rental_hosting" in keys and entry.get("node_capex_usd") is not None:
                cells["rental_hosting"] = None  # owned: hosting applies to rentals only
            if "crf" in keys:
                years = ref(None, r, keys.index("lifetime_years"), _value(entry["lifetime_years"]))
                cells["crf"] = crf_formula(wacc, years)
            rows.append(cells)
            refs[str(entry[keys[0]])] = {
                k: ref(name, r, c, _value(cells[k])) for c, k in enumerate(keys)
            }
        row = writer.table(sheet, table, header, columns, rows) + 1
        return refs

    systems = section("Systems of the fleet (per node)", "Systems", SYSTEM_COLUMNS, "systems")
    coolings = section("Cooling options of the fleet", "Coolings", COOLING_COLUMNS, "coolings")
    powers = section("Power designs of the fleet", "PowerDesigns", POWER_COLUMNS, "power_designs")
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, 1, 24)
    sheet.set_column(2, len(SYSTEM_COLUMNS) - 1, 22)
    return Assumed(scalars, systems, coolings, powers)


# --------------------------------------------------------------------------- fleet


UPFRONT = ("it_upfront", "cooling_upfront", "power_upfront", "shell_upfront")
"""Fleet columns of upfront capex by part, in Capex order."""
ANNUAL = (
    "it_capex",
    "cooling_capex",
    "power_capex",
    "shell_capex",
    "energy",
    "demand_charges",
    "maintenance",
    "other_opex",
    "rental",
)
"""Fleet columns of annual cost by component (`COST_COMPONENTS` keys), in sheet order: a row's
annual cost is their sum."""

FLEET_EXTRA = (
    Col("pue", "PUE (grid kW / IT kW)", RATIO),
    Col("it_upfront", "IT capex, upfront (USD)", USD),
    Col("cooling_upfront", "cooling capex, upfront (USD)", USD),
    Col("power_upfront", "power chain capex, upfront (USD)", USD),
    Col("shell_upfront", "shell capex, upfront (USD)", USD),
    Col("grid_kwh", "grid energy, flat year (kWh/year)", KWH),
    Col("it_capex", "IT capex (USD/year)", USD),
    Col("cooling_capex", "cooling capex (USD/year)", USD),
    Col("power_capex", "power chain capex (USD/year)", USD),
    Col("shell_capex", "shell capex (USD/year)", USD),
    Col("energy", "energy (USD/year)", USD),
    Col("demand_charges", "demand charges (USD/year)", USD),
    Col("maintenance", "maintenance (USD/year)", USD),
    Col("other_opex", "other opex (USD/year)", USD),
    Col("rental", "rental (USD/year)", USD),
)
"""Fleet columns after `TABLES["fleet"]` in a plan with assumptions."""

BY_MONTH = {
    "grid_kwh": "grid energy (kWh/year; 0: by month, sheet Monthly)",
    "energy": "energy (USD/year; 0: by month, sheet Monthly)",
    "demand_charges": "demand charges (USD/year; 0: by month, sheet Monthly)",
}
"""Headers of the Fleet columns a time-resolved plan prices by month instead."""


def fleet_columns(time_resolved: bool) -> list[Col]:
    extra = [
        Col(c.key, BY_MONTH[c.key], c.number_format) if time_resolved and c.key in BY_MONTH else c
        for c in FLEET_EXTRA
    ]
    return plan_columns("fleet") + extra


def fleet_row(
    row: Mapping[str, Any], r: int, columns: Sequence[Col], assumed: Assumed, time_resolved: bool
) -> dict[str, Cell]:
    """One fleet row in sheet row `r`: its plan values, and its costs as formulas of its nodes
    (`optimizer.economics.node_cost` × nodes).

    With n nodes, P and P0 the node's serving and idle kW, u utilization, a availability, H
    hours per year: GPUs = n × GPUs per node; IT kW = n × P; PUE = 1 / efficiency + overhead;
    grid kW = IT kW × PUE; upfront: IT = n × node capex, cooling, power chain and shell = IT kW
    × their USD per kW IT, capex = their sum; grid kWh = n × H × (P0 + u a (P − P0)) × PUE.
    Annual: capex = upfront × CRF (the system's lifetime for IT, the facility's for the rest);
    energy = kWh × price; demand = grid kW × USD per kW-month × 12; maintenance = IT upfront ×
    maintenance % + cooling upfront × cooling opex % + IT kW × power maintenance per kW-year;
    other opex = GPUs × opex per GPU-year; rental (rented systems) = GPUs × USD per GPU-hour
    × H; annual cost = the sum. A remote rental has no site terms (0); a time-resolved plan's
    energy and demand charges are 0 (sheet Monthly).
    """
    s, system = assumed.scalars, assumed.systems[row["sku"]]
    at = {c.key: i for i, c in enumerate(columns)}
    cells: dict[str, Cell] = {key: row.get(key) for key in at}

    def put(key: str, value: Expr | float) -> Expr:
        """Set the cell `key` (a formula, or a number); return its reference for later formulas."""
        cells[key] = value
        return ref(None, r, at[key], _value(value))

    nodes = ref(None, r, at["nodes"], float(row["nodes"]))
    gpus = put("gpus", nodes * system["gpus_per_node"])
    if _on_site(row):
        cooling, power = assumed.coolings[row["cooling_id"]], assumed.powers[row["power_id"]]
        it_kw = put("it_power_kw", nodes * system["node_power_kw"])
        pue = put("pue", lift(1) / power["efficiency"] + cooling["overhead_kw_per_kw_it"])
        grid_kw = put("grid_power_kw", it_kw * pue)
        it_upfront = put("it_upfront", nodes * system["node_capex_usd"])
        cooling_upfront = put("cooling_upfront", it_kw * cooling["capex_usd_per_kw_it"])
        power_upfront = put("power_upfront", it_kw * power["capex_usd_per_kw_it"])
        shell_upfront = put("shell_upfront", it_kw * s["SHELL_CAPEX_USD_PER_KW_IT"])
        if time_resolved:
            for key in BY_MONTH:
                put(key, 0.0)
        else:
            idle = system["node_idle_power_kw"]
            busy_share = s["UTILIZATION"] * s["AVAILABILITY"]
            average_kw = idle + busy_share * (system["node_power_kw"] - idle)
            kwh = put("grid_kwh", nodes * s["HOURS_PER_YEAR"] * average_kw * pue)
            put("energy", kwh * s["ENERGY_USD_PER_KWH"])
            put("demand_charges", grid_kw * s["DEMAND_USD_PER_KW_MONTH"] * 12)
        put("it_capex", it_upfront * system["crf"])
        put("cooling_capex", cooling_upfront * s["CRF_FACILITY"])
        put("power_capex", power_upfront * s["CRF_FACILITY"])
        put("shell_capex", shell_upfront * s["CRF_FACILITY"])
        put(
            "maintenance",
            it_upfront * system["maintenance_pct_per_year"] / 100
            + cooling_upfront * cooling["opex_pct_per_year"] / 100
            + it_kw * power["maintenance_usd_per_kw_year"],
        )
    else:
        site_terms = [k for k in ANNUAL if k not in ("other_opex", "rental")]
        for key in ("it_power_kw", "grid_power_kw", *UPFRONT, "grid_kwh", *site_terms):
            put(key, 0.0)
    put("other_opex", gpus * system["opex_usd_per_gpu_year"])
    rental = gpus * system["rental_usd_per_gpu_hour"] * s["HOURS_PER_YEAR"]
    put("rental", rental if row.get("rented") else 0.0)
    for key, parts in (("capex_usd", UPFRONT), ("annual_cost_usd", ANNUAL)):
        first, last = at[parts[0]], at[parts[-1]]
        values = [_value(cells[k]) for k in parts]
        text = f"SUM({xl_rowcol_to_cell(r, first)}:{xl_rowcol_to_cell(r, last)})"
        cells[key] = Expr(text, sum(values, 0.0))
    return cells


# --------------------------------------------------------------------------- the workbook


MONTHLY_COLUMNS = (
    Col("month", "month", "0"),
    Col("energy_kwh", "grid energy (kWh)", KWH),
    Col("energy_usd", "energy charges (USD)", USD),
    Col("peak_grid_kw", "peak grid power (kW)", KW),
    Col("demand_usd", "demand charges (USD)", USD),
    Col("usd_per_kwh", "mean energy price (USD/kWh)", USD_PER_KWH),
)

CAPEX_COLUMNS = (
    Col("part", "part key"),
    Col("label", "part"),
    Col("upfront_usd", "capex, upfront (USD)", USD),
    Col("share", "share of upfront capex (%)", SHARE),
    Col("annual_usd", "annual capital charge (USD/year)", USD),
    Col("how", "how it is computed"),
)
CAPEX_PARTS = (
    ("it", "IT (nodes)", "it_upfront", "it_capex"),
    ("cooling", "cooling plant", "cooling_upfront", "cooling_capex"),
    ("power", "power chain", "power_upfront", "power_capex"),
    ("shell", "shell (building, site, white space)", "shell_upfront", "shell_capex"),
    (
        "grid_connection",
        "grid connection (interconnect, substation)",
        None,
        "grid_connection_capex",
    ),
)
"""Capex rows: (`capex_usd_by_component` key, label, Fleet column, cost component)."""


def _date(text: object) -> object:
    """An ISO 8601 time as a naive UTC datetime (what a spreadsheet date is); else as given."""
    if not isinstance(text, str):
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def write_workbook(plan: PlanDocument, path: Path) -> None:
    """The workbook of `plan` (see the module docstring) at `path`."""
    options = {
        "nan_inf_to_errors": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        book.set_properties(
            {
                "title": f"tokenplan build plan {plan_id(plan)}",
                "subject": plan.get("name", ""),
                "comments": f"plan_id={plan_id(plan)}",
                "author": "tokenplan",
            }
        )
        PlanWorkbook(Writer(book), plan).write()


class PlanWorkbook:
    """The sheets of one plan's workbook. `write` makes them in sheet order and fills them in
    the order their formulas need: Assumptions, Fleet, Monthly, the plan's other tables, Costs,
    Capex, Summary."""

    def __init__(self, writer: Writer, plan: PlanDocument) -> None:
        self.writer, self.plan = writer, plan
        self.assumptions = plan_assumptions(plan)
        self.time_resolved = "monthly" in plan
        names = ["Summary", *SHEETS]
        if self.assumptions is not None:
            names.append("Capex")
        if self.time_resolved:
            names.append("Monthly")
        if self.assumptions is not None:
            names.append("Assumptions")
        self.sheets = {name: writer.book.add_worksheet(name) for name in names}
        for sheet in self.sheets.values():
            sheet.freeze_panes(1, 0)
        self.costs: dict[str, Expr] = {}
        """Costs cells by component (values-only: the plan's values)."""
        self.annual = lift(0)
        """Σ Costs."""
        self.capex: Expr | None = None
        """Σ Capex."""

    def write(self) -> None:
        assumed = None
        if self.assumptions is not None:
            assumed = write_assumptions(self.writer, self.sheets["Assumptions"], self.assumptions)
        fleet = self.write_fleet(assumed)
        monthly = self.write_monthly() if self.time_resolved else None
        for sheet_name, table in SHEETS.items():
            if table not in ("fleet", "costs"):
                self.write_plan_table(sheet_name, table)
        tokens = self.tokens()
        self.write_costs(assumed, fleet, monthly, tokens)
        if assumed is not None:
            self.write_capex(assumed, fleet)
        self.write_summary(assumed, fleet, tokens)

    # -- the plan's tables

    def write_plan_table(
        self,
        sheet_name: str,
        table: str,
        columns: Sequence[Col] | None = None,
        rows: Sequence[Mapping[str, Cell]] | None = None,
        totals: Mapping[str, Expr] | None = None,
    ) -> None:
        """A sheet of one table: `columns` (default the plan table's), `rows` (default the plan's
        values) and `totals` (default `TOTALLED`)."""
        columns = columns or plan_columns(table)
        if rows is None:
            rows = [
                {c.key: row.get(c.key) for c in columns} for row in table_rows(self.plan, table)
            ]
        if totals is None:
            totals = table_totals(table, columns, rows)
        sheet = self.sheets[sheet_name]
        self.writer.table(sheet, sheet_name, 0, columns, rows, totals)
        set_widths(sheet, columns, rows)

    def write_fleet(self, assumed: Assumed | None) -> list[dict[str, Cell]]:
        """Fleet: the plan's rows, with their costs by formula when there are assumptions."""
        if assumed is None:
            columns = plan_columns("fleet")
            rows = [{c.key: row.get(c.key) for c in columns} for row in self.plan["fleet"]]
            self.write_plan_table("Fleet", "fleet", columns, rows)
            return rows
        columns = fleet_columns(self.time_resolved)
        rows = [
            fleet_row(row, r, columns, assumed, self.time_resolved)
            for r, row in enumerate(self.plan["fleet"], start=1)
        ]
        keys = [c.key for c in columns]
        totals = table_totals("fleet", columns, rows)
        for column in FLEET_EXTRA[1:]:
            values = [_value(row[column.key]) for row in rows]
            totals[column.key] = column_sum(
                None, keys.index(column.key), 1, len(rows), values, subtotal=True
            )
        if rows and totals["it_power_kw"].value > 0:
            grid = ref(
                None, len(rows) + 1, keys.index("grid_power_kw"), totals["grid_power_kw"].value
            )
            it = ref(None, len(rows) + 1, keys.index("it_power_kw"), totals["it_power_kw"].value)
            totals["pue"] = grid / it
        self.write_plan_table("Fleet", "fleet", columns, rows, totals)
        return rows

    def write_monthly(self) -> list[dict[str, Cell]]:
        """Monthly: the months of a time-resolved plan as the plan holds them, the mean price
        by formula; totals (peak: the year's highest)."""
        keys = [c.key for c in MONTHLY_COLUMNS]
        rows: list[dict[str, Cell]] = []
        for r, month in enumerate(self.plan.get("monthly") or (), start=1):
            cells: dict[str, Cell] = {k: cast(Mapping[str, Any], month).get(k) for k in keys}
            kwh = ref(None, r, keys.index("energy_kwh"), _value(cells["energy_kwh"]))
            usd = ref(None, r, keys.index("energy_usd"), _value(cells["energy_usd"]))
            cells["usd_per_kwh"] = usd / kwh if kwh.value else None
            rows.append(cells)
        n = len(rows)
        totals = {
            key: column_sum(None, keys.index(key), 1, n, [_value(r[key]) for r in rows], True)
            for key in ("energy_kwh", "energy_usd", "demand_usd")
        }
        peak = keys.index("peak_grid_kw")
        first, last = xl_rowcol_to_cell(1, peak), xl_rowcol_to_cell(max(n, 1), peak)
        peaks = [_value(r["peak_grid_kw"]) for r in rows]
        totals["peak_grid_kw"] = Expr(f"SUBTOTAL(104,{first}:{last})", max(peaks, default=0.0))
        if totals["energy_kwh"].value:
            usd = ref(None, n + 1, keys.index("energy_usd"), totals["energy_usd"].value)
            kwh = ref(None, n + 1, keys.index("energy_kwh"), totals["energy_kwh"].value)
            totals["usd_per_kwh"] = usd / kwh
        self.write_plan_table("Monthly", "monthly", MONTHLY_COLUMNS, rows, totals)
        return rows

    def tokens(self) -> Expr:
        """Tokens per year = Σ Allocation (the plan's figure when it has no allocation)."""
        rows = table_rows(self.plan, "allocation")
        if not rows:
            return lift(float(self.plan["tokens_per_year"]))
        col = [c.name for c in TABLES["allocation"]].index("tokens_per_year")
        values = [_value(r.get("tokens_per_year")) for r in rows]
        return column_sum("Allocation", col, 1, len(rows), values)

    # -- costs and capex

    def write_costs(
        self,
        assumed: Assumed | None,
        fleet: Sequence[Mapping[str, Cell]],
        monthly: Sequence[Mapping[str, Cell]] | None,
        tokens: Expr,
    ) -> None:
        """Costs: annual cost by component (by formula when there are assumptions: Σ Fleet,
        + Σ Monthly, + the site costs, which follow in a second table), share and USD per
        million tokens."""
        plan_rows = table_rows(self.plan, "costs")
        n = len(plan_rows)
        components = [str(r["component"]) for r in plan_rows]
        if assumed is None:
            self.write_plan_table("Costs", "costs")
            self.costs = {
                key: ref("Costs", r, 2, float(cast(float, row["annual_cost_usd"])))
                for r, (key, row) in enumerate(zip(components, plan_rows, strict=True), start=1)
            }
            self.annual = column_sum("Costs", 2, 1, n, [c.value for c in self.costs.values()])
            return
        s = assumed.scalars
        site_header = n + 4  # after the components, their total row, an empty row and a title
        site = (
            (
                "grid_connection_capex",
                "grid connection annuity",
                lift(1000)
                * s["BUDGET_MW"]
                * s["GRID_CONNECTION_CAPEX_USD_PER_KW"]
                * s["CRF_FACILITY"],
                "1000 × BUDGET_MW × GRID_CONNECTION_CAPEX_USD_PER_KW × CRF_FACILITY",
            ),
            (
                "fixed_charges",
                "tariff fixed charges",
                s["FIXED_CHARGES_USD_PER_YEAR"],
                "FIXED_CHARGES_USD_PER_YEAR (the tariff's fixed charges)",
            ),
            (
                "other_opex",
                "site fixed opex",
                s["FIXED_OPEX_USD_PER_YEAR"],
                "FIXED_OPEX_USD_PER_YEAR (staff, insurance)",
            ),
        )
        site_cells = {
            key: ref(None, site_header + 1 + i, 2, expr.value)
            for i, (key, _, expr, _) in enumerate(site)
        }
        fleet_keys = [c.key for c in fleet_columns(self.time_resolved)]
        headers = {c.key: c.header for c in FLEET_EXTRA}
        formulas: dict[str, tuple[Expr, str]] = {}
        for key in ANNUAL:
            values = [_value(row[key]) for row in fleet]
            column = column_sum("Fleet", fleet_keys.index(key), 1, len(fleet), values)
            formulas[key] = (column if fleet else lift(0), f"Σ Fleet {headers[key]}")
        month_keys = [c.key for c in MONTHLY_COLUMNS]
        for key, column_key in (("energy", "energy_usd"), ("demand_charges", "demand_usd")):
            if monthly is not None:
                values = [_value(r[column_key]) for r in monthly]
                month = column_sum("Monthly", month_keys.index(column_key), 1, len(monthly), values)
                formula, how = formulas[key]
                formulas[key] = (formula + month, f"{how} + Σ Monthly {column_key}")
        formulas["grid_connection_capex"] = (site_cells["grid_connection_capex"], "site costs")
        formulas["fixed_charges"] = (site_cells["fixed_charges"], "site costs")
        opex, how = formulas["other_opex"]
        formulas["other_opex"] = (opex + site_cells["other_opex"], f"{how} + site fixed opex")

        rows: list[dict[str, Cell]] = [dict(row) for row in plan_rows]
        for row in rows:
            if row["component"] in formulas:
                row["annual_cost_usd"], row["how"] = formulas[str(row["component"])]
        self.costs = {
            key: ref("Costs", r, 2, _value(row["annual_cost_usd"]))
            for r, (key, row) in enumerate(zip(components, rows, strict=True), start=1)
        }
        self.annual = column_sum("Costs", 2, 1, n, [c.value for c in self.costs.values()])
        annual = Expr("ANNUAL_COST_USD", self.annual.value)
        per_year = Expr("TOKENS_PER_YEAR", tokens.value)
        for r, row in enumerate(rows, start=1):
            usd = ref(None, r, 2, _value(row["annual_cost_usd"]))
            row["share_of_annual_cost"] = usd / annual if annual.value else None
            row["usd_per_million_tokens"] = usd / per_year * 1000000 if per_year.value else None
        columns = [*plan_columns("costs"), Col("how", "how it is computed")]
        self.write_plan_table("Costs", "costs", columns, rows)

        sheet = self.sheets["Costs"]
        title = "Site costs, independent of the fleet (USD/year)"
        sheet.write_string(site_header - 1, 0, title, self.writer.bold)
        site_columns = (
            Col("label", "site cost"),
            Col("component", "component key"),
            Col("annual_cost_usd", "annual cost (USD/year)", USD),
            Col("how", "how it is computed"),
        )
        site_rows = [
            {"label": label, "component": key, "annual_cost_usd": expr, "how": how}
            for key, label, expr, how in site
        ]
        self.writer.table(sheet, "SiteCosts", site_header, site_columns, site_rows)

    def write_capex(self, assumed: Assumed, fleet: Sequence[Mapping[str, Cell]]) -> None:
        """Capex: upfront capex by part = Σ Fleet (grid connection: 1000 × budget MW × USD per
        kW), its share of the total, and the annual capital charge it makes (Costs)."""
        s = assumed.scalars
        fleet_keys = [c.key for c in fleet_columns(self.time_resolved)]
        headers = {c.key: c.header for c in FLEET_EXTRA}
        rows: list[dict[str, Cell]] = []
        for part, label, column, component in CAPEX_PARTS:
            upfront: Expr
            if column is None:
                upfront = lift(1000) * s["BUDGET_MW"] * s["GRID_CONNECTION_CAPEX_USD_PER_KW"]
                how = "1000 × BUDGET_MW × GRID_CONNECTION_CAPEX_USD_PER_KW"
            else:
                values = [_value(row[column]) for row in fleet]
                col = fleet_keys.index(column)
                upfront = column_sum("Fleet", col, 1, len(fleet), values) if fleet else lift(0)
                how = f"Σ Fleet {headers[column]}"
            rows.append(
                {
                    "part": part,
                    "label": label,
                    "upfront_usd": upfront,
                    "annual_usd": self.costs.get(component),
                    "how": how,
                }
            )
        n = len(rows)
        self.capex = column_sum("Capex", 2, 1, n, [_value(r["upfront_usd"]) for r in rows])
        total = Expr(f"SUM($C$2:$C${n + 1})", self.capex.value)
        for r, row in enumerate(rows, start=1):
            row["share"] = (
                ref(None, r, 2, _value(row["upfront_usd"])) / total if total.value else None
            )
        totals = {
            key: column_sum(None, i, 1, n, [_value(r[key]) for r in rows], subtotal=True)
            for i, key in enumerate(c.key for c in CAPEX_COLUMNS)
            if key in ("upfront_usd", "share", "annual_usd")
        }
        self.write_plan_table("Capex", "capex", CAPEX_COLUMNS, rows, totals)

    # -- summary

    def write_summary(
        self, assumed: Assumed | None, fleet: Sequence[Mapping[str, Cell]], tokens: Expr
    ) -> None:
        """Summary: the plan's figures; with assumptions the costs, tokens, capex and power
        are formulas of the other sheets (a third column says which)."""
        writer, sheet, plan = self.writer, self.sheets["Summary"], self.plan
        document = cast(Mapping[str, Any], plan)
        values: dict[str, Cell] = {field: document.get(field) for field, _, _ in SUMMARY}
        values["created_at"] = _date(values["created_at"])
        how: dict[str, str] = {}
        row_of = {field: r for r, (field, _, _) in enumerate(SUMMARY, start=1)}

        def at(field: str) -> Expr:
            return ref(None, row_of[field], 1, _value(values[field]))

        if assumed is not None:
            fleet_columns_ = fleet_columns(self.time_resolved)
            fleet_keys = [c.key for c in fleet_columns_]
            fleet_headers = {c.key: c.header for c in fleet_columns_}
            values["tokens_per_year"], how["tokens_per_year"] = (
                tokens,
                "Σ Allocation tokens per year",
            )
            values["annual_cost_usd"], how["annual_cost_usd"] = self.annual, "Σ Costs"
            if tokens.value > 0:
                values["cost_per_million_tokens_usd"] = (
                    at("annual_cost_usd") / at("tokens_per_year") * 1000000
                )
                how["cost_per_million_tokens_usd"] = "annual cost / tokens per year × 10^6"
            if self.capex is not None:
                values["capex_usd"] = self.capex
                how["capex_usd"] = "Σ Capex: IT + cooling + power chain + shell + grid connection"
            values["budget_mw"] = assumed.scalars["BUDGET_MW"]
            how["budget_mw"] = "Assumptions: BUDGET_MW"
            for field, key in (("grid_power_mw", "grid_power_kw"), ("it_power_mw", "it_power_kw")):
                kw = [_value(row[key]) for row in fleet]
                column = column_sum("Fleet", fleet_keys.index(key), 1, len(fleet), kw)
                values[field] = column / 1000 if fleet else lift(0)
                how[field] = f"Σ Fleet {fleet_headers[key]} / 1000"
            if at("it_power_mw").value > 0:
                values["pue"] = at("grid_power_mw") / at("it_power_mw")
                how["pue"] = "grid power / IT power"
            values["availability"] = assumed.scalars["AVAILABILITY"]
            how["availability"] = "Assumptions: AVAILABILITY"
            if values["revenue_usd_per_year"] is not None:
                values["margin_usd_per_year"] = at("revenue_usd_per_year") - at("annual_cost_usd")
                how["margin_usd_per_year"] = "revenue − annual cost"
            writer.book.define_name(
                "TOKENS_PER_YEAR", "=" + ref("Summary", row_of["tokens_per_year"], 1, 0).text
            )
            writer.book.define_name(
                "ANNUAL_COST_USD", "=" + ref("Summary", row_of["annual_cost_usd"], 1, 0).text
            )

        headers = ["item", "value"] + (["how it is computed"] if assumed is not None else [])
        sheet.write_row(0, 0, headers, writer.header)
        for field, label, spec in SUMMARY:
            r = row_of[field]
            writer.write(sheet, r, 0, label, None)
            writer.write(sheet, r, 1, values[field], spec)
            if field in how:
                writer.write(sheet, r, 2, how[field], None)
        if assumed is None:
            writer.write(sheet, len(SUMMARY) + 1, 0, "note", None)
            writer.write(sheet, len(SUMMARY) + 1, 1, VALUES_ONLY_NOTE, None)
        sheet.set_column(0, 0, 44)
        sheet.set_column(1, 1, max(34, len(plan_id(plan)) + 4))
        sheet.set_column(2, 2, 60)
