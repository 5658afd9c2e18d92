"""What each lever is worth, the serving configurations and the site figures in every output:
the terminal text, the Markdown and HTML reports and the exports; and a plan recorded before
they existed still renders in each.

The plans here are hand-made from a recorded plan (`tests/golden/bundled-flat.json`), so the
numbers the outputs must show are known whatever the bundled data says; one test plans a copy
of the bundled data and checks the lever table against the document it printed.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from conftest import REPO

from optimizer.types import PlanDocument
from pipelines.reports.exports import EXPORTS, TABLES, export_plan, plan_table
from pipelines.reports.report import html_report, markdown_report
from pipelines.reports.text import (
    DERIVED_MARK,
    INTERPOLATED_MARK,
    derivation_text,
    lever_rows,
    plan_text,
)

OLD_PLAN = REPO / "tests" / "reports" / "old_plan.json"
"""The bundled site's plan as recorded before levers, site figures and configurations."""

NEW_PLAN_KEYS = {
    "levers",
    "carbon_kg_per_million_tokens",
    "water_l_per_million_tokens",
    "revenue_usd_per_year",
    "margin_usd_per_year",
    "availability",
}
DERIVATION = (
    "derived from GB200 x 1.298 (MLPerf v6.1 Offline: GB300 9,440.8 / GB200 7,274.9 per GPU "
    "(same stack)); "
)
INFEASIBLE_REASON = "workload chat: no system has an operating point that meets its SLO"


def lever(
    key: str,
    name: str,
    without: str,
    cost: float | None,
    density: float | None,
    cost_ratio: float | None,
    density_ratio: float | None,
    used: bool = True,
    in_data: bool = True,
    status: str = "optimal",
    reason: str | None = None,
    margin: float | None = None,
) -> dict:
    return {
        "lever": key,
        "name": name,
        "without": without,
        "in_data": in_data,
        "used_by_plan": used,
        "status": status,
        "reason": reason,
        "cost_per_million_tokens_usd": cost,
        "tokens_per_s_per_mw": density,
        "annual_cost_usd": None if cost is None else 2.2e8,
        "margin_usd_per_year": margin,
        "cost_ratio": cost_ratio,
        "tokens_per_mw_ratio": density_ratio,
    }


LEVERS = [
    lever("fp4", "FP4", "no FP4 operating points", 0.7731, 664_658.53, 6.5111, 6.3717),
    lever(
        "speculative_decoding",
        "speculative decoding / MTP",
        "no speculative decoding",
        0.18742,
        2_695_903.2,
        1.5785,
        1.5709,
    ),
    lever(
        "disaggregation",
        "disaggregated prefill/decode",
        "no disaggregated serving",
        None,
        None,
        None,
        None,
        status="infeasible",
        reason=INFEASIBLE_REASON,
    ),
    lever(
        "kv_offload",
        "KV-cache offload",
        "no KV-cache offload",
        0.11874,
        4_234_983.7,
        1.0,
        1.0,
        used=False,
        in_data=False,
    ),
    lever(
        "liquid_cooling",
        "liquid cooling",
        "air cooling only",
        0.60187,
        663_381.6,
        5.0689,
        6.3839,
        used=False,
    ),
    lever("dc_power", "800 VDC power", "415 VAC only", 0.11993, 4_059_449.4, 1.0101, 1.0432),
]


def old_plan() -> PlanDocument:
    """A plan as recorded before levers, site figures and configurations (the bundled site's,
    kept as it was recorded then), without times."""
    plan = json.loads(OLD_PLAN.read_text())
    assert not (NEW_PLAN_KEYS & plan.keys())
    plan["solver"].pop("seconds", None)
    return plan


