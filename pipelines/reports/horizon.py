"""A multi-year plan as text parts (`pipelines.reports.text`): the summary, year by year, the
build plan per vintage, the cash flow, notes and the solver line; and the files written for it
(`write_horizon_files`: the JSON document, CSV tables and the HTML report of
`pipelines.reports.horizon_report`)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

from pipelines.reports.text import (
    NONE_TEXT,
    TEXT,
    Heading,
    Notes,
    Paragraph,
    Part,
    Table,
    Title,
    gap_text,
    mw_text,
    number_text,
    percent_text,
    tokens_text,
    usd_per_mtok_column,
    usd_per_mtok_text,
    usd_text,
)
from pipelines.warehouse.files import write_atomically

YEAR_HEADERS = [
    "year",
    "budget",
    "grid power",
    "tokens",
    "cost",
    "capital",
    "facility",
    "energy",
    "opex",
    "site",
    "cost per M tokens",
]
BUILD_HEADERS = ["year", "system", "cooling", "power", "entered", "bought", "in service", "retired"]
BUILD_KINDS = (TEXT, TEXT, TEXT, TEXT, TEXT, "number", "number", "number")
CASH_HEADERS = ["year", "capex paid", "opex", "energy", "site", "total"]


CENT = 0.005
"""Amounts smaller than half a cent are shown as $0 (a solver's 1e-7 kW of facility built is
none)."""


def plan_span(plan: dict[str, Any]) -> str:
    """`2026-2030`, or `5 year` for a plan without a start year."""
    first, count = plan["start_year"], plan["years"]
    return f"{first}-{first + count - 1}" if first is not None else f"{count} year"


def amount(value: float | None) -> str:
    """`usd_text` of a yearly amount, with rounding noise below half a cent shown as $0."""
    return usd_text(None if value is None else 0.0 if abs(value) < CENT else value)


def horizon_parts(plan: dict[str, Any]) -> list[Part]:
    """The parts of a multi-year plan document (`optimizer.horizon.document`)."""
    return [
        Title(f"Multi-year plan for {plan['name']}, {plan_span(plan)}", plan["status"]),
        Table(None, summary_rows(plan), (TEXT, TEXT)),
        Heading("Year by year"),
        Table(YEAR_HEADERS, year_rows(plan)),
        Heading("Build plan"),
        Paragraph(
            "Per vintage (the year its nodes entered service, or were installed) and year: "
            "nodes bought, in service, and retired at the start of the year (early, or at the "
            "end of their lifetime: the row of the year after their last, with none in service)."
        ),
        Table(BUILD_HEADERS, build_rows(plan), BUILD_KINDS),
        Heading("Cash flow"),
        Paragraph("When the money is paid: purchases and facility at once, the rest each year."),
        Table(CASH_HEADERS, cash_rows(plan)),
        Notes(list(plan["notes"]), "Notes:") if plan["notes"] else Paragraph(""),
        Paragraph(solver_text(plan)),
    ]


def summary_rows(plan: dict[str, Any]) -> list[list[str]]:
    return [
        [
            "levelized cost per million tokens",
            usd_per_mtok_text(plan["cost_per_million_tokens_usd"]),
        ],
        ["present value of the cost", usd_text(plan["present_value_cost_usd"])],
        ["present value of the tokens", tokens_text(plan["present_value_tokens"])],
        ["objective", plan["objective"]],
        ["power design", plan["power_design"] or NONE_TEXT],
        ["discount rate (wacc)", percent_text(plan["wacc"])],
        ["energy price escalation", f"{plan['energy_escalation_pct_per_year']:g}% a year"],
    ]


def year_rows(plan: dict[str, Any]) -> list[list[str]]:
    rows = plan["yearly"]
    costs = usd_per_mtok_column([r["cost_per_million_tokens_usd"] for r in rows])
    return [
        [
            str(r["year"]),
            mw_text(r["budget_mw"]),
            mw_text(r["grid_power_mw"]),
            tokens_text(r["tokens_per_year"]),
            amount(r["cost_usd"]),
            amount(r["capital_usd"]),
            amount(r["facility_usd"]),
            amount(r["energy_usd"]),
            amount(r["opex_usd"]),
            amount(r["site_usd"]),
            cost,
        ]
        for r, cost in zip(rows, costs, strict=True)
    ]


def build_rows(plan: dict[str, Any]) -> list[list[str]]:
    return [
        [
            str(r["year"]),
            r["sku"],
            r["cooling_id"] or NONE_TEXT,
            r["power_id"] or NONE_TEXT,
            f"{r['vintage_year']} ({r['kind']})",
            number_text(r["bought"]),
            number_text(r["in_service"]),
            number_text(r["retired"]),
        ]
        for r in plan["build_plan"]
    ]


def cash_rows(plan: dict[str, Any]) -> list[list[str]]:
    return [
        [
            str(r["year"]),
            amount(r["capex_usd"]),
            amount(r["opex_usd"]),
            amount(r["energy_usd"]),
            amount(r["site_usd"]),
            amount(r["total_usd"]),
        ]
        for r in plan["cash_flow"]
    ]


def solver_text(plan: dict[str, Any]) -> str:
    solver = plan["solver"]
    milps = sum(1 for it in solver["iterations"] if it.get("lambda_usd_per_token") is not None)
    return (
        f"Solver: HiGHS, {plan['status']}, gap {gap_text(plan['mip_gap'])}, "
        f"{milps} MILPs, {solver['n_variables']:,} variables, {solver['n_nonzeros']:,} nonzeros, "
        f"{solver['seconds']:.2f} s"
    )


HORIZON_TABLES = ("yearly", "build_plan", "cash_flow")
"""The rows of a multi-year plan written as CSV files beside its JSON document."""
HORIZON_HTML = "horizon_plan.html"
"""The multi-year plan's HTML report, beside its JSON document."""