@pytest.fixture
def plan() -> PlanDocument:
    """The old plan with every new field, by hand: the lever table above, site figures, prices,
    and configurations; its GB200 chat row interpolated and derived."""
    plan = old_plan()
    plan |= {
        "plan_id": "20260101T000000000000Z-levers",
        "levers": copy.deepcopy(LEVERS),
        "carbon_kg_per_million_tokens": 0.022282,
        "water_l_per_million_tokens": 0.012837,
        "availability": 0.96,
        "revenue_usd_per_year": 1.15e9,
        "margin_usd_per_year": 1.05e9,
    }
    plan["costs_usd_per_year"]["grid_connection_capex"] = 700_980.0
    plan["solver"]["seconds"] = 1.25
    for row in plan["allocation"]:
        chat = row["workload"] == "chat"
        row |= {
            "configuration": f"{row['framework']} {row['precision']}"
            + (" mtp disaggregated" if chat else ""),
            "spec_decoding": "mtp" if chat else "none",
            "disaggregated": chat,
            "prefill_gpus": 4 if chat else None,
            "decode_gpus": 8 if chat else None,
            "kv_offload": None,
            "parallelism": "prefill 1x(tp4) decode 1x(tp8)" if chat else None,
            "derived": chat,
        }
        if chat:
            row["sku"] = "GB300 NVL72"
            row["source"] = DERIVATION + row["source"]
    for index, row in enumerate(plan["levers"]):
        row["margin_usd_per_year"] = None if row["cost_ratio"] is None else 1e9 - 1e8 * index
    return plan


def line_with(text: str, start: str) -> str:
    """The one line of `text` that starts with `start`."""
    [line] = [line for line in text.splitlines() if line.startswith(start)]
    return line


# --------------------------------------------------------------------------- terminal text


def test_the_lever_table_shows_each_lever_with_its_numbers(plan: PlanDocument):
    text = plan_text(plan)
    assert "What each lever is worth" in text
    assert line_with(text, "FP4 ").split() == [
        "FP4",
        *"no FP4 operating points".split(),
        "$0.7731",
        "6.51x",
        "664,659",
        "6.37x",
        "$1.00B",
        "yes",
        "optimal",
    ]
    assert line_with(text, "speculative decoding / MTP").split()[-7:] == [
        "$0.1874",
        "1.58x",
        "2,695,903",
        "1.57x",
        "$900.00M",
        "yes",
        "optimal",
    ]
    infeasible = line_with(text, "disaggregated prefill/decode")
    assert infeasible.endswith(f"yes           infeasible: {INFEASIBLE_REASON}")
    assert infeasible.split()[5:11] == ["-"] * 5 + ["yes"]
    assert "not in data" in line_with(text, "KV-cache offload")
    assert line_with(text, "liquid cooling").split()[-7:] == [
        "$0.6019",
        "5.07x",
        "663,382",
        "6.38x",
        "$600.00M",
        "no",
        "optimal",
    ]
    header = line_with(text, "lever ")
    for column in ("cost per M tokens", "cost x", "tokens/s per MW", "tokens/MW x", "margin/year"):
        assert column in header
    assert text.index("What each lever is worth") < text.index("Solver: HiGHS")


def test_the_lever_table_has_no_margin_column_without_prices(plan: PlanDocument):
    plan["revenue_usd_per_year"] = plan["margin_usd_per_year"] = None
    text = plan_text(plan)
    assert "margin/year" not in text
    assert "revenue per year" not in text and "margin per year" not in text
    assert [row[:4] for row in lever_rows(plan)][0] == [
        "FP4",
        "no FP4 operating points",
        "$0.7731",
        "6.51x",
    ]


def test_site_lines(plan: PlanDocument):
    text = plan_text(plan)
    assert line_with(text, "carbon per million tokens").endswith("0.0223 kg CO2e")
    assert line_with(text, "water per million tokens").endswith("0.0128 L")
    assert line_with(text, "availability").endswith("96.0% of on-site GPUs serving")
    assert line_with(text, "revenue per year").endswith("$1.15B")
    assert line_with(text, "margin per year").endswith("$1.05B")
    assert line_with(text, "grid connection capex (annualized)").split()[-2:] == [
        "$700.98k",
        f"{100 * 700_980.0 / plan['annual_cost_usd']:.1f}%",
    ]
    plan["carbon_kg_per_million_tokens"] = None
    assert "no carbon intensity" in line_with(plan_text(plan), "carbon per million tokens")
    plan["kwh_per_million_tokens"] = plan["water_l_per_million_tokens"] = None  # all rented
    for figure in ("carbon", "water"):
        line = line_with(plan_text(plan), f"{figure} per million tokens")
        assert line.endswith("- (no on-site fleet)")


def test_allocation_shows_configurations_and_marks_derived_points(plan: PlanDocument):
    text = plan_text(plan)
    chat = line_with(text, "chat ")
    assert f"dynamo-trt fp4 mtp disaggregated {INTERPOLATED_MARK}{DERIVED_MARK}" in chat
    assert "GB300 NVL72" in chat
    batch = line_with(text, "reasoning-batch")
    assert "dynamo-trt fp4" in batch and DERIVED_MARK not in batch
    assert INTERPOLATED_MARK not in batch
    assert line_with(text, f"{INTERPOLATED_MARK} interpolated")
    derived = line_with(text, f"{DERIVED_MARK} GB300 NVL72 (chat): ")
    assert derived.endswith(derivation_text(DERIVATION))
    assert derivation_text(DERIVATION) == DERIVATION.removesuffix("; ")


def test_a_long_derivation_is_cut_in_the_terminal_only(plan: PlanDocument):
    long = "derived from GB200 x 1.298 (" + "measured; " * 40 + "end)"
    for row in plan["allocation"]:
        if row.get("derived"):
            row["source"] = long + "; InferenceMAX point"
    note = line_with(plan_text(plan), f"{DERIVED_MARK} GB300")
    assert note.endswith("…)") and len(note) < len(long)
    assert long in plan_text(plan, markdown=True)
    assert long in markdown_report(plan)


def test_markdown_text_escapes_the_marks(plan: PlanDocument):
    text = plan_text(plan, markdown=True)
    assert f"- \\{INTERPOLATED_MARK} interpolated" in text
    assert "| FP4 | no FP4 operating points | $0.7731 | 6.51x |" in text


def test_a_plan_recorded_before_levers_prints_as_before():
    plan = old_plan()
    text = plan_text(plan)
    for absent in ("What each lever is worth", "carbon", "water", "availability", "margin"):
        assert absent not in text
    assert "dynamo-trt fp4 *" in line_with(text, "chat ")  # framework and precision
    assert line_with(text, "Solver: HiGHS").endswith("2 iterations")  # no times recorded
    assert "## Build plan" in plan_text(plan, markdown=True)


def test_a_time_resolved_plan_says_the_levers_are_flat_year(plan: PlanDocument):
    plan["time_resolution"] = "representative"
    plan["flat_cost_per_million_tokens_usd"] = 0.12
    assert "flat-year" in markdown_report(plan).split("## What each lever is worth")[1]


def test_max_profit_says_a_lever_is_worth_its_margin(plan: PlanDocument):
    plan["objective"] = "max-profit"
    lead = plan_text(plan).split("What each lever is worth")[1]
    assert "maximize margin" in lead and "$1.05B a year" in lead


# --------------------------------------------------------------------------- reports


VOID = {"meta", "br", "hr", "img", "input", "link"}
"""Tags with no end tag."""