def write_horizon_files(plan: dict[str, Any], folder: Path) -> list[Path]:
    """`horizon_plan.json`, one CSV per `HORIZON_TABLES` and the HTML report
    `horizon_plan.html` in `folder`, each written atomically; the paths written."""
    import polars as pl

    written = [folder / "horizon_plan.json"]
    text = json.dumps(plan, indent=2)
    write_atomically(written[0], lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    for name in HORIZON_TABLES:
        path = folder / f"{name}.csv"
        frame = pl.DataFrame(plan[name], infer_schema_length=None)
        write_atomically(path, frame.write_csv)
        written.append(path)
    written.append(write_horizon_html(plan, folder / HORIZON_HTML))
    return written


def write_horizon_html(
    plan: dict[str, Any], path: Path, stress: dict[str, Any] | None = None
) -> Path:
    """The plan's HTML report (with its stress test's regret table, if given) at `path`,
    written atomically."""
    from pipelines.reports.horizon_report import horizon_html

    page = horizon_html(plan, stress)
    write_atomically(path, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    return path


STRESS_JSON, REGRET_CSV = "stress_test.json", "regret.csv"


def write_stress_files(plan: dict[str, Any], stress: dict[str, Any], folder: Path) -> list[Path]:
    """The stress test of `plan` in `folder`: `stress_test.json`, its regret rows as
    `regret.csv` and the plan's report with the regret table, `horizon_plan.html`; each written
    atomically; the paths written."""
    import polars as pl

    document, table = folder / STRESS_JSON, folder / REGRET_CSV
    text = json.dumps(stress, indent=2)
    write_atomically(document, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    write_atomically(table, pl.DataFrame(stress["regret"], infer_schema_length=None).write_csv)
    return [document, table, write_horizon_html(plan, folder / HORIZON_HTML, stress)]


def write_robust_files(document: dict[str, Any], folder: Path) -> list[Path]:
    """The robust plan in `folder`: `robust_plan.json` and its report `robust_plan.html`, each
    written atomically; the paths written."""
    from pipelines.reports.horizon_report import robust_html

    written = {
        folder / "robust_plan.json": json.dumps(document, indent=2),
        folder / "robust_plan.html": robust_html(document),
    }
    for path, content in written.items():
        write_atomically(path, partial(_write_text, content))
    return list(written)


def _write_text(content: str, path: str) -> None:
    Path(path).write_text(content, encoding="utf-8")