class Page(HTMLParser):
    """Tags, the text of each table's cells by row, and the SVG titles."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.headings: list[str] = []
        self.charts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.tables[-1][-1].append("")
        elif tag == "svg":
            self.charts.append(dict(attrs).get("aria-label", ""))
        elif tag == "h2":
            self.headings.append("")

    def handle_endtag(self, tag):
        assert tag not in VOID and self.stack.pop() == tag, f"</{tag}> closes another tag"

    def handle_data(self, data):
        if self.stack and self.stack[-1] in ("td", "th"):
            self.tables[-1][-1][-1] += data
        elif self.stack and self.stack[-1] == "h2":
            self.headings[-1] += data


def parse(page: str) -> Page:
    """The page, every tag closed where it should be (`<rect .../>` closes itself)."""
    parser = Page()
    parser.feed(page)
    assert parser.stack == [], parser.stack
    return parser


def table_after(page: Page, header: str) -> list[list[str]]:
    [table] = [t for t in page.tables if t and header in t[0]]
    return table


def test_html_report_has_the_lever_section(plan: PlanDocument):
    page = parse(html_report(plan))
    assert "What each lever is worth" in page.headings
    assert page.headings.index("What each lever is worth") < page.headings.index("Allocation")
    assert {"Cost per token without each lever", "Tokens/s per MW with each lever"} <= set(
        page.charts
    )
    levers = table_after(page, "cost x")
    assert levers[0][:6] == [
        "lever",
        "without it",
        "cost per M tokens",
        "cost x",
        "tokens/s per MW",
        "tokens/MW x",
    ]
    rows = {row[0]: row for row in levers[1:]}
    assert list(rows) == [r["name"] for r in LEVERS]
    assert rows["FP4"][2:5] == ["$0.7731", "6.51x", "664,659"]
    assert rows["disaggregated prefill/decode"][-1] == f"infeasible: {INFEASIBLE_REASON}"
    assert rows["KV-cache offload"][-2] == "not in data"

    allocation = table_after(page, "configuration")
    chat = next(row for row in allocation if row[0] == "chat")
    assert chat[2] == f"dynamo-trt fp4 mtp disaggregated {INTERPOLATED_MARK}{DERIVED_MARK}"


def test_html_report_cards_show_the_site_figures(plan: PlanDocument):
    page = html_report(plan)
    for text in ("0.0223 kg", "0.0128 L", "96.0%", "$1.05B", "on revenue $1.15B"):
        assert text in page
    assert "GB300 NVL72 (chat): derived from GB200 x 1.298" in page


def test_lever_charts_bar_each_feasible_lever(plan: PlanDocument):
    from pipelines.reports.report import lever_charts

    cost, density = lever_charts(plan)
    assert cost.count("<rect x=") == 5 + 2  # a bar per feasible lever, two legend swatches
    assert "infeasible without it" in cost and "1.00× (not in data)" in cost
    assert "6.51×" in cost and "6.37×" in density


def test_markdown_report_has_the_lever_section(plan: PlanDocument):
    text = markdown_report(plan)
    section = text.split("## What each lever is worth")[1].split("## Allocation")[0]
    assert "| FP4 | no FP4 operating points | $0.7731 | 6.51x | 664,659 | 6.37x |" in section
    assert f"infeasible: {INFEASIBLE_REASON}" in section
    assert "6.51x cost per token without it" in section and "█" in section
    assert f"- \\{INTERPOLATED_MARK} interpolated" in text
    assert "| carbon per million tokens | 0.0223 kg CO2e |" in text


def test_reports_of_a_plan_recorded_before_levers():
    plan = old_plan()
    page = parse(html_report(plan))
    assert "What each lever is worth" not in page.headings
    assert not any("lever" in chart for chart in page.charts)
    text = markdown_report(plan)
    assert "## What each lever is worth" not in text and "carbon" not in text
    assert "HiGHS optimal, 2 Dinkelbach iteration(s)</footer>" in html_report(plan)


# --------------------------------------------------------------------------- time-resolved


FLAT, SAME_USE, OWN = 0.1172, 0.0905, 0.08607
"""The issue's figures: the flat year at 70%, the flat year at the realized utilization, the
representative year."""


def month(number: int) -> dict:
    summer = number in (6, 7, 8, 9)
    return {
        "month": number,
        "energy_kwh": 9.0e6 + 1000.0 * number,
        "energy_usd": 300_000.0 if summer else 250_000.0,
        "peak_grid_kw": 12_147.0 + number,
        "demand_usd": 302_754.65 if summer else 259_389.45,
    }


@pytest.fixture
def timed(plan: PlanDocument) -> PlanDocument:
    """The plan at a representative year, on a 30 MW budget (a `--budget-mw` override of the
    site named for 20 MW), with the flat-year comparators and the gain split by hand."""
    plan |= {
        "name": "arkansas-20mw",
        "budget_mw": 30.0,
        "time_resolution": "representative",
        "cost_per_million_tokens_usd": OWN,
        "flat_cost_per_million_tokens_usd": FLAT,
        "flat_at_realized_utilization_cost_per_million_tokens_usd": SAME_USE,
        "gain_vs_flat_usd_per_million_tokens": {
            "utilization": FLAT - SAME_USE,
            "tariff_timing": SAME_USE - OWN,
            "total": FLAT - OWN,
            "flat_utilization": 0.7,
            "realized_flat_utilization": 0.9996,
        },
        "monthly": [month(m) for m in range(1, 13)],
        "realized_utilization": {"fleet": 0.9596, "flat_assumption": 0.7, "by_system": []},
    }
    for row in plan["alternatives"]:
        if row["cost_per_million_tokens_usd"] is not None:
            row["advantage_ratio"] = row["cost_per_million_tokens_usd"] / FLAT
    return plan


FRONTIER = {
    "objective": "cost-per-token",
    "time_resolution": "flat",
    "marginal_mw": 1.0,
    "rows": [
        {
            "budget_mw": budget,
            "status": "optimal",
            "reason": None,
            "cost_per_million_tokens_usd": cost,
            "tokens_per_s_per_mw": 3.0e6,
            "tokens_per_year": 1e15,
            "grid_power_mw": budget * 0.9,
            "marginal_tokens_per_year": None,
            "marginal_cost_per_million_tokens_usd": None,
            "marginal_usd_per_million_extra_tokens": None,
            "design": "power ac415: GB300 NVL72 × dlc 50",
        }
        for budget, cost in ((20.0, 0.1190), (30.0, FLAT), (40.0, 0.1165))
    ],
}
"""A flat sweep (the issue's: 0.1165 to 0.1190, a 2% spread)."""


def test_the_title_names_the_budget_planned_and_the_time_resolution(timed: PlanDocument):
    heading = "Build plan: arkansas-20mw · 30 MW · representative year"
    page = html_report(timed)
    assert f"<h1>{heading}</h1>" in page and f"<title>{heading} · plan " in page
    assert markdown_report(timed).startswith(f"# {heading} — plan ")
    assert "<h1>Build plan: default-20mw · 20 MW · flat year</h1>" in html_report(old_plan())


def test_a_time_resolved_report_has_its_months(timed: PlanDocument):
    page = parse(html_report(timed, FRONTIER))
    assert "Time resolution: representative year" in page.headings
    assert "Month by month" in page.headings
    assert page.headings.index("Month by month") < page.headings.index("Cost and fleet")
    assert {"Energy and demand charges by month", "Peak grid power by month"} <= set(page.charts)
    months = table_after(page, "peak grid kW")
    assert months[0] == [
        "month",
        "energy kWh",
        "energy USD",
        "peak grid kW",
        "demand charges USD",
    ]
    assert months[1] == ["Jan", "9,001,000", "$250.00k", "12,148", "$259.39k"]
    assert months[7] == ["Jul", "9,007,000", "$300.00k", "12,154", "$302.75k"]
    assert months[-1][0] == "year" and months[-1][3] == "12,159"  # the year's peak
    text = markdown_report(timed)
    assert "## Time resolution: representative year" in text and "### Month by month" in text
    assert "| Jul | 9,007,000 | $300.00k | 12,154 | $302.75k |" in text
    for plan in (old_plan(), {**timed, "time_resolution": None}):
        assert "Month by month" not in html_report(plan)  # a flat plan has no months


def test_the_gain_over_the_flat_year_is_split(timed: PlanDocument):
    """Of the gain, what is utilization (realized vs assumed) and what is tariff timing."""
    sentence = (
        "Of the $0.03113 per M tokens this plan gains over the flat year ($0.1172 → $0.08607), "
        "$0.0267 is the utilization the representative year realizes (100.0% vs 70% assumed; "
        "96.0% of all GPU-hours serving) and $0.00443 is tariff timing and load shape."
    )
    assert sentence in markdown_report(timed)
    assert sentence in html_report(timed).replace("&#x27;", "'")
    page = parse(html_report(timed))
    rows = {r[0]: r[1] for r in table_after(page, "value")[1:]}
    assert rows["this plan (representative year)"] == "$0.08607"
    assert rows["flat year at the scenario's utilization (70%)"] == "$0.1172"
    assert rows["flat year at the utilization this plan realizes (100.0%)"] == "$0.0905"
    assert rows["… of which utilization"] == "$0.0267"
    timed["gain_vs_flat_usd_per_million_tokens"] = None  # no plan at the realized utilization
    timed["flat_at_realized_utilization_cost_per_million_tokens_usd"] = None
    assert "Of the" not in markdown_report(timed)


def test_a_dearer_tariff_timing_is_a_negative_share(timed: PlanDocument):
    timed["cost_per_million_tokens_usd"] = 0.095
    timed["gain_vs_flat_usd_per_million_tokens"] |= {
        "tariff_timing": SAME_USE - 0.095,
        "total": FLAT - 0.095,
    }
    text = markdown_report(timed)
    assert "and −$0.0045 is tariff timing and load shape (negative: " in text


def test_a_time_resolved_plan_recorded_before_the_split_still_renders(timed: PlanDocument):
    for field in (
        "flat_at_realized_utilization_cost_per_million_tokens_usd",
        "gain_vs_flat_usd_per_million_tokens",
        "realized_utilization",
        "monthly",
    ):
        del timed[field]  # type: ignore[misc]
    page = parse(html_report(timed, FRONTIER))
    assert "Time resolution: representative year" in page.headings
    assert "Month by month" not in page.headings
    assert "flat year, same inputs" in html_report(timed)
    assert "Of the" not in markdown_report(timed, FRONTIER)


def svg_of(page: str, title: str) -> str:
    [svg] = [s for s in re.findall(r"<svg .*?</svg>", page, re.S) if f'aria-label="{title}"' in s]
    return svg


def test_comparisons_are_like_for_like(timed: PlanDocument):
    """The plan's own cost per token and its flat-year comparator side by side, each under its
    own label: never the flat year under "this plan"."""
    page = html_report(timed, FRONTIER)
    cards = re.findall(r'<div class="label">([^<]+)</div><div class="value">([^<]+)</div>', page)
    assert ("cost per million tokens", "$0.08607") in cards
    assert ("flat year, same inputs", "$0.1172") in cards
    alternatives = svg_of(page, "Cost per million tokens vs. single-system plans")
    assert "<title>this plan (representative year): $0.08607</title>" in alternatives
    assert "<title>this plan (flat year): $0.1172</title>" in alternatives
    assert "this plan: " not in alternatives
    frontier = svg_of(page, "Cost per million tokens by grid budget (flat year)")
    assert "this plan&#x27;s budget, 30 MW" in frontier  # the marker is the budget, not the plan
    assert "this plan (representative year): $0.08607" in frontier  # the plan is its own point
    assert "best plan at each budget (flat year)" in frontier
    text = markdown_report(timed, FRONTIER)
    assert "this plan (representative year)  " in text and "this plan (flat year)  " in text
    assert "the diamond" in text


def test_every_chart_of_a_time_resolved_report_starts_at_zero(timed: PlanDocument):
    """Bar charts: the value axis's first tick is 0; line and column charts: the y axis's."""
    page = html_report(timed, FRONTIER)
    charts = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(charts) == 10
    for svg in charts:
        labels = re.findall(r'text-anchor="(middle|end)" fill="#6b7280"[^>]*>([^<]+)</text>', svg)
        vertical = "<path d=" in svg or 'aria-label="Peak' in svg or "by month" in svg
        axis = [t for anchor, t in labels if anchor == ("end" if vertical else "middle")]
        assert axis and axis[0] == "0", (svg[:200], axis)


# --------------------------------------------------------------------------- exports


def test_every_export_of_a_plan_recorded_before_levers(tmp_path: Path):
    plan = old_plan()
    for fmt in EXPORTS:
        assert all(path.is_file() for path in export_plan(plan, fmt, tmp_path / fmt))
    assert plan_table(plan, "levers").height == 0
    allocation = plan_table(plan, "allocation")
    assert allocation["configuration"].null_count() == allocation.height
    book = openpyxl.load_workbook(tmp_path / "xlsx" / "unsaved-plan.xlsx")
    assert book["Levers"].max_row == 1  # the header row only
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["carbon per million tokens (kg CO2e)"] is None


def test_csv_and_parquet_have_the_levers_table(plan: PlanDocument, tmp_path: Path):
    for fmt, read in (("csv", pl.read_csv), ("parquet", pl.read_parquet)):
        paths = export_plan(plan, fmt, tmp_path)
        [path] = [p for p in paths if p.stem.endswith("_levers")]
        frame = read(path)
        assert frame.columns == ["plan_id", *(c.name for c in TABLES["levers"])]
        assert frame["lever"].to_list() == [r["lever"] for r in LEVERS]
        assert frame["cost_ratio"].to_list() == [r["cost_ratio"] for r in LEVERS]
        assert frame["in_data"].to_list() == [r["in_data"] for r in LEVERS]
        assert frame["reason"][2] == INFEASIBLE_REASON
    with (tmp_path / f"{plan['plan_id']}_allocation.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    chat = next(r for r in rows if r["workload"] == "chat")
    assert chat["configuration"] == "dynamo-trt fp4 mtp disaggregated"
    assert (chat["derived"], chat["disaggregated"], chat["prefill_gpus"]) == ("true", "true", "4")


def test_workbook_has_a_levers_sheet(plan: PlanDocument, tmp_path: Path):
    [path] = export_plan(plan, "xlsx", tmp_path)
    book = openpyxl.load_workbook(path)
    assert "Levers" in book.sheetnames
    sheet = book["Levers"]
    headers = [c.value for c in sheet[1]]
    rows = [
        dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert [r["lever"] for r in rows] == [r["name"] for r in LEVERS]
    ratio = headers.index("cost ratio (cost per token without it / plan's)") + 1
    assert sheet.cell(row=2, column=ratio).value == pytest.approx(6.5111)
    assert sheet.cell(row=2, column=ratio).number_format == '0.00"x"'
    assert rows[2]["why no plan"] == INFEASIBLE_REASON
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["carbon per million tokens (kg CO2e)"] == pytest.approx(0.022282)
    assert summary["availability (share of on-site GPUs serving)"] == pytest.approx(0.96)
    assert summary["margin (USD/year)"] == pytest.approx(1.05e9)
    allocation = book["Allocation"]
    assert "serving configuration" in [c.value for c in allocation[1]]


# --------------------------------------------------------------------------- a real plan


def with_power_kind(data: Path) -> Path:
    """`data` with a `kind` column in power.csv (dc for 800 VDC designs, else ac) if it has
    none yet."""
    power = data / "power.csv"
    frame = pl.read_csv(power, infer_schema=False)
    if "kind" not in frame.columns:
        kind = pl.when(pl.col("power_id").str.starts_with("dc")).then(pl.lit("dc"))
        frame.with_columns(kind.otherwise(pl.lit("ac")).alias("kind")).write_csv(power)
    return data


def test_a_planned_lever_table_is_printed_as_the_document_says(data: Path):
    """The planner's own lever rows (whatever the bundled figures are) in the text."""
    from pipelines.planning.make_plan import make_plan

    plan = make_plan(with_power_kind(data))
    text = plan_text(plan)
    assert [r["lever"] for r in plan["levers"]] == [
        "fp4",
        "speculative_decoding",
        "disaggregation",
        "kv_offload",
        "liquid_cooling",
        "dc_power",
    ]
    for row in plan["levers"]:
        line = line_with(text, row["name"] + "  ")
        if row["cost_ratio"] is not None:
            assert f"{row['cost_ratio']:.2f}x" in line
        if not row["in_data"]:
            assert "not in data" in line
        elif row["reason"]:
            assert row["reason"] in line
        else:
            assert ("yes" if row["used_by_plan"] else "no") in line.split()
    html = parse(html_report(plan))
    assert "What each lever is worth" in html.headings
